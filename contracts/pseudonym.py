"""Rules that keep direct patient identifiers out of oncorelay (GDPR art. 4(5) pseudonymisation).

Pure functions: the contracts call them, and ingest uses them to give a precise rejection reason.
"""

import re

# Dates in the forms labs and LIMSs print them: 1975-03-14, 14.03.1975, 14/03/1975, 19750314.
_DATE_PATTERNS = (
    re.compile(r"(19|20)\d\d[-/.]?(0[1-9]|1[0-2])[-/.]?(0[1-9]|[12]\d|3[01])"),
    re.compile(r"(0[1-9]|[12]\d|3[01])[-/.](0[1-9]|1[0-2])[-/.](19|20)?\d\d"),
)
# National identifiers that are runs of digits: Belgian national register number (11 digits),
# French NIR (13-15), Dutch BSN (9), UK NHS number (10), Swedish personnummer (YYMMDD-NNNN),
# Danish CPR (DDMMYY-NNNN), Italian codice fiscale (16 alphanumerics in a fixed shape).
_NATIONAL_ID_PATTERNS = (
    re.compile(r"\d{9,15}"),
    re.compile(r"\d{6}[-+]\d{4}"),
    re.compile(r"\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}"),
    re.compile(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]", re.IGNORECASE),
)
# A pseudonym is a token, never a name: letters, digits and -_. with at least one digit.
_PSEUDONYM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{3,63}")


def identifier_problem(value: str) -> str | None:
    """Return why `value` looks like a direct identifier, or None if it is an acceptable pseudonym."""
    if not _PSEUDONYM.fullmatch(value):
        return "must be a pseudonym token of 4-64 letters, digits, '.', '_' or '-' (no spaces, so no names)"
    if not any(ch.isdigit() for ch in value):
        return "must contain a digit: a pseudonym made only of letters may be a name"
    for pattern in _DATE_PATTERNS:
        if pattern.search(value):
            return "contains a date; birth dates are direct identifiers"
    for pattern in _NATIONAL_ID_PATTERNS:
        if pattern.search(value):
            return "matches a national identification number pattern"
    return None
