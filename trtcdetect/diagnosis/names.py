"""What kind of name or address the diagnosis is looking at: one of the public names TRTC's
profiles check, an address no public server has, two names of the same site."""

from __future__ import annotations


def public_hosts() -> set[str]:
    """The TRTC names the built-in profiles check: public names that do exist."""
    from ..profiles import BUILTIN

    return {h.lower() for p in BUILTIN.values() for h in p.hosts}


def special(address: str) -> str | None:
    """What kind of address no public TRTC server has: loopback, private, unspecified,
    link-local, documentation or reserved; None for a public address."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return None
    documentation = [ipaddress.ip_network(n) for n in (
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if any(ip in n for n in documentation if n.version == ip.version):
        return "documentation"
    if ip.is_private:
        return "private"
    if ip.is_reserved or ip.is_multicast:
        return "reserved"
    return None


def same_site(one: str, other: str) -> bool:
    """The same name, one under the other, or the same last two labels (example.com)."""
    a, b = one.lower().rstrip("."), other.lower().rstrip(".")
    return a == b or a.endswith("." + b) or b.endswith("." + a) \
        or a.split(".")[-2:] == b.split(".")[-2:]
