"""Probe `nat`: the public address, whether there is a NAT, how it maps, and IPv6.

From NAT_SOCKETS local sockets, a STUN Binding request (aioice's codec) to every STUN server:
the target's UDP ports, or --stun HOST:PORT. RFC 4787 terms: if one socket is seen from every
destination with the same public address and port, the mapping is endpoint-independent (direct
media between peers will likely work); if it differs per destination it is dependent
("symmetric"), and a call will likely need a relay (TURN). Destinations that differ only in
port tell endpoint-independent from address-and-port-dependent mapping, not from
address-dependent mapping: the report says which comparison it could make.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from pathlib import Path
from typing import Any

from aioice import stun

from .. import thresholds
from ..config import Config
from ..models import Advice, Message, ProbeResult, Status
from ..net import ResolveError, resolve


class _Binding(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[bytes, asyncio.Future[tuple[str, int]]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = stun.parse_message(data)
        except Exception:  # noqa: BLE001 - not STUN: ignore
            return
        future = self.waiting.get(message.transaction_id)
        mapped = message.attributes.get("XOR-MAPPED-ADDRESS") or \
            message.attributes.get("MAPPED-ADDRESS")
        if future is not None and not future.done() and mapped:
            future.set_result((str(mapped[0]), int(mapped[1])))

    async def ask(self, destination: tuple[str, int], timeout_s: float) -> tuple[str, int] | None:
        """The mapped address this socket has toward `destination`; resent up to 3 times."""
        assert self.transport is not None
        request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        future: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
        self.waiting[request.transaction_id] = future
        deadline = time.monotonic() + timeout_s
        try:
            for _ in range(3):
                self.transport.sendto(bytes(request), destination)
                wait = min(timeout_s / 3, deadline - time.monotonic())
                try:
                    return await asyncio.wait_for(asyncio.shield(future), max(wait, 0.01))
                except TimeoutError:
                    continue
            return None
        finally:
            self.waiting.pop(request.transaction_id, None)


def hostport(address: str, port: int) -> str:
    """'198.18.0.1:3478', or '[2001:db8::1]:3478' for IPv6."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _host(text: str) -> str:
    return text.rsplit(":", 1)[0].strip("[]")


def local_address(destination: tuple[str, int]) -> str | None:
    """The source address the kernel would use toward `destination` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in destination[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(destination)
        except OSError:
            return None
        return str(probe.getsockname()[0])


def global_ipv6_addresses(path: Path = Path("/proc/net/if_inet6")) -> list[str]:
    """Global-scope IPv6 addresses of this host (Linux: /proc/net/if_inet6; else the resolver)."""
    found: list[str] = []
    try:
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[3] == "00":  # scope 0x00: global
                found.append(str(ipaddress.IPv6Address(int(fields[0], 16))))
    except OSError:
        try:
            infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET6)
            found = [str(i[4][0]) for i in infos if ipaddress.ip_address(i[4][0]).is_global]
        except OSError:
            pass
    return found


async def _destinations(config: Config) -> list[tuple[str, int]]:
    if config.stun:
        pairs = config.stun
    else:
        pairs = tuple((config.target, port) for port in config.udp_ports)
    resolved: list[tuple[str, int]] = []
    for host, port in pairs:
        try:
            resolution = await resolve(config, host)
        except ResolveError:
            continue
        resolved += [(address, port) for address in resolution.addresses]
    return list(dict.fromkeys(resolved))


async def _ask_all(config: Config, family: int,
                   destinations: list[tuple[str, int]]) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    bind = "::" if family == socket.AF_INET6 else "0.0.0.0"
    rows: list[dict[str, Any]] = []
    for index in range(thresholds.NAT_SOCKETS):
        transport, protocol = await loop.create_datagram_endpoint(
            _Binding, local_addr=(bind, 0), family=family)
        try:
            local_port = transport.get_extra_info("sockname")[1]
            answers = await asyncio.gather(*(protocol.ask(d, config.timeout_s)
                                             for d in destinations))
        finally:
            transport.close()
        for destination, mapped in zip(destinations, answers, strict=True):
            rows.append({"socket": index, "local_port": local_port,
                         "destination": hostport(*destination),
                         "local_address": local_address(destination),
                         "mapped": None if mapped is None else hostport(*mapped)})
    return rows


def classify(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answered = [r for r in rows if r["mapped"]]
    if not answered:
        return {"answered": False}
    behind = any(_host(r["mapped"]) != r["local_address"] for r in answered)
    mappings: dict[int, set[str]] = {}
    for r in answered:
        mappings.setdefault(r["socket"], set()).add(r["mapped"])
    destinations = {r["destination"] for r in answered}
    hosts = {_host(d) for d in destinations}
    if len(destinations) < 2:
        mapping = "unknown (one STUN destination answered: nothing to compare)"
    elif all(len(m) == 1 for m in mappings.values()):
        mapping = "endpoint-independent"
    else:
        mapping = "dependent"
    preserved = all(int(r["mapped"].rsplit(":", 1)[1]) == r["local_port"] for r in answered)
    return {
        "answered": True,
        "behind_nat": behind,
        "public_addresses": sorted({_host(r["mapped"]) for r in answered}),
        "mapping": mapping,
        "compared": "destinations differing in address and port" if len(hosts) > 1
        else "destinations differing only in port",
        "port_preserved": preserved,
    }


class NatProbe:
    id = "nat"
    title = "NAT and public address"
    description = "STUN from several sockets: public address, NAT or not, mapping behaviour, IPv6"

    def deadline_s(self, config: Config) -> float:
        return config.timeout_s * (thresholds.NAT_SOCKETS + 1) + thresholds.PROBE_DEADLINE_MARGIN_S

    async def run(self, config: Config) -> ProbeResult:
        destinations = await _destinations(config)
        v4 = [d for d in destinations if ":" not in d[0]]
        v6 = [d for d in destinations if ":" in d[0]]
        ipv6_hosts = global_ipv6_addresses()
        rows4 = await _ask_all(config, socket.AF_INET, v4) if v4 else []
        rows6 = await _ask_all(config, socket.AF_INET6, v6) if v6 and ipv6_hosts else []
        details: dict[str, Any] = {"stun": [hostport(h, p) for h, p in destinations],
                                   "ipv4": classify(rows4) if rows4 else {"answered": False},
                                   "bindings": rows4 + rows6,
                                   "ipv6_addresses": ipv6_hosts,
                                   "ipv6_stun": (None if not v6 or not ipv6_hosts else
                                                 any(r["mapped"] for r in rows6))}
        nat = details["ipv4"]
        if not destinations:
            return ProbeResult(self.id, self.title, Status.SKIP, message=Message("nat.no-server"),
                               details=details)
        if not nat["answered"]:
            return ProbeResult(self.id, self.title, Status.WARN,
                               message=Message("nat.no-answer", {"count": len(v4)}),
                               details=details, advice=(Advice("nat-relay"),))
        public = ", ".join(nat["public_addresses"])
        if not nat["behind_nat"]:
            return ProbeResult(self.id, self.title, Status.PASS,
                               message=Message("nat.public", {"address": public}), details=details)
        if nat["mapping"] == "dependent":
            return ProbeResult(self.id, self.title, Status.WARN,
                               message=Message("nat.symmetric", {"address": public}),
                               details=details, advice=(Advice("nat-relay"),))
        return ProbeResult(self.id, self.title, Status.PASS,
                           message=Message("nat.cone", {"address": public,
                                                        "mapping": nat["mapping"]}),
                           details=details)


PROBE = NatProbe()
