"""Park an event that a service could not process on the processing DLQ: an unforeseen error, or an error
that carries its own reason code (`code`, a RejectionCode, e.g. a result too large to interpret)."""

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
        code = getattr(error, "code", None)
        why = (reason(code, f"{service}: {error}") if isinstance(code, RejectionCode)
               else reason(RejectionCode.PROCESSING_FAILED, f"{service}: {type(error).__name__}"))
        metrics.MESSAGES_REJECTED.labels(service, why.code.value).inc()
        key = event.key.decode("utf-8", "replace") if event.key else None
        await publish(topics.PROCESSING_DLQ, key or "", DeadLetter(
            source_topic=source_topic,
            partition=event.message.partition,
            offset=event.message.offset,
            key=key,
            original_base64=base64.b64encode(event.value or b"").decode("ascii"),
            reasons=[why],
            rejected_at=datetime.now(UTC),
        ))

    return park
