"""notify's handling of one MTB-review alert: record it once, deliver it to every webhook once.

Idempotency: the alert document's _id is the alert_id, and each (alert, target) pair has a
delivery document; a target whose delivery is recorded as delivered is never posted again.
If notify dies between a successful POST and recording it, the retry carries the same
Idempotency-Key header, so the receiver can drop the copy.
"""

import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime

import aiohttp
from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from contracts.events import AlertDelivered, MtbReviewRequired
from services.common import metrics
from services.common.cases import advance_case
from services.common.runtime import Publish
from services.common.settings import Settings
from services.notify.backoff import retry_delay
from services.notify.webhook import post_alert

log = logging.getLogger("oncorelay.notify")
SERVICE = "notify"


def delivery_id(alert_id: str, channel: str, target: str) -> str:
    return f"{alert_id}|{channel}|{hashlib.sha256(target.encode()).hexdigest()[:16]}"


class Notifier:
    def __init__(self, db: AsyncDatabase, publish: Publish, settings: Settings) -> None:
        self.db = db
        self.publish = publish
        self.settings = settings
        self.secret = settings.webhook_secret.get_secret_value().encode()
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def handle(self, raw: bytes) -> None:
        """Record and deliver one alert from oncorelay.mtb.alerts.v1."""
        started = time.perf_counter()
        alert = MtbReviewRequired.model_validate_json(raw)
        now = datetime.now(UTC)
        await self.db.alerts.update_one(
            {"_id": alert.alert_id},
            {"$setOnInsert": {**alert.model_dump(mode="json", exclude={"alert_id"}), "status": "open", "created_at": now,
                              "published_at": alert.published_at, "raised_at": alert.raised_at}},
            upsert=True,
        )
        body = alert.model_dump_json().encode("utf-8")
        for url in self.settings.webhook_targets():
            await self._deliver_webhook(alert, url, body)
        metrics.PROCESSING_SECONDS.labels(SERVICE, "notify").observe(time.perf_counter() - started)

    async def _deliver_webhook(self, alert: MtbReviewRequired, url: str, body: bytes) -> None:
        did = delivery_id(alert.alert_id, "webhook", url)
        existing = await self.db.deliveries.find_one({"_id": did})
        if existing and existing.get("status") in ("delivered", "failed"):
            return
        attempts = existing.get("attempt_count", 0) if existing else 0
        if existing is None:
            await self.db.deliveries.insert_one({
                "_id": did, "alert_id": alert.alert_id, "case_id": alert.case_id, "channel": "webhook",
                "target": url, "status": "pending", "attempt_count": 0, "attempts": [],
            })
        while True:
            attempts += 1
            outcome = await post_alert(self.session(), url, body, alert.alert_id, self.secret, self.settings.delivery_timeout_s)
            metrics.DELIVERY_ATTEMPTS.labels("webhook", "ok" if outcome.ok else "error").inc()
            done = outcome.ok or attempts >= self.settings.delivery_max_attempts
            status = "delivered" if outcome.ok else ("failed" if done else "pending")
            await self.db.deliveries.update_one({"_id": did}, {
                "$set": {"status": status, "attempt_count": attempts, "updated_at": datetime.now(UTC)},
                "$push": {"attempts": {"n": attempts, "at": datetime.now(UTC), "ok": outcome.ok, "detail": outcome.detail}},
            })
            if done:
                break
            await asyncio.sleep(retry_delay(attempts, self.settings.delivery_base_delay_s, self.settings.delivery_max_delay_s))

        event = AlertDelivered(
            alert_id=alert.alert_id, case_id=alert.case_id, channel="webhook", target=url,
            status=status, attempts=attempts, detail=outcome.detail, delivered_at=datetime.now(UTC),
        )
        if outcome.ok:
            metrics.END_TO_END_SECONDS.labels("alert_delivered").observe(
                (event.delivered_at - alert.published_at).total_seconds()
            )
            await self.db.alerts.update_one({"_id": alert.alert_id, "status": "open"}, {"$set": {"status": "delivered"}})
            await advance_case(self.db, alert.case_id, alert.result_key, alert.published_at, "alerted", f"webhook {status}")
        else:
            log.error("alert delivery failed after %d attempts", attempts, extra={"alert_id": alert.alert_id})
            await self.publish(topics.ALERTS_DLQ, alert.case_id, alert)
        await self.publish(topics.ALERTS_DELIVERED, alert.case_id, event)
