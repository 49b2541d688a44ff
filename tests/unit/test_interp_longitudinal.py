from datetime import date
from pathlib import Path

import pytest

from services.annotate.domain.knowledge import KnowledgeBase
from services.annotate.domain.longitudinal import (
    LongitudinalSettings,
    ObservedVariant,
    PatientHistory,
    SpecimenObservation,
    detect,
    track_key,
)
from services.common.oncotree import OncoTree

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def tree():
    return OncoTree.load(DATA / "oncotree" / "oncotree_2025_10_03.json")


@pytest.fixture(scope="module")
def contexts():
    return KnowledgeBase.build().reference.resistance_contexts


def obs(gene, hgvsp, vaf):
    return ObservedVariant(track_key=track_key(gene, hgvsp, ""), gene=gene, alteration=hgvsp, vaf=vaf)


def spec(sid, day, *variants, kind="plasma"):
    return SpecimenObservation(specimen_id=sid, type=kind, collected_on=date(2026, 1, day), variants=list(variants))


def history(*specimens):
    return PatientHistory(patient_pseudonym="PSN-0001", specimens=list(specimens))


def test_variant_undetected_then_detected_again_is_molecular_relapse(tree, contexts):
    past = history(spec("S1", 1, obs("KRAS", "p.G12D", 0.08), kind="tissue"), spec("S2", 10), spec("S3", 20))
    events = detect(past, spec("S4", 30, obs("KRAS", "p.Gly12Asp", 0.004)), "COAD", [], contexts, tree)
    assert [e.code for e in events] == ["molecular_relapse"]
    assert events[0].specimen_ids == ["S1", "S2", "S3", "S4"]


def test_threefold_ctdna_rise_alerts_and_small_rise_does_not(tree, contexts):
    past = history(spec("S1", 1, obs("TP53", "p.R175H", 0.01)))
    rise = detect(past, spec("S2", 15, obs("TP53", "p.R175H", 0.03)), "BRCA", [], contexts, tree)
    assert [(e.code, e.vaf_before, e.vaf_now) for e in rise] == [("ctdna_rise", 0.01, 0.03)]
    assert not detect(past, spec("S2", 15, obs("TP53", "p.R175H", 0.015)), "BRCA", [], contexts, tree)
    strict = LongitudinalSettings(rise_factor=4.0)
    assert not detect(past, spec("S2", 15, obs("TP53", "p.R175H", 0.03)), "BRCA", [], contexts, tree, strict)


def test_rise_below_minimum_vaf_is_noise(tree, contexts):
    past = history(spec("S1", 1, obs("TP53", "p.R175H", 0.001)))
    assert not detect(past, spec("S2", 15, obs("TP53", "p.R175H", 0.003)), "BRCA", [], contexts, tree)


def test_new_egfr_c797s_on_osimertinib_is_emergent_resistance(tree, contexts):
    past = history(spec("S1", 1, obs("EGFR", "p.E746_A750del", 0.2), kind="tissue"))
    now = spec("S2", 28, obs("EGFR", "p.E746_A750del", 0.05), obs("EGFR", "p.Cys797Ser", 0.01))
    events = detect(past, now, "LUAD", ["Osimertinib 80 mg"], contexts, tree)
    assert [(e.code, e.gene, e.alteration) for e in events] == [("emergent_resistance", "EGFR", "p.Cys797Ser")]
    assert "25939061" in events[0].source
    assert not detect(past, now, "LUAD", ["erlotinib"], contexts, tree)
    assert not detect(past, now, "BRCA", ["osimertinib"], contexts, tree)


def test_kras_in_crc_on_panitumumab_and_esr1_on_letrozole(tree, contexts):
    crc = detect(history(spec("S1", 1)), spec("S2", 30, obs("KRAS", "p.Q61H", 0.01)), "READ", ["panitumumab"],
                 contexts, tree)
    assert [e.code for e in crc] == ["emergent_resistance"]
    breast = detect(history(spec("S1", 1)), spec("S2", 30, obs("ESR1", "p.D538G", 0.02)), "IDC", ["letrozole"],
                    contexts, tree)
    assert [e.code for e in breast] == ["emergent_resistance"]


def test_no_history_means_no_events(tree, contexts):
    assert detect(None, spec("S1", 1, obs("EGFR", "p.C797S", 0.1)), "LUAD", ["osimertinib"], contexts, tree) == []
