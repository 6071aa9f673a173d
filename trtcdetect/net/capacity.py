"""How much this network carries to and from a `trtcdetect serve`, per direction: a ramped train.

A paced train of PAYLOAD-byte UDP datagrams (net/capacitywire.py) goes up while another comes
down, each in steps of STEP_S whose rate grows by RAMP from START_KBPS until a step shows the
bottleneck, or the ceiling is reached. A step shows it when the queue in front of the bottleneck
grows (the one-way delay's median rises over the lowest seen), or when the receiver gets the
step's datagrams at well under the rate they were sent at, once the loss the lower steps had
anyway is allowed for: the probe's rule (probes/capacity.judge_step), handed to `measure`.
Above its capacity a link delivers at its capacity, whatever it is fed: the estimate is the
rate at which that step's datagrams *arrived* at the receiver (leaving out the first tenth of
them: a shaper's burst after a quiet spell passes at line speed), IP-level bits (payload + 28
bytes of IPv4/UDP headers), as the link carries them.

Random loss (a lossy Wi-Fi) takes the same share at every rate and raises no queue: allowed for,
it is not taken for the bottleneck. A ramp that reaches the ceiling says "at least".
Both directions at once, as a call sends (a full-duplex link carries each at its own rate; a
half-duplex one shares its air between them, as it would a call's), never beside another probe
(the runner starts it last): its load
would be everyone else's delay. Bounded: at most STEPS_MAX steps per direction, each waiting
at most DRAIN_MAX_S for its last datagram.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from ..config import Local
from ..evidence import JsonObject
from . import capacitywire as wire
from .bind import udp_endpoint
from .ramp import (
    DRAIN_MAX_S,
    DRAIN_QUIET_S,
    PAYLOAD,
    STEP_S,
    Arrivals,
    Direction,
    Step,
    arrival_rate,
    conclude,
    rates,
)
from .timing import enable_receive_stamps, received_at

#: a sender this far behind the asked rate is said to have sent at the rate it managed
SENDER_SLACK = 0.05

__all__ = ["Capacity", "CapacityUnsupported", "Direction", "Step", "measure", "rates"]


class CapacityUnsupported(Exception):
    """The far end did not answer the capacity test's HELLO: not a `trtcdetect serve`, a
    `serve --no-capacity`, or the port is blocked."""


def _rate(count: int, span_s: float) -> float | None:
    if count < 2 or span_s <= 0:
        return None
    return (count - 1) * (PAYLOAD + wire.IP_UDP_OVERHEAD) * 8 / span_s / 1000


def _count(kbps: float) -> int:
    return max(int(kbps * 1000 * STEP_S / ((PAYLOAD + wire.IP_UDP_OVERHEAD) * 8)), 4)


@dataclass
class _Arrivals(Arrivals):
    total: int = 0
    #: what the train carried, echoed to the server for the next train (capacitywire)
    token: bytes = b""
    #: (sequence number, the sender's stamp in ns) of the lowest and the highest that came
    low: tuple[int, int] | None = None
    high: tuple[int, int] | None = None

    def sent_kbps(self) -> float | None:
        """The rate the far end really sent at, from its own stamps (a busy sender falls
        behind the rate asked of it, and that is not the link's fault)."""
        if self.low is None or self.high is None or self.high[0] <= self.low[0]:
            return None
        return _rate(self.high[0] - self.low[0] + 1, (self.high[1] - self.low[1]) / 1e9)


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[bytes, asyncio.Future[bytes]] = {}
        self.arrivals: dict[int, _Arrivals] = {}
        self.session = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            enable_receive_stamps(sock)

    def datagram_received(self, datagram: bytes, addr: tuple[str, int]) -> None:
        now = time.perf_counter()
        if not wire.sizes_ok(datagram):
            return
        message = wire.kind(datagram)
        if message == wire.DATA:
            sock = self.transport.get_extra_info("socket") if self.transport else None
            if sock is not None:
                now, _ = received_at(sock, now)
            stamped = wire.read_data(datagram)
            if stamped.session != self.session:
                return
            got = self.arrivals.setdefault(stamped.step, _Arrivals())
            if not got.add(stamped.seq, now, stamped.sent_ns):
                return
            got.total = stamped.total
            got.token = stamped.token
            if got.low is None or stamped.seq < got.low[0]:
                got.low = (stamped.seq, stamped.sent_ns)
            if got.high is None or stamped.seq > got.high[0]:
                got.high = (stamped.seq, stamped.sent_ns)
        elif message in (wire.WELCOME, wire.TALLY):
            nonce = datagram[wire.HEADER:wire.HEADER + 8]
            waiter = self.waiting.pop(nonce, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(datagram)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP error: the datagrams are lost, which the counts show

    def send(self, datagram: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(datagram)

    async def ask(self, make: Any, timeout_s: float, tries: int = 3) -> bytes | None:
        """Send make(nonce) until its answer comes, `tries` times, each waiting timeout_s."""
        for _ in range(tries):
            nonce = secrets.token_bytes(8)
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self.waiting[nonce] = future
            self.send(make(nonce))
            try:
                return await asyncio.wait_for(future, timeout_s)
            except TimeoutError:
                self.waiting.pop(nonce, None)
        return None


@dataclass(frozen=True)
class Capacity:
    address: str
    port: int
    up: Direction
    down: Direction
    ceiling_kbps: float
    seconds: float


#: a step's figures -> what showed the bottleneck ("delay", "rate") or None: the probe's rule
Congested = Callable[[float, int, int, "float | None", "float | None", list[Step]], "str | None"]


async def measure(address: str, port: int, ceiling_kbps: float, timeout_s: float,
                  congested: Congested, local: Local | None = None) -> Capacity:
    _, client = await udp_endpoint(_Client, local, (address, port))
    start = time.perf_counter()
    try:
        # a host that is not a serve costs at most 2 s of the run (this probe runs last)
        answer = await client.ask(wire.hello, min(timeout_s / 2, 1.0), tries=2)
        if answer is None:
            raise CapacityUnsupported(f"{address}:{port}")
        _, cookie, server_max = wire.read_welcome(answer)
        ceiling = min(ceiling_kbps, float(server_max))
        # both directions at once, as a call sends: a full-duplex link carries each at its own
        # rate, and a half-duplex one (Wi-Fi) shares its air between them as a call would
        up, down = await asyncio.gather(_up(client, cookie, ceiling, congested),
                                        _down(client, cookie, ceiling, congested))
    finally:
        if client.transport is not None:
            client.transport.close()
    return Capacity(address, port, up, down, ceiling, time.perf_counter() - start)


async def _up(client: _Client, cookie: bytes, ceiling: float, congested: Congested) -> Direction:
    session = secrets.token_bytes(8)
    steps: list[Step] = []
    lowest: float | None = None
    for index, kbps in enumerate(rates(ceiling)):
        total = _count(kbps)

        def send(seq: int, step: int = index) -> None:
            client.send(wire.up(cookie, session, step, seq, time.monotonic_ns(), PAYLOAD))

        took = await wire.send_paced(total, kbps, PAYLOAD, send)
        kbps = _really_sent(kbps, _rate(total, took))
        figures = await _drained_tally(client, cookie, session, index, total)
        count = int(figures.get("count", 0))
        low = figures.get("offset_min_s")
        if low is not None:
            lowest = low if lowest is None else min(lowest, low)
        median = figures.get("offset_median_s")
        queue = None if median is None or lowest is None else (median - lowest) * 1000
        delivered = figures.get("rate_kbps")
        steps.append(Step(kbps, total, count, _round(delivered), _round(queue),
                          congested(kbps, total, count, delivered, queue, steps)))
        if steps[-1].congested:
            break
    return conclude("up", steps, ceiling)


async def _drained_tally(client: _Client, cookie: bytes, session: bytes,
                         step: int, total: int) -> JsonObject:
    """The server's tally of a step once all of it came or it stops growing (the queue has
    drained)."""
    deadline = time.perf_counter() + DRAIN_MAX_S
    last: JsonObject = {}
    pause = DRAIN_QUIET_S / 3  # the report travels behind the step's last datagrams anyway
    while time.perf_counter() < deadline:
        await asyncio.sleep(pause)
        pause = DRAIN_QUIET_S
        answer = await client.ask(lambda nonce: wire.report(cookie, session, step, nonce),
                                  DRAIN_QUIET_S * 2, tries=2)
        if answer is None:
            continue
        _, figures = wire.read_tally(answer)
        if figures.get("count", 0) >= total or (
                last and figures.get("count") == last.get("count")):
            return figures
        last = figures
    return last


async def _down(client: _Client, cookie: bytes, ceiling: float,
                congested: Congested) -> Direction:
    client.session = secrets.token_bytes(8)
    client.arrivals = {}
    steps: list[Step] = []
    lowest: float | None = None
    for index, kbps in enumerate(rates(ceiling)):
        request = wire.DownRequest(cookie, client.session, index, int(kbps), PAYLOAD,
                                   int(STEP_S * 1000))
        total = _count(kbps)
        got = await _drained_arrivals(client, request)
        if got.offsets:
            low = min(got.offsets)
            lowest = low if lowest is None else min(lowest, low)
        queue = (None if not got.offsets or lowest is None
                 else (statistics.median(got.offsets) - lowest) * 1000)
        total = got.total or total
        kbps = _really_sent(kbps, got.sent_kbps())
        delivered = arrival_rate(got.times, PAYLOAD + wire.IP_UDP_OVERHEAD)
        steps.append(Step(kbps, total, len(got.seqs), _round(delivered), _round(queue),
                          congested(kbps, total, len(got.seqs), delivered, queue, steps)))
        if steps[-1].congested:
            break
    return conclude("down", steps, ceiling)


async def _drained_arrivals(client: _Client, request: wire.DownRequest) -> _Arrivals:
    """Ask for a step's train (again, if nothing came) and wait until it stops arriving."""
    sent_at = time.perf_counter()
    client.send(wire.down(request))
    deadline = sent_at + STEP_S + DRAIN_MAX_S
    asked_again = False
    while time.perf_counter() < deadline:
        await asyncio.sleep(DRAIN_QUIET_S / 5)
        got = client.arrivals.get(request.step)
        now = time.perf_counter()
        if got is None:
            if not asked_again and now - sent_at > STEP_S + DRAIN_QUIET_S * 2:
                client.send(wire.down(request))  # the request itself may have been lost
                asked_again = True
            continue
        if len(got.seqs) >= got.total or now - got.times[-1] > DRAIN_QUIET_S * 2:
            break
    got = client.arrivals.get(request.step) or _Arrivals()
    if got.token:  # the server sends the next train only to a client that echoes this one's
        client.send(wire.echo(request.cookie, request.session, request.step, got.token))
    return got


def _really_sent(asked: float, achieved: float | None) -> float:
    """The step's rate: the one asked for, unless the sender fell more than SENDER_SLACK
    behind it (a busy machine; then less arriving is no sign of the link)."""
    if achieved is not None and achieved < asked * (1 - SENDER_SLACK):
        return achieved
    return asked


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
