"""Name resolution that honours --resolve pins, with the resolver's error said in words."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass

from ..config import Config


class ResolveError(Exception):
    """The name did not resolve; the message says why (NXDOMAIN, timeout, no address)."""


@dataclass(frozen=True)
class Resolution:
    addresses: tuple[str, ...]  # IPv4 first, in resolver order within a family
    ms: float
    source: str  # "literal", "pinned" or "dns"

    @property
    def ipv4(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ipaddress.ip_address(a).version == 4)

    @property
    def ipv6(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ipaddress.ip_address(a).version == 6)


async def resolve(config: Config, host: str, port: int = 0) -> Resolution:
    """Addresses of `host` via an IP literal, a --resolve pin, or the system resolver."""
    start = time.perf_counter()
    try:
        ipaddress.ip_address(host)
        return Resolution((host,), 0.0, "literal")
    except ValueError:
        pass
    pinned = config.resolve.get(host.lower())
    if pinned:
        return Resolution(_ipv4_first(pinned), 0.0, "pinned")
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), config.timeout_s
        )
    except TimeoutError:
        raise ResolveError(f"DNS lookup timed out after {config.timeout_s:g} s") from None
    except socket.gaierror as exc:
        raise ResolveError(_gai_message(exc)) from None
    addresses: list[str] = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    if not addresses:
        raise ResolveError("DNS returned no IPv4 or IPv6 address")
    return Resolution(_ipv4_first(addresses), (time.perf_counter() - start) * 1000, "dns")


def _ipv4_first(addresses: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(addresses, key=lambda a: ipaddress.ip_address(a).version))


def _gai_message(exc: socket.gaierror) -> str:
    names = {
        socket.EAI_NONAME: "name does not exist (NXDOMAIN)",
        socket.EAI_AGAIN: "temporary DNS failure (no answer from the DNS server)",
        socket.EAI_FAIL: "DNS server failure (SERVFAIL or refused)",
    }
    nodata = getattr(socket, "EAI_NODATA", None)
    if nodata is not None:
        names[nodata] = "name has no address records"
    code = exc.errno if exc.errno is not None else 0
    return names.get(code, exc.strerror or str(exc))
