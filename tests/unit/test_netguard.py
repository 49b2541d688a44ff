"""The outbound address policy: public addresses only unless an operator allows a network."""

import ipaddress

import pytest

from services.common.netguard import AddressPolicy, OutboundRefused, check_before_connect, check_url, resolve_permitted

REFUSED = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
           "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fd00:ec2::254", "fc00::1", "::ffff:127.0.0.1",
           "::ffff:169.254.169.254", "::"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused_by_default(address):
    assert not AddressPolicy.parse("").permits(ipaddress.ip_address(address))


def test_public_addresses_are_permitted_and_allowed_networks_too():
    policy = AddressPolicy.parse("127.0.0.0/8, 10.20.0.0/16")
    assert policy.permits(ipaddress.ip_address("8.8.8.8"))
    assert policy.permits(ipaddress.ip_address("2001:4860:4860::8888"))
    assert policy.permits(ipaddress.ip_address("127.0.0.5")) and policy.permits(ipaddress.ip_address("10.20.3.4"))
    assert not policy.permits(ipaddress.ip_address("10.21.0.1"))


@pytest.mark.parametrize("url", ["ftp://lab.example/x", "http://user:pw@lab.example/x", "http:///x",
                                 "http://metadata.google.internal/computeMetadata/v1/", "http://lab.example/a b",
                                 "http://lab.example:99999/x", "http://lab.exämple/x"])
def test_urls_of_a_bad_form_are_refused(url):
    with pytest.raises(OutboundRefused):
        check_url(url, {"http", "https"})


async def test_resolution_is_vetted_for_every_address():
    with pytest.raises(OutboundRefused) as refused:
        await resolve_permitted("localhost", 80, AddressPolicy.parse(""))
    assert "127.0.0.1" not in str(refused.value)  # no resolved address in what the requester is told
    assert await resolve_permitted("127.0.0.1", 80, AddressPolicy.parse("127.0.0.0/8")) == ["127.0.0.1"]
    with pytest.raises(OutboundRefused):
        await resolve_permitted("[::1]", 80, AddressPolicy.parse(""))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://[::ffff:10.0.0.1]/hook",
                                 "http://169.254.169.254/latest", "http://[fd00:ec2::254]/"])
def test_an_address_literal_is_judged_before_connecting(url):
    with pytest.raises(OutboundRefused, match="may not connect"):
        check_before_connect(url, {"http", "https"}, AddressPolicy())


def test_a_host_name_is_left_to_the_pinned_resolver_and_an_allowed_literal_passes():
    assert check_before_connect("https://hooks.hosp.example/mtb", {"https"}, AddressPolicy()).hostname == "hooks.hosp.example"
    assert check_before_connect("http://127.0.0.1:9/x", {"http"}, AddressPolicy(["127.0.0.1/32"])).port == 9
