"""The four-step HTTPS chain: DNS -> TCP -> TLS -> HTTPS GET, each step timed, on one connection.

The steps run in order on one resolved address and one connection, so the times add up to what
a browser spends before its first response: the TLS handshake runs on the TCP connection the TCP
step opened, and the GET goes over that TLS session (h11, the HTTP/1.1 engine httpx itself uses;
httpx cannot be handed a connection that is already open). Anything not part of the network's
time — building the TLS context, loading the trust store — happens before the timers start.
The first failing step ends the chain; later steps are not run (`ok` None).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import h11
from cryptography import x509

from ..config import Config
from ..evidence import UNSET, Evidence, JsonObject, UnsetType, read
from ..failures import Failure, Kind, each, said
from ..load import lag_during
from ..text.ids import R
from .bind import family_of, open_socket, tcp_connect
from .errors import ResolveError, os_error_text
from .isolated import in_own_loop
from .resolve import Resolution, discover_nat64, embedded_ipv4, resolve
from .timing import tcp_rtt_ms

STEPS = ("dns", "tcp", "tls", "https")
#: the remedy that goes with a failed step (any other step: allow the domain through)
STEP_CAUSE = {"dns": R.DNS_FAILURE, "tls": R.TLS_UNTRUSTED}
#: Bytes read from the server per call while waiting for the response headers
_READ_SIZE = 16384


class Nat64(Evidence, frozen=True, kw_only=True):
    """The NAT64 prefix this network's DNS64 gives ipv4only.arpa (RFC 7050), and the IPv4
    addresses the name's AAAA records carry under it."""

    prefix: str
    ipv4: tuple[str, ...]


class Found(TypedDict, total=False):
    """What a step found while it ran, key by key as each step learns it: the fields StepSeen
    has beyond name, ok, ms and error (a test holds the two to the same names and types)."""

    kind: str
    source: str
    a: tuple[str, ...]
    aaaa: tuple[str, ...]
    nat64: Nat64
    address: str
    port: int
    timing: str
    verified: bool
    version: str | None
    subject: str
    issuer: str
    not_after: str
    days_left: float
    dns_names: tuple[str, ...]
    status_code: int
    http_version: str
    server: str | None
    proxy: str
    connect_status: str | None
    loop_lag_ms: float
    host: str


@dataclass
class Step:
    name: str
    ok: bool | None = None  # None: not run, because an earlier step failed
    ms: float | None = None
    error: Failure | None = None
    info: Found = field(default_factory=lambda: Found())

    def as_dict(self) -> JsonObject:
        return {
            "name": self.name, "ok": self.ok,
            "ms": None if self.ms is None else round(self.ms, 2),
            "error": self.error, **self.info,
        }

    def seen(self) -> StepSeen:
        """The step as typed evidence; every key a step records is a field of StepSeen (a key
        it lacks is a mistake here, not a key to lose from the report)."""
        unknown = set(self.info) - set(StepSeen.__struct_fields__)
        if unknown:
            raise ValueError(f"step {self.name}: no StepSeen field for {sorted(unknown)}")
        return read(StepSeen, self.as_dict(), f"step {self.name}")




class StepSeen(Evidence, frozen=True, kw_only=True):
    """One step of reaching a host (dns, tcp, tls, https; through a proxy: proxy, tls, https):
    whether it worked (None: not run, an earlier step failed), its time, what went wrong, and
    what it found. Each step fills only its own fields."""

    name: str
    ok: bool | None
    ms: float | None
    error: Failure | None
    #: dns: how the lookup failed (net.errors.ResolveError.kind), and which DNS server said so
    kind: str | UnsetType = UNSET
    #: dns: "dns" or "--resolve"; the addresses found
    source: str | UnsetType = UNSET
    a: tuple[str, ...] | UnsetType = UNSET
    aaaa: tuple[str, ...] | UnsetType = UNSET
    nat64: Nat64 | UnsetType = UNSET
    #: tcp: the address and port that answered, and how the time was taken (kernel or wall)
    address: str | UnsetType = UNSET
    port: int | UnsetType = UNSET
    timing: str | UnsetType = UNSET
    #: tls: the certificate (also when it was not trusted: fetched without verification)
    verified: bool | UnsetType = UNSET
    version: str | None | UnsetType = UNSET
    subject: str | UnsetType = UNSET
    issuer: str | UnsetType = UNSET
    not_after: str | UnsetType = UNSET
    days_left: float | UnsetType = UNSET
    dns_names: tuple[str, ...] | UnsetType = UNSET
    #: https: the response; `server`: its Server header (dns: the DNS server that failed)
    status_code: int | UnsetType = UNSET
    http_version: str | UnsetType = UNSET
    server: str | None | UnsetType = UNSET
    #: proxy: the proxy and the status line its CONNECT got
    proxy: str | UnsetType = UNSET
    connect_status: str | None | UnsetType = UNSET
    #: how late the event loop was while the step was timed, ms (the figure may carry it)
    loop_lag_ms: float | UnsetType = UNSET
    #: the host the step was for, where it is not the probe's own (a redirect's; the diagnosis
    #: sets it on each host's steps)
    host: str | UnsetType = UNSET


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end = time.perf_counter()
        self.ms = (self.end - self.start) * 1000
        #: how late the event loop was at worst meanwhile: what this figure may carry
        self.lag_ms = lag_during(self.start, self.end)


#: A step's time is marked as possibly inflated when the loop was this late meanwhile, ms
LAG_NOTE_MS = 1.0


def _note_lag(step: Step, timer: Timer) -> None:
    """A failed DNS lookup is timed on the run's loop: say how late that loop was meanwhile.
    (A lookup that answered is timed in its own thread; TCP, TLS and HTTPS run on a loop of
    their own, see check(): the run's lag touches neither.)"""
    if timer.lag_ms is not None and timer.lag_ms >= LAG_NOTE_MS:
        step.info["loop_lag_ms"] = timer.lag_ms


async def _dns(config: Config, host: str, port: int, step: Step) -> Resolution | None:
    """The lookup's own time: a name resolved once per run is shared by the probes that ask
    for it, so the wait here may be shorter (it started earlier) — the lookup's time is said."""
    failure: ResolveError | None = None
    with Timer() as t:
        try:
            resolution = await resolve(config, host, port)
        except ResolveError as exc:
            failure = exc
    if failure is not None:
        step.ok, step.error = False, failure.why
        step.info = {"kind": failure.kind, "server": failure.server}
        step.ms = failure.ms if failure.ms is not None else t.ms
        _note_lag(step, t)
        return None
    step.ok = True
    step.ms = resolution.ms if resolution.source == "dns" else t.ms  # timed in its thread
    step.info = {"source": resolution.source, "a": tuple(resolution.ipv4),
                 "aaaa": tuple(resolution.ipv6)}
    if resolution.source == "dns" and resolution.ipv6 and not resolution.ipv4:
        # IPv6 only: a DNS64's answer? (RFC 7050) -- the IPv4 servers behind its NAT64
        prefix = await discover_nat64(config)
        if prefix is not None:
            step.info["nat64"] = Nat64(prefix=prefix, ipv4=tuple(
                e for e in (embedded_ipv4(a, prefix) for a in resolution.ipv6) if e))
    return resolution


async def tcp(config: Config, addresses: tuple[str, ...], port: int,
               step: Step) -> socket.socket | None:
    """Connect to each address in turn (IPv4 first) until one answers."""
    errors = []
    loop = asyncio.get_running_loop()
    sock: socket.socket | None = None
    tried = 0
    with Timer() as t:
        for address in addresses:
            tried += 1
            try:  # from --source / --interface, when given
                candidate = open_socket(family_of(address), socket.SOCK_STREAM, config.network.local)
            except OSError as exc:
                errors.append(Failure.of(Kind.AT, where=address, cause=said(os_error_text(exc))))
                continue
            try:
                await asyncio.wait_for(loop.sock_connect(candidate, (address, port)),
                                       config.network.timeout_s)
            except TimeoutError:
                candidate.close()
                errors.append(Failure.of(Kind.AT, where=address, cause=Failure.of(
                    Kind.NO_ANSWER, seconds=config.network.timeout_s)))
                continue
            except OSError as exc:
                candidate.close()
                errors.append(Failure.of(Kind.AT, where=address, cause=said(os_error_text(exc))))
                continue
            step.info = {"address": address, "port": port}
            step.ok, sock = True, candidate
            break
        else:
            step.ok, step.error = False, each(errors) or Failure.of(Kind.NO_ADDRESS)
    step.ms = t.ms
    kernel_ms = tcp_rtt_ms(sock) if sock is not None and tried == 1 else None
    if kernel_ms is not None and kernel_ms <= t.ms:
        step.ms = kernel_ms  # the handshake as the kernel timed it: no loop wait in it
    step.info["timing"] = "kernel" if kernel_ms is not None else "wall"
    return sock


def certificate_info(der: bytes | None, found: Found) -> Found:
    """What the certificate `der` says, added to what its step `found`."""
    if not der:
        return found
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    days_left = (not_after - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    found.update(Found(subject=cert.subject.rfc4514_string(),
                       issuer=cert.issuer.rfc4514_string(), not_after=not_after.isoformat(),
                       days_left=round(days_left, 1), dns_names=tuple(names)))
    return found


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _tls(config: Config, context: ssl.SSLContext, host: str, address: str, port: int,
               sock: socket.socket, step: Step, fetch_unverified: bool = True) -> Stream | None:
    """Handshake with verification; on a verification failure fetch the certificate anyway
    (directly from `address`: not through a proxy's tunnel, whose certificate may differ)."""
    stream: Stream | None = None
    with Timer() as t:
        try:
            stream = await asyncio.open_connection(
                sock=sock, ssl=context, server_hostname=host,
                ssl_handshake_timeout=config.network.timeout_s,
            )
        except ssl.SSLCertVerificationError as exc:
            step.ok, step.error = False, Failure.of(Kind.UNTRUSTED, said=exc.verify_message)
            step.info = {"verified": False}
        except (TimeoutError, ssl.SSLError, OSError) as exc:
            step.ok = False
            step.error = Failure.of(Kind.HANDSHAKE_FAILED, said=exc) if str(exc) else \
                Failure.of(Kind.HANDSHAKE_TIMEOUT)
            step.info = {"verified": False}
        else:
            ssl_object = stream[1].get_extra_info("ssl_object")
            step.ok = True
            step.info = certificate_info(ssl_object.getpeercert(binary_form=True),
                                         Found(verified=True, version=ssl_object.version()))
    step.ms = t.ms
    if stream is None:
        sock.close()
        if fetch_unverified and step.error and step.error.kind is Kind.UNTRUSTED:
            step.info.update(await _unverified_certificate(config, host, address, port))
    return stream


async def _unverified_certificate(config: Config, host: str, address: str,
                                  port: int) -> Found:
    """The certificate a server presents, without trusting it: evidence for the report."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        sock = await asyncio.wait_for(tcp_connect(address, port, config.network.local),
                                      config.network.timeout_s)
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(sock=sock, ssl=ctx, server_hostname=host),
            config.network.timeout_s,
        )
    except (TimeoutError, OSError):
        return Found()
    ssl_object = writer.get_extra_info("ssl_object")
    info = certificate_info(ssl_object.getpeercert(binary_form=True),
                            Found(version=ssl_object.version()))
    writer.close()
    return info


async def _https(config: Config, host: str, stream: Stream, step: Step) -> None:
    """GET / over the TLS session the TLS step opened, up to the response headers and no
    further: a body that never ends must not hold the probe."""
    reader, writer = stream
    connection = h11.Connection(our_role=h11.CLIENT)
    request = h11.Request(method="GET", target="/", headers=[
        ("Host", host), ("User-Agent", "trtcdetect"), ("Accept", "*/*"),
        ("Connection", "close")])
    with Timer() as t:
        try:
            async with asyncio.timeout(config.network.timeout_s):
                writer.write(connection.send(request))
                writer.write(connection.send(h11.EndOfMessage()))
                await writer.drain()
                event: Any = h11.NEED_DATA
                while event is h11.NEED_DATA:
                    connection.receive_data(await reader.read(_READ_SIZE))
                    event = connection.next_event()
            if isinstance(event, h11.Response):
                headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                           for k, v in event.headers}
                step.ok = True
                step.info = {"status_code": event.status_code,
                             "http_version": f"HTTP/{event.http_version.decode()}",
                             "server": headers.get("server")}
            else:
                step.ok, step.error = False, Failure.of(Kind.CLOSED_SILENT)
        except TimeoutError:
            step.ok, step.error = False, Failure.of(Kind.NO_RESPONSE, seconds=config.network.timeout_s)
        except h11.RemoteProtocolError as exc:
            step.ok, step.error = False, Failure.of(Kind.NOT_HTTP, said=exc)
        except OSError as exc:
            step.ok, step.error = False, Failure.of(Kind.CONNECTION_LOST,
                                                    said=os_error_text(exc))
    step.ms = t.ms


async def check(config: Config, host: str, port: int) -> list[Step]:
    """The four steps against `host`:`port`; every step that ran has its time.

    DNS runs on this loop (one lookup per name per run, timed in its own thread); TCP, TLS and
    HTTPS run on an event loop of their own (net/isolated.py), so that the rest of the run
    (imports, a browser starting, the test call) cannot queue in front of their replies."""
    steps = {name: Step(name) for name in STEPS}
    resolution = await _dns(config, host, port, steps["dns"])
    if resolution is not None:
        await in_own_loop(lambda: _connect(config, host, port, resolution, steps))
    return list(steps.values())


async def _connect(config: Config, host: str, port: int, resolution: Resolution,
                   steps: dict[str, Step]) -> None:
    context = await config.network.tls_context()  # outside the timers: loading the trust store is not network
    sock = await tcp(config, resolution.addresses, port, steps["tcp"])
    if sock is None:
        return
    await tls_then_https(config, context, host, steps["tcp"].info["address"], port, sock,
                         steps)


async def tls_then_https(config: Config, context: ssl.SSLContext, host: str, address: str,
                         port: int, sock: socket.socket, steps: dict[str, Step],
                         fetch_unverified: bool = True) -> None:
    """The TLS and HTTPS steps on a connected socket -- straight to the host, or through a
    proxy's tunnel (net/proxy.py) -- and the session closed afterwards."""
    stream = await _tls(config, context, host, address, port, sock, steps["tls"],
                        fetch_unverified)
    if stream is None:
        return
    try:
        await _https(config, host, stream, steps["https"])
    finally:
        stream[1].close()
        try:
            await asyncio.wait_for(stream[1].wait_closed(), 1.0)
        except (OSError, TimeoutError, ssl.SSLError):
            pass


def first_failure(steps: list[Step] | tuple[Step, ...]) -> Step | None:
    """The step that ended the chain, if one did."""
    return next((s for s in steps if s.ok is False), None)


def step(steps: Sequence[Step], name: str) -> Step:
    """The step called `name` (dns, tcp, tls, https; proxy): by name, not by place."""
    found = next((s for s in steps if s.name == name), None)
    if found is None:
        raise KeyError(f"no {name} step")
    return found
