"""Sending queued deliveries: webhook, e-mail, the team's stream; retries; dead letters.

The Dispatcher claims due deliveries from MongoDB (a lease, so several notify processes can run
and a crashed one's work is taken over), makes one attempt each, and records it. A failed attempt
is retried after a bounded exponential backoff with full jitter; after the last attempt the
alert is published to the dead-letter topic and its delivery shown as failed; so is a delivery
that cannot be sent at all (a refused destination, an address no mail server takes), at once.
A delivery whose subscription was removed is cancelled, not retried. A retry carries the same
Idempotency-Key, so a receiver that answered too late drops the copy.
"""

import asyncio
import json
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from contracts.events import AlertDelivered, MtbReviewRequired
from services.common import metrics
from services.common.netguard import AddressPolicy, PinnedResolver
from services.common.runtime import Publish
from services.common.settings import Settings
from services.notify.adapters import directory, store
from services.notify.adapters.email import send_mail
from services.notify.adapters.webhook import EVENT_NUMBER_HEADER, SUBSCRIPTION_HEADER, AttemptOutcome, post_alert
from services.notify.backoff import retry_delay
from services.notify.domain import fhir
from services.notify.domain.mailbox import addresses_problem
from services.notify.domain.messages import alert_mail, email_message
from services.notify.domain.routing import OPERATOR_TEAM, Channel
from services.notify.wakeup import Signal

log = logging.getLogger("oncorelay.notify")


def stream_summary(alert: dict) -> dict:
    """What a dashboard shows for an alert (no patient identifiers)."""
    keys = ("case_id", "result_key", "treating_site", "tumor_type", "priority", "reasons", "findings", "raised_at")
    return {"alert_id": alert["_id"], **{k: alert.get(k) for k in keys}}


class Dispatcher:
    def __init__(self, db: AsyncDatabase, publish: Publish, settings: Settings, wake: asyncio.Event,
                 stream_wake: Signal) -> None:
        self.db = db
        self.publish = publish
        self.settings = settings
        self.wake = wake
        self.stream_wake = stream_wake
        self.slots = asyncio.Semaphore(settings.delivery_concurrency)
        self.in_flight: set[asyncio.Task] = set()
        self.sending: set[str] = set()  # ids of deliveries with an attempt running in this process
        self.policy = AddressPolicy.parse(settings.webhook_allowed_networks)
        self._sessions: dict[bool, aiohttp.ClientSession] = {}

    def session(self, guarded: bool) -> aiohttp.ClientSession:
        """The HTTP session for operator webhooks, or (guarded) for teams' webhooks: connecting only to addresses
        the policy permits."""
        session = self._sessions.get(guarded)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(resolver=PinnedResolver(self.policy)) if guarded else None
            session = self._sessions[guarded] = aiohttp.ClientSession(connector=connector)
        return session

    async def run_forever(self) -> None:
        """Send due deliveries as they come; look again when woken or every delivery_poll_s."""
        while True:
            try:
                await self.drain()
            except Exception:  # the database may be away; try again at the next poll
                log.exception("delivery scan failed")
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.settings.delivery_poll_s)
            except TimeoutError:
                pass
            self.wake.clear()

    async def drain(self) -> None:
        """Claim every delivery that is due now and start sending each."""
        while True:
            await self.slots.acquire()
            claimed = await store.claim_due_delivery(self.db, datetime.now(UTC), self.settings.delivery_lease_s)
            if claimed is None or claimed["_id"] in self.sending:
                # None: nothing due. Already sending here: FerretDB's findAndModify is not atomic under concurrent
                # claims, so the same delivery can be handed out twice; only one attempt runs per process.
                self.slots.release()
                return
            self._start(claimed["_id"], self._attempt_then_release(claimed))

    def take(self, delivery: dict, alert: dict, channel: Channel) -> None:
        """Attempt a delivery this process created already leased (store.create_delivery), when a slot is free;
        `alert` (as stored) and `channel` are what the caller has just read or written, so they are not read again."""
        self._start(delivery["_id"], self._attempt_when_free(delivery, alert, channel))

    def _start(self, delivery_id: str, attempt: Coroutine[Any, Any, None]) -> None:
        """Run `attempt` as a task, the delivery marked as sending in this process until it ends."""
        self.sending.add(delivery_id)
        task = asyncio.create_task(attempt)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def _attempt_when_free(self, delivery: dict, alert: dict, channel: Channel) -> None:
        await self.slots.acquire()
        await self._attempt_then_release(delivery, alert, channel)

    async def _attempt_then_release(self, delivery: dict, alert: dict | None = None,
                                    channel: Channel | None = None) -> None:
        try:
            await self.attempt(delivery, alert, channel)
        except Exception:  # left 'sending': after its lease it is claimed again
            log.exception("delivery attempt failed unexpectedly", extra={"delivery_id": delivery["_id"]})
        finally:
            self.sending.discard(delivery["_id"])
            self.slots.release()

    async def attempt(self, delivery: dict, alert: dict | None = None, channel: Channel | None = None) -> None:
        """One attempt of one delivery, recorded with its outcome (the alert and channel are read unless given)."""
        if alert is None:
            alert = await store.get_alert(self.db, delivery["alert_id"])
        if channel is None:
            channel = await self._channel(delivery)
        number = delivery.get("attempt_count", 0) + 1
        now = datetime.now(UTC)
        if channel is None:
            await self._cancelled(delivery, alert, {"n": number, "at": now, "ok": False,
                                                    "detail": "not sent: the subscription was removed"})
            return
        outcome = await self.send(delivery, alert, channel)
        metrics.DELIVERY_ATTEMPTS.labels(delivery["channel"], "ok" if outcome.ok else "error").inc()
        attempt = {"n": number, "at": now, "ok": outcome.ok, "detail": outcome.detail}
        if outcome.ok:
            await store.finish_attempt(self.db, delivery["_id"], attempt, "delivered", None)
            await self._delivered(delivery, alert, number, outcome)
        elif outcome.final or number >= self.settings.delivery_max_attempts:
            await store.finish_attempt(self.db, delivery["_id"], attempt, "failed", None)
            await self._failed(delivery, alert, number, outcome)
        else:
            delay = retry_delay(number, self.settings.delivery_base_delay_s, self.settings.delivery_max_delay_s)
            await store.finish_attempt(self.db, delivery["_id"], attempt, "pending", now + timedelta(seconds=delay))

    async def send(self, delivery: dict, alert: dict, channel: Channel) -> AttemptOutcome:
        """Hand the alert to the delivery's channel once."""
        if channel.kind == "stream":
            await store.append_stream_event(self.db, delivery["team_id"], "alert", stream_summary(alert),
                                            f"alert:{alert['_id']}")
            self.stream_wake.set()
            return AttemptOutcome(True, "appended to the team stream")
        if channel.kind == "email":
            problem = addresses_problem(channel.to)
            if problem:  # stored before addresses were checked: it can never be sent
                return AttemptOutcome(False, f"not sent: {problem}", final=True)
            content = alert_mail({**alert, "alert_id": alert["_id"]}, self.settings.case_link_base,
                                 delivery.get("level", 0))
            message = email_message(content, self.settings.smtp_from, list(channel.to), delivery["_id"].replace("|", "."))
            return await send_mail(message, self.settings)
        return await self._post(delivery, alert, channel)

    async def _post(self, delivery: dict, alert: dict, channel: Channel) -> AttemptOutcome:
        headers = {}
        if delivery.get("subscription_id"):
            headers = {SUBSCRIPTION_HEADER: delivery["subscription_id"],
                       EVENT_NUMBER_HEADER: str(delivery.get("event_number", 0))}
        body, content_type = alert["payload"].encode("utf-8"), "application/json"
        if channel.payload == "fhir":
            bundle = fhir.notification_bundle(json.loads(alert["payload"]), delivery.get("subscription_id") or "",
                                              delivery.get("event_number", 0), self.settings.case_link_base)
            body, content_type = json.dumps(bundle).encode("utf-8"), "application/fhir+json"
        secret = (channel.secret or self.settings.webhook_secret.get_secret_value()).encode("utf-8")
        key = alert["_id"] if delivery.get("kind", "alert") == "alert" else delivery["_id"].replace("|", ".")
        guarded = delivery.get("team_id") != OPERATOR_TEAM
        return await post_alert(self.session(guarded), channel.url or "", body, key, secret,
                                self.settings.delivery_timeout_s, content_type, headers,
                                self.policy if guarded else None)

    async def _channel(self, delivery: dict) -> Channel | None:
        """The delivery's escalation contact, or its subscription's channel while the subscription is active."""
        if "contact" in delivery:
            return directory.channel_from_doc(delivery["contact"])
        doc = await self.db.subscriptions.find_one({"_id": delivery["subscription_id"]})
        return directory.channel_from_doc(doc["channel"]) if doc and doc.get("active", True) else None

    async def _cancelled(self, delivery: dict, alert: dict, attempt: dict) -> None:
        await store.finish_attempt(self.db, delivery["_id"], attempt, "cancelled", None)
        await store.audit(self.db, "notify", "delivery_cancelled", alert["case_id"], alert["_id"],
                          {"delivery_id": delivery["_id"], "channel": delivery["channel"],
                           "why": "the subscription was removed"})

    async def _delivered(self, delivery: dict, alert: dict, attempts: int, outcome: AttemptOutcome) -> None:
        event = AlertDelivered(
            alert_id=alert["_id"], case_id=alert["case_id"], channel=delivery["channel"], target=delivery["target"],
            status="delivered", attempts=attempts, detail=outcome.detail, delivered_at=datetime.now(UTC),
        )
        metrics.END_TO_END_SECONDS.labels("alert_delivered").observe(
            (event.delivered_at - alert["published_at"]).total_seconds()
        )
        await store.set_delivery_outcome(self.db, alert["_id"], True)
        await store.add_timeline_step(self.db, alert["case_id"], alert["result_key"], "delivered",
                                      f"{delivery['channel']} after {attempts} attempt(s)")
        await self.publish(topics.ALERTS_DELIVERED, alert["case_id"], event)

    async def _failed(self, delivery: dict, alert: dict, attempts: int, outcome: AttemptOutcome) -> None:
        log.error("alert delivery failed after %d attempts", attempts, extra={"alert_id": alert["_id"]})
        failures = getattr(metrics, "DELIVERY_FAILURES", None)
        if failures is not None:
            failures.labels(delivery["channel"]).inc()
        await store.set_delivery_outcome(self.db, alert["_id"], False)
        await store.audit(self.db, "notify", "delivery_failed", alert["case_id"], alert["_id"],
                          {"delivery_id": delivery["_id"], "channel": delivery["channel"], "attempts": attempts,
                           "last": outcome.detail})
        await self.publish(topics.ALERTS_DLQ, alert["case_id"], MtbReviewRequired.model_validate_json(alert["payload"]))
        await self.publish(topics.ALERTS_DELIVERED, alert["case_id"], AlertDelivered(
            alert_id=alert["_id"], case_id=alert["case_id"], channel=delivery["channel"], target=delivery["target"],
            status="failed", attempts=attempts, detail=outcome.detail, delivered_at=datetime.now(UTC),
        ))
