"""HL7 FHIR R4 views of oncorelay data (pure; plain dicts, validated with fhir.resources in tests).

- case_bundle(): a case as a Bundle (type collection) following the Genomics Reporting IG (the
  STU2 JSON examples in shared/data/fhir-genomics-reporting/): a genomics-report DiagnosticReport,
  one `variant` Observation per finding (LOINC 69548-6 with gene, HGVS, assembly, source class
  and VAF components), one `therapeutic-implication` Observation per finding and therapy, TMB and
  MSI Observations, the Specimens, and a Patient known only by its pseudonym.
- notification_bundle(): a FHIR Subscriptions (R4B backport) event-notification Bundle for a
  webhook receiver that speaks FHIR, with the subscription's event counter.

The interpretation documents are read defensively: any missing field is left out, never guessed.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/TbdCodes"
LOINC = "http://loinc.org"
HGVS = "http://varnomen.hgvs.org"
HGNC = "http://www.genenames.org/geneId"
SNOMED = "http://snomed.info/sct"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
UCUM = "http://unitsofmeasure.org"
NS = uuid.UUID("6f1c1c52-8a51-4c0e-9a59-2f0d8b7e4a10")  # oncorelay's namespace for stable resource ids
PSEUDONYM_SYSTEM = "urn:oncorelay:patient-pseudonym"
ALERT_SYSTEM = "urn:oncorelay:alert"
RESULT_SYSTEM = "urn:oncorelay:result"
TOPIC = "https://oncorelay.org/fhir/SubscriptionTopic/mtb-review-required"

ASSEMBLY = {"GRCh37": ("LA14029-5", "GRCh37"), "GRCh38": ("LA26806-2", "GRCh38")}
SPECIMEN_TYPE = {"tissue": ("119376003", "Tissue specimen"), "plasma": ("119361006", "Plasma specimen")}


def urn(*parts: str) -> str:
    """A stable urn:uuid for a resource named by `parts` (the same case gives the same ids)."""
    return f"urn:uuid:{uuid.uuid5(NS, '|'.join(parts))}"


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [coding(system, code, display)]}


def component(code: str, display: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"code": concept(LOINC, code, display), **value}


def _instant(value: object) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value if isinstance(value, str) else None


def _laboratory() -> list[dict[str, Any]]:
    return [concept(OBS_CATEGORY, "laboratory"), concept(V2_0074, "GE", "Genetics")]


def variant_observation(finding: dict[str, Any], refs: dict[str, str], assembly: str | None) -> dict[str, Any]:
    """A Genomics Reporting `variant` Observation for one finding."""
    gene = finding.get("gene")
    parts = [component("48018-6", "Gene studied [ID]", {"valueCodeableConcept": concept(HGNC, gene, gene)})] if gene else []
    protein = finding.get("hgvsp") or (finding.get("alteration") if str(finding.get("alteration", "")).startswith("p.") else None)
    if finding.get("hgvsc"):
        parts.append(component("48004-6", "DNA change (c.HGVS)",
                                {"valueCodeableConcept": concept(HGVS, finding["hgvsc"], finding["hgvsc"])}))
    if protein:
        parts.append(component("48005-3", "Amino acid change (pHGVS)", {"valueCodeableConcept": concept(HGVS, protein, protein)}))
    if all(finding.get(k) for k in ("chrom", "pos", "ref", "alt")) and len(finding["ref"]) == len(finding["alt"]) == 1:
        g = f"{str(finding['chrom']).removeprefix('chr')}:g.{finding['pos']}{finding['ref']}>{finding['alt']}"
        parts.append(component("81290-9", "Genomic DNA change (gHGVS)", {"valueCodeableConcept": concept(HGVS, g, g)}))
    if assembly in ASSEMBLY:
        parts.append(component("62374-4", "Human reference sequence assembly version",
                               {"valueCodeableConcept": concept(LOINC, *ASSEMBLY[assembly])}))
    parts.append(component("48002-0", "Genomic source class", {"valueCodeableConcept": concept(LOINC, "LA6684-0", "Somatic")}))
    if isinstance(finding.get("vaf"), int | float):
        parts.append(component("81258-6", "Sample VAF",
                               {"valueQuantity": {"value": float(finding["vaf"]), "system": UCUM, "code": "1"}}))
    observation = {
        "resourceType": "Observation",
        "meta": {"profile": [IG + "variant"]},
        "status": "final",
        "category": _laboratory(),
        "code": concept(LOINC, "69548-6", "Genetic variant assessment"),
        "subject": {"reference": refs["patient"]},
        "valueCodeableConcept": concept(LOINC, "LA9633-4", "Present"),
        "method": concept(LOINC, "LA26398-0", "Sequencing"),
        "component": parts,
    }
    if refs.get("specimen"):
        observation["specimen"] = {"reference": refs["specimen"]}
    if finding.get("oncogenicity"):
        observation["interpretation"] = [{"text": str(finding["oncogenicity"])}]
    return observation


def evidence_text(finding: dict[str, Any]) -> str | None:
    """AMP/ASCO/CAP and ESCAT tiers and EU status of a finding as one line (None when it has none)."""
    parts = []
    if finding.get("amp_tier"):
        level = f" level {finding['amp_level']}" if finding.get("amp_level") else ""
        parts.append(f"AMP/ASCO/CAP Tier {finding['amp_tier']}{level}")
    if finding.get("escat_tier"):
        parts.append(f"ESCAT {finding['escat_tier']}")
    if finding.get("eu_status"):
        parts.append(f"EU: {finding['eu_status']}")
    return "; ".join(parts) or None


def therapeutic_implication(finding: dict[str, Any], therapy: str, variant_ref: str, refs: dict[str, str],
                            tumor_type: str) -> dict[str, Any]:
    """A Genomics Reporting `therapeutic-implication` Observation: a therapy the variant bears on."""
    parts = [component("51963-7", "Medication assessed", {"valueCodeableConcept": {"text": therapy}})]
    evidence = evidence_text(finding)
    if evidence:
        parts.append(component("93044-6", "Level of Evidence", {"valueCodeableConcept": {"text": evidence}}))
    parts.append({"code": concept(TBD, "associated-cancer"), "valueCodeableConcept": {"text": tumor_type}})
    observation = {
        "resourceType": "Observation",
        "meta": {"profile": [IG + "therapeutic-implication"]},
        "status": "final",
        "category": _laboratory(),
        "code": concept(TBD, "therapeutic-implication", "Therapeutic Implication"),
        "subject": {"reference": refs["patient"]},
        "derivedFrom": [{"reference": variant_ref}],
        "method": concept(LOINC, "LA26811-2", "Computational analysis"),
        "component": parts,
    }
    if finding.get("sources"):
        observation["note"] = [{"text": "Sources: " + "; ".join(map(str, finding["sources"]))}]
    return observation


def latest_findings(docs: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The findings of the latest interpretation (or, without one, of the latest alert) and that document."""
    for key in ("interpretations", "alerts"):
        candidates = [d for d in docs.get(key) or [] if d.get("findings")]
        if candidates:
            # the newest (a case's specimens have results of their own), then the highest version of one result
            latest = max(candidates, key=lambda d: (str(d.get("annotated_at") or d.get("raised_at") or ""),
                                                    d.get("result_version") or 0, str(d.get("_id"))))
            return [f for f in latest["findings"] if isinstance(f, dict)], latest
    return [], {}


def case_bundle(docs: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The FHIR R4 Bundle (collection) of a case from store.case_documents(): report, variants, implications."""
    case = docs.get("case") or {}
    results = docs.get("results") or []
    alerts = docs.get("alerts") or []
    case_id = case.get("_id") or next((a["case_id"] for a in alerts), None) or next((r["case_id"] for r in results), "")
    findings, source = latest_findings(docs)
    result = next((r for r in results if r.get("_id") == source.get("result_key")), results[-1] if results else {})
    tumor_type = source.get("tumor_type") or case.get("tumor_type") or result.get("tumor_type") or ""
    refs = {"patient": urn(case_id, "patient")}
    entries: list[tuple[str, dict[str, Any]]] = []

    pseudonym = case.get("patient_pseudonym") or result.get("patient_pseudonym")
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if pseudonym:
        patient["identifier"] = [{"system": PSEUDONYM_SYSTEM, "value": pseudonym}]
    entries.append((refs["patient"], patient))

    specimen = result.get("specimen") or {}
    if specimen.get("specimen_id"):
        refs["specimen"] = urn(case_id, "specimen", specimen["specimen_id"])
        resource = {"resourceType": "Specimen", "meta": {"profile": [IG + "specimen"]},
                    "identifier": [{"value": specimen["specimen_id"]}], "status": "available",
                    "subject": {"reference": refs["patient"]}}
        if specimen.get("type") in SPECIMEN_TYPE:
            resource["type"] = concept(SNOMED, *SPECIMEN_TYPE[specimen["type"]])
        if specimen.get("collected_on"):
            resource["collection"] = {"collectedDateTime": str(specimen["collected_on"])[:10]}
        entries.append((refs["specimen"], resource))

    assembly = (result.get("assay") or {}).get("genome_build")
    results_refs: list[dict[str, Any]] = []
    for index, finding in enumerate(findings):
        variant_ref = urn(case_id, "variant", str(index), str(finding.get("gene")), str(finding.get("alteration")))
        entries.append((variant_ref, variant_observation(finding, refs, assembly)))
        results_refs.append({"reference": variant_ref, "display": f"{finding.get('gene', '')} {finding.get('alteration', '')}".strip()})
        for therapy in finding.get("therapies") or []:
            implication_ref = urn(variant_ref, "therapy", str(therapy))
            entries.append((implication_ref, therapeutic_implication(finding, str(therapy), variant_ref, refs, tumor_type)))
            results_refs.append({"reference": implication_ref, "display": f"{therapy}"})

    tmb = source.get("tmb_per_mb", result.get("tmb_reported"))
    if isinstance(tmb, int | float):
        ref = urn(case_id, "tmb")
        entries.append((ref, {"resourceType": "Observation", "status": "final", "category": _laboratory(),
                              "code": concept(LOINC, "94076-7", "Mutations/Megabase [# Ratio] in Tumor"),
                              "subject": {"reference": refs["patient"]},
                              "valueQuantity": {"value": float(tmb), "system": UCUM, "code": "1/1000000{Base}",
                                                "unit": "mutations/Mb"}}))
        results_refs.append({"reference": ref, "display": "Tumor mutational burden"})
    msi = source.get("msi_status") or result.get("msi_status")
    if msi:
        ref = urn(case_id, "msi")
        entries.append((ref, {"resourceType": "Observation", "status": "final", "category": _laboratory(),
                              "code": concept(LOINC, "81695-9", "Microsatellite instability [Interpretation] in Cancer specimen Qualitative"),
                              "subject": {"reference": refs["patient"]}, "valueCodeableConcept": {"text": str(msi)}}))
        results_refs.append({"reference": ref, "display": "MSI status"})

    report = {
        "resourceType": "DiagnosticReport",
        "meta": {"profile": [IG + "genomics-report"]},
        "status": "final",
        "category": [concept(V2_0074, "GE", "Genetics")],
        "code": {**concept(LOINC, "81247-9", "Master HL7 genetic variant reporting panel"), "text": "Genetic analysis report"},
        "subject": {"reference": refs["patient"]},
        "result": results_refs,
    }
    if result.get("_id"):
        report["identifier"] = [{"system": RESULT_SYSTEM, "value": str(result["_id"])}]
    if refs.get("specimen"):
        report["specimen"] = [{"reference": refs["specimen"]}]
    issued = _instant(source.get("annotated_at") or source.get("raised_at") or result.get("ingested_at"))
    if issued:
        report["issued"] = issued
    conclusion = _conclusion(docs, source)
    if conclusion:
        report["conclusion"] = conclusion
    entries.insert(0, (urn(case_id, "report"), report))
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:oncorelay:case", "value": case_id},
        "type": "collection",
        "timestamp": (now or datetime.now(UTC)).isoformat(),
        "entry": [{"fullUrl": full_url, "resource": resource} for full_url, resource in entries],
    }


def _conclusion(docs: dict[str, Any], source: dict[str, Any]) -> str | None:
    decisions = docs.get("decisions") or []
    if decisions:
        last = decisions[-1]
        return f"MTB decision ({last.get('outcome')}): {last.get('recommendation')} Rationale: {last.get('rationale')}"
    reasons = [r["summary"] for r in source.get("reasons") or [] if isinstance(r, dict) and r.get("summary")]
    return "; ".join(reasons) or None


FHIR_PRIORITY = {"urgent": "urgent", "routine": "routine", "info": "routine"}


def notification_bundle(alert: dict[str, Any], subscription_id: str, event_number: int, link_base: str,
                        now: datetime | None = None) -> dict[str, Any]:
    """An event-notification Bundle (FHIR Subscriptions backport, R4B) announcing one alert."""
    now = now or datetime.now(UTC)
    focus = urn("alert", alert["alert_id"])
    reasons = "; ".join(r["summary"] for r in alert.get("reasons", []))
    communication = {
        "resourceType": "Communication",
        "identifier": [{"system": ALERT_SYSTEM, "value": alert["alert_id"]}],
        "status": "completed",
        "category": [{"text": "MTB review required"}],
        "priority": FHIR_PRIORITY.get(alert.get("priority", ""), "routine"),
        "sent": _instant(alert.get("raised_at")) or now.isoformat(),
        "payload": [{"contentString": f"Case {alert['case_id']} ({alert['tumor_type']}) needs MTB review: {reasons}"},
                    {"contentString": f"{link_base}{alert['case_id']}"}],
    }
    status = {
        "resourceType": "SubscriptionStatus",
        "status": "active",
        "type": "event-notification",
        "eventsSinceSubscriptionStart": str(event_number),
        "notificationEvent": [{"eventNumber": str(event_number), "timestamp": now.isoformat(),
                               "focus": {"reference": focus}}],
        "subscription": {"reference": f"Subscription/{subscription_id}"},
        "topic": TOPIC,
    }
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": now.isoformat(),
        "entry": [
            {"fullUrl": urn("status", subscription_id, str(event_number)), "resource": status,
             "request": {"method": "GET", "url": f"Subscription/{subscription_id}/$status"}, "response": {"status": "200"}},
            {"fullUrl": focus, "resource": communication,
             "request": {"method": "POST", "url": "Communication"}, "response": {"status": "201"}},
        ],
    }
