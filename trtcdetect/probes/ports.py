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
import time
from dataclasses import dataclass
from typing import Any

from aioice import stun

from .. import thresholds
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..models import Advice, Message, Metric, Status
from ..net import REFUSALS, ResolveError, os_error_text, resolve
from ..net.stun import StunSocket, binding_request
from ..net.trains import QUALITY_TRAIN_LOSS_AFTER_S, run_train
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict

#: Until any answer has measured the path, STUN requests are resent this often, s.
UDP_INITIAL_RTO_S = 0.5
#: Once an answer has measured the RTT, silent ports are resent every RTT * this factor ...
UDP_RTO_RTT_FACTOR = 4.0
#: ... but never faster than this, s (an RTO below scheduler noise only adds packets).
UDP_MIN_RTO_S = 0.2
#: ... and a silent port is given up after this many resends at the measured RTO.
UDP_ADAPTIVE_RESENDS = 3

OPEN, CLOSED, NO_ANSWER, ERROR = "open", "closed", "no_answer", "error"


@dataclass(frozen=True)
class PortVerdict:
    protocol: str
    port: int
    verdict: str
    rtt_ms: float | None = None
    error: str | None = None
    attempts: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "port": self.port,
            "verdict": self.verdict,
            "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 2),
            "error": self.error,
            "attempts": self.attempts,
        }


class PathClock:
    """What the answers so far say about the path: the first measured RTT sets the resend timer."""

    def __init__(self) -> None:
        self.rtt_s: float | None = None

    def observe(self, rtt_s: float) -> None:
        if self.rtt_s is None or rtt_s < self.rtt_s:
            self.rtt_s = rtt_s

    def rto(self) -> float:
        if self.rtt_s is None:
            return UDP_INITIAL_RTO_S
        return max(self.rtt_s * UDP_RTO_RTT_FACTOR, UDP_MIN_RTO_S)


async def probe_tcp(address: str, port: int, timeout_s: float, clock: PathClock) -> PortVerdict:
    start = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout_s)
    except TimeoutError:
        return PortVerdict("tcp", port, NO_ANSWER, error=f"no answer within {timeout_s:g} s")
    except OSError as exc:
        verdict = CLOSED if exc.errno in REFUSALS else ERROR
        return PortVerdict("tcp", port, verdict, error=os_error_text(exc))
    rtt = time.perf_counter() - start
    clock.observe(rtt)
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (OSError, TimeoutError):
        pass
    return PortVerdict("tcp", port, OPEN, rtt_ms=rtt * 1000)


async def probe_udp(address: str, port: int, timeout_s: float, clock: PathClock) -> PortVerdict:
    """A STUN Binding request on a connected socket, resent on the path's timer: an answer is
    open, an ICMP error closed, silence "no answer (open or filtered)"."""
    try:
        sock = await StunSocket.open(remote=(address, port))
    except OSError as exc:
        verdict = CLOSED if exc.errno in REFUSALS else ERROR
        return PortVerdict("udp", port, verdict, error=os_error_text(exc))
    request = binding_request()
    answer = sock.reply(request.transaction_id)
    outcomes = (answer, sock.garbage, sock.icmp)
    start = time.perf_counter()
    deadline = start + timeout_s
    attempts = 0
    adaptive_resends = 0
    try:
        while True:
            sock.send_stun(request, None)
            attempts += 1
            sent_at = time.perf_counter()
            adaptive = clock.rtt_s is not None
            wait = min(sent_at + clock.rto(), deadline) - sent_at
            done, _ = await asyncio.wait(outcomes, timeout=wait,
                                         return_when=asyncio.FIRST_COMPLETED)
            if not done:
                now = time.perf_counter()
                adaptive_resends += adaptive
                if now >= deadline or adaptive_resends >= UDP_ADAPTIVE_RESENDS:
                    return PortVerdict(
                        "udp", port, NO_ANSWER, attempts=attempts,
                        error=f"no answer to {attempts} STUN requests in {now - start:.1f} s",
                    )
                continue
            if sock.icmp.done() and not answer.done():
                icmp = sock.icmp.result()
                verdict = CLOSED if icmp.errno in REFUSALS else ERROR
                return PortVerdict("udp", port, verdict, error=os_error_text(icmp),
                                   attempts=attempts)
            reply = answer.result() if answer.done() else sock.garbage.result()
            # The RTT of the request that was answered: the last one sent.
            rtt = reply.at - sent_at
            clock.observe(rtt)
            note = None
            if reply.message is None:
                note = f"answered with {reply.size} bytes that are not STUN"
            elif reply.message.message_class == stun.Class.ERROR:
                note = f"STUN error response {reply.message.error_code}"
            return PortVerdict("udp", port, OPEN, rtt_ms=max(rtt, 0.0) * 1000, error=note,
                               attempts=attempts)
    finally:
        sock.close()


@dataclass(frozen=True)
class PortsObservation:
    """What the ports probe saw: the verdict per port and, with --port-quality, the trains."""

    host: str
    address: str | None
    verdicts: tuple[PortVerdict, ...]
    dns_error: str | None = None
    quality: tuple[dict[str, Any], ...] | None = None  # None: not asked for

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"host": self.host, "address": self.address,
                                   "ports": [v.as_dict() for v in self.verdicts]}
        if self.quality is not None:
            details["quality"] = list(self.quality)
        return details


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
    bad_udp = [v.port for v in verdicts if v.protocol == "udp" and v.verdict != OPEN]
    bad_tcp = [v.port for v in verdicts if v.protocol == "tcp" and v.verdict != OPEN]
    advice: list[Advice] = []
    if bad_udp:
        advice.append(Advice(R.WHITELIST_UDP, {"host": host, "ports": _join(bad_udp)}))
    if bad_tcp:
        advice.append(Advice(R.WHITELIST_TCP, {"host": host, "ports": _join(bad_tcp)}))
    if not open_:
        advice.append(Advice(R.NETWORK_UNREACHABLE, {"host": host}))
        return Verdict(Status.FAIL,
                       Message(S.PORTS_NONE_OPEN, {"host": host, "count": len(verdicts)}),
                       tuple(advice), metrics)
    if len(open_) < len(verdicts):
        parts = []
        if bad_udp:
            parts.append(f"UDP {_join(bad_udp)}")
        if bad_tcp:
            parts.append(f"TCP {_join(bad_tcp)}")
        return Verdict(Status.WARN, Message(S.PORTS_SOME_OPEN, {
            "open": len(open_), "count": len(verdicts), "which": "; ".join(parts)}),
            tuple(advice), metrics)
    lossy = [q for q in observation.quality or () if q["answered"] and
             q["loss_pct"] > thresholds.QUALITY_LOSS_WARN_PCT]
    if lossy:
        return Verdict(Status.WARN, Message(S.PORTS_LOSSY, {"which": ", ".join(
            f"UDP {q['port']} {q['loss_pct']:g} %" for q in lossy)}), (Advice(R.CALL_POOR),),
            metrics)
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
        metrics.append(Metric(f"udp_{q['port']}_train_loss", q["loss_pct"], "%",
                              warn=thresholds.QUALITY_LOSS_WARN_PCT, better="lower"))
        if q["jitter_ms"] is not None:
            metrics.append(Metric(f"udp_{q['port']}_train_jitter", q["jitter_ms"], "ms",
                                  better="lower"))
    return tuple(metrics)


def _join(ports: list[int]) -> str:
    return ", ".join(str(p) for p in ports)


async def measure(config: Config, prior: Prior = NO_PRIOR) -> PortsObservation:
    host = config.target
    ports = [("tcp", p) for p in config.tcp_ports] + [("udp", p) for p in config.udp_ports]
    try:
        resolution = await resolve(config, host)
    except ResolveError as exc:
        verdicts = tuple(PortVerdict(proto, p, ERROR, error=f"DNS: {exc}") for proto, p in ports)
        return PortsObservation(host, None, verdicts, dns_error=str(exc))
    address = resolution.addresses[0]
    clock = PathClock()
    verdicts = tuple(await asyncio.gather(*(
        probe_tcp(address, p, config.timeout_s, clock) if proto == "tcp"
        else probe_udp(address, p, config.timeout_s, clock)
        for proto, p in ports)))
    quality = None
    if config.port_quality:
        # every UDP port that did not refuse: a silent (filtered) one shows as 100 % loss
        trained = [v.port for v in verdicts
                   if v.protocol == "udp" and v.verdict in (OPEN, NO_ANSWER)]
        quality = tuple(await asyncio.gather(*(
            run_train(address, port, config.quality_count, config.quality_rate_pps)
            for port in trained)))
    return PortsObservation(host, address, verdicts, quality=quality)


def deadline_s(config: Config) -> float:
    trains = (config.quality_count / config.quality_rate_pps
              + QUALITY_TRAIN_LOSS_AFTER_S) if config.port_quality else 0.0
    return config.timeout_s * 2 + PROBE_DEADLINE_MARGIN_S + trains


PROBE = MeasuredProbe(
    id="ports",
    title="Firewall ports",
    description="TCP connect and UDP STUN to every TRTC media port, all at once",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
)
