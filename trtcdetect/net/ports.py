"""One port, checked: a TCP connect, or a STUN Binding request on a connected UDP socket.

An answer means open, a refusal closed (and who refused: this computer, the far host or a
router on the way), silence "no answer (open or filtered)" — never "open". Waiting is adaptive,
as nmap's is: until some answer has measured the path, silent UDP ports are resent every
UDP_INITIAL_RTO_S; afterwards every few RTTs (a PathClock shared by the ports checked at once).
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Final, Literal

import msgspec
from aioice import stun

from ..config import Local
from ..evidence import Evidence, JsonObject, Port, details
from ..failures import Failure, Kind, said
from .bind import tcp_connect
from .errors import REFUSALS, Refuser, os_error_text, refused_by
from .stun import StunSocket, binding_request
from .timing import tcp_rtt_ms

#: Until any answer has measured the path, STUN requests are resent this often, s.
UDP_INITIAL_RTO_S = 0.5
#: Once an answer has measured the RTT, silent ports are resent every RTT * this factor ...
UDP_RTO_RTT_FACTOR = 4.0
#: ... but never faster than this, s (an RTO below scheduler noise only adds packets).
UDP_MIN_RTO_S = 0.2
#: ... and a silent port is given up after this many resends at the measured RTO.
UDP_ADAPTIVE_RESENDS = 3

OPEN: Final = "open"
CLOSED: Final = "closed"
NO_ANSWER: Final = "no_answer"
ERROR: Final = "error"
#: no_answer: open or filtered, never counted as open
Answer = Literal["open", "closed", "no_answer", "error"]
Transport = Literal["tcp", "udp"]


class PortVerdict(Evidence, frozen=True, kw_only=False):
    """What one port did: answered (open), refused (closed), stayed silent (no_answer: open or
    filtered), or could not be asked (error), with the round-trip time of an answer."""

    protocol: Transport
    port: Port
    verdict: Answer
    rtt_ms: float | None = None
    error: Failure | None = None
    attempts: int = 1
    #: who said no (net.errors.refused_by): here (this computer's firewall), host, path (a
    #: router); None when nobody did
    refused_by: Refuser | None = None
    #: how rtt_ms was taken: "kernel" (TCP_INFO / the receive stamp) or "wall" (the loop's)
    timing: Literal["kernel", "wall"] | None = None

    def rounded(self) -> PortVerdict:
        """As the report shows it: the RTT to 0.01 ms."""
        return self if self.rtt_ms is None else msgspec.structs.replace(
            self, rtt_ms=round(self.rtt_ms, 2))

    def as_dict(self) -> JsonObject:
        return details(self.rounded())


def refusal(protocol: Transport, port: int, exc: OSError, attempts: int = 1) -> PortVerdict:
    """A port that something said no to. This computer's own "no" (EPERM/EACCES: its
    firewall) says nothing about the port: error, not closed."""
    by = refused_by(exc)
    if by == "here":
        return PortVerdict(protocol, port, ERROR, attempts=attempts, refused_by=by,
                           error=Failure.of(Kind.BLOCKED_HERE, said=os_error_text(exc)))
    verdict: Answer = CLOSED if exc.errno in REFUSALS else ERROR
    return PortVerdict(protocol, port, verdict, error=said(os_error_text(exc)), attempts=attempts,
                       refused_by=by)


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


async def probe_tcp(address: str, port: int, timeout_s: float, clock: PathClock,
                    local: Local | None = None) -> PortVerdict:
    start = time.perf_counter()
    try:
        sock = await asyncio.wait_for(tcp_connect(address, port, local), timeout_s)
    except TimeoutError:
        return PortVerdict("tcp", port, NO_ANSWER, error=Failure.of(Kind.NO_ANSWER, seconds=timeout_s))
    except OSError as exc:
        return refusal("tcp", port, exc)
    rtt = time.perf_counter() - start
    kernel_ms = tcp_rtt_ms(sock)  # the handshake, as the kernel saw it
    if kernel_ms is not None and kernel_ms <= rtt * 1000:
        rtt = kernel_ms / 1000
    clock.observe(rtt)
    sock.close()
    return PortVerdict("tcp", port, OPEN, rtt_ms=rtt * 1000,
                       timing="kernel" if kernel_ms is not None else "wall")


async def probe_udp(address: str, port: int, timeout_s: float, clock: PathClock,
                    local: Local | None = None) -> PortVerdict:
    """A STUN Binding request on a connected socket, resent on the path's timer: an answer is
    open, an ICMP error closed, silence "no answer (open or filtered)"."""
    try:
        sock = await StunSocket.open(remote=(address, port), local=local)
    except OSError as exc:
        return refusal("udp", port, exc)
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
            sent_at = sock.sent[request.transaction_id]  # taken just before the send
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
                        error=Failure.of(Kind.STUN_SILENT, count=attempts,
                                         seconds=f"{now - start:.1f}"),
                    )
                continue
            if sock.icmp.done() and not answer.done():
                return refusal("udp", port, sock.icmp.result(), attempts)
            reply = answer.result() if answer.done() else sock.garbage.result()
            # The RTT of the request that was answered: the last one sent.
            rtt = reply.at - sent_at
            clock.observe(rtt)
            note = None
            if reply.message is None:
                note = Failure.of(Kind.NOT_STUN, count=reply.size)
            elif reply.message.message_class == stun.Class.ERROR:
                note = Failure.of(Kind.STUN_ERROR, code=reply.message.error_code)
            return PortVerdict("udp", port, OPEN, rtt_ms=max(rtt, 0.0) * 1000, error=note,
                               attempts=attempts,
                               timing="kernel" if sock.kernel_stamps else "wall")
    finally:
        sock.close()




#: The size of a datagram calls send: video RTP near the 1,200-byte ceiling WebRTC keeps to (a
#: path that loses these but carries small ones loses calls' video, not their STUN)
LARGE_DATAGRAM = 1200
#: How many times the large request is sent before it counts as lost
LARGE_ATTEMPTS = 3


#: Linux's <linux/in.h> and <linux/in6.h>: IP_MTU_DISCOVER 10, IPV6_MTU_DISCOVER 23, and
#: IP_PMTUDISC_DO 2 (Python's socket module does not name them all everywhere)
_MTU_DISCOVER = {socket.AF_INET: (socket.IPPROTO_IP, 10), socket.AF_INET6: (socket.IPPROTO_IPV6, 23)}
_PMTUDISC_DO = 2


def _dont_fragment(sock: socket.socket) -> bool:
    """Don't Fragment on `sock` (Linux): a datagram too large for a link on the way is dropped
    (or refused by this computer with EMSGSIZE), not cut in pieces. False where not possible."""
    level, option = _MTU_DISCOVER.get(sock.family, (None, None))
    if level is None or option is None:
        return False
    try:
        sock.setsockopt(level, option, _PMTUDISC_DO)
    except OSError:
        return False
    return True


class LargeDatagram(Evidence, frozen=True, kw_only=True):
    """A STUN request padded to the size calls send, Don't Fragment, to a port that answered a
    small one (probe_large)."""

    port: int
    size: int
    answered: bool
    attempts: int
    rtt_ms: float | None
    error: str | None
    dont_fragment: bool


async def probe_large(address: str, port: int, timeout_s: float, local: Local | None = None,
                      size: int = LARGE_DATAGRAM) -> LargeDatagram:
    """A STUN Binding request padded to `size` bytes (a SOFTWARE attribute), Don't Fragment,
    sent up to LARGE_ATTEMPTS times within `timeout_s`, to a port that answered a small one."""
    try:
        sock = await StunSocket.open(remote=(address, port), local=local)
    except OSError as exc:
        return LargeDatagram(port=port, size=size, answered=False, attempts=0, rtt_ms=None,
                             error=os_error_text(exc), dont_fragment=False)
    attempts, rtt_ms, error = 0, None, None
    try:
        raw = sock.transport.get_extra_info("socket") if sock.transport is not None else None
        dont_fragment = raw is not None and _dont_fragment(raw)
        request = binding_request()
        empty = len(bytes(request))
        request.attributes["SOFTWARE"] = "trtcdetect " + "." * max(0, size - empty - 4 - 11)
        answer = sock.reply(request.transaction_id)
        wait = timeout_s / LARGE_ATTEMPTS
        for _ in range(LARGE_ATTEMPTS):
            sock.send_stun(request, None)
            attempts += 1
            sent_at = sock.sent[request.transaction_id]
            done, _ = await asyncio.wait((answer, sock.icmp), timeout=wait,
                                         return_when=asyncio.FIRST_COMPLETED)
            if answer.done():
                rtt_ms = round(max(answer.result().at - sent_at, 0.0) * 1000, 2)
                break
            if sock.icmp.done():  # EMSGSIZE from this computer, or an ICMP error on the way
                error = os_error_text(sock.icmp.result())
                break
    finally:
        sock.close()
    return LargeDatagram(port=port, size=len(bytes(request)), answered=rtt_ms is not None,
                         attempts=attempts, rtt_ms=rtt_ms, error=error,
                         dont_fragment=dont_fragment)
