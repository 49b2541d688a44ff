"""Fakes of the shared ports: the clock, the publisher and the case record (services.common.ports)."""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.events import Contract
from services.common.case_state import order_key, stage_of, timeline_entry, timeline_key
from services.common.ports import Document, Effect
from tests.fakes.faults import Faults

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class FixedClock:
    """The Clock port: a time that moves only when a test says so."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakePublisher:
    """The Publish port: every event the broker acknowledged, in order."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.sent: list[tuple[str, str, Contract]] = []

    async def __call__(self, topic: str, key: str, event: Contract) -> None:
        self.faults.write(f"publish {topic}")
        self.sent.append((topic, key, event))

    def on(self, topic: str) -> list[Contract]:
        """The events published to `topic`, in order."""
        return [event for sent_topic, _, event in self.sent if sent_topic == topic]

    def distinct(self) -> set[tuple[str, str, str]]:
        """What reached the broker, a repeated event counted once (consumers drop repeats by id)."""
        return {(topic, key, json.dumps(event.model_dump(mode="json"), sort_keys=True))
                for topic, key, event in self.sent}


class FakeCaseRecord:
    """The CaseRecord port in memory, with the semantics of services.common.adapters.case_record."""

    def __init__(self, faults: Faults, clock: FixedClock) -> None:
        self.faults = faults
        self.clock = clock
        self.cases: dict[str, Document] = {}
        self.audited: dict[str, Document] = {}  # entries recorded once, by effect id
        self.audit_log: list[Document] = []  # entries appended by `audit`
        self.alert_sites: dict[str, str] = {}  # case id -> site of its alerts (what `transfer` moves too)

    async def open_case(self, case_id: str, fields: Document, on_insert: Document | None = None) -> Document:
        self.faults.write("cases.open")
        case = self.cases.get(case_id)
        if case is None:
            case = self.cases[case_id] = {"_id": case_id, "created_at": self.clock(), "state": "received",
                                          "state_order": "", **(on_insert or {})}
        case.update(fields)
        return copy.deepcopy(case)

    async def treating_site(self, case_id: str) -> str | None:
        case = self.cases.get(case_id)
        return case.get("treating_site") if case else None

    async def advance(self, case_id: str, result_key: str, published_at: datetime, steps: list[tuple[str, str]],
                      actor: str | None = None, case: Document | None = None) -> bool:
        key = order_key(published_at, steps[-1][0], result_key)
        stored = self.cases.get(case_id)
        if stored is None:
            return False
        recorded = stored.setdefault("timeline_keys", [])
        missing = [(stage, detail) for stage, detail in steps if timeline_key(result_key, stage) not in recorded]
        advancing = key > stored.get("state_order", "")
        if advancing or missing:
            self.faults.write("cases.advance")
            if advancing:
                stage, state_result = stage_of(key)
                stored.update(state_order=key, state=stage, state_result_key=state_result, state_from=key,
                              updated_at=self.clock())
            for stage, detail in missing:
                stored.setdefault("timeline", []).append(timeline_entry(result_key, stage, self.clock(), detail))
                recorded.append(timeline_key(result_key, stage))
        if stored["state_order"] == key:
            await self.audit_once([
                Effect(f"case:{case_id}|{result_key}|{stage}", actor or "unknown", "state_changed", case_id, None,
                       {"state": stage, "result_key": result_key, "note": detail})
                for stage, detail in steps
            ])
        return advancing

    async def add_step(self, case_id: str, result_key: str, step: str, detail: str) -> None:
        case = self.cases.get(case_id)
        key = timeline_key(result_key, step)
        if case is None or key in case.get("timeline_keys", []):
            return
        self.faults.write("cases.add_step")
        case.setdefault("timeline", []).append(timeline_entry(result_key, step, self.clock(), detail))
        case.setdefault("timeline_keys", []).append(key)

    async def transfer(self, case_id: str, site_id: str, actor: str, note: str) -> str | None:
        case = self.cases.get(case_id)
        if case is None:
            return None
        self.faults.write("cases.transfer")
        before = case.get("treating_site")
        case.update(treating_site=site_id, updated_at=self.clock())
        if case_id in self.alert_sites:
            self.alert_sites[case_id] = site_id
        await self.audit(actor, "case_transferred", case_id, None,
                         {"from_site": before, "to_site": site_id, "note": note})
        return before

    async def audit(self, actor: str, action: str, case_id: str | None, alert_id: str | None,
                    detail: dict[str, Any]) -> None:
        self.faults.write("audit")
        self.audit_log.append(self._entry(actor, action, case_id, alert_id, detail))

    async def audit_once(self, effects: list[Effect]) -> None:
        self.faults.write("audit")
        for effect in effects:
            self.audited.setdefault(effect.effect_id, self._entry(effect.actor, effect.action, effect.case_id,
                                                                  effect.alert_id, effect.detail))

    def _entry(self, actor: str, action: str, case_id: str | None, alert_id: str | None,
               detail: dict[str, Any]) -> Document:
        return {"at": self.clock(), "actor": actor, "action": action, "case_id": case_id, "alert_id": alert_id,
                "detail": copy.deepcopy(detail)}
