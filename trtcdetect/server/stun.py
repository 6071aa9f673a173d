"""A STUN Binding responder (RFC 5389), built on aioice's message codec. Junk is counted and ignored."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from aioice import stun

from ..net import capacitywire

if TYPE_CHECKING:
    from .capacity import CapacityServer
    from .limits import RateLimit, ThrottledLog
    from .mux import MediaMux

log = logging.getLogger("trtcdetect.serve")


class StunResponder(asyncio.DatagramProtocol):
    """Answers STUN Binding requests; on the media port, echo calls' datagrams go to `mux`."""

    def __init__(self, port: int, mux: MediaMux | None = None,
                 capacity: CapacityServer | None = None, rate: RateLimit | None = None,
                 junk_log: ThrottledLog | None = None) -> None:
        self.port = port
        self.mux = mux
        self.capacity = capacity
        #: answers per source address (limits.STUN_PER_ADDRESS_PPS): above it, silence
        self.rate = rate
        self.junk_log = junk_log
        self.transport: asyncio.DatagramTransport | None = None
        self.answered = 0
        self.ignored = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        if self.mux is not None:
            self.mux.transport = self.transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        kind = capacitywire.kind(data) if self.capacity is not None else None
        if self.capacity is not None and kind is not None:
            assert self.transport is not None
            if kind == capacitywire.HELLO and self.rate is not None \
                    and not self.rate.allow(addr[0]):
                return  # a WELCOME goes to an address not yet proved: the same budget as STUN
            self.capacity.handle(data, addr, self.transport,
                                 self.transport.get_extra_info("socket"))
            return
        try:
            request = stun.parse_message(data)
        except Exception:  # noqa: BLE001 - junk of any shape must not stop the server
            request = None
        if self.mux is not None and self.mux.handle(data, addr, request):
            return
        if (
            request is None
            or request.message_method != stun.Method.BINDING
            or request.message_class != stun.Class.REQUEST
        ):
            self.ignored += 1
            if self.junk_log is not None:  # one line an interval, not one per datagram
                self.junk_log.info(f"junk:{self.port}", "udp/%d %s:%d ignored %d bytes (not a "
                                   "STUN Binding request)", self.port, addr[0], addr[1], len(data))
            return
        if self.rate is not None and not self.rate.allow(addr[0]):
            return
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        # only what a client needs (RFC 8489 permits a response with XOR-MAPPED-ADDRESS alone;
        # FINGERPRINT tells it from other protocols on the port): 40 bytes for IPv4, 52 for IPv6,
        # at most 1.5 times the 20-byte request at IP level, so a forged source is no amplifier
        response.attributes["XOR-MAPPED-ADDRESS"] = (addr[0], addr[1])
        response.add_fingerprint()
        assert self.transport is not None
        self.transport.sendto(bytes(response), addr)
        self.answered += 1
        log.info("udp/%d %s:%d STUN Binding answered", self.port, addr[0], addr[1])

    def error_received(self, exc: Exception) -> None:
        log.debug("udp/%d error: %s", self.port, exc)
