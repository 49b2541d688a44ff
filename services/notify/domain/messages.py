"""What a clinician reads: e-mail subject and bodies, and Server-Sent Events frames (pure).

E-mails name the case only by its pseudonymous case id and link to it; they never carry the
patient pseudonym or anything else that identifies a person.
"""

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str


def case_link(base: str, case_id: str) -> str:
    """The link to a case in the MTB's tool."""
    return f"{base}{case_id}"


def _finding_line(finding: dict[str, Any]) -> str:
    tiers = ", ".join(x for x in (
        f"AMP tier {finding['amp_tier']}{finding.get('amp_level') or ''}" if finding.get("amp_tier") else "",
        f"ESCAT {finding['escat_tier']}" if finding.get("escat_tier") else "",
        f"EU: {finding['eu_status']}" if finding.get("eu_status") else "",
    ) if x)
    therapies = f"; therapies: {', '.join(finding['therapies'])}" if finding.get("therapies") else ""
    return f"{finding.get('gene', '?')} {finding.get('alteration', '')}" + (f" ({tiers})" if tiers else "") + therapies


def alert_mail(alert: dict[str, Any], link_base: str, escalation_level: int = 0) -> MailContent:
    """Subject, plain text and HTML for an MTB-review alert (or its escalation, level >= 1)."""
    case_id, priority = alert["case_id"], alert["priority"]
    prefix = f"ESCALATION {escalation_level}: not acknowledged - " if escalation_level else ""
    subject = f"[oncorelay] {prefix}{priority.upper()} MTB review: case {case_id} ({alert['tumor_type']})"
    link = case_link(link_base, case_id)
    reasons = [r["summary"] for r in alert.get("reasons", [])]
    findings = [_finding_line(f) for f in alert.get("findings", [])]
    text = "\n".join([
        f"Case {case_id} needs review by your Molecular Tumour Board.",
        f"Priority: {priority}. Tumour type: {alert['tumor_type']}. Lab: {alert.get('lab_id', '')}.",
        "",
        "Why:",
        *[f"  - {r}" for r in reasons],
        "",
        "Findings:",
        *([f"  - {f}" for f in findings] or ["  (none reported)"]),
        "",
        f"Open the case: {link}",
        f"Alert id: {alert['alert_id']}",
    ]) + "\n"
    items: Callable[[list[str]], str] = lambda lines: "".join(f"<li>{html.escape(x)}</li>" for x in lines)  # noqa: E731
    body = (
        f"<p>Case <strong>{html.escape(case_id)}</strong> needs review by your Molecular Tumour Board.</p>"
        f"<p>Priority: <strong>{html.escape(priority)}</strong>. Tumour type: {html.escape(alert['tumor_type'])}.</p>"
        f"<h3>Why</h3><ul>{items(reasons)}</ul>"
        f"<h3>Findings</h3><ul>{items(findings) or '<li>(none reported)</li>'}</ul>"
        f'<p><a href="{html.escape(link, quote=True)}">Open the case</a></p>'
        f"<p><small>Alert id {html.escape(alert['alert_id'])}</small></p>"
    )
    return MailContent(subject, text, f"<!doctype html><html><body>{body}</body></html>")


def email_message(content: MailContent, sender: str, to: list[str], message_id_key: str) -> EmailMessage:
    """A multipart/alternative message (text first, HTML preferred by mail readers)."""
    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    # A stable Message-ID lets mail systems drop a copy sent again after a lost acknowledgement.
    message["Message-ID"] = f"<{message_id_key}@oncorelay>"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


def sse_frame(event_id: int, event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Events message (data is one line of JSON)."""
    payload = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()


def sse_comment(text: str) -> bytes:
    """An SSE comment line (keeps proxies from closing an idle stream)."""
    return f": {text}\n\n".encode()


def last_event_id(header: str | None, query: str | None) -> int | None:
    """The sequence a client resumes after (Last-Event-ID header, else ?last_event_id=); None if absent.
    ValueError when it is not a plain decimal number (ASCII digits only, at most 18)."""
    for value in (header, query):
        if value is not None and value.strip():
            text = value.strip()
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise ValueError("Last-Event-ID is the id of an event received before: a decimal number")
            return int(text)
    return None
