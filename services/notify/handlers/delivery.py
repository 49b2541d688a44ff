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
import logging
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from typing import Any

from contracts import topics
from contracts.events import AlertDelivered, ChannelKind, MtbReviewRequired
from services.common import metrics
from services.common.settings import Settings
from services.notify.domain.attempts import AttemptOutcome
from services.notify.domain.backoff import retry_delay
from services.notify.domain.routing import Channel, channel_from_doc
from services.notify.ports import (
    AlertStore,
    CaseRecord,
    ChannelSender,
    Clock,
    DeliveryStore,
    Effect,
    Publish,
    TeamDirectory,
)

log = logging.getLogger("oncorelay.notify")
SERVICE = "notify"


class Dispatcher:
    def __init__(self, deliveries: DeliveryStore, alerts: AlertStore, directory: TeamDirectory, cases: CaseRecord,
                 publish: Publish, senders: Mapping[ChannelKind, ChannelSender], settings: Settings,
                 wake: asyncio.Event, clock: Clock) -> None:
        self.deliveries = deliveries
        self.alerts = alerts
        self.directory = directory
        self.cases = cases
        self.publish = publish
        self.senders = senders  # the channel registry (services.notify.adapters.channels)
        self.settings = settings
        self.wake = wake
        self.clock = clock
        self.slots = asyncio.Semaphore(settings.delivery_concurrency)
        self.in_flight: set[asyncio.Task] = set()
        self.sending: set[str] = set()  # ids of deliveries with an attempt running in this process

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
            claimed = await self.deliveries.claim_due_delivery(self.clock(), self.settings.delivery_lease_s)
            if claimed is None or claimed["_id"] in self.sending:
                # None: nothing due. Already sending here: FerretDB's findAndModify is not atomic under concurrent
                # claims, so the same delivery can be handed out twice; only one attempt runs per process.
                self.slots.release()
                return
            self._start(claimed["_id"], self._attempt_then_release(claimed))

    def take(self, delivery: dict, alert: dict, channel: Channel) -> None:
        """Attempt a delivery this process created already leased (DeliveryStore.create_delivery), when a slot is free;
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
            alert = await self.alerts.get_alert(delivery["alert_id"])
        if channel is None:
            channel = await self._channel(delivery)
        number = delivery.get("attempt_count", 0) + 1
        now = self.clock()
        if channel is None:
            await self._cancelled(delivery, alert, {"n": number, "at": now, "ok": False,
                                                    "detail": "not sent: the subscription was removed"})
            return
        outcome = await self.send(delivery, alert, channel)
        metrics.DELIVERY_ATTEMPTS.labels(delivery["channel"], "ok" if outcome.ok else "error").inc()
        attempt = {"n": number, "at": now, "ok": outcome.ok, "detail": outcome.detail}
        # The outcome's effects come before the attempt is recorded, which ends the delivery's lease: a crash in
        # between leaves the delivery claimable after its lease, and the attempt made again (the receiver drops the
        # copy by its Idempotency-Key) redoes effects that are each recorded once.
        if outcome.ok:
            await self._delivered(delivery, alert, number, outcome)
            await self.deliveries.finish_attempt(delivery["_id"], attempt, "delivered", None)
        elif outcome.final or number >= self.settings.delivery_max_attempts:
            await self._failed(delivery, alert, number, outcome)
            await self.deliveries.finish_attempt(delivery["_id"], attempt, "failed", None)
        else:
            delay = retry_delay(number, self.settings.delivery_base_delay_s, self.settings.delivery_max_delay_s)
            await self.deliveries.finish_attempt(delivery["_id"], attempt, "pending", now + timedelta(seconds=delay))

    async def send(self, delivery: dict, alert: dict, channel: Channel) -> AttemptOutcome:
        """Hand the alert to the delivery's channel once, through the channel kind's sender."""
        return await self.senders[channel.kind].send(delivery, alert, channel)

    async def _channel(self, delivery: dict) -> Channel | None:
        """The delivery's escalation contact, or its subscription's channel while the subscription is active."""
        if "contact" in delivery:
            return channel_from_doc(delivery["contact"])
        return await self.directory.subscription_channel(delivery["subscription_id"])

    async def _cancelled(self, delivery: dict, alert: dict, attempt: dict) -> None:
        await self.cases.audit_once([Effect(f"delivery_cancelled:{delivery['_id']}", SERVICE, "delivery_cancelled",
                                            alert["case_id"], alert["_id"],
                                            {"delivery_id": delivery["_id"], "channel": delivery["channel"],
                                             "why": "the subscription was removed"})])
        await self.deliveries.finish_attempt(delivery["_id"], attempt, "cancelled", None)

    async def _delivered(self, delivery: dict, alert: dict, attempts: int, outcome: AttemptOutcome) -> None:
        event = AlertDelivered(
            alert_id=alert["_id"], case_id=alert["case_id"], channel=delivery["channel"], target=delivery["target"],
            status="delivered", attempts=attempts, detail=outcome.detail, delivered_at=self.clock(),
        )
        metrics.END_TO_END_SECONDS.labels("alert_delivered").observe(
            (event.delivered_at - alert["published_at"]).total_seconds()
        )
        await self.alerts.set_delivery_outcome(alert["_id"], True)
        await self.cases.add_step(alert["case_id"], alert["result_key"], "delivered",
                                  f"{delivery['channel']} after {attempts} attempt(s)")
        await self.publish(topics.ALERTS_DELIVERED, alert["case_id"], event)
        metrics.ALERTS_DELIVERED.labels(event.channel, event.status).inc()

    async def _failed(self, delivery: dict, alert: dict, attempts: int, outcome: AttemptOutcome) -> None:
        log.error("alert delivery failed after %d attempts", attempts, extra={"alert_id": alert["_id"]})
        metrics.DELIVERY_FAILURES.labels(delivery["channel"]).inc()
        await self.alerts.set_delivery_outcome(alert["_id"], False)
        await self.cases.audit_once([Effect(f"delivery_failed:{delivery['_id']}", SERVICE, "delivery_failed",
                                            alert["case_id"], alert["_id"],
                                            {"delivery_id": delivery["_id"], "channel": delivery["channel"],
                                             "attempts": attempts, "last": outcome.detail})])
        await self.publish(topics.ALERTS_DLQ, alert["case_id"], MtbReviewRequired.model_validate_json(alert["payload"]))
        event = AlertDelivered(
            alert_id=alert["_id"], case_id=alert["case_id"], channel=delivery["channel"], target=delivery["target"],
            status="failed", attempts=attempts, detail=outcome.detail, delivered_at=self.clock(),
        )
        await self.publish(topics.ALERTS_DELIVERED, alert["case_id"], event)
        metrics.ALERTS_DELIVERED.labels(event.channel, event.status).inc()
