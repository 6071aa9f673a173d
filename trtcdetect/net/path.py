"""The path toward a host, hop by hop, as mtr sees it, without root.

UDP datagrams with rising TTL (IPv6: hop limit) go from one unprivileged socket with
IP_RECVERR set: each router where a datagram's TTL runs out answers with ICMP "time exceeded",
which the kernel queues on that socket's error queue with the router's address and the
datagram that caused it (Linux; `man 7 ip`, IP_RECVERR). Each datagram is a STUN Binding request
(aioice's codec), so the host itself answers it when its port speaks STUN (`trtcdetect serve`),
and its transaction id tells which datagram an answer or an error belongs to; a host that
answers "port unreachable" is reached as well.

Rounds: every `interval_s` one datagram per TTL still in question (1..max_hops; none past the
host once it answered, nor more than BEYOND_LAST past the furthest hop that answered while the
host does not), `per_hop` rounds in all, then `linger_s` for the last answers. With
the defaults that is at most 8 datagrams a hop and 30 hops in at most 2.9 s. Eight, a third
of a second apart, stay within what a Linux router allows ICMP errors toward one address (a
burst of 6, then one a second); a run right after another sees routers hold answers back,
which the probe tells from loss (a router that loses alone is not blamed). Fewer would not
tell where moderate loss starts (benchmarks/path_placement.py). The first hop is the
gateway: its row is the burst to it.

Measuring only: where loss and delay start is judged by the path probe (probes/path.py).
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Literal

from aioice import stun
from msgspec import Meta

from ..config import Local
from ..evidence import Evidence
from .bind import family_of, open_socket
from .errors import os_error_text
from .stun import binding_request

#: <linux/in.h>, <linux/in6.h>, <linux/errqueue.h>: Python's socket module does not name them
IP_RECVERR, IPV6_RECVERR = 11, 25
SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 = 2, 3
#: (origin, type) -> what the router or host said
_TIME_EXCEEDED = {(SO_EE_ORIGIN_ICMP, 11), (SO_EE_ORIGIN_ICMP6, 3)}
_UNREACHABLE = {(SO_EE_ORIGIN_ICMP, 3), (SO_EE_ORIGIN_ICMP6, 1)}
#: struct sock_extended_err: errno, origin, type, code, pad, info, data; the offender follows
_EXTENDED_ERR = struct.Struct("=IBBBBII")

MAX_HOPS = 30
PER_HOP = 8
INTERVAL_S = 0.33
LINGER_S = 0.6


@dataclass
class Hop:
    """One TTL: who answered, how many of the datagrams sent were answered, their RTTs."""

    ttl: int
    sent: int = 0
    rtts_ms: list[float] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    #: "time-exceeded" (a router), "answer" (the host, STUN), "unreachable" (an ICMP
    #: destination unreachable: from the host, port closed; from a router, no way on)
    said: str | None = None

    @property
    def answered(self) -> int:
        return len(self.rtts_ms)

    def seen(self) -> PathHop:
        rtts = sorted(self.rtts_ms)
        return PathHop(
            ttl=self.ttl,
            address=self.addresses[0] if self.addresses else None,
            addresses=tuple(self.addresses),
            sent=self.sent,
            answered=self.answered,
            loss_pct=round(100.0 * (self.sent - self.answered) / self.sent, 1)
            if self.sent else None,
            rtt_ms=round(rtts[len(rtts) // 2], 2) if rtts else None,
            rtt_best_ms=round(rtts[0], 2) if rtts else None,
            rtt_worst_ms=round(rtts[-1], 2) if rtts else None,
            said=self.said,  # type: ignore[arg-type]  # set only to the three words
        )


@dataclass
class Trace:
    address: str
    port: int
    hops: list[Hop]
    #: the TTL at which the host itself answered (STUN, or port unreachable), else None
    reached_at: int | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    datagrams: int = 0

    def seen(self) -> Traced:
        last = self.reached_at or max((h.ttl for h in self.hops if h.answered), default=0)
        return Traced(address=self.address, port=self.port, reached_at=self.reached_at,
                      hops=tuple(h.seen() for h in self.hops if h.ttl <= last),
                      error=self.error, elapsed_s=round(self.elapsed_s, 2),
                      datagrams=self.datagrams)


class PathHop(Evidence, frozen=True, kw_only=True):
    """One hop as the trace saw it: its router(s), how many of the datagrams sent with its TTL
    were answered, and the median/best/worst round-trip time of the answers."""

    ttl: Annotated[int, Meta(ge=1)]
    address: str | None
    addresses: tuple[str, ...] = ()
    sent: Annotated[int, Meta(ge=0)]
    answered: Annotated[int, Meta(ge=0)]
    loss_pct: Annotated[float, Meta(ge=0.0, le=100.0)] | None
    rtt_ms: float | None
    rtt_best_ms: float | None = None
    rtt_worst_ms: float | None = None
    #: "time-exceeded" (a router), "answer" (the host, STUN), "unreachable" (ICMP)
    said: Literal["time-exceeded", "answer", "unreachable"] | None = None


class Traced(Evidence, frozen=True, kw_only=True):
    """The whole trace: every hop up to the host (or the furthest that answered)."""

    address: str
    port: int
    reached_at: int | None
    hops: tuple[PathHop, ...]
    error: str | None
    elapsed_s: float
    datagrams: int


def trace(address: str, port: int, *, local: Local | None = None, max_hops: int = MAX_HOPS,
          per_hop: int = PER_HOP, interval_s: float = INTERVAL_S, linger_s: float = LINGER_S,
          stop: threading.Event | None = None) -> Trace:
    """Blocking: run it off the event loop (offloop.in_thread), `stop` set to end it early."""
    family = family_of(address)
    hops = [Hop(ttl) for ttl in range(1, max_hops + 1)]
    result = Trace(address, port, hops)
    started = time.perf_counter()
    try:
        sock = open_socket(family, socket.SOCK_DGRAM, local)
    except OSError as exc:
        result.error = os_error_text(exc)
        return result
    level = socket.IPPROTO_IP if family == socket.AF_INET else socket.IPPROTO_IPV6
    with sock:
        try:
            sock.setsockopt(level, IP_RECVERR if family == socket.AF_INET else IPV6_RECVERR, 1)
        except OSError as exc:
            result.error = f"IP_RECVERR: {os_error_text(exc)}"
            return result
        tracer = _Tracer(sock, family, (address, port), result)
        for round_number in range(per_hop):
            due = started + round_number * interval_s
            tracer.collect(until=due, stop=stop)
            if stop is not None and stop.is_set():
                break
            for hop in hops[:_last_ttl(result, max_hops)]:
                if not tracer.send(hop):
                    break
        # the last answers: until every datagram is accounted for, or linger_s
        tracer.collect(until=time.perf_counter() + linger_s, stop=stop, all_in=True)
    result.elapsed_s = time.perf_counter() - started
    return result


#: past the furthest hop that answered, this many TTLs more are asked in later rounds (hops
#: that hide themselves), not all up to max_hops, when the host itself does not answer
BEYOND_LAST = 3


def _last_ttl(result: Trace, max_hops: int) -> int:
    """The highest TTL a round sends: the host's own once it answered; else a few past the
    furthest hop that answered; max_hops while nothing has."""
    if result.reached_at is not None:
        return result.reached_at
    answered = [h.ttl for h in result.hops if h.answered]
    return min(max_hops, max(answered) + BEYOND_LAST) if answered else max_hops


class _Tracer:
    def __init__(self, sock: socket.socket, family: int, destination: tuple[str, int],
                 result: Trace) -> None:
        self.sock, self.family, self.destination, self.result = sock, family, destination, result
        self.pending: dict[bytes, tuple[Hop, float]] = {}
        self.poll = select.poll()
        self.poll.register(sock, select.POLLIN | select.POLLERR)

    def send(self, hop: Hop) -> bool:
        """One datagram with `hop`'s TTL; False when sending failed for good (said in error)."""
        request = binding_request()
        option = socket.IP_TTL if self.family == socket.AF_INET else socket.IPV6_UNICAST_HOPS
        level = socket.IPPROTO_IP if self.family == socket.AF_INET else socket.IPPROTO_IPV6
        try:
            # an ICMP error queued meanwhile is also left as the socket's pending error, which
            # the next send would return in its place: taken here (it is read from the queue)
            self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self.sock.setsockopt(level, option, hop.ttl)
            self.sock.sendto(bytes(request), self.destination)
        except BlockingIOError:
            return True  # the socket's buffer is full: this one is not sent, nor counted
        except OSError as exc:
            self.result.error = os_error_text(exc)
            return False
        hop.sent += 1
        self.result.datagrams += 1
        self.pending[request.transaction_id] = (hop, time.perf_counter())
        return True

    def collect(self, until: float, stop: threading.Event | None, all_in: bool = False) -> None:
        """Read answers until `until`; with `all_in`, also stop once none is outstanding."""
        while True:
            left = until - time.perf_counter()
            if left <= 0 or (stop is not None and stop.is_set()) or (all_in and not self.pending):
                return
            if not self.poll.poll(max(1, int(left * 1000))):
                continue
            self._read_errors()
            self._read_answers()

    def _read_errors(self) -> None:
        while True:
            try:
                data, ancillary, _flags, _addr = self.sock.recvmsg(
                    2048, 512, socket.MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            now = time.perf_counter()
            for _level, _kind, payload in ancillary:
                if len(payload) < _EXTENDED_ERR.size:
                    continue
                _errno, origin, kind, _code, _pad, _info, _data = _EXTENDED_ERR.unpack_from(payload)
                offender = _address(payload[_EXTENDED_ERR.size:])
                said = "time-exceeded" if (origin, kind) in _TIME_EXCEEDED else \
                    "unreachable" if (origin, kind) in _UNREACHABLE else None
                if said is not None:
                    self._answered(data, now, offender, said)

    def _read_answers(self) -> None:
        while True:
            try:
                data, _addr = self.sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an error the queue will give: read it there
                self._read_errors()
                return
            self._answered(data, time.perf_counter(), self.destination[0], "answer")

    def _answered(self, data: bytes, now: float, offender: str | None, said: str) -> None:
        try:
            message = stun.parse_message(data)
        except ValueError:
            return
        found = self.pending.pop(message.transaction_id, None)
        if found is None:
            return
        hop, sent_at = found
        hop.rtts_ms.append((now - sent_at) * 1000)
        if offender and offender not in hop.addresses:
            hop.addresses.append(offender)
        if said != "time-exceeded" and offender == self.destination[0]:
            said = "answer" if said == "answer" else "unreachable"
            if self.result.reached_at is None or hop.ttl < self.result.reached_at:
                self.result.reached_at = hop.ttl
        hop.said = hop.said or said


def _address(raw: bytes) -> str | None:
    """The offender's address from the sockaddr after sock_extended_err."""
    if len(raw) < 8:
        return None
    family = struct.unpack_from("=H", raw)[0]
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[4:8])
    if family == socket.AF_INET6 and len(raw) >= 24:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24])
    return None
