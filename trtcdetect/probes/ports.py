"""Probe `ports`: can this machine reach the TRTC media ports?

TCP: a connect per port. UDP: a STUN Binding request (aioice's `stun` module) on a *connected*
socket, because only a connected socket is told about ICMP errors. An answer means open, an ICMP
error means closed, silence means "no answer (open or filtered)" — never "open".

All ports are probed at once. Waiting is adaptive, as nmap's is: until some answer has measured
the path, silent UDP ports are resent every UDP_INITIAL_RTO_S; afterwards every few RTTs, and a
port still silent after UDP_ADAPTIVE_RESENDS such resends is given up. `--timeout` is the ceiling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import thresholds
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..evidence import UNSET, DnsFailure, Evidence, JsonObject, UnsetType, details, of, of_entry
from ..failures import Failure, Kind
from ..models import Advice, Message, Metric, ProbeResult, Status
from ..net import ResolveError, resolve
from ..net.ports import (
    CLOSED,
    ERROR,
    NO_ANSWER,
    OPEN,
    LargeDatagram,
    PathClock,
    PortVerdict,
    Transport,
    probe_large,
    probe_tcp,
    probe_udp,
)
from ..net.trains import QUALITY_TRAIN_LOSS_AFTER_S, Train, run_train
from ..text.base import Text
from ..text.ids import R, S
from ..trtc import is_tencent
from .base import NO_PRIOR, Check, MeasuredProbe, Prior, Sample, Series, Verdict, seconds


@dataclass(frozen=True)
class PortsObservation:
    """What the ports probe saw: the verdict per port and, with --port-quality, the trains."""

    host: str
    address: str | None
    verdicts: tuple[PortVerdict, ...]
    dns_error: str | None = None
    quality: tuple[Train, ...] | None = None  # None: not asked for
    dns_failure: DnsFailure | None = None  # for the diagnosis
    #: the trtc probe reached TRTC's cloud over this UDP transport ("UDP 8000"), this run
    trtc_udp: str | None = None
    #: a datagram of the size calls send (net/ports.py probe_large), to the first UDP port
    #: that answered a small one; None when no UDP port answered
    large_datagram: LargeDatagram | None = None

    def evidence(self) -> PortsDetails:
        return PortsDetails(
            host=self.host, address=self.address,
            ports=tuple(v.rounded() for v in self.verdicts),
            quality=UNSET if self.quality is None else self.quality,
            dns_failure=UNSET if self.dns_failure is None else self.dns_failure,
            udp_explained_by=f"trtc: {self.trtc_udp}"
            if self.trtc_udp is not None and is_tencent(self.host) else UNSET,
            large_datagram=UNSET if self.large_datagram is None else self.large_datagram)

    def details(self) -> JsonObject:
        return details(self.evidence())


class PortsDetails(Evidence, frozen=True, kw_only=True):
    """The ports probe's details: the verdict per port; with --port-quality the trains; the
    large datagram to the first UDP port that answered."""

    host: str = ""
    address: str | None = None
    ports: tuple[PortVerdict, ...]
    quality: tuple[Train, ...] | UnsetType = UNSET
    dns_failure: DnsFailure | UnsetType = UNSET
    #: the trtc probe reached TRTC's cloud over UDP this run: why silent UDP ports (TRTC's
    #: servers do not answer STUN) are not a fault
    udp_explained_by: str | UnsetType = UNSET
    large_datagram: LargeDatagram | UnsetType = UNSET


def judge(observation: PortsObservation) -> Verdict:
    host, verdicts = observation.host, list(observation.verdicts)
    if observation.dns_error is not None:
        error = observation.dns_error
        return Verdict(Status.FAIL if verdicts else Status.SKIP,
                       Message(S.PORTS_DNS, {"host": host, "error": error}),
                       (Advice(R.DNS_FAILURE, {"host": host, "error": error}),))
    metrics = _metrics(observation)
    if not verdicts:
        return Verdict(Status.SKIP, Message(S.PORTS_NONE), (), metrics)
    open_ = [v for v in verdicts if v.verdict == OPEN]
    here = [v for v in verdicts if v.refused_by == "here"]
    if here:
        which = blocked_words(here)
        return Verdict(Status.WARN if open_ else Status.FAIL,
                       Message(S.PORTS_BLOCKED_HERE, {"which": which}),
                       (Advice(R.LOCAL_FIREWALL, {"which": which}),), metrics)
    udp = [v for v in verdicts if v.protocol == "udp"]
    silent = [v for v in udp if v.verdict == NO_ANSWER]
    explained = False
    if silent and observation.trtc_udp is not None and is_tencent(host):
        # TRTC's servers speak Tencent's protocol, not STUN: their silence is no finding
        # when Tencent's own SDK reached them over UDP in this run
        verdicts = [v for v in verdicts if v not in silent]
        if all(v.verdict == OPEN for v in verdicts):
            return Verdict(Status.PASS, Message(S.PORTS_UDP_EXPLAINED, {
                "ports": "UDP " + _join([v.port for v in silent]),
                "via": observation.trtc_udp}), (), metrics)
        open_ = [v for v in verdicts if v.verdict == OPEN]
        explained = True
    elif udp and len(silent) == len(udp) and all(
            v.verdict == OPEN for v in verdicts if v.protocol == "tcp"):
        # not one STUN answer: a filter, or a host that does not speak STUN -- not determined
        ports = _join([v.port for v in silent])
        tcp_checked = any(v.protocol == "tcp" for v in verdicts)
        # "TCP works" only where TCP was checked: no TCP port is no evidence of anything
        sentence = S.PORTS_UDP_UNDETERMINED if tcp_checked else S.PORTS_UDP_UNDETERMINED_ALONE
        return Verdict(Status.WARN, Message(sentence, {
            "host": host, "ports": "UDP " + ports}),
            (Advice(R.PORTS_DECISIVE, {"host": host}),
             Advice(R.WHITELIST_UDP, {"host": host, "ports": ports})), metrics)
    bad_udp = [v.port for v in verdicts if v.protocol == "udp" and v.verdict != OPEN]
    bad_tcp = [v.port for v in verdicts if v.protocol == "tcp" and v.verdict != OPEN]
    advice: list[Advice] = []
    if bad_udp:
        advice.append(Advice(R.WHITELIST_UDP, {"host": host, "ports": _join(bad_udp)}))
    if bad_tcp:
        advice.append(Advice(R.WHITELIST_TCP, {"host": host, "ports": _join(bad_tcp)}))
    if not open_ and not explained:  # explained: UDP reached TRTC, so the network is up
        advice.append(Advice(R.NETWORK_UNREACHABLE, {"host": host}))
        return Verdict(Status.FAIL,
                       Message(S.PORTS_NONE_OPEN, {"host": host, "count": len(verdicts)}),
                       tuple(advice), metrics)
    if len(open_) < len(verdicts):
        # in the table's words: silence is "no answer (open or filtered)", never "unreachable"
        groups = {"closed": S.PORTS_GROUP_CLOSED, NO_ANSWER: S.PORTS_GROUP_NO_ANSWER,
                  ERROR: S.PORTS_GROUP_ERROR}
        said = [Message(sentence, {"ports": blocked_words(
            [v for v in verdicts if v.verdict == verdict])}).as_dict()
            for verdict, sentence in groups.items() if any(v.verdict == verdict for v in verdicts)]
        return Verdict(Status.WARN, Message(S.PORTS_SOME_OPEN, {
            "open": len(open_), "count": len(verdicts), "which": said}),
            tuple(advice), metrics)
    lossy = [q for q in observation.quality or () if q.answered and
             q.loss_pct > thresholds.QUALITY_LOSS_WARN_PCT]
    if lossy:
        return Verdict(Status.WARN, Message(S.PORTS_LOSSY, {"which": ", ".join(
            f"UDP {q.port} {q.loss_pct:g} %" for q in lossy)}), (Advice(R.CALL_POOR),),
            metrics)
    if len(verdicts) == 1:
        return Verdict(Status.PASS, Message(S.PORTS_THE_ONE_OPEN), (), metrics)
    return Verdict(Status.PASS, Message(S.PORTS_ALL_OPEN, {"count": len(verdicts)}), (), metrics)


def _metrics(observation: PortsObservation) -> tuple[Metric, ...]:
    verdicts = observation.verdicts
    metrics = [
        Metric("ports_open", sum(v.verdict == OPEN for v in verdicts), "count"),
        Metric("ports_checked", len(verdicts), "count"),
    ]
    metrics += [
        Metric(f"{v.protocol}_{v.port}_rtt", round(v.rtt_ms, 2), "ms", better="lower")
        for v in verdicts if v.rtt_ms is not None
    ]
    for q in observation.quality or ():
        metrics.append(Metric(f"udp_{q.port}_train_loss", q.loss_pct, "%",
                              warn=thresholds.QUALITY_LOSS_WARN_PCT, better="lower"))
        if q.jitter_ms is not None:
            metrics.append(Metric(f"udp_{q.port}_train_jitter", q.jitter_ms, "ms",
                                  better="lower"))
    return tuple(metrics)


def blocked_words(verdicts: list[PortVerdict]) -> str:
    """'UDP 8000, 8080; TCP 8687'"""
    parts = []
    for protocol in ("udp", "tcp"):
        ports = [v.port for v in verdicts if v.protocol == protocol]
        if ports:
            parts.append(f"{protocol.upper()} {_join(ports)}")
    return "; ".join(parts)


def _join(ports: list[int]) -> str:
    return ", ".join(str(p) for p in ports)


def _trtc_udp(prior: Prior) -> str | None:
    """'UDP 8000' when the trtc probe reached TRTC's cloud over UDP in this run."""
    found = prior.get("trtc")
    if found is None or found.status not in (Status.PASS, Status.WARN):
        return None
    reached = found.details.get("reached_over")
    transport = reached.get("transport") if isinstance(reached, dict) else None
    return str(transport) if isinstance(transport, str) and transport.startswith("UDP") \
        else None


async def measure(config: Config, prior: Prior = NO_PRIOR) -> PortsObservation:
    host = config.network.target
    ports: list[tuple[Transport, int]] = ([("tcp", p) for p in config.network.tcp_ports]
                                          + [("udp", p) for p in config.network.udp_ports])
    try:
        resolution = await resolve(config, host)
    except ResolveError as exc:
        why = Failure.of(Kind.DNS, cause=exc.why)
        verdicts = tuple(PortVerdict(proto, p, ERROR, error=why) for proto, p in ports)
        return PortsObservation(host, None, verdicts, dns_error=str(exc),
                                dns_failure=exc.failure(host))
    address = resolution.addresses[0]
    clock = PathClock()
    verdicts = tuple(await asyncio.gather(*(
        probe_tcp(address, p, config.network.timeout_s, clock, config.network.local) if proto == "tcp"
        else probe_udp(address, p, config.network.timeout_s, clock, config.network.local)
        for proto, p in ports)))
    quality = None
    if config.network.port_quality:
        # every UDP port that did not refuse: a silent (filtered) one shows as 100 % loss
        trained = [v.port for v in verdicts
                   if v.protocol == "udp" and v.verdict in (OPEN, NO_ANSWER)]
        quality = tuple(await asyncio.gather(*(
            run_train(address, port, config.network.quality_count, config.network.quality_rate_pps,
                      config.network.local)
            for port in trained)))
    # the size calls send, where a small datagram was answered: is it answered too?
    answered = next((v.port for v in verdicts if v.protocol == "udp" and v.verdict == OPEN), None)
    large = None if answered is None else await probe_large(
        address, answered, min(config.network.timeout_s, LARGE_DATAGRAM_S), config.network.local)
    return PortsObservation(host, address, verdicts, quality=quality, trtc_udp=_trtc_udp(prior),
                            large_datagram=large)


#: How long the large datagram may take to be answered at most, s (after the small ones)
LARGE_DATAGRAM_S = 1.5


def deadline_s(config: Config) -> float:
    trains = (config.network.quality_count / config.network.quality_rate_pps
              + QUALITY_TRAIN_LOSS_AFTER_S) if config.network.port_quality else 0.0
    return config.network.timeout_s * 2 + PROBE_DEADLINE_MARGIN_S + trains + LARGE_DATAGRAM_S


#: OpenMetrics: a state set per port (no_answer: open or filtered) and the round-trip time
SERIES = (
    Series("trtcdetect_port_verdict", "Verdict per port (no_answer: open or filtered)",
           ("protocol", "port"), states=(OPEN, CLOSED, NO_ANSWER, ERROR)),
    Series("trtcdetect_port_rtt_seconds", "TCP connect / STUN round-trip time",
           ("protocol", "port"), unit="seconds"),
)


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    seen = of_entry(PortsDetails, probe)
    for p in seen.ports if seen is not None else ():
        labels = (p.protocol, str(p.port))
        yield "trtcdetect_port_verdict", labels, p.verdict
        if p.rtt_ms is not None:
            yield "trtcdetect_port_rtt_seconds", labels, seconds(p.rtt_ms)


#: a port's verdict -> how it failed, as --repeat's board says it
PORT_FAILURE = {"no_answer": "no answer", "closed": "refused"}


def checks(result: ProbeResult) -> Iterable[Check]:
    """--repeat's board: each port, open or how it failed."""
    seen = of(PortsDetails, result)
    for port in seen.ports if seen is not None else ():
        ok = port.verdict == OPEN
        yield (f"{port.protocol.upper()} {port.port}", ok,
               None if ok else PORT_FAILURE.get(port.verdict, "error"))


PROBE = MeasuredProbe(
    id="ports",
    traits=frozenset({"network", "target"}),
    titles=Text("Firewall ports", "防火墙端口"),
    description="TCP connect and UDP STUN to every TRTC media port, all at once",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    # Tencent's SDK tells whether TRTC's servers, which do not answer STUN, were reached
    after=("trtc",),
    evidence=PortsDetails,
    checks=checks,
    series=SERIES,
    samples=samples,
)
