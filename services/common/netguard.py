"""Outbound address policy: which hosts oncorelay may connect to on a lab's or team's behalf.

By default only global unicast addresses: no loopback, private (RFC 1918, fc00::/7), link-local
(169.254/16, incl. the cloud metadata address, fe80::/10), CGNAT, multicast, reserved or
unspecified addresses, nor the IPv4-mapped forms of these; an operator may allow networks.
Refusals carry a message safe to show outside the network (no resolved address, no error text).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal",
                            "metadata.azure.com", "metadata.packet.net"})


class OutboundRefused(Exception):
    """A destination oncorelay will not connect to; str() is safe to show to the requester."""


class HostUnresolved(OutboundRefused):
    """The host's name did not resolve (perhaps only for now)."""


class AddressPolicy:
    """Global unicast addresses, plus any address inside an allowed network."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in allowed if cidr.strip())

    @classmethod
    def parse(cls, text: str) -> "AddressPolicy":
        """A policy from a comma-separated setting of CIDRs (empty: public addresses only)."""
        return cls(text.split(","))

    def permits(self, ip: Address) -> bool:
        if any(ip in network for network in self.allowed if network.version == ip.version):
            return True
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = ip.ipv4_mapped or (ip.sixtofour if ip.sixtofour else None)
            if embedded is not None or ip in ipaddress.ip_network("::/96"):
                return False  # IPv4 in IPv6 clothing is judged (and refused) as what it hides
        return ip.is_global and not ip.is_multicast and not ip.is_reserved


def check_url(url: str, schemes: set[str]) -> SplitResult:
    """A URL's parts when its form is acceptable (scheme, a host, no credentials, no odd characters)."""
    if any(ord(c) <= 32 or ord(c) >= 127 for c in url):
        raise OutboundRefused("the URL has spaces, control or non-ASCII characters")
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise OutboundRefused(f"the URL scheme must be one of {', '.join(sorted(schemes))}")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("the URL carries a user or password; credentials are never sent from a URL")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise OutboundRefused("the URL has no host")
    if host in METADATA_HOSTS:
        raise OutboundRefused("the URL names a cloud metadata service")
    try:
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError as error:
        raise OutboundRefused("the URL has an invalid port") from error
    return parts


def _refused(host: str) -> OutboundRefused:
    return OutboundRefused(f"the host {host} is on an address oncorelay may not connect to "
                           "(loopback, private, link-local or reserved)")


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_permitted(host: str, port: int, policy: AddressPolicy) -> list[str]:
    """The addresses `host` resolves to, all permitted by `policy`; OutboundRefused when any is not."""
    if host.rstrip(".").lower() in METADATA_HOSTS:
        raise OutboundRefused("the host is a cloud metadata service")
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise HostUnresolved(f"the host {host} cannot be resolved") from error
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses or not all(policy.permits(ip) for ip in addresses):
        raise _refused(host)
    return [str(ip) for ip in addresses]


async def check_destination(url: str, schemes: set[str], policy: AddressPolicy) -> SplitResult:
    """`url`'s parts when its form is acceptable and its host resolves only to addresses `policy` permits."""
    parts = check_url(url, schemes)
    await resolve_permitted(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), policy)
    return parts


def check_before_connect(url: str, schemes: set[str], policy: AddressPolicy) -> SplitResult:
    """`url`'s parts when its form is acceptable and, for an IP literal (which aiohttp connects to
    without a resolver), its address is permitted; a name is checked by the PinnedResolver at connect."""
    parts = check_url(url, schemes)
    literal = _literal(parts.hostname or "")
    if literal is not None and not policy.permits(literal):
        raise _refused(parts.hostname or "")
    return parts


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver that hands the connector only addresses the policy permits, so the connection
    goes where the check looked (no DNS rebinding between check and connect)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await resolve_permitted(host, port, self.policy)
        return [ResolveResult(hostname=host, host=ip, port=port, proto=0, flags=socket.AI_NUMERICHOST,
                              family=socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET)
                for ip in addresses]

    async def close(self) -> None:
        """Nothing to release."""
