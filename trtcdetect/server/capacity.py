"""The reference endpoint's side of the capacity test (net/capacitywire.py says the protocol).

UP trains are tallied per (client, session, step) and reported on request; DOWN requests start
a paced train back to the client. Bounded: a train is at most MAX_TRAIN_S long and MAX_KBPS
fast, one train per client address at a time, MAX_TRAINS_PER_PREFIX per /24 (IPv4) or /64
(IPv6) and MAX_TRAINS in all; a cookie starts at most MAX_TRAINS_PER_COOKIE trains; tallies are
forgotten after TALLY_KEEP_S, at most MAX_TALLIES are kept and each counts at most
MAX_TALLY_DATAGRAMS. A request without a fresh cookie (capacitywire.COOKIE_MAX_AGE_S) of the
WELCOME sent to that very address is ignored, so nobody can aim a train at a third party, nor
replay an old cookie for long.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import statistics
import time
from dataclasses import dataclass
from typing import Any

from ..evidence import JsonObject
from ..net import capacitywire as wire
from ..net.capacitywire import send_paced
from ..net.ramp import Arrivals, arrival_rate
from ..net.timing import received_at
from .limits import prefix

log = logging.getLogger("trtcdetect.serve")

MAX_KBPS = 20_000
MAX_TRAIN_S = 1.0
MAX_TRAINS = 4
MAX_TRAINS_PER_PREFIX = 2
#: a ramp asks for at most ramp.STEPS_MAX trains, and again for one that did not come
MAX_TRAINS_PER_COOKIE = 24
TALLY_KEEP_S = 60.0
#: memory bounds against a client that sends without end: steps tallied at once, and datagrams
#: remembered per step (20 Mbit/s for 1 s of 1,200-byte datagrams is ~2,000)
MAX_TALLIES = 256
MAX_TALLY_DATAGRAMS = 5000
#: steps one address may have tallied at once (a ramp has at most ramp.STEPS_MAX): one client
#: cannot push everyone else's tallies out
MAX_TALLIES_PER_ADDRESS = 32


@dataclass
class _Tally(Arrivals):
    size: int = 0  # IP-level bytes of a datagram (a train's are all one size)

    @property
    def touched(self) -> float:
        return self.times[-1] if self.times else 0.0

    def figures(self) -> JsonObject:
        delays = sorted(self.offsets)
        return {"count": len(self.times), "rate_kbps": arrival_rate(self.times, self.size),
                "offset_min_s": delays[0] if delays else None,
                "offset_median_s": statistics.median(delays) if delays else None}


@dataclass
class _Cookie:
    started: int = 0
    unechoed: int = 0
    token: bytes | None = None


def clock_s() -> int:
    """The server's clock for its cookies, whole seconds (monotonic: a clock step changes
    nothing)."""
    return int(time.monotonic())


class CapacityServer:
    """Shared by every UDP port of one `serve`."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._tallies: dict[tuple[tuple[str, int], bytes, int], _Tally] = {}
        self._trains: dict[tuple[str, int], asyncio.Task[None]] = {}
        #: per cookie: trains started, trains not echoed since the last echo, the token the
        #: last train carried
        self._per_cookie: dict[bytes, _Cookie] = {}
        self.trains_sent = 0

    def handle(self, datagram: bytes, addr: tuple[str, int], transport: asyncio.DatagramTransport,
               sock: Any) -> None:
        if not wire.sizes_ok(datagram):
            return
        message = wire.kind(datagram)
        now = time.perf_counter()
        seconds = clock_s()
        if message == wire.HELLO:
            nonce = datagram[wire.HEADER:wire.HEADER + 8]
            transport.sendto(wire.welcome(nonce, wire.cookie(self._secret, addr, seconds),
                                          MAX_KBPS), addr)
            return
        if message == wire.UP:
            stamped = wire.read_up(datagram)
            if not wire.cookie_valid(self._secret, addr, stamped.cookie, seconds):
                return
            if sock is not None:
                now, _ = received_at(sock, now)
            self._add(addr, stamped, len(datagram), now)
        elif message == wire.REPORT:
            cookie, session, step, nonce = wire.read_report(datagram)
            if not wire.cookie_valid(self._secret, addr, cookie, seconds):
                return
            tally = self._tallies.get((addr, session, step), _Tally())
            transport.sendto(wire.tally(nonce, tally.figures()), addr)
        elif message == wire.DOWN:
            request = wire.read_down(datagram)
            if not wire.cookie_valid(self._secret, addr, request.cookie, seconds):
                return
            self._start_train(request, addr, transport)
        elif message == wire.ECHO:
            cookie, _, _, token = wire.read_echo(datagram)
            known = self._per_cookie.get(cookie)
            if known is not None and wire.cookie_valid(self._secret, addr, cookie, seconds) \
                    and known.token is not None and hmac.compare_digest(token, known.token):
                known.unechoed, known.token = 0, None

    def _add(self, addr: tuple[str, int], stamped: wire.Stamped, size: int, now: float) -> None:
        key = (addr, stamped.session, stamped.step)
        tally = self._tallies.get(key)
        if tally is None:
            self._forget(now)
            mine = [k for k in self._tallies if k[0] == addr]
            if len(mine) >= MAX_TALLIES_PER_ADDRESS:
                del self._tallies[min(mine, key=lambda k: self._tallies[k].touched)]
            if len(self._tallies) >= MAX_TALLIES:
                del self._tallies[min(self._tallies, key=lambda k: self._tallies[k].touched)]
            tally = self._tallies[key] = _Tally(size=size + wire.IP_UDP_OVERHEAD)
        if len(tally.times) < MAX_TALLY_DATAGRAMS:
            tally.add(stamped.seq, now, stamped.sent_ns)

    def _forget(self, now: float) -> None:
        for key in [k for k, t in self._tallies.items() if now - t.touched > TALLY_KEEP_S]:
            del self._tallies[key]

    def sweep(self) -> None:
        """Forget what has aged out (serve calls this on a timer: state from a client that
        stopped sending must not wait for the next client to be dropped)."""
        self._forget(time.perf_counter())
        oldest = clock_s() - wire.COOKIE_MAX_AGE_S
        for cookie in [c for c in self._per_cookie
                       if (int.from_bytes(c[:4], "big") - oldest) & 0xFFFFFFFF > 1 << 31]:
            del self._per_cookie[cookie]

    def _start_train(self, request: wire.DownRequest, addr: tuple[str, int],
                     transport: asyncio.DatagramTransport) -> None:
        running = self._trains.get(addr)
        if running is not None and not running.done():
            return
        self._trains = {a: t for a, t in self._trains.items() if not t.done()}
        if len(self._trains) >= MAX_TRAINS:
            log.info("capacity: %s:%d refused (already %d trains)", addr[0], addr[1], MAX_TRAINS)
            return
        near = prefix(addr[0])
        if sum(prefix(a[0]) == near for a in self._trains) >= MAX_TRAINS_PER_PREFIX:
            log.info("capacity: %s:%d refused (already %d trains to %s)", addr[0], addr[1],
                     MAX_TRAINS_PER_PREFIX, near)
            return
        # the cookies of the last COOKIE_MAX_AGE_S only: older ones are refused anyway
        if len(self._per_cookie) > 4 * MAX_TALLIES:
            self._per_cookie.clear()
        known = self._per_cookie.setdefault(request.cookie, _Cookie())
        if known.started >= MAX_TRAINS_PER_COOKIE or known.unechoed >= wire.MAX_UNECHOED:
            return
        known.started += 1
        known.unechoed += 1
        known.token = secrets.token_bytes(8)
        self._trains[addr] = asyncio.get_running_loop().create_task(
            self._train(request, addr, transport, known.token))

    async def _train(self, request: wire.DownRequest, addr: tuple[str, int],
                     transport: asyncio.DatagramTransport, token: bytes) -> None:
        kbps = min(max(request.kbps, 1), MAX_KBPS)
        size = min(max(request.size, 64), 1400)
        seconds = min(request.duration_ms / 1000, MAX_TRAIN_S)
        total = max(int(kbps * 1000 * seconds / ((size + wire.IP_UDP_OVERHEAD) * 8)), 1)
        await send_paced(total, kbps, size, lambda seq: transport.sendto(wire.data(
            request.session, request.step, seq, total, time.monotonic_ns(), size, token), addr))
        self.trains_sent += 1
        log.info("capacity: %d datagrams to %s:%d at %d kbit/s", total, addr[0], addr[1], kbps)


