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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ..config import PROBE_DEADLINE_MARGIN_S, Config, Local
from ..evidence import UNSET, DnsFailure, Evidence, JsonObject, UnsetType, details
from ..models import Advice, Message, Status
from ..net import ResolveError, resolve
from ..net.bind import family_of, open_socket
from ..net.stun import StunSocket, mapped_address
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict

#: Local sockets the nat probe sends from; each asks every STUN destination.
NAT_SOCKETS = 2


def hostport(address: str, port: int) -> str:
    """'198.18.0.1:3478', or '[2001:db8::1]:3478' for IPv6."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _host(text: str) -> str:
    return text.rsplit(":", 1)[0].strip("[]")


def local_address(destination: tuple[str, int], local: Local | None = None) -> str | None:
    """The source address the kernel would use toward `destination` from `local` (--source,
    --interface); no packet is sent."""
    try:
        probe = open_socket(family_of(destination[0]), socket.SOCK_DGRAM, local)
    except OSError:
        return None
    with probe:
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


class Binding(Evidence, frozen=True, kw_only=True):
    """One Binding transaction: from which local socket and port, to which STUN server, and the
    public address and port it saw (None: no answer)."""

    socket: int
    local_port: int
    destination: str
    local_address: str | None
    mapped: str | None


class NatMapping(Evidence, frozen=True, kw_only=True):
    """What the answers of one address family say (RFC 4787 terms); only `answered` when none
    came."""

    answered: bool
    behind_nat: bool | UnsetType = UNSET
    public_addresses: tuple[str, ...] | UnsetType = UNSET
    #: "endpoint-independent", "dependent", or "unknown (...)" when one server answered
    mapping: str | UnsetType = UNSET
    #: which destinations the mapping compared: differing in address and port, or only in port
    compared: str | UnsetType = UNSET
    port_preserved: bool | UnsetType = UNSET


class NatDetails(Evidence, frozen=True, kw_only=True):
    """The nat probe's details: the STUN servers asked, what IPv4 (and IPv6) answers say, every
    binding, and the names that did not resolve."""

    stun: tuple[str, ...] = ()
    ipv4: NatMapping = msgspec.field(default_factory=lambda: NatMapping(answered=False))
    bindings: tuple[Binding, ...] = ()
    ipv6_addresses: tuple[str, ...] = ()
    #: whether an IPv6 STUN server answered; None when none could be asked
    ipv6_stun: bool | None = None
    ipv6: NatMapping | UnsetType = UNSET
    dns_errors: dict[str, str] | UnsetType = UNSET
    dns_failure: DnsFailure | UnsetType = UNSET


async def _destinations(
        config: Config) -> tuple[list[tuple[str, int]], dict[str, DnsFailure]]:
    """Every STUN server's addresses, each name resolved once and all names at once; and the
    names that did not resolve, with why."""
    pairs = config.network.stun or tuple((config.network.target, port) for port in config.network.udp_ports)
    hosts = list(dict.fromkeys(host for host, _ in pairs))
    answers = await asyncio.gather(*(resolve(config, host) for host in hosts),
                                   return_exceptions=True)
    addresses: dict[str, tuple[str, ...]] = {}
    failed: dict[str, DnsFailure] = {}
    for host, answer in zip(hosts, answers, strict=True):
        if isinstance(answer, ResolveError):
            failed[host] = answer.failure(host)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            addresses[host] = answer.addresses
    resolved = [(address, port) for host, port in pairs for address in addresses.get(host, ())]
    return list(dict.fromkeys(resolved)), failed


async def _ask_one(config: Config, family: int, index: int,
                   destinations: list[tuple[str, int]]) -> list[Binding]:
    """From one new local socket, a Binding transaction to every destination at once."""
    sock = await StunSocket.open(family=family, local=config.network.local)
    try:
        answers = await asyncio.gather(*(sock.transaction(d, config.network.timeout_s)
                                         for d in destinations))
        local_port = sock.local_port
    finally:
        sock.close()
    rows = []
    for destination, answer in zip(destinations, answers, strict=True):
        mapped = mapped_address(answer) if answer is not None else None
        rows.append(Binding(socket=index, local_port=local_port,
                            destination=hostport(*destination),
                            local_address=local_address(destination, config.network.local),
                            mapped=None if mapped is None else hostport(*mapped)))
    return rows


async def _ask_all(config: Config, family: int,
                   destinations: list[tuple[str, int]]) -> list[Binding]:
    if not destinations:
        return []
    per_socket = await asyncio.gather(*(_ask_one(config, family, index, destinations)
                                        for index in range(NAT_SOCKETS)))
    return [row for rows in per_socket for row in rows]


def classify(rows: Sequence[Binding]) -> NatMapping:
    answered = [(r, r.mapped) for r in rows if r.mapped]
    if not answered:
        return NatMapping(answered=False)
    behind = any(_host(mapped) != r.local_address for r, mapped in answered)
    mappings: dict[int, set[str]] = {}
    for r, mapped in answered:
        mappings.setdefault(r.socket, set()).add(mapped)
    destinations = {r.destination for r, _ in answered}
    hosts = {_host(d) for d in destinations}
    if len(destinations) < 2:
        mapping = "unknown (one STUN destination answered: nothing to compare)"
    elif all(len(m) == 1 for m in mappings.values()):
        mapping = "endpoint-independent"
    else:
        mapping = "dependent"
    preserved = all(int(mapped.rsplit(":", 1)[1]) == r.local_port for r, mapped in answered)
    return NatMapping(
        answered=True, behind_nat=behind,
        public_addresses=tuple(sorted({_host(mapped) for _, mapped in answered})),
        mapping=mapping,
        compared="destinations differing in address and port" if len(hosts) > 1
        else "destinations differing only in port",
        port_preserved=preserved)


@dataclass(frozen=True)
class NatObservation:
    destinations: list[tuple[str, int]]
    rows4: list[Binding] = field(default_factory=list)
    rows6: list[Binding] = field(default_factory=list)
    ipv6_addresses: list[str] = field(default_factory=list)
    #: names that did not resolve, per name
    dns_failures: dict[str, DnsFailure] = field(default_factory=dict)

    @property
    def dns_errors(self) -> dict[str, str]:
        return {host: str(f.error) for host, f in self.dns_failures.items()}

    @property
    def v4(self) -> list[tuple[str, int]]:
        return [d for d in self.destinations if ":" not in d[0]]

    @property
    def v6(self) -> list[tuple[str, int]]:
        return [d for d in self.destinations if ":" in d[0]]

    def evidence(self) -> NatDetails:
        return NatDetails(
            stun=tuple(hostport(h, p) for h, p in self.destinations),
            ipv4=classify(self.rows4),
            bindings=(*self.rows4, *self.rows6),
            ipv6_addresses=tuple(self.ipv6_addresses),
            ipv6_stun=(None if not self.v6 or not self.ipv6_addresses else
                       any(r.mapped for r in self.rows6)),
            ipv6=classify(self.rows6) if self.rows6 else UNSET,
            dns_errors=self.dns_errors if self.dns_failures else UNSET,
            dns_failure=next(iter(self.dns_failures.values())) if self.dns_failures else UNSET)

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge(observation: NatObservation) -> Verdict:
    if not observation.destinations:
        if observation.dns_errors:
            host, error = next(iter(observation.dns_errors.items()))
            return Verdict(Status.WARN, Message(S.NAT_DNS, {"host": host, "error": error}),
                           (Advice(R.DNS_FAILURE, {"host": host, "error": error}),))
        return Verdict(Status.SKIP, Message(S.NAT_NO_SERVER))
    v4 = classify(observation.rows4)
    v6 = classify(observation.rows6)
    if not v4.answered and v6.answered:
        public = ", ".join(v6.public_addresses or ())
        if not observation.v4:  # only IPv6 servers to ask: judge IPv6 as IPv4 is judged
            return _judge_family(v6, public)
        return Verdict(Status.WARN, Message(S.NAT_IPV6_ONLY, {
            "count": len(observation.v4), "address": public}), (Advice(R.NAT_IPV4_BLOCKED),))
    if not v4.answered:
        asked = len(observation.v4) or len(observation.v6)
        return Verdict(Status.WARN, Message(S.NAT_NO_ANSWER, {"count": asked}),
                       (Advice(R.NAT_RELAY),))
    return _judge_family(v4, ", ".join(v4.public_addresses or ()))


def _judge_family(nat: NatMapping, public: str) -> Verdict:
    if not nat.behind_nat:
        return Verdict(Status.PASS, Message(S.NAT_PUBLIC, {"address": public}))
    if nat.mapping == "dependent":
        return Verdict(Status.WARN, Message(S.NAT_SYMMETRIC, {"address": public}),
                       (Advice(R.NAT_RELAY),))
    return Verdict(Status.PASS, Message(S.NAT_CONE, {"address": public,
                                                     "mapping": nat.mapping or "?"}))


async def measure(config: Config, prior: Prior = NO_PRIOR) -> NatObservation:
    destinations, dns_failures = await _destinations(config)
    ipv6_hosts = global_ipv6_addresses()
    v4 = [d for d in destinations if ":" not in d[0]]
    v6 = [d for d in destinations if ":" in d[0]] if ipv6_hosts else []
    rows4, rows6 = await asyncio.gather(_ask_all(config, socket.AF_INET, v4),
                                        _ask_all(config, socket.AF_INET6, v6))
    return NatObservation(destinations, rows4, rows6, ipv6_hosts, dns_failures)


def deadline_s(config: Config) -> float:
    # one DNS step, then every socket asks every server at once: two steps and a margin
    return config.network.timeout_s * (NAT_SOCKETS + 1) + PROBE_DEADLINE_MARGIN_S


PROBE = MeasuredProbe(
    id="nat",
    traits=frozenset({"network", "target"}),
    titles=Text("NAT and public address", "NAT 与公网地址"),
    description="STUN from several sockets: public address, NAT or not, mapping behaviour, IPv6",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=NatDetails,
)
