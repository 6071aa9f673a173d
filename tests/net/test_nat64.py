"""NAT64 prefix discovery (RFC 7050) as pure functions: the lab (tests/scenarios/test_nat64_lab.py)
asks a DNS64 stand-in for real."""

from __future__ import annotations

import pytest

from trtcdetect.net.resolve import embedded_ipv4, nat64_prefix


@pytest.mark.parametrize(("answers", "prefix"), [
    (("64:ff9b::c000:aa",), "64:ff9b::/96"),                 # the well-known prefix
    (("64:ff9b::c000:ab", "64:ff9b::c000:aa"), "64:ff9b::/96"),
    (("2001:db8:6464::c000:aa",), "2001:db8:6464::/96"),     # a network-specific one
    (("2001:db8::1",), None),                                # an AAAA that embeds nothing known
    ((), None),
    (("not an address",), None),
])
def test_the_prefix_is_read_from_ipv4only_arpa(answers: tuple[str, ...],
                                               prefix: str | None) -> None:
    assert nat64_prefix(answers) == prefix


@pytest.mark.parametrize(("address", "prefix", "ipv4"), [
    ("64:ff9b::c000:209", "64:ff9b::/96", "192.0.2.9"),
    ("2001:db8:6464::c612:4002", "2001:db8:6464::/96", "198.18.64.2"),
    ("2001:db8::c612:4002", "64:ff9b::/96", None),            # outside the prefix
    ("64:ff9b::1", "nonsense", None),
])
def test_the_ipv4_address_under_the_prefix(address: str, prefix: str, ipv4: str | None) -> None:
    assert embedded_ipv4(address, prefix) == ipv4
