"""The one STUN client: a UDP socket that sends Binding requests (aioice's codec) and sorts what
comes back by transaction id.

Three users, one socket type: the ports probe (a *connected* socket, so ICMP errors reach it;
one request resent on its own adaptive timer), the nat probe (an unconnected socket asking many
servers; aioice's own `Transaction` does the retransmissions), and the quality trains (many
requests at a fixed rate, each answer timed).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import cast

from aioice import stun

from ..config import Local
from .bind import udp_endpoint
from .timing import enable_receive_stamps, received_at


@dataclass(frozen=True)
class Reply:
    """What came back for one transaction: the message (None: bytes that are not STUN), from
    where, and when (time.perf_counter())."""

    message: stun.Message | None
    addr: tuple[str, int]
    at: float
    size: int = 0


def binding_request() -> stun.Message:
    return stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)


def mapped_address(message: stun.Message) -> tuple[str, int] | None:
    """The address the server saw us at (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS)."""
    mapped = message.attributes.get("XOR-MAPPED-ADDRESS") or message.attributes.get(
        "MAPPED-ADDRESS")
    return (str(mapped[0]), int(mapped[1])) if mapped else None


class StunSocket(asyncio.DatagramProtocol):
    """A UDP socket that speaks STUN. Open it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport: asyncio.DatagramTransport | None = None
        self.connected = False
        #: last send time per transaction id (perf_counter)
        self.sent: dict[bytes, float] = {}
        #: the first reply per transaction id
        self.replies: dict[bytes, Reply] = {}
        self._waiting: dict[bytes, asyncio.Future[Reply]] = {}
        self._transactions: dict[bytes, stun.Transaction] = {}
        #: the first datagram that was not STUN (something answered, in another language)
        self.garbage: asyncio.Future[Reply] = loop.create_future()
        #: the first ICMP-born error (a connected socket only) and how many came
        self.icmp: asyncio.Future[OSError] = loop.create_future()
        self.errors = 0
        self.kernel_stamps = 0  # replies timed by the kernel's receive stamp

    @classmethod
    async def open(cls, remote: tuple[str, int] | None = None, local: Local | None = None,
                   family: int = 0) -> StunSocket:
        """A socket connected to `remote` (ICMP errors come back), or not; sent from `local`
        (--source, --interface)."""
        _, protocol = await udp_endpoint(cls, local, remote, family)
        protocol.connected = remote is not None
        return protocol  # type: ignore[no-any-return]

    # asyncio.DatagramProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            enable_receive_stamps(sock)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        # when the kernel got it, not when the loop got to it (see net/timing.py)
        now, stamped = time.perf_counter(), False
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is not None:
            now, stamped = received_at(sock, now)
        self.kernel_stamps += stamped
        try:
            message = stun.parse_message(data)
        except Exception:  # noqa: BLE001 - any garbage: something answered, but not STUN
            if not self.garbage.done():
                self.garbage.set_result(Reply(None, addr, now, len(data)))
            return
        tid = message.transaction_id
        if tid not in self.sent:
            return  # a stray or spoofed answer: not one of ours
        transaction = self._transactions.get(tid)
        if transaction is not None:
            transaction.response_received(message, addr)
        reply = self.replies.setdefault(tid, Reply(message, addr, now, len(data)))
        waiter = self._waiting.pop(tid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)

    def error_received(self, exc: Exception) -> None:
        self.errors += 1
        if isinstance(exc, OSError) and not self.icmp.done():
            self.icmp.set_result(exc)

    # aioice's TransactionSender
    def send_stun(self, message: stun.Message, addr: tuple[str, int] | None) -> None:
        assert self.transport is not None
        self.sent[message.transaction_id] = time.perf_counter()
        self.transport.sendto(bytes(message), None if self.connected else addr)

    def reply(self, tid: bytes) -> asyncio.Future[Reply]:
        """A future that gets the reply to `tid` (at once if it came already)."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if tid in self.replies:
            future.set_result(self.replies[tid])
        else:
            self._waiting[tid] = future
        return future

    async def transaction(self, addr: tuple[str, int], timeout_s: float,
                          retransmissions: int = 2) -> stun.Message | None:
        """One Binding transaction to `addr` with aioice's retransmission timer, bounded by
        `timeout_s`; the response, or None (no answer, or an error response)."""
        request = binding_request()
        self.sent[request.transaction_id] = time.perf_counter()
        transaction = stun.Transaction(request, addr, self, retransmissions=retransmissions)
        self._transactions[request.transaction_id] = transaction
        try:
            message, _ = await asyncio.wait_for(transaction.run(), timeout_s)
            return message
        except (TimeoutError, stun.TransactionError):
            return None
        finally:
            self._transactions.pop(request.transaction_id, None)

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        for waiter in self._waiting.values():
            waiter.cancel()
        self._waiting.clear()
        if self.transport is not None:
            self.transport.close()
