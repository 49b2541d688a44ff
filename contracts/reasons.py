"""Machine-readable reason codes for rejected lab results, each with advice a lab engineer can act on."""

from enum import StrEnum


class RejectionCode(StrEnum):
    """Why ingest refused a sequencing result. Values are stable: labs may switch on them."""

    MALFORMED_JSON = "malformed_json"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    SCHEMA_VIOLATION = "schema_violation"
    PATIENT_IDENTIFIER = "patient_identifier"
    UNKNOWN_LAB = "unknown_lab"
    SITE_NOT_PERMITTED = "site_not_permitted"
    RESULT_OWNED_BY_OTHER_LAB = "result_owned_by_other_lab"
    CASE_SITE_CONFLICT = "case_site_conflict"
    LAB_TOPIC_MISMATCH = "lab_topic_mismatch"
    LAB_TOPIC_REQUIRED = "lab_topic_required"
    REFERENCE_NOT_ALLOWED = "reference_not_allowed"
    MESSAGE_TOO_LARGE = "message_too_large"
    VCF_ENCODING = "vcf_encoding"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    REFERENCE_UNREACHABLE = "reference_unreachable"
    VCF_TOO_LARGE = "vcf_too_large"
    VCF_NOT_BGZIP = "vcf_not_bgzip"
    VCF_TRUNCATED = "vcf_truncated"
    VCF_HEADER_INVALID = "vcf_header_invalid"
    VCF_RECORD_INVALID = "vcf_record_invalid"
    NO_VARIANTS_SECTION = "no_variants_section"
    GENOME_BUILD_MISMATCH = "genome_build_mismatch"
    CONTIG_MISMATCH = "contig_mismatch"
    INVALID_ALLELE = "invalid_allele"
    INFO_TOO_LARGE = "info_too_large"
    FIELD_TOO_LARGE = "field_too_large"
    HEADER_LINE_TOO_LONG = "header_line_too_long"
    HEADER_TOO_LARGE = "header_too_large"
    VCF_DECOMPRESSED_TOO_LARGE = "vcf_decompressed_too_large"
    TOO_MANY_RECORDS = "too_many_records"
    TOO_MANY_FINDINGS = "too_many_findings"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    NO_TUMOUR_SAMPLE = "no_tumour_sample"
    STALE_VERSION = "stale_version"
    PROCESSING_FAILED = "processing_failed"


ADVICE: dict[RejectionCode, str] = {
    RejectionCode.MALFORMED_JSON: "The message is not valid UTF-8 JSON. Publish the JSON document produced by the "
    "oncorelay client or validated against contracts/schemas/SequencingResult.json.",
    RejectionCode.UNSUPPORTED_SCHEMA_VERSION: "This schema_version is not supported. Use one listed in "
    "contracts/schemas/ (currently 1.0 and 1.1; 1.1 adds the optional qc).",
    RejectionCode.SCHEMA_VIOLATION: "One or more fields do not match contracts/schemas/SequencingResult.json; "
    "the details name each field.",
    RejectionCode.PATIENT_IDENTIFIER: "A direct patient identifier (name, birth date or national ID) was found. "
    "Send only the pseudonymous patient id agreed with the MTB.",
    RejectionCode.UNKNOWN_LAB: "The lab_id is not registered with this oncorelay installation. Check the lab_id "
    "you send, or ask the operator to register it (`oncorelay labs create LAB --site HOSPITAL`).",
    RejectionCode.SITE_NOT_PERMITTED: "Your lab is not registered to send results for this treating_site. Check "
    "the hospital id, or ask the operator to add it to your lab (`oncorelay labs create LAB --site ...`).",
    RejectionCode.RESULT_OWNED_BY_OTHER_LAB: "This result_id belongs to a result another lab published; a lab can "
    "only amend its own results. Use a result_id of your own (e.g. prefixed with your lab id).",
    RejectionCode.CASE_SITE_CONFLICT: "The case_id exists for another treating hospital. Check the case_id and "
    "treating_site; if the patient moved, ask the operator to transfer the case (`oncorelay cases transfer`).",
    RejectionCode.LAB_TOPIC_MISMATCH: "This topic is another lab's own results topic: a lab publishes only its "
    "own results, on its own topic. Check the lab_id you send and the topic your client writes to.",
    RejectionCode.LAB_TOPIC_REQUIRED: "Your lab publishes on its own topic (oncorelay.lab.<lab_id>.results.v1), "
    "not on the shared results topic. Set ONCORELAY_PUBLISH_OWN_TOPIC=true for `oncorelay publish`.",
    RejectionCode.REFERENCE_NOT_ALLOWED: "vcf.uri is not in a location oncorelay may read from. Use a URL under "
    "your lab's registered reference sources (ask the operator), or send the VCF inline if it fits.",
    RejectionCode.MESSAGE_TOO_LARGE: "The message is larger than the broker accepts. Send the VCF by reference "
    "(vcf.uri + vcf.sha256) instead of inline.",
    RejectionCode.VCF_ENCODING: "The inline VCF is not valid base64-encoded gzip data.",
    RejectionCode.CHECKSUM_MISMATCH: "The sha256 of the VCF bytes does not match vcf.sha256. Recompute it over the "
    "exact file you send (after compression).",
    RejectionCode.REFERENCE_UNREACHABLE: "The VCF at vcf.uri could not be read. Check that the path or URL exists "
    "and is readable by oncorelay.",
    RejectionCode.VCF_TOO_LARGE: "The VCF is larger than the configured limit.",
    RejectionCode.VCF_NOT_BGZIP: "The VCF is compressed with plain gzip. Compress it with bgzip (htslib) instead.",
    RejectionCode.VCF_TRUNCATED: "The VCF ends in the middle of a record or lacks the BGZF end-of-file marker: "
    "the file was cut off during writing or transfer. Re-export it.",
    RejectionCode.VCF_HEADER_INVALID: "The VCF header is invalid (first line must be ##fileformat=VCFv4.x and "
    "a tab-separated #CHROM line must precede the records).",
    RejectionCode.VCF_RECORD_INVALID: "A VCF record could not be parsed; the details give the record number.",
    RejectionCode.NO_VARIANTS_SECTION: "The VCF has a header but no variant records. Send the variant calls, "
    "or report a negative result through your LIMS.",
    RejectionCode.GENOME_BUILD_MISMATCH: "The VCF header declares a different genome build from assay.genome_build.",
    RejectionCode.CONTIG_MISMATCH: "Contig names or lengths in the VCF do not belong to assay.genome_build.",
    RejectionCode.INVALID_ALLELE: "A REF or ALT allele contains characters other than A, C, G, T, N "
    "(or a symbolic/breakend allele).",
    RejectionCode.INFO_TOO_LARGE: "A record's INFO field exceeds the configured size limit.",
    RejectionCode.FIELD_TOO_LARGE: "A record's column (FORMAT, a sample's values, REF/ALT or ID) exceeds the "
    "configured size limit (ONCORELAY_MAX_FIELD_BYTES). Check the exporter; split or drop the bulky values.",
    RejectionCode.HEADER_LINE_TOO_LONG: "A VCF header line exceeds the configured length limit "
    "(ONCORELAY_MAX_HEADER_LINE_BYTES). Remove or shorten the oversized ## line (e.g. an embedded command line).",
    RejectionCode.HEADER_TOO_LARGE: "The VCF header (all its ## lines) is longer than the configured limit "
    "(ONCORELAY_MAX_HEADER_BYTES). Remove repeated or oversized header lines before publishing.",
    RejectionCode.VCF_DECOMPRESSED_TOO_LARGE: "The VCF is larger once decompressed than the configured limit "
    "(ONCORELAY_MAX_DECOMPRESSED_BYTES). Send only the tumour calls of one result, or ask the operator to raise it.",
    RejectionCode.TOO_MANY_RECORDS: "The VCF has more records than the configured limit (ONCORELAY_MAX_RECORDS). "
    "Send only the variant calls of one result (no reference blocks / gVCF), or ask the operator to raise it.",
    RejectionCode.TOO_MANY_FINDINGS: "The result has more reportable (tier I/II) findings than oncorelay lists for "
    "one result; it was not interpreted, rather than shown incomplete. Check the VCF (e.g. repeated or "
    "germline calls) and re-publish it.",
    RejectionCode.ATTEMPTS_EXHAUSTED: "This message stopped the service (a crash or a kill for memory) on every "
    "attempt, so it was set aside and the service moved on. The operators are alerted by the rejection metric; "
    "re-publish it once they confirm a fix.",
    RejectionCode.NO_TUMOUR_SAMPLE: "The tumour sample could not be identified. Name it in ##tumor_sample or "
    "use the sample name TUMOR.",
    RejectionCode.STALE_VERSION: "A newer version of this result has already been accepted; an older "
    "result_version cannot replace it.",
    RejectionCode.PROCESSING_FAILED: "oncorelay failed on this result with an internal error; the operators are "
    "alerted by the rejection metric. Re-publish it once they confirm a fix.",
}
