"""Fair shares for a server strangers reach: counts per client address, per /24 or /64 and in
all; a rate per address for what is sent to addresses that proved nothing; connections that must
say something within a deadline and may not live for ever; logs that say "N more" once an
interval instead of a line per event. Each bound is a named constant with its reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

#: a request's headers must be complete this long after the connection opened or the last
#: request ended, s (a slowloris sends one byte every few seconds for ever)
HEADER_DEADLINE_S = 10.0
#: no connection lives longer, s: signalling is one request, a report poll a few
CONNECTION_MAX_S = 60.0
#: idle keep-alive connections are closed after this, s (aiohttp's default is 75)
KEEPALIVE_S = 10.0
#: open connections per client address, and in all, on one listener: an office behind one NAT
#: or proxy is one address, so its share is a generous one
CONNECTIONS_PER_ADDRESS = 64
CONNECTIONS_TOTAL = 1024
#: echo calls one client address (and one /24 or /64) may hold at once
CALLS_PER_ADDRESS = 2
#: check-page uploads one client address may make in 10 minutes (serve
#: --check-uploads-per-address): an office behind one NAT address is many users
UPLOADS_PER_ADDRESS = 10
#: STUN answers per second per source address (a burst of twice that), and in all: a port
#: check sends a few, --port-quality 100 a second on each of six ports; what is above is
#: dropped, not queued
STUN_PER_ADDRESS_PPS = 1000.0
STUN_TOTAL_PPS = 20000.0
#: addresses remembered by a rate limiter (least recently seen forgotten first), and for how
#: long after their last packet, s (a full bucket again by then: forgetting changes nothing)
RATE_KEYS = 4096
RATE_KEEP_S = 60.0
#: a throttled log says one line per key this often at most, s
LOG_INTERVAL_S = 10.0


def prefix(address: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) an address is in: one household's or office's share."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False))


class Shares:
    """Counts of what each client holds (calls, connections), per address, per prefix and in
    all; `take` says no when any of the three is full."""

    def __init__(self, per_address: int, per_prefix: int, total: int) -> None:
        self.per_address, self.per_prefix, self.total = per_address, per_prefix, total
        self._address: dict[str, int] = {}
        self._prefix: dict[str, int] = {}
        self.held = 0

    def full(self, address: str) -> str | None:
        """Why `address` may not take one more, in a caller's terms; None when it may."""
        if self.held >= self.total:
            return f"all {self.total} are in use"
        if self._address.get(address, 0) >= self.per_address:
            return f"this address already holds {self.per_address}"
        if self._prefix.get(prefix(address), 0) >= self.per_prefix:
            return f"its network ({prefix(address)}) already holds {self.per_prefix}"
        return None

    def take(self, address: str) -> bool:
        if self.full(address) is not None:
            return False
        self._address[address] = self._address.get(address, 0) + 1
        near = prefix(address)
        self._prefix[near] = self._prefix.get(near, 0) + 1
        self.held += 1
        return True

    def give(self, address: str) -> None:
        for table, key in ((self._address, address), (self._prefix, prefix(address))):
            left = table.get(key, 0) - 1
            if left > 0:
                table[key] = left
            else:
                table.pop(key, None)
        self.held = max(self.held - 1, 0)


class RateLimit:
    """Token buckets per key (rate per second, a burst of twice that) and one for all keys;
    the RATE_KEYS most recently seen keys are kept."""

    def __init__(self, per_key: float, total: float, keys: int = RATE_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_key, self.total, self.keys, self.clock = per_key, total, keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._all = (2 * total, clock())
        self.dropped = 0

    def _refill(self, bucket: tuple[float, float], rate: float, now: float) -> float:
        tokens, then = bucket
        return min(2 * rate, tokens + (now - then) * rate)

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens = self._refill(self._buckets.pop(key, (2 * self.per_key, now)), self.per_key, now)
        everyone = self._refill(self._all, self.total, now)
        ok = tokens >= 1 and everyone >= 1
        if ok:
            tokens, everyone = tokens - 1, everyone - 1
        else:
            self.dropped += 1
        self._buckets[key] = (tokens, now)
        self._all = (everyone, now)
        while len(self._buckets) > self.keys:
            self._buckets.popitem(last=False)
        return ok

    def sweep(self) -> None:
        """Forget keys not seen for RATE_KEEP_S (serve calls this on a timer)."""
        now = self.clock()
        while self._buckets and now - next(iter(self._buckets.values()))[1] > RATE_KEEP_S:
            self._buckets.popitem(last=False)


class ThrottledLog:
    """One line per key per LOG_INTERVAL_S at most; the next line says how many were held back."""

    def __init__(self, log: logging.Logger, interval_s: float = LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic, level: int = logging.INFO) -> None:
        self.log, self.interval_s, self.clock, self.level = log, interval_s, clock, level
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def info(self, key: str, message: str, *args: Any) -> None:
        now = self.clock()
        if now - self._last.get(key, -self.interval_s) < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return
        if len(self._last) > RATE_KEYS:
            self._last.clear()
            self._held.clear()
        self._last[key] = now
        held = self._held.pop(key, 0)
        self.log.log(self.level, message + (f" (and {held} more like it)" if held else ""), *args)


def raise_fd_limit() -> tuple[int, int]:
    """The soft limit on open files raised to the hard one (a server of many connections needs
    more than a shell's 1024); returns (soft, hard) as they are now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


class GuardedConnection(asyncio.Protocol):
    """An HTTP connection's protocol (aiohttp's) behind a guard. It is counted from the moment
    TCP accepts it: refused at once when its address or the listener holds too many
    (`shares`), before any TLS handshake; TLS (`tls`) is started only after that; it is closed
    when a request's headers are not complete HEADER_DEADLINE_S after it opened or after the
    last request's headers, or when it has lived CONNECTION_MAX_S."""

    def __init__(self, inner: asyncio.Protocol, shares: Shares, log: ThrottledLog,
                 tls: ssl.SSLContext | None = None, handshake_s: float = 5.0) -> None:
        self.inner, self.shares, self.log = inner, shares, log
        self.tls, self.handshake_s = tls, handshake_s
        self.transport: asyncio.BaseTransport | None = None
        self.address = ""
        self.counted = False
        self.started = False  # the inner protocol has its transport
        #: what TLS decrypted before start_tls returned (a request sent with the handshake's
        #: last flight arrives before the awaiting coroutine resumes), handed over at start
        self._early: list[bytes] = []
        self._early_eof = False
        self._waiting_since: float | None = None  # headers not complete since
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None
        self._opened = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else ""
        why = self.shares.full(self.address)
        if why is not None:
            self.log.info(f"full:{self.address}", "connection from %s refused: %s",
                          self.address, why)
            transport.close()
            return
        self.shares.take(self.address)
        self.counted = True
        self._opened = self._waiting_since = time.monotonic()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(1.0, self._check)
        if self.tls is None:
            self._start(transport)
            return
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # nothing reaches us before TLS has the transport
        loop.create_task(self._start_tls(transport))

    async def _start_tls(self, transport: asyncio.Transport) -> None:
        assert self.tls is not None
        try:
            secured = await asyncio.get_running_loop().start_tls(
                transport, self, self.tls, server_side=True,
                ssl_handshake_timeout=self.handshake_s)
        except Exception:  # noqa: BLE001 - a handshake that fails in any way ends the connection
            transport.close()
            self.connection_lost(None)
            return
        if secured is None:  # closed meanwhile
            self.connection_lost(None)
            return
        self.transport = secured
        self._start(secured)

    def _start(self, transport: asyncio.BaseTransport) -> None:
        self.started = True
        self.inner.connection_made(transport)
        early, self._early = self._early, []
        for data in early:
            self.inner.data_received(data)
        if self._early_eof:
            self.inner.eof_received()

    def _check(self) -> None:
        now = time.monotonic()
        late = self._waiting_since is not None and now - self._waiting_since > HEADER_DEADLINE_S
        if late or now - self._opened > CONNECTION_MAX_S:
            self.log.info(f"cut:{self.address}", "connection from %s closed: %s", self.address,
                          "no complete request in time" if late else "open too long")
            if self.transport is not None:
                self.transport.close()
            return
        self._timer = asyncio.get_running_loop().call_later(1.0, self._check)

    def data_received(self, data: bytes) -> None:
        seen = self._tail + data
        if self._waiting_since is None:
            self._waiting_since = time.monotonic()  # a new request has begun
        if b"\r\n\r\n" in seen:
            # the request's headers are complete; a body, and the next request, start afresh
            self._waiting_since = None
            seen = seen.rsplit(b"\r\n\r\n", 1)[1]
        self._tail = seen[-3:]
        if self.started:
            self.inner.data_received(data)
        elif len(self._early) < 64:
            self._early.append(data)

    def eof_received(self) -> bool | None:
        if self.started:
            return self.inner.eof_received()
        self._early_eof = True
        return True  # keep the transport open until the inner protocol has seen the data

    def pause_writing(self) -> None:
        if self.started:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.started:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.counted:
            self.shares.give(self.address)
            self.counted = False
            if self.started:
                self.inner.connection_lost(exc)


def guarded(factory: Callable[[], asyncio.Protocol], shares: Shares, log: ThrottledLog,
            tls: ssl.SSLContext | None = None,
            handshake_s: float = 5.0) -> Callable[[], asyncio.Protocol]:
    """A protocol factory whose connections are guarded (GuardedConnection), over TLS when
    `tls` is given."""
    return lambda: GuardedConnection(factory(), shares, log, tls, handshake_s)
