"""notify's handling of one MTB-review alert from Kafka: record it, route it, queue its deliveries.

This is quick (a few database writes) so the partition never waits on a slow receiver; the
Dispatcher sends the deliveries (those created here are created leased to this process and handed to
it directly; a crash before that leaves them to be claimed once the lease runs out). A redelivered
event finds the alert already routed and does nothing; one that was interrupted half-way creates only
the deliveries still missing, and a subscription's event number is taken only for a delivery that
does not exist yet. Every team serving the treating site gets the alert on its event stream (what the
workspace's live worklist follows), once per team, whether or not it subscribed to a stream channel.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from pydantic import ValidationError

from contracts.events import MtbReviewRequired
from services.common import metrics
from services.common.logging import correlate
from services.common.settings import Settings
from services.notify.domain.attempts import delivery_id, stream_summary
from services.notify.domain.review import first_escalation_due
from services.notify.domain.routing import AlertFacts, Channel, Lineage, route
from services.notify.ports import AlertStore, CaseRecord, Clock, DeliveryStore, StreamStore, TeamDirectory, Wakeup

log = logging.getLogger("oncorelay.notify")
SERVICE = "notify"


class AlertIntake:
    def __init__(self, alerts: AlertStore, deliveries: DeliveryStore, directory: TeamDirectory, cases: CaseRecord,
                 streams: StreamStore, stream_wake: Wakeup, settings: Settings, lineage: Lineage,
                 attempt: Callable[[dict, dict, Channel], None], clock: Clock) -> None:
        self.alerts = alerts
        self.streams = streams  # every team serving the site sees the alert on its stream (the live worklist)
        self.stream_wake = stream_wake
        self.deliveries = deliveries
        self.directory = directory
        self.cases = cases
        self.settings = settings
        self.lineage = lineage
        self.attempt = attempt  # Dispatcher.take: attempts a delivery created leased by this process
        self.clock = clock

    async def handle(self, raw: bytes) -> None:
        """Record and route one alert from oncorelay.mtb.alerts.v1."""
        started = time.perf_counter()
        try:
            alert = MtbReviewRequired.model_validate_json(raw)
        except ValidationError as error:  # annotate wrote it, so this is our bug: keep going, say so loudly
            log.error("alert is not a valid MtbReviewRequired and was skipped: %s", error.errors()[:3])
            return
        with correlate(alert_id=alert.alert_id, case_id=alert.case_id, result_key=alert.result_key):
            await self._route(alert)
        metrics.PROCESSING_SECONDS.labels(SERVICE, "notify").observe(time.perf_counter() - started)

    async def _route(self, alert: MtbReviewRequired) -> None:
        document = {**alert.model_dump(mode="json"), "published_at": alert.published_at, "raised_at": alert.raised_at,
                    "payload": alert.model_dump_json()}
        due = first_escalation_due(alert.priority, alert.raised_at, self.settings.escalation_after_s)
        before = await self.alerts.record_alert(document, due)
        if before is not None and before.get("routed"):
            return
        facts = AlertFacts(alert.treating_site, alert.tumor_type, alert.priority)
        subscriptions = route(await self.directory.active_subscriptions(), facts, self.lineage)
        lease_until = self.clock() + timedelta(seconds=self.settings.delivery_lease_s)
        created = []
        for subscription in subscriptions:
            did = delivery_id(alert.alert_id, subscription.subscription_id)
            if before is not None and await self.deliveries.delivery_exists(did):
                continue  # an earlier attempt of this event created it (an alert new now has no deliveries)
            number = await self.directory.next_event_number(subscription.subscription_id)
            delivery = await self.deliveries.create_delivery({
                "_id": did, "alert_id": alert.alert_id, "case_id": alert.case_id, "kind": "alert",
                "team_id": subscription.team_id, "subscription_id": subscription.subscription_id,
                "channel": subscription.channel.kind, "target": subscription.channel.target(), "event_number": number,
            }, lease_until)
            if delivery is not None:
                created.append((delivery, subscription.channel))
        # The case is advanced (and audited) before the alert is marked routed: a crash in between makes the
        # redelivered event do it again (both idempotent), while a routed alert returns early above.
        await self.cases.advance(alert.case_id, alert.result_key, alert.published_at,
                                 [("alerted", f"{alert.priority} alert to {len(subscriptions)} subscriptions")], actor=SERVICE)
        teams = [t.team_id for t in await self.directory.teams_serving(alert.treating_site)]
        stored = {"_id": alert.alert_id, **document}  # the alert's fields a delivery reads, as stored
        for team_id in teams:  # the same event a stream subscription appends: numbered once per team
            await self.streams.append_stream_event(team_id, "alert", stream_summary(stored), f"alert:{alert.alert_id}")
        if teams:
            self.stream_wake.set()
        await self.alerts.mark_routed(alert.alert_id, teams)
        for delivery, channel in created:  # once routed, so the case's timeline reads alerted, then delivered
            self.attempt(delivery, stored, channel)
        if not subscriptions:
            log.warning("alert matches no subscription", extra={"alert_id": alert.alert_id})
