"""How long the MTB workspace takes to answer at the issue's sizes: a worklist of 200 open alerts and a case page
with 500 findings over 20 specimens, served by the real notify service from FerretDB (the bench stack).

Seeded directly into the database (as annotate and notify store them), then each page is fetched `repeats`
times through HTTP with a signed-in session; the case's JSON from the clinician API (the same documents, no
template) is the baseline in the same run.
"""

import asyncio
import http.cookiejar
import re
import statistics
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta

from bson import Binary
from pymongo import MongoClient
from rich.progress import Progress

from bench.stack import BenchStack
from services.common import packed
from services.notify.adapters import team_directory
from services.notify.domain.routing import Team

SITE, TEAM, CASE = "HOSP-BENCH", "MTB-BENCH", "CASE-BENCH-1"
ALERTS, FINDINGS, SPECIMENS, TRACKED = 200, 500, 20, 10
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _finding(n: int) -> dict:
    return {"variant_key": f"chr1:{1000 + n}:A>T", "gene": f"GENE{n % 97}", "alteration": f"p.A{n}T",
            "amp_tier": "II", "amp_level": "C", "escat_tier": "II-B", "oncogenicity": "likely_oncogenic",
            "kind": "snv", "vaf": 0.1 + (n % 7) / 100, "therapies_sensitive": [f"drug-{n % 13}"],
            "citations": [f"PMID:{30000000 + n}", f"FDA label: Drug{n % 13}"]}


def _interpretation(k: int) -> dict:
    """Specimen k of the case; the last one carries the 500 findings."""
    findings = [_finding(n) for n in range(FINDINGS)] if k == SPECIMENS - 1 else [_finding(n) for n in range(5)]
    specimen = {"specimen_id": f"SP-{k}", "type": "plasma", "collected_on": str(date(2026, 6, 1) + timedelta(weeks=4 * k)),
                "lod_vaf": 0.005, "variants": [{"track_key": f"GENE{v}:p.A{v}T", "gene": f"GENE{v}",
                                                "alteration": f"p.A{v}T", "vaf": round(0.01 * (1 + (k + v) % 9), 3)}
                                               for v in range(TRACKED)]}
    return {"result_key": f"R-BENCH-{k:02d}@1", "result_version": 1, "tumor_type": "LUAD", "findings": findings,
            "signature_findings": [], "vus_count": 12, "msi_status": "MSS", "germline_flags": [],
            "tmb": {"tmb_per_mb": 8.4, "tmb_high": False, "threshold": 10.0}, "qc": {"informative": True},
            "current_specimen": specimen, "kb_version": "bench", "ruleset_version": "bench"}


def seed(db) -> None:
    db.cases.insert_one({"_id": CASE, "treating_site": SITE, "tumor_type": "LUAD", "state": "alerted",
                         "timeline": [{"stage": "received", "at": T0, "result_key": "R-BENCH-0@1"},
                                      {"stage": "alerted", "at": T0 + timedelta(seconds=1), "result_key": "R-BENCH-0@1"}]})
    db.interpretations.insert_many([
        {"_id": f"R-BENCH-{k:02d}@1", "case_id": CASE, "annotated_at": T0 + timedelta(weeks=4 * k),
         "interpretation": Binary(packed.pack(_interpretation(k))), "encoding": packed.ENCODING}
        for k in range(SPECIMENS)])
    db.results.insert_many([{"_id": f"R-BENCH-{k:02d}@1", "case_id": CASE, "specimen": {"collected_on": str(
        date(2026, 6, 1) + timedelta(weeks=4 * k))}, "current_therapies": ["osimertinib"] if k > 5 else []}
        for k in range(SPECIMENS)])
    db.alerts.insert_many([
        {"_id": f"AL-BENCH-{n}", "case_id": CASE if n == 0 else f"CASE-BENCH-{n}", "treating_site": SITE,
         "tumor_type": "LUAD", "priority": "urgent" if n % 5 == 0 else "routine", "status": "open",
         "reasons": [{"rule_id": "amp-tier-i-ii", "code": "actionable_finding", "summary": f"GENE{n} p.A{n}T: Tier II"}],
         "findings": [{"gene": f"GENE{n % 97}", "alteration": f"p.A{n}T"}], "raised_at": T0 + timedelta(minutes=n),
         "published_at": T0, "result_key": f"R-{n}@1", "delivery_status": "delivered", "escalation_level": 0,
         "routed": True} for n in range(ALERTS)])


async def _token(uri: str) -> str:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(uri, tz_aware=True)
    try:
        db = client["oncorelay_bench"]
        await team_directory.save_team(db, Team(team_id=TEAM, site_ids=frozenset({SITE}), name="Bench MTB"))
        return await team_directory.issue_token(db, TEAM, ["read", "ack", "decide"], "bench", member="Bench member")
    finally:
        await client.close()


def _timed(opener, url: str, repeats: int, headers: dict | None = None) -> dict:
    seconds = []
    for _ in range(repeats):
        request = urllib.request.Request(url, headers=headers or {})
        started = time.perf_counter()
        with opener.open(request, timeout=60) as response:
            body = response.read()
            assert response.status == 200, url
        seconds.append(time.perf_counter() - started)
    return {"p50_s": round(statistics.median(seconds), 4), "max_s": round(max(seconds), 4), "bytes": len(body)}


def run(repeats: int, bar: Progress) -> dict:
    task = bar.add_task("workspace pages (200 alerts, 500 findings, 20 specimens)", total=4)
    stack = BenchStack()
    stack.start(services=True)
    try:
        with MongoClient(stack.mongo_uri, tz_aware=True) as client:
            seed(client["oncorelay_bench"])
        token = asyncio.run(_token(stack.mongo_uri))
        bar.advance(task)
        base = f"http://127.0.0.1:{stack.env()['ONCORELAY_NOTIFY_API_PORT']}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(f"{base}/sign-in", timeout=30) as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', response.read().decode()).group(1)
        form = urllib.parse.urlencode({"token": token, "csrf": csrf, "next": "/"}).encode()
        with opener.open(urllib.request.Request(f"{base}/sign-in", data=form), timeout=30) as response:
            assert response.url.rstrip("/") == base, "bench sign-in failed"
        worklist = _timed(opener, f"{base}/", repeats)
        bar.advance(task)
        case = _timed(opener, f"{base}/cases/{CASE}", repeats)
        bar.advance(task)
        api = _timed(opener, f"{base}/api/v1/cases/{CASE}", repeats, {"Authorization": f"Bearer {token}"})
        bar.advance(task)
    finally:
        stack.stop()
    return {"worklist": worklist, "case_page": case, "case_api_json": api, "repeats": repeats,
            "case_page_vs_api": round(case["p50_s"] / api["p50_s"], 2) if api["p50_s"] else None,
            "sizes": {"open_alerts": ALERTS, "findings": FINDINGS, "specimens": SPECIMENS,
                      "tracked_variants": TRACKED}}
