"""The allele fraction of each tracked variant across a patient's specimens, as an SVG plot (pure): dates on the
x axis, allele fraction (%) on the y axis, the assay's detection limit drawn, therapy changes marked. The same
numbers go into a table beside it, for screen readers and for reading exact values."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 16, 44
# Okabe-Ito colours (distinguishable with colour-vision deficiency); each line also has its own marker and label
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("circle", "square", "diamond", "triangle")
MAX_SERIES = 12


@dataclass(frozen=True)
class Sample:
    """One specimen: when it was collected, its detection limit, and each tracked variant's allele fraction."""

    specimen_id: str
    collected_on: date
    lod_vaf: float | None
    vafs: dict[str, float | None]  # track key -> allele fraction (None: tracked, no fraction reported)
    labels: dict[str, str] = field(default_factory=dict)  # track key -> "GENE alteration"


@dataclass(frozen=True)
class Line:
    label: str
    colour: str
    marker: str
    path: str
    points: list[dict[str, Any]]  # {x, y, day, vaf, detected}


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    lines: list[Line]
    lod: tuple[float, str] | None
    therapy_marks: list[tuple[float, str]]
    table: list[dict[str, Any]]  # one row per variant and specimen


def samples_of(specimens: list[dict[str, Any]]) -> list[Sample]:
    """The specimens of a case's interpretations (contracts.read_models.StoredSpecimen dumps), one per specimen,
    oldest first."""
    by_id: dict[str, Sample] = {}
    for specimen in specimens:
        variants = specimen.get("variants") or []
        by_id[specimen["specimen_id"]] = Sample(
            specimen["specimen_id"], specimen["collected_on"], specimen.get("lod_vaf"),
            {v["track_key"]: v.get("vaf") for v in variants},
            {v["track_key"]: " ".join(p for p in (v.get("gene"), v.get("alteration")) if p) for v in variants})
    return sorted(by_id.values(), key=lambda s: (s.collected_on, s.specimen_id))


def therapy_changes(results: list[dict[str, Any]]) -> list[tuple[date, str]]:
    """The specimen dates at which the patient's current therapies differ from the previous result's."""
    changes, before = [], None
    dated = [r for r in results if (r.get("specimen") or {}).get("collected_on")]
    for result in sorted(dated, key=lambda r: str(r["specimen"]["collected_on"])):
        therapies = tuple(result.get("current_therapies") or ())
        if before is not None and therapies != before:
            changes.append((date.fromisoformat(str(result["specimen"]["collected_on"])[:10]),
                            ", ".join(therapies) or "no therapy"))
        before = therapies
    return changes


def vaf_plot(samples: list[Sample], therapy: list[tuple[date, str]]) -> Plot | None:
    """The plot of every variant tracked in two or more specimens (None with fewer than two specimens)."""
    if len(samples) < 2:
        return None
    labels: dict[str, str] = {}
    for sample in samples:
        labels.update(sample.labels)
    keys = sorted(labels, key=lambda k: -max((s.vafs.get(k) or 0.0) for s in samples))[:MAX_SERIES]
    first, last = samples[0].collected_on, samples[-1].collected_on
    span = max((last - first).days, 1)
    top = max([max((s.vafs.get(k) or 0.0) for s in samples for k in keys), max(s.lod_vaf or 0 for s in samples),
               0.01]) * 1.1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + inner_w * (day - first).days / span, 1)

    def y(vaf: float) -> float:
        return round(TOP + inner_h * (1 - vaf / top), 1)

    lines, table = [], []
    for n, key in enumerate(keys):
        points = []
        for sample in samples:
            vaf = sample.vafs.get(key)
            detected = key in sample.vafs and vaf is not None
            value = vaf if detected and vaf is not None else 0.0
            points.append({"x": x(sample.collected_on), "y": y(value), "day": sample.collected_on.isoformat(),
                           "vaf": value, "detected": detected})
            table.append({"variant": labels[key], "specimen_id": sample.specimen_id,
                          "day": sample.collected_on.isoformat(),
                          "vaf": f"{value * 100:.2f} %" if detected else "not detected"})
        path = " ".join(f"{'M' if i == 0 else 'L'}{p['x']},{p['y']}" for i, p in enumerate(points))
        lines.append(Line(labels[key], COLOURS[n % len(COLOURS)], MARKERS[n % len(MARKERS)], path, points))
    lods = [s.lod_vaf for s in samples if s.lod_vaf]
    lod = (y(min(lods)), f"detection limit {min(lods) * 100:.2g} %") if lods else None
    y_ticks = [(y(top * i / 4), f"{top * i / 4 * 100:.2g} %") for i in range(5)]
    x_ticks = [(x(s.collected_on), s.collected_on.isoformat()) for s in samples]
    marks = [(x(day), label) for day, label in therapy if first <= day <= last]
    return Plot(WIDTH, HEIGHT, x_ticks, y_ticks, lines, lod, marks, table)
