"""Routing of alerts to subscriptions (pure): treating hospital, tumour type lineage, priority."""

from pathlib import Path

import pytest

from services.common.oncotree import load_oncotree
from services.notify.domain.routing import AlertFacts, Channel, Subscription, Team, matches, route, subscription_problem

ONCOTREE = Path(__file__).resolve().parents[3] / "shared" / "data" / "oncotree" / "oncotree_2025_10_03.json"
HOOK = Channel(kind="webhook", url="https://mtb.gent.example/hook", secret="s" * 16)


def _sub(sid="s1", team="MTB-GENT", sites=("HOSP-GENT",), **kw) -> Subscription:
    return Subscription(subscription_id=sid, team_id=team, site_ids=frozenset(sites), channel=HOOK, **kw)


def test_alert_goes_only_to_subscriptions_of_its_treating_hospital():
    gent, leuven = _sub("a", sites=("HOSP-GENT",)), _sub("b", team="MTB-LEUVEN", sites=("HOSP-LEUVEN",))
    assert route([leuven, gent], AlertFacts("HOSP-GENT", "LUAD", "routine")) == [gent]
    assert route([leuven, gent], AlertFacts("HOSP-ELSEWHERE", "LUAD", "routine")) == []


def test_operator_subscription_covers_every_site():
    operator = _sub("op", team="_operator", sites=(), all_sites=True)
    assert matches(operator, AlertFacts("HOSP-ANY", "COAD", "info"))


def test_priority_filter():
    urgent_only = _sub(priorities=frozenset({"urgent"}))
    assert matches(urgent_only, AlertFacts("HOSP-GENT", "LUAD", "urgent"))
    assert not matches(urgent_only, AlertFacts("HOSP-GENT", "LUAD", "routine"))


def test_inactive_subscription_receives_nothing():
    assert not matches(_sub(active=False), AlertFacts("HOSP-GENT", "LUAD", "urgent"))


def test_tumour_type_filter_is_exact_without_oncotree():
    nsclc = _sub(tumor_types=frozenset({"NSCLC"}))
    assert not matches(nsclc, AlertFacts("HOSP-GENT", "LUAD", "routine"))
    assert matches(nsclc, AlertFacts("HOSP-GENT", "NSCLC", "routine"))


@pytest.mark.parametrize("code, expected", [("LUAD", True), ("LUSC", True), ("NSCLC", True), ("COAD", False),
                                            ("SCLC", False), ("NOT-A-CODE", False)])
def test_tumour_type_filter_follows_oncotree_lineage(code, expected):
    for lineage in (load_oncotree(ONCOTREE).lineage, load_oncotree(None).lineage):  # a release JSON, and the shipped table
        assert matches(_sub(tumor_types=frozenset({"NSCLC"})), AlertFacts("HOSP-GENT", code, "routine"), lineage) is expected


def test_route_order_is_stable():
    subs = [_sub("c"), _sub("a"), _sub("b")]
    assert [s.subscription_id for s in route(subs, AlertFacts("HOSP-GENT", "LUAD", "info"))] == ["a", "b", "c"]


def test_team_cannot_subscribe_to_a_hospital_it_does_not_serve():
    team = Team("MTB-GENT", frozenset({"HOSP-GENT"}))
    assert "does not serve HOSP-LEUVEN" in subscription_problem(team, ["HOSP-LEUVEN"], HOOK)
    assert subscription_problem(team, ["HOSP-GENT"], HOOK) is None


@pytest.mark.parametrize("channel, why", [
    (Channel(kind="webhook", url="ftp://x", secret="s" * 16), "http(s) URL"),
    (Channel(kind="webhook", url="https://x"), "signing secret"),
    (Channel(kind="email"), "at least one address"),
    (Channel(kind="email", to=("not-an-address",)), "needs an @"),
    (Channel(kind="email", to=("mtb@hosp.example", "a@b.org\r\nBcc: c@d.org")), "line breaks"),
])
def test_incomplete_channels_are_refused(channel, why):
    assert why in subscription_problem(Team("T", frozenset({"H"})), ["H"], channel)
