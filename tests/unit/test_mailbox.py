"""E-mail recipients a subscription may name: RFC 5322 addr-specs only (pure)."""

import pytest

from services.notify.domain.mailbox import addr_spec_problem, addresses_problem


@pytest.mark.parametrize("address", [
    "mtb@hosp.example", "mtb.gent+urgent@uzgent.be", '"MTB Gent"@uzgent.be', r'"a\"b"@x.org', "x@[192.0.2.1]",
    "o'brien@hosp.ie", "mtb@localhost", "a@" + "b" * 63 + ".org",
])
def test_addr_specs_are_accepted(address):
    assert addr_spec_problem(address) is None


@pytest.mark.parametrize("address, why", [
    ("mtb@hosp.example\r\nBcc: all@evil.example", "line breaks"),
    ("mtb@hosp.example\n", "line breaks"),
    ("mtb\x00@hosp.example", "control characters"),
    ("médecin@hopital.fr", "ASCII"),
    ("mtb.hosp.example", "needs an @"),
    ("two@@hosp.example", "not an e-mail address"),
    ("mtb@hosp..example", "not an e-mail address"),
    (".mtb@hosp.example", "not an e-mail address"),
    ("mtb@-hosp.example", "not an e-mail address"),
    ("MTB Gent <mtb@hosp.example>", "not an e-mail address"),  # a display name is not an addr-spec
    ("a" * 65 + "@hosp.example", "at most 64"),
    ("a@" + "b" * 250 + ".org", "at most 64 characters before the @ and 254"),
])
def test_anything_else_is_refused_with_the_reason(address, why):
    assert why in addr_spec_problem(address)


def test_a_list_of_addresses_reports_its_first_invalid_one():
    assert addresses_problem(["mtb@hosp.example", "tumorboard@hosp.example"]) is None
    assert "needs an @" in addresses_problem(["mtb@hosp.example", "nobody", "x\n@hosp.example"])
