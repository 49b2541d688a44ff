"""E-mail addresses a subscription may name: an RFC 5322 addr-spec (pure).

local-part "@" domain, where the local part is a dot-atom or a quoted string and the domain a
dot-atom of host labels or a domain literal ([192.0.2.1]); ASCII only (RFC 5322, not SMTPUTF8),
no CR, LF or other control characters, at most 64 characters before the @ and 254 in all (RFC 5321).
"""

import re
from collections.abc import Iterable

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]*\]"
ADDR_SPEC = re.compile(rf"(?:{_DOT_ATOM}|{_QUOTED})@(?:{_DOMAIN}|{_LITERAL})")


def addr_spec_problem(address: str) -> str | None:
    """Why `address` cannot be an e-mail recipient (None when it is a valid addr-spec)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in address):
        return "an e-mail address must not contain line breaks or control characters"
    if not address.isascii():
        return "an e-mail address must be ASCII (write the domain in its xn-- form)"
    if "@" not in address:
        return "an e-mail address needs an @"
    local = address[:address.rindex("@")]
    if len(address) > 254 or len(local) > 64:
        return "an e-mail address has at most 64 characters before the @ and 254 in all"
    if not ADDR_SPEC.fullmatch(address):
        return f"{address!r} is not an e-mail address (RFC 5322 addr-spec: name@example.org)"
    return None


def addresses_problem(addresses: Iterable[str]) -> str | None:
    """The first address's problem among `addresses` (None when all are valid addr-specs)."""
    return next(filter(None, map(addr_spec_problem, addresses)), None)
