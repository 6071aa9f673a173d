"""Name resolution that honours --resolve pins, once per name per run, with the failure named.

Addresses come from the system resolver (getaddrinfo: what applications use, with /etc/hosts
and nsswitch). Its errors are coarse — glibc says "temporary failure" for a silent server, a
REFUSED answer and a server it has no route to alike — so when it fails, the DNS servers of
/etc/resolv.conf are asked directly (dnspython) and the failure is classified: no route to the
server, blocked on this computer, no answer, SERVFAIL, REFUSED, NXDOMAIN, or no address
records (NODATA).

getaddrinfo runs in a daemon thread, not the event loop's executor: a lookup that hangs (UDP 53
dropped: glibc waits 5 s per try) must not keep the process from ending once the run is done.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..failures import Failure, Kind, said
from ..offloop import in_thread
from .bind import family_allows
from .dnsexplain import explain
from .errors import ResolveError

#: Asking the DNS servers directly, after getaddrinfo failed, takes at most this long, s.
EXPLAIN_S = 1.0
#: A getaddrinfo still waiting after this long is explained in parallel (a silent server:
#: getaddrinfo then fails at the timeout, and the explanation is ready with it), s.
EXPLAIN_AFTER_S = 0.5

#: The kinds of DNS failure, each with the party that can fix it
KINDS = ("no-route", "blocked-here", "timeout", "servfail", "refused", "nxdomain", "nodata",
         "failed")


@dataclass(frozen=True)
class Resolution:
    addresses: tuple[str, ...]  # IPv4 first, in resolver order within a family
    ms: float
    source: str  # "literal", "pinned" or "dns"

    @property
    def ipv4(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ipaddress.ip_address(a).version == 4)

    @property
    def ipv6(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ipaddress.ip_address(a).version == 6)


class _RunCache:
    """One lookup per name per run: probes that ask for the same name share its answer (and
    its failure), and a name whose server is silent costs one timeout, not one per probe."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lookups: dict[tuple[str, float], asyncio.Future[Resolution]] = {}

    def get(self, key: tuple[str, float]) -> asyncio.Future[Resolution] | None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # a new run (each run has its own loop)
            self.loop, self.lookups = loop, {}
        return self.lookups.get(key)


_CACHE = _RunCache()


def new_run() -> None:
    """Forget the lookups of an earlier run in this loop (the runner calls this)."""
    _CACHE.loop, _CACHE.lookups = None, {}


async def resolve(config: Config, host: str, port: int = 0) -> Resolution:
    """Addresses of `host` via an IP literal, a --resolve pin, or the system resolver; with
    -4 or -6 (config.network.family) only that family's, and none of it is an error that says so."""
    found = await _resolve(config, host)
    if config.network.family is None:
        return found
    kept = tuple(a for a in found.addresses if family_allows(config.network.family, a))
    if not kept:
        raise ResolveError(Failure.of(Kind.NO_FAMILY, host=host, family=config.network.family,
                                      addresses=", ".join(found.addresses)), "nodata")
    return Resolution(kept, found.ms, found.source)


async def _resolve(config: Config, host: str) -> Resolution:
    try:
        ipaddress.ip_address(host)
        return Resolution((host,), 0.0, "literal")
    except ValueError:
        pass
    pinned = config.network.resolve.get(host.lower())
    if pinned:
        return Resolution(_ipv4_first(pinned), 0.0, "pinned")
    key = (host.lower(), config.network.timeout_s)
    known = _CACHE.get(key)
    if known is None:
        known = asyncio.ensure_future(_lookup(host, config.network.timeout_s))
        known.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: quiet
        _CACHE.lookups[key] = known
    return await asyncio.shield(known)


async def _lookup(host: str, timeout_s: float) -> Resolution:
    start = time.perf_counter()
    try:
        return await _timed_lookup(host, timeout_s, start)
    except ResolveError as exc:
        exc.ms = (time.perf_counter() - start) * 1000
        raise


async def _timed_lookup(host: str, timeout_s: float, start: float) -> Resolution:
    lookup = _getaddrinfo(host)
    # A lookup still running after EXPLAIN_AFTER_S is asked about in parallel, so that a
    # silent server is explained within the same timeout, not after it.
    done, _ = await asyncio.wait({lookup}, timeout=min(EXPLAIN_AFTER_S, timeout_s))
    explaining = None
    if not done:
        remaining = max(timeout_s - (time.perf_counter() - start), 0.05)
        explaining = asyncio.ensure_future(explain(host, remaining))
        explaining.add_done_callback(lambda f: f.cancelled() or f.exception())
        done, _ = await asyncio.wait({lookup}, timeout=remaining)
    try:
        if not done:
            failure = ResolveError(Failure.of(Kind.DNS_TIMEOUT, seconds=timeout_s), "timeout")
            raise await _explained(host, failure, explaining) from None
        try:
            infos, took = lookup.result()
        except socket.gaierror as exc:
            raise await _explained(host, ResolveError(*_gai_message(exc)), explaining) from None
    finally:
        if explaining is not None and not explaining.done():
            explaining.cancel()
    addresses: list[str] = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    if not addresses:
        raise ResolveError(Failure.of(Kind.NO_ADDRESS_RECORD), "nodata")
    return Resolution(_ipv4_first(addresses), round(took, 3), "dns")


def _getaddrinfo(host: str) -> asyncio.Future[tuple[list[Any], float]]:
    """getaddrinfo in a daemon thread (offloop): its addresses, and how long it took, timed in
    that thread (a busy event loop does not add to it), ms."""
    def work() -> tuple[list[Any], float]:
        start = time.perf_counter()
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
        return infos, (time.perf_counter() - start) * 1000

    return asyncio.ensure_future(in_thread(work, name="trtcdetect-dns"))


async def _explained(host: str, failure: ResolveError,
                     explaining: asyncio.Future[ResolveError | None] | None = None
                     ) -> ResolveError:
    """`failure`, classified by asking the configured DNS servers directly (`explaining`: that
    question, already under way); unchanged when they cannot tell more (no resolv.conf,
    dnspython missing, a server that answers fine)."""
    try:
        async with asyncio.timeout(EXPLAIN_S + 0.2):
            found = await (explaining if explaining is not None else explain(host, EXPLAIN_S))
    except TimeoutError:
        found = None
    except Exception:  # noqa: BLE001 - an explanation that fails leaves the failure as it was
        found = None
    if found is None:
        return failure
    if found.kind == "timeout" and failure.kind == "timeout":
        return ResolveError(Failure.of(Kind.DNS_TIMEOUT_SERVER, seconds=failure.why.get("seconds"),
                                       server=found.server),
                            "timeout", found.server)
    return found


def _ipv4_first(addresses: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(addresses, key=lambda a: ipaddress.ip_address(a).version))


def _gai_message(exc: socket.gaierror) -> tuple[Failure, str]:
    """getaddrinfo's error as a failure, and its kind (as far as glibc's codes tell)."""
    names = {
        socket.EAI_NONAME: (Kind.NXDOMAIN, "nxdomain"),
        socket.EAI_AGAIN: (Kind.DNS_AGAIN, "failed"),
        socket.EAI_FAIL: (Kind.GAI_FAIL, "servfail"),
    }
    nodata = getattr(socket, "EAI_NODATA", None)
    if nodata is not None:
        names[nodata] = (Kind.NODATA, "nodata")
    code = exc.errno if exc.errno is not None else 0
    if code in names:
        kind, dns_kind = names[code]
        return Failure.of(kind), dns_kind
    return said(exc.strerror or str(exc)), "failed"


#: RFC 7050: the name only a DNS64 answers with AAAA records, and the IPv4 addresses (RFC 7335's
#: 192.0.0.170/171) its synthesized AAAA records embed
IPV4ONLY = "ipv4only.arpa"
_WELL_KNOWN_IPV4 = (ipaddress.IPv4Address("192.0.0.170"), ipaddress.IPv4Address("192.0.0.171"))


def nat64_prefix(synthesized: tuple[str, ...]) -> str | None:
    """The NAT64 prefix ("64:ff9b::/96") from ipv4only.arpa's AAAA records: the /96 before an
    embedded 192.0.0.170 or .171 (RFC 7050 section 3; the /96 form, the one DNS64s use). Pure."""
    for address in synthesized:
        try:
            ip = ipaddress.IPv6Address(address)
        except ValueError:
            continue
        if ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) in _WELL_KNOWN_IPV4:
            return str(ipaddress.IPv6Network((int(ip) & ~0xFFFFFFFF, 96)))
    return None


def embedded_ipv4(address: str, prefix: str) -> str | None:
    """The IPv4 address a NAT64 address carries under `prefix` (a /96), else None. Pure."""
    try:
        ip, network = ipaddress.IPv6Address(address), ipaddress.IPv6Network(prefix)
    except ValueError:
        return None
    return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)) if ip in network else None


async def discover_nat64(config: Config) -> str | None:
    """This network's NAT64 prefix, asked of its DNS (RFC 7050: AAAA of ipv4only.arpa), or None
    (no DNS64, or the lookup failed). One lookup, cached for the run like every name."""
    try:
        found = await resolve(config, IPV4ONLY)
    except ResolveError:
        return None
    return nat64_prefix(found.ipv6)
