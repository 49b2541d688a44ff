"""Park an event that a service could not process (an unforeseen error) on the processing DLQ."""

import base64
from datetime import UTC, datetime

from contracts import topics
from contracts.events import DeadLetter
from contracts.reasons import RejectionCode
from contracts.rejection import reason
from services.common import metrics
from services.common.runtime import Publish


def parker(publish: Publish, service: str, source_topic: str, event):
    """A coroutine function that parks this faust event with the error that stopped it."""

    async def park(error: BaseException) -> None:
        metrics.MESSAGES_REJECTED.labels(service, RejectionCode.PROCESSING_FAILED.value).inc()
        key = event.key.decode("utf-8", "replace") if event.key else None
        await publish(topics.PROCESSING_DLQ, key or "", DeadLetter(
            source_topic=source_topic,
            partition=event.message.partition,
            offset=event.message.offset,
            key=key,
            original_base64=base64.b64encode(event.value or b"").decode("ascii"),
            reasons=[reason(RejectionCode.PROCESSING_FAILED, f"{service}: {type(error).__name__}")],
            rejected_at=datetime.now(UTC),
        ))

    return park
