"""The capacity test's datagrams, between `trtcdetect` and `trtcdetect serve` on a UDP port.

Not STUN and not RTP: a train of numbered, time-stamped datagrams of a chosen size, sent at a
chosen rate, and the few control messages around it. Every datagram starts with MAGIC, which no
STUN message (first two bits zero, cookie at offset 4) or RTP/RTCP/DTLS packet (RFC 7983's first
byte ranges) can begin with, so the reference endpoint tells them apart by their first bytes.

    HELLO   client -> server  nonce                       "do you do capacity tests?"
    WELCOME server -> client  nonce, cookie, max kbit/s   the cookie proves the client's address
    UP      client -> server  cookie, session, step, seq, sent_ns, padding
    REPORT  client -> server  cookie, session, step, nonce   "what did you get of step N?"
    TALLY   server -> client  nonce, JSON (count, arrival rate, one-way delay offsets)
    DOWN    client -> server  cookie, session, step, kbit/s, size, duration
    DATA    server -> client  session, step, seq, total, sent_ns, token, padding
    ECHO    client -> server  cookie, session, step, token  "I got that train"

The cookie (when it was made, and an HMAC of that time and the client's address and port under
the server's secret) is what makes a DOWN request unusable for reflection: the server sends a
train only to an address that received its WELCOME in the last COOKIE_MAX_AGE_S, and only a few
per cookie, and the next train only once the client has echoed the token the last one carried
(MAX_UNECHOED trains may go without: the first, and a step asked for again because nothing of it
came), so a cookie stolen by someone who cannot see the trains buys them one train, not a
ramp. A HELLO is padded to HELLO_BYTES, at least a WELCOME's size, so that answering one
from a forged source sends its victim no more than the forger sent.
Timestamps are each side's CLOCK_MONOTONIC in ns: one-way delays are meaningful
only relative to their minimum (the two clocks' offset cancels), which is how they are used.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..evidence import JsonObject

MAGIC = b"\xfftdcap1"
HELLO, WELCOME, UP, REPORT, TALLY, DOWN, DATA, ECHO = (b"H", b"W", b"U", b"R", b"T", b"D", b"d",
                                                        b"E")
COOKIE_BYTES = 16
#: a cookie proves its address this long after it was made, s (then: a new HELLO)
COOKIE_MAX_AGE_S = 30
#: a HELLO's size on the wire, bytes: no smaller than the WELCOME it asks for (36)
HELLO_BYTES = 40
#: IPv4 + UDP headers: the train's figures are IP-level bits, as a link carries them
IP_UDP_OVERHEAD = 28

_UP = struct.Struct("!16s8sHIQ")  # cookie, session, step, seq, sent_ns
_DOWN = struct.Struct("!16s8sHIHH")  # cookie, session, step, kbit/s, size, duration_ms
_DATA = struct.Struct("!8sHIIQ8s")  # session, step, seq, total, sent_ns, token
_ECHO = struct.Struct("!16s8sH8s")  # cookie, session, step, token
#: trains a cookie may start with no echo of the last one's token
MAX_UNECHOED = 2
_REPORT = struct.Struct("!16s8sH8s")  # cookie, session, step, nonce
HEADER = len(MAGIC) + 1
#: a paced sender wakes this often and sends what is due (asyncio's timers are ~1 ms)
TICK_S = 0.002


def kind(datagram: bytes) -> bytes | None:
    """The message type of a capacity datagram, or None for anything else."""
    if len(datagram) > HEADER and datagram.startswith(MAGIC):
        return datagram[len(MAGIC):HEADER]
    return None


def cookie(secret: bytes, address: tuple[str, int], made_s: int) -> bytes:
    """When it was made (the server's clock, whole seconds), then an HMAC of that and the
    address under the server's secret."""
    stamp = struct.pack("!I", made_s & 0xFFFFFFFF)
    mac = hmac.new(secret, stamp + f"|{address[0]}|{address[1]}".encode(), hashlib.sha256)
    return stamp + mac.digest()[:COOKIE_BYTES - 4]


def cookie_valid(secret: bytes, address: tuple[str, int], given: bytes, now_s: int) -> bool:
    """Made by this server for this address, and no older than COOKIE_MAX_AGE_S."""
    if len(given) != COOKIE_BYTES:
        return False
    made = struct.unpack("!I", given[:4])[0]
    if not 0 <= (now_s - made) & 0xFFFFFFFF <= COOKIE_MAX_AGE_S:
        return False
    return hmac.compare_digest(given, cookie(secret, address, made))


def hello(nonce: bytes) -> bytes:
    return _padded(MAGIC + HELLO + nonce, HELLO_BYTES)


def welcome(nonce: bytes, cookie_: bytes, max_kbps: int) -> bytes:
    return MAGIC + WELCOME + nonce + cookie_ + struct.pack("!I", max_kbps)


def read_welcome(datagram: bytes) -> tuple[bytes, bytes, int]:
    body = datagram[HEADER:]
    return body[:8], body[8:8 + COOKIE_BYTES], struct.unpack("!I", body[24:28])[0]


def _padded(head: bytes, size: int) -> bytes:
    return head + bytes(max(size - len(head), 0))


@dataclass(frozen=True)
class Stamped:
    """An UP or DATA datagram's numbers."""

    session: bytes
    step: int
    seq: int
    sent_ns: int
    total: int = 0
    cookie: bytes = b""
    token: bytes = b""


def up(cookie_: bytes, session: bytes, step: int, seq: int, sent_ns: int, size: int) -> bytes:
    return _padded(MAGIC + UP + _UP.pack(cookie_, session, step, seq, sent_ns), size)


def read_up(datagram: bytes) -> Stamped:
    cookie_, session, step, seq, sent_ns = _UP.unpack_from(datagram, HEADER)
    return Stamped(session, step, seq, sent_ns, cookie=cookie_)


def data(session: bytes, step: int, seq: int, total: int, sent_ns: int, size: int,
         token: bytes = bytes(8)) -> bytes:
    return _padded(MAGIC + DATA + _DATA.pack(session, step, seq, total, sent_ns, token), size)


def read_data(datagram: bytes) -> Stamped:
    session, step, seq, total, sent_ns, token = _DATA.unpack_from(datagram, HEADER)
    return Stamped(session, step, seq, sent_ns, total, token=token)


def echo(cookie_: bytes, session: bytes, step: int, token: bytes) -> bytes:
    return MAGIC + ECHO + _ECHO.pack(cookie_, session, step, token)


def read_echo(datagram: bytes) -> tuple[bytes, bytes, int, bytes]:
    cookie_, session, step, token = _ECHO.unpack_from(datagram, HEADER)
    return cookie_, session, step, token


@dataclass(frozen=True)
class DownRequest:
    cookie: bytes
    session: bytes
    step: int
    kbps: int
    size: int
    duration_ms: int


def down(request: DownRequest) -> bytes:
    return MAGIC + DOWN + _DOWN.pack(request.cookie, request.session, request.step, request.kbps,
                                     request.size, request.duration_ms)


def read_down(datagram: bytes) -> DownRequest:
    return DownRequest(*_DOWN.unpack_from(datagram, HEADER))


def report(cookie_: bytes, session: bytes, step: int, nonce: bytes) -> bytes:
    return MAGIC + REPORT + _REPORT.pack(cookie_, session, step, nonce)


def read_report(datagram: bytes) -> tuple[bytes, bytes, int, bytes]:
    cookie_, session, step, nonce = _REPORT.unpack_from(datagram, HEADER)
    return cookie_, session, step, nonce


def tally(nonce: bytes, figures: JsonObject) -> bytes:
    return MAGIC + TALLY + nonce + json.dumps(figures, separators=(",", ":")).encode()


def read_tally(datagram: bytes) -> tuple[bytes, JsonObject]:
    body = datagram[HEADER:]
    return body[:8], json.loads(body[8:].decode())


#: each message type's fixed part after the header, bytes
_NEED = {HELLO: HELLO_BYTES - 8, UP: _UP.size, REPORT: _REPORT.size, DOWN: _DOWN.size,
         DATA: _DATA.size, ECHO: _ECHO.size,
         WELCOME: 28, TALLY: 9}


def sizes_ok(datagram: bytes) -> bool:
    """Long enough for its type's fixed part (a short one is junk, not a crash)."""
    message = kind(datagram)
    return message is not None and len(datagram) - HEADER >= _NEED.get(message, 1 << 30)


async def send_paced(total: int, kbps: float, size: int, send: Callable[[int], object]) -> float:
    """Call send(seq) for seq 0..total-1 at `kbps` (IP-level bits of `size`-byte payloads):
    every TICK_S, whatever is due. Returns how long the sending took, s."""
    gap = (size + IP_UDP_OVERHEAD) * 8 / (kbps * 1000)
    start = time.perf_counter()
    seq = 0
    while seq < total:
        due = min(int((time.perf_counter() - start) / gap) + 1, total)
        while seq < due:
            try:
                send(seq)
            except OSError:
                pass  # a full socket buffer or an ICMP error: the datagram is lost, as on a link
            seq += 1
        if seq < total:
            await asyncio.sleep(max(min(TICK_S, start + seq * gap - time.perf_counter()), 0))
    return time.perf_counter() - start
