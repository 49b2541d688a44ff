"""The CaseRecord port's contract (the case state, its timeline and the audit trail), on the fake and on FerretDB."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common.adapters.case_record import MongoCaseRecord
from services.common.ports import Effect
from tests.fakes.common import FakeCaseRecord

PUBLISHED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class View:
    """Reads what a CaseRecord stored, whichever backend it is."""

    def __init__(self, fake: FakeCaseRecord | None, db) -> None:
        self.fake, self.db = fake, db

    async def case(self, case_id: str) -> dict | None:
        if self.fake is not None:
            return self.fake.cases.get(case_id)
        return await self.db.cases.find_one({"_id": case_id})

    async def audit(self) -> list[dict]:
        if self.fake is not None:
            return list(self.fake.audited.values()) + self.fake.audit_log
        return [d async for d in self.db.audit.find({})]


@pytest.fixture
def record(backend, db, faults, clock):
    if backend == "fake":
        fake = FakeCaseRecord(faults, clock)
        return fake, View(fake, None)
    return MongoCaseRecord(db), View(None, db)


async def test_a_case_is_opened_once_and_its_site_set_only_then(record):
    cases, view = record
    opened = await cases.open_case("C-1", {"tumor_type": "LUAD"}, {"treating_site": "HOSP-A"})
    assert (opened["state"], opened["treating_site"], opened["tumor_type"]) == ("received", "HOSP-A", "LUAD")
    again = await cases.open_case("C-1", {"tumor_type": "NSCLC"}, {"treating_site": "HOSP-B"})
    assert (again["treating_site"], again["tumor_type"]) == ("HOSP-A", "NSCLC")
    assert await cases.treating_site("C-1") == "HOSP-A" and await cases.treating_site("C-NONE") is None


async def test_the_state_only_moves_forward_and_each_step_is_on_the_timeline_once(record):
    cases, view = record
    await cases.open_case("C-2", {}, {"treating_site": "HOSP-A"})
    assert await cases.advance("C-2", "R-2@1", PUBLISHED, [("received", ""), ("ingested", "3 variants")], "ingest")
    assert not await cases.advance("C-2", "R-2@1", PUBLISHED, [("received", ""), ("ingested", "3 variants")],
                                   "ingest"), "redelivered: no change"
    assert await cases.advance("C-2", "R-2@1", PUBLISHED, [("annotated", "kb x")], "annotate")
    assert not await cases.advance("C-2", "R-0@1", PUBLISHED - timedelta(days=1), [("decided", "")], "notify")
    assert await cases.advance("C-2", "R-2@2", PUBLISHED + timedelta(days=1), [("received", "")], "ingest")
    case = await view.case("C-2")
    assert (case["state"], case["state_result_key"]) == ("received", "R-2@2")
    assert [(s["result_key"], s["stage"]) for s in case["timeline"]] == [
        ("R-2@1", "received"), ("R-2@1", "ingested"), ("R-2@1", "annotated"),
        ("R-0@1", "decided"),  # a late step of an older result is on the timeline, without moving the state
        ("R-2@2", "received")]
    changes = [e for e in await view.audit() if e["action"] == "state_changed"]
    assert sorted((e["actor"], e["detail"]["state"], e["detail"]["result_key"]) for e in changes) == [
        ("annotate", "annotated", "R-2@1"), ("ingest", "ingested", "R-2@1"), ("ingest", "received", "R-2@1"),
        ("ingest", "received", "R-2@2")]


async def test_an_unknown_case_is_not_created_by_advancing_or_adding_a_step(record):
    cases, view = record
    assert not await cases.advance("C-NONE", "R@1", PUBLISHED, [("received", "")], "ingest")
    await cases.add_step("C-NONE", "R@1", "delivered", "")
    assert await view.case("C-NONE") is None


async def test_a_step_that_is_not_a_state_is_added_once_per_result(record):
    cases, view = record
    await cases.open_case("C-3", {}, {"treating_site": "HOSP-A"})
    for _ in range(2):
        await cases.add_step("C-3", "R@1", "delivered", "webhook after 1 attempt(s)")
    await cases.add_step("C-3", "R@2", "delivered", "webhook after 2 attempt(s)")
    case = await view.case("C-3")
    assert [(s["result_key"], s["stage"]) for s in case["timeline"]] == [("R@1", "delivered"), ("R@2", "delivered")]
    assert case["state"] == "received", "a step is not a state"


async def test_a_transfer_moves_the_case_and_is_audited(record):
    cases, view = record
    await cases.open_case("C-4", {}, {"treating_site": "HOSP-A"})
    assert await cases.transfer("C-4", "HOSP-B", "operator:jan", "moved to Leuven") == "HOSP-A"
    assert await cases.treating_site("C-4") == "HOSP-B"
    assert await cases.transfer("C-NONE", "HOSP-B", "operator:jan", "") is None
    [entry] = [e for e in await view.audit() if e["action"] == "case_transferred"]
    assert entry["detail"] == {"from_site": "HOSP-A", "to_site": "HOSP-B", "note": "moved to Leuven"}


async def test_an_effect_is_audited_once_however_often_it_is_recorded(record):
    cases, view = record
    effect = Effect("rejected:t:0:7", "ingest", "result_rejected", "C-5", None, {"codes": ["vcf_truncated"]})
    await cases.audit_once([effect])
    await cases.audit_once([effect, effect._replace(effect_id="rejected:t:0:8")])
    await cases.audit("notify", "escalated", "C-5", "A-1", {"level": 1})
    await cases.audit("notify", "escalated", "C-5", "A-1", {"level": 1})
    actions = sorted(e["action"] for e in await view.audit())
    assert actions == ["escalated", "escalated", "result_rejected", "result_rejected"]
