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
import errno
import time
from dataclasses import dataclass
from typing import Any

from aioice import stun

from .. import thresholds
from ..config import Config
from ..models import Advice, Message, Metric, ProbeResult, Status
from ..net import ResolveError, os_error_text, resolve
from .trains import run_train

OPEN, CLOSED, NO_ANSWER, ERROR = "open", "closed", "no_answer", "error"
#: Errors that mean "something on the path said no": a refusal or an ICMP unreachable.
_REFUSALS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM}


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
            return thresholds.UDP_INITIAL_RTO_S
        return max(self.rtt_s * thresholds.UDP_RTO_RTT_FACTOR, thresholds.UDP_MIN_RTO_S)


async def probe_tcp(address: str, port: int, timeout_s: float, clock: PathClock) -> PortVerdict:
    start = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout_s)
    except TimeoutError:
        return PortVerdict("tcp", port, NO_ANSWER, error=f"no answer within {timeout_s:g} s")
    except OSError as exc:
        verdict = CLOSED if exc.errno in _REFUSALS else ERROR
        return PortVerdict("tcp", port, verdict, error=os_error_text(exc))
    rtt = time.perf_counter() - start
    clock.observe(rtt)
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (OSError, TimeoutError):
        pass
    return PortVerdict("tcp", port, OPEN, rtt_ms=rtt * 1000)


class _StunClient(asyncio.DatagramProtocol):
    """Waits for the answer to one transaction id, or for an ICMP-born error."""

    def __init__(self, transaction_id: bytes) -> None:
        self.transaction_id = transaction_id
        self.outcome: asyncio.Future[tuple[str, str | None]] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = stun.parse_message(data)
        except Exception:  # noqa: BLE001 - any garbage: something answered, but not STUN
            self._settle((OPEN, f"answered with {len(data)} bytes that are not STUN"))
            return
        if message.transaction_id != self.transaction_id:
            return  # a stray or spoofed answer: keep waiting for ours
        if message.message_class == stun.Class.ERROR:
            self._settle((OPEN, f"STUN error response {message.error_code}"))
        else:
            self._settle((OPEN, None))

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError) and exc.errno in _REFUSALS:
            self._settle((CLOSED, os_error_text(exc)))
        else:
            self._settle((ERROR, str(exc)))

    def _settle(self, value: tuple[str, str | None]) -> None:
        if not self.outcome.done():
            self.outcome.set_result(value)


async def probe_udp(address: str, port: int, timeout_s: float, clock: PathClock) -> PortVerdict:
    loop = asyncio.get_running_loop()
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _StunClient(request.transaction_id), remote_addr=(address, port)
        )
    except OSError as exc:
        verdict = CLOSED if exc.errno in _REFUSALS else ERROR
        return PortVerdict("udp", port, verdict, error=os_error_text(exc))
    payload = bytes(request)
    start = time.perf_counter()
    deadline = start + timeout_s
    attempts = 0
    adaptive_resends = 0
    try:
        while True:
            transport.sendto(payload)
            attempts += 1
            sent_at = time.perf_counter()
            adaptive = clock.rtt_s is not None
            wait = min(sent_at + clock.rto(), deadline) - sent_at
            try:
                verdict, note = await asyncio.wait_for(asyncio.shield(protocol.outcome), wait)
            except TimeoutError:
                now = time.perf_counter()
                adaptive_resends += adaptive
                if now >= deadline or adaptive_resends >= thresholds.UDP_ADAPTIVE_RESENDS:
                    waited = now - start
                    return PortVerdict(
                        "udp", port, NO_ANSWER, attempts=attempts,
                        error=f"no answer to {attempts} STUN requests in {waited:.1f} s",
                    )
                continue
            if verdict == OPEN:
                # The RTT of the request that was answered: the last one sent.
                rtt = time.perf_counter() - sent_at
                clock.observe(rtt)
                return PortVerdict("udp", port, OPEN, rtt_ms=rtt * 1000, error=note,
                                   attempts=attempts)
            return PortVerdict("udp", port, verdict, error=note, attempts=attempts)
    finally:
        transport.close()


def judge(host: str, verdicts: list[PortVerdict]) -> tuple[Status, Message, tuple[Advice, ...]]:
    if not verdicts:
        return Status.SKIP, Message("ports.none"), ()
    open_ = [v for v in verdicts if v.verdict == OPEN]
    bad_udp = [v.port for v in verdicts if v.protocol == "udp" and v.verdict != OPEN]
    bad_tcp = [v.port for v in verdicts if v.protocol == "tcp" and v.verdict != OPEN]
    advice: list[Advice] = []
    if bad_udp:
        advice.append(Advice("whitelist-udp", {"host": host, "ports": _join(bad_udp)}))
    if bad_tcp:
        advice.append(Advice("whitelist-tcp", {"host": host, "ports": _join(bad_tcp)}))
    if not open_:
        advice.append(Advice("network-unreachable", {"host": host}))
        return (Status.FAIL, Message("ports.none-open", {"host": host, "count": len(verdicts)}),
                tuple(advice))
    if len(open_) == len(verdicts):
        return Status.PASS, Message("ports.all-open", {"count": len(verdicts)}), ()
    parts = []
    if bad_udp:
        parts.append(f"UDP {_join(bad_udp)}")
    if bad_tcp:
        parts.append(f"TCP {_join(bad_tcp)}")
    return (
        Status.WARN,
        Message("ports.some-open",
                {"open": len(open_), "count": len(verdicts), "which": "; ".join(parts)}),
        tuple(advice),
    )


def _join(ports: list[int]) -> str:
    return ", ".join(str(p) for p in ports)


class PortsProbe:
    id = "ports"
    title = "Firewall ports"
    description = "TCP connect and UDP STUN to every TRTC media port, all at once"

    def deadline_s(self, config: Config) -> float:
        trains = (config.quality_count / config.quality_rate_pps
                  + thresholds.QUALITY_TRAIN_LOSS_AFTER_S) if config.port_quality else 0.0
        return config.timeout_s * 2 + thresholds.PROBE_DEADLINE_MARGIN_S + trains

    async def run(self, config: Config) -> ProbeResult:
        host = config.target
        ports = [("tcp", p) for p in config.tcp_ports] + [("udp", p) for p in config.udp_ports]
        details: dict[str, Any] = {"host": host, "address": None}
        try:
            resolution = await resolve(config, host)
        except ResolveError as exc:
            verdicts = [PortVerdict(proto, p, ERROR, error=f"DNS: {exc}") for proto, p in ports]
            details["ports"] = [v.as_dict() for v in verdicts]
            return ProbeResult(
                id=self.id, title=self.title, status=Status.FAIL if verdicts else Status.SKIP,
                message=Message("ports.dns", {"host": host, "error": str(exc)}), details=details,
                advice=(Advice("dns-failure", {"host": host, "error": str(exc)}),),
            )
        address = resolution.addresses[0]
        details["address"] = address
        clock = PathClock()
        checks = [
            probe_tcp(address, p, config.timeout_s, clock) if proto == "tcp"
            else probe_udp(address, p, config.timeout_s, clock)
            for proto, p in ports
        ]
        verdicts = list(await asyncio.gather(*checks))
        details["ports"] = [v.as_dict() for v in verdicts]
        status, message, advice = judge(host, verdicts)
        quality: list[dict[str, Any]] = []
        if config.port_quality:
            # every UDP port that did not refuse: a silent (filtered) one shows as 100 % loss
            trained = [v.port for v in verdicts
                       if v.protocol == "udp" and v.verdict in (OPEN, NO_ANSWER)]
            quality = list(await asyncio.gather(*(
                run_train(address, port, config.quality_count, config.quality_rate_pps)
                for port in trained)))
            details["quality"] = quality
            lossy = [q for q in quality if q["answered"] and
                     q["loss_pct"] > thresholds.QUALITY_LOSS_WARN_PCT]
            if lossy and status is Status.PASS:
                status = Status.WARN
                message = Message("ports.lossy", {"which": ", ".join(
                    f"UDP {q['port']} {q['loss_pct']:g} %" for q in lossy)})
                advice = (Advice("call-poor"),)
        metrics = [
            Metric("ports_open", sum(v.verdict == OPEN for v in verdicts), "count"),
            Metric("ports_checked", len(verdicts), "count"),
        ]
        metrics += [
            Metric(f"{v.protocol}_{v.port}_rtt", round(v.rtt_ms, 2), "ms", better="lower")
            for v in verdicts if v.rtt_ms is not None
        ]
        for q in quality:
            metrics.append(Metric(f"udp_{q['port']}_train_loss", q["loss_pct"], "%",
                                  warn=thresholds.QUALITY_LOSS_WARN_PCT, better="lower"))
            if q["jitter_ms"] is not None:
                metrics.append(Metric(f"udp_{q['port']}_train_jitter", q["jitter_ms"], "ms",
                                      better="lower"))
        return ProbeResult(
            id=self.id, title=self.title, status=status, message=message,
            metrics=tuple(metrics), details=details, advice=advice,
        )


PROBE = PortsProbe()
