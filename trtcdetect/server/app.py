"""`trtcdetect serve`: run the reference endpoint until SIGINT/SIGTERM.

Listens on `bind`: a STUN responder on every UDP port, a TCP listener on every TCP port (it
accepts and closes: a connect is all the ports probe needs) and an HTTPS server on `https_port`
that answers GET / with a small JSON document, so the domain probe has all four steps to time.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import ipaddress
import logging
import signal
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from .. import __version__
from ..call.echo import EchoBusy, EchoPeer
from ..check.routes import CORS, CheckConfig, invitation_header
from ..check.routes import setup as setup_check
from . import certs, limits
from .capacity import CapacityServer
from .mux import MediaMux
from .stun import StunResponder
from .turn import TurnError, TurnRelay

#: A TLS client that has not finished its handshake after this long is dropped. asyncio's
#: default is 60 s, and until then a half-open connection keeps ~300 KB of TLS buffers: junk
#: at a few hundred connections a second then grows the server by tens of MB (measured).
SERVE_TLS_HANDSHAKE_TIMEOUT_S = 5.0
#: asyncio's TLS transports end in reference cycles that hold OpenSSL's buffers (~300 KB a
#: connection) until the cyclic garbage collector runs, which an idle server seldom triggers:
#: junk connections then grew serve by ~60 MB per 200 (measured). serve collects this often, s.
SERVE_GC_INTERVAL_S = 5.0

log = logging.getLogger("trtcdetect.serve")


class ServeError(Exception):
    """The endpoint could not start (address in use, not available, bad certificate)."""


@dataclass(frozen=True)
class ServeConfig:
    bind: str
    tcp_ports: tuple[int, ...]
    udp_ports: tuple[int, ...]
    https_port: int  # 0: no HTTPS listener
    cert: Path | None = None
    key: Path | None = None
    ca_out: Path | None = None
    names: tuple[str, ...] = ("localhost",)
    http_port: int = 0  # plain HTTP for the echo peer's signalling; 0: none
    token: str | None = None
    max_calls: int = 4
    max_call_seconds: float = 30.0
    #: echo calls' media goes over this UDP port (one of udp_ports); 0: ephemeral ports
    media_port: int = 0
    #: answer the capacity test (paced trains up and down, server/capacity.py)
    capacity: bool = True
    #: the STUN server the echo peer learns its public address from; None: asks no one
    stun: tuple[str, int] | None = None
    #: addresses this server is reached at from outside (a 1:1 NAT's public address): the
    #: echo's media port is offered there first
    public: tuple[str, ...] = ()
    #: echo calls one client address (and one /24 or /64) may hold at once
    calls_per_address: int = limits.CALLS_PER_ADDRESS
    #: the check page's uploads and reports (check/routes.py); the page itself is always served
    check: CheckConfig = CheckConfig()
    #: serve --turn: coturn's TCP port in front of the echo; 0: no relay
    turn_port: int = 0
    #: serve --turn-tls: its TLS port too (with --cert/--key); 0: none
    turn_tls_port: int = 0


def _tls_context(config: ServeConfig) -> tuple[ssl.SSLContext, certs.Renewer | None]:
    """The HTTPS listener's context, and the renewer of its generated certificate (None for a
    certificate of the operator's: --cert)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if config.cert is not None:
        try:
            ctx.load_cert_chain(str(config.cert), str(config.key) if config.key else None)
        except (OSError, ssl.SSLError) as exc:
            raise ServeError(f"cannot load certificate {config.cert}: {exc}") from None
        return ctx, None
    names = list(dict.fromkeys([*config.names, config.bind, "127.0.0.1", "::1"]))
    renewer = certs.Renewer(ctx, names)
    if config.ca_out is not None:
        config.ca_out.parent.mkdir(parents=True, exist_ok=True)
        config.ca_out.write_bytes(renewer.ca.pem)
    return ctx, renewer


async def _index(request: web.Request) -> web.Response:
    log.info("https %s %s %s", request.remote, request.method, request.path)
    return web.json_response({"service": "trtcdetect reference endpoint", "version": __version__})


def _authorized(request: web.Request, token: str | None) -> bool:
    """The caller's bearer token, compared as bytes in constant time: a header of any text
    (non-ASCII included) is a refusal, never an exception."""
    if token is None:
        return True
    given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
    if hmac.compare_digest(given, f"Bearer {token}".encode()):
        return True
    log.info("call %s refused: bad or missing token", request.remote)
    return False


def host_address(host_header: str) -> str | None:
    """The IP literal a caller dialled, from its Host header ("198.19.0.2:8089", "[::1]:443"),
    or None for a name or anything malformed. Names are never resolved: a caller must not make
    this server wait on DNS (or ask it about names of the caller's choosing)."""
    text = host_header.strip()
    if len(text) > 300:
        return None
    if text.startswith("["):
        literal = text[1:text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        literal = text.split(":", 1)[0]
    else:
        literal = text
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        return None


def _dialled(request: web.Request, public: tuple[str, ...]) -> tuple[str, ...]:
    """The addresses to offer the media port on: the configured public ones (serve
    --public-address: a 1:1 NAT in front of this machine), the IP literal the caller dialled
    (its Host header; never a name resolved), then the local address the connection arrived at,
    each of the connection's family."""
    assert request.transport is not None
    arrived = str(request.transport.get_extra_info("sockname")[0])
    named = host_address(request.headers.get("Host", ""))
    family = ":" in arrived  # the connection's family: media goes the same way
    return tuple(dict.fromkeys(a for a in [*public, *([named] if named else []), arrived]
                               if (":" in a) == family))


def _call_handler(echo: EchoPeer, token: str | None, mux: MediaMux | None,
                  public: tuple[str, ...] = (), shares: limits.Shares | None = None,
                  holders: dict[str, str] | None = None, check_open: bool = False) -> Any:
    """POST /call. `shares` counts calls per caller address and network (`holders`: call id ->
    the address that holds it, given back when the call ends). The check page's call carries
    its invitation instead of the token; with `check_open` (serve --check-open) it needs none."""
    async def call(request: web.Request) -> web.Response:
        response = await answer_call(request)
        response.headers.update(CORS)  # a deployment's own page may call (check.js)
        return response

    async def answer_call(request: web.Request) -> web.Response:
        # the invitation first: _authorized logs a refusal, which an invited call is not
        if not (check_open or invitation_header(request, token) or _authorized(request, token)):
            return web.json_response({"error": "bad or missing token"}, status=401)
        try:
            body = await request.json()
            sdp, type_ = str(body["sdp"]), str(body.get("type", "offer"))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return web.json_response({"error": "want JSON {sdp, type}"}, status=400)
        if type_ != "offer":
            return web.json_response({"error": "want an offer"}, status=400)
        problem = offer_problem(sdp)
        if problem is not None:  # refused before it takes a call slot
            log.info("call %s refused: %s", request.remote, problem)
            return web.json_response({"error": problem}, status=400)
        address = request.remote or ""
        if shares is not None:
            full = shares.full(address)
            if full is not None:
                log.info("call %s refused: %s", address, full)
                return web.json_response({"error": f"busy: {full}"}, status=503,
                                         headers={"Retry-After": "5"})
            shares.take(address)
        try:
            answer = await echo.answer(sdp, type_)
        except EchoBusy as exc:
            if shares is not None:
                shares.give(address)
            return web.json_response({"error": str(exc)}, status=503,
                                     headers={"Retry-After": "5"})
        except Exception as exc:  # noqa: BLE001 - a bad SDP must not stop the server
            if shares is not None:
                shares.give(address)
            # the caller hears what was wrong in its own terms; the exception stays in our log
            log.info("call %s refused: %s: %s", request.remote, type(exc).__name__, exc)
            return web.json_response({"error": "the offer could not be answered (is it a "
                                               "WebRTC offer with audio or video?)"}, status=400)
        if holders is not None:
            holders[answer.call_id] = address
        log.info("call %s answered (%d active)", request.remote, len(echo.calls))
        sdp = answer.sdp
        if mux is not None and request.transport is not None:
            # media goes to the address the caller reached this server on (a NAT in front of
            # this server: its public address, configured or dialled as an IP), and as it
            # arrived here
            sdp = mux.register(answer.call_id, sdp, _dialled(request, public))
        # relative to the URL of the offer, so it holds behind a proxy that adds a path prefix
        return web.json_response({"sdp": sdp, "type": answer.type,
                                  "received": f"call/{answer.call_id}/received"})

    return call


#: an offer longer than this is no test call's (aiortc's own with audio and video: ~2 kB)
MAX_OFFER_BYTES = 64 * 1024


def offer_problem(sdp: str) -> str | None:
    """Why an offer cannot be a call, said in the caller's terms; None when it may be one. Read
    before the offer takes a call slot: a slot held by junk is a slot an honest caller lacks."""
    if len(sdp) > MAX_OFFER_BYTES:
        return f"the offer is longer than {MAX_OFFER_BYTES} bytes"
    lines = sdp.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].startswith("v=0"):
        return "not an SDP offer (it must start with v=0)"
    if not any(line.startswith(("m=audio ", "m=video ")) for line in lines):
        return "the offer has no audio or video section"
    if not any(line.startswith("a=ice-ufrag:") for line in lines) or not any(
            line.startswith("a=ice-pwd:") for line in lines):
        return "the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)"
    if not any(line.startswith("a=fingerprint:") for line in lines):
        return "the offer has no DTLS fingerprint"
    return None


def _turn_handler(relay: TurnRelay | None, token: str | None, check_open: bool = False) -> Any:
    """GET /call/turn: the TURN relay in front of the echo (serve --turn) and credentials for
    it, to a caller allowed to call; 404 without --turn."""
    async def turn(request: web.Request) -> web.Response:
        if not (check_open or invitation_header(request, token) or _authorized(request, token)):
            return web.json_response({"error": "bad or missing token"}, status=401,
                                     headers=CORS)
        if relay is None:
            return web.json_response({"error": "no TURN relay here (serve --turn)"},
                                     status=404, headers=CORS)
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        host = str(sockname[0]) if sockname else relay.bind
        log.info("turn %s: credentials for %s:%s", request.remote, host, relay.port)
        return web.json_response(relay.offer(host, name=_host_name(request.host)),
                                 headers={**CORS, "Cache-Control": "no-store"})
    return turn


def _host_name(header: str | None) -> str | None:
    """The host name in a Host header (for the TURN-over-TLS URL, which the certificate must
    name); None for an IP literal, a missing header or anything that is not a plain name."""
    import re

    name = (header or "").rsplit(":", 1)[0] if not (header or "").startswith("[") else ""
    if not name or not re.fullmatch(r"[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*", name):
        return None
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name.lower()
    return None


def _received_handler(echo: EchoPeer, token: str | None, check_open: bool = False) -> Any:
    """GET /call/{id}/received: what the echo peer has counted of that call's media so far
    (the call id, 96 random bits, is known only to its caller). The check page asks it with
    its invitation, as it made the call."""

    async def received(request: web.Request) -> web.Response:
        # the invitation first: _authorized logs a refusal, which an invited call is not
        if not (check_open or invitation_header(request, token) or _authorized(request, token)):
            return web.json_response({"error": "bad or missing token"}, status=401,
                                     headers=CORS)
        streams = await echo.received(request.match_info["call_id"])
        if streams is None:
            return web.json_response({"error": "no such call (ended?)"}, status=404,
                                     headers=CORS)
        return web.json_response({"streams": streams}, headers=CORS)

    return received


async def _collect_garbage(capacity: CapacityServer | None = None,
                           renewer: certs.Renewer | None = None,
                           rate: limits.RateLimit | None = None) -> None:
    """Free what dropped TLS connections leave in reference cycles (see thresholds), the
    capacity test's and the STUN budget's state that has aged out, and renew the generated
    certificate when due."""
    while True:
        await asyncio.sleep(SERVE_GC_INTERVAL_S)
        if capacity is not None:
            capacity.sweep()
        if rate is not None:
            rate.sweep()
        gc.collect()
        _trim()
        if renewer is not None and renewer.renew_if_due():
            log.warning("serve: its generated certificate was renewed (valid until %s)",
                        renewer.not_after.isoformat(timespec="seconds"))


async def _accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer, local = writer.get_extra_info("peername"), writer.get_extra_info("sockname")
    log.info("tcp/%d %s:%d connected", local[1], peer[0], peer[1])
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass


def _trim() -> None:
    """Give the C heap's free memory back to the system (glibc's malloc_trim): what a flood of
    connections left, once freed, no longer counts against serve for good. Elsewhere: nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _BadRequests(logging.Filter):
    """aiohttp's "Error handling request" records for requests it could not parse (remote
    input, not a fault of serve's): dropped, and said once an interval without a traceback."""

    def __init__(self, said: limits.ThrottledLog) -> None:
        super().__init__()
        self.said = said

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        where = record.getMessage().rpartition(" from ")[2]  # "Error handling request from X"
        self.said.info("bad-request", "unparsable request from %s refused: %s", where,
                       str(getattr(error, "message", error)).splitlines()[0][:120])
        return False


async def serve(config: ServeConfig, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
    loop = asyncio.get_running_loop()
    closers: list[asyncio.BaseTransport | asyncio.Server] = []
    runners: list[web.AppRunner] = []
    limits.raise_fd_limit()
    warned = limits.ThrottledLog(log, level=logging.WARNING)
    previous_handler = loop.get_exception_handler()
    bad_requests = _BadRequests(warned)
    mux = MediaMux(config.media_port) if config.media_port in config.udp_ports else None
    calls = limits.Shares(config.calls_per_address, config.calls_per_address, config.max_calls)
    holders: dict[str, str] = {}  # call id -> the address holding it

    def call_ended(call_id: str) -> None:
        if mux is not None:
            mux.unregister(call_id)
        address = holders.pop(call_id, None)
        if address is not None:
            calls.give(address)

    echo = EchoPeer(config.max_calls, config.max_call_seconds, on_close=call_ended,
                    stun=config.stun)
    app = web.Application(client_max_size=256 * 1024)
    app.router.add_get("/", _index)
    app.router.add_post("/call", _call_handler(echo, config.token, mux, config.public, calls,
                                               holders, config.check.open))
    setup_check(app, config.check, config.token)
    app.router.add_get("/call/{call_id}/received", _received_handler(echo, config.token,
                                                                     config.check.open))
    relay = TurnRelay(config.bind, config.turn_port, config.turn_tls_port, config.cert,
                      config.key) if config.turn_port else None
    app.router.add_get("/call/turn", _turn_handler(relay, config.token, config.check.open))
    capacity = CapacityServer() if config.capacity else None
    throttled = limits.ThrottledLog(log)
    renewer: certs.Renewer | None = None
    # one budget for STUN answers across every port: the same source is one source
    stun_rate = limits.RateLimit(limits.STUN_PER_ADDRESS_PPS, limits.STUN_TOTAL_PPS)
    try:
        # asyncio reports every failed accept() (out of file descriptors, say) through the
        # loop's exception handler: thousands a second under a flood. One line an interval.
        loop.set_exception_handler(lambda _, context: warned.info(
            str(context.get("message", "")), "serve: %s: %s", context.get("message", ""),
            context.get("exception", "")))
        # aiohttp logs a request it cannot parse (a 20 kB header, 500 headers) with a
        # traceback, once per request: one line an interval instead; the caller gets its 400
        logging.getLogger("aiohttp.server").addFilter(bad_requests)
        for port in config.udp_ports:
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda p=port: StunResponder(p, mux if p == config.media_port else None,  # type: ignore[misc]
                                                 capacity, stun_rate, throttled),
                    local_addr=(config.bind, port))
            except OSError as exc:
                raise ServeError(f"cannot listen on UDP {config.bind}:{port}: {exc.strerror}") from None
            closers.append(transport)
        for port in config.tcp_ports:
            try:
                closers.append(await asyncio.start_server(_accept, config.bind, port))
            except OSError as exc:
                raise ServeError(f"cannot listen on TCP {config.bind}:{port}: {exc.strerror}") from None
        if config.https_port or config.http_port:
            runner = web.AppRunner(app, access_log=None, keepalive_timeout=limits.KEEPALIVE_S)
            await runner.setup()
            runners.append(runner)
        for port, tls in ((config.https_port, True), (config.http_port, False)):
            if not port:
                continue
            # aiohttp's protocol factory on our own listener, behind a guard that counts a
            # connection (its address's share, the deadlines) as soon as TCP accepts it and
            # only then starts TLS (server/limits.py): refused connections cost no handshake
            tls_ctx: ssl.SSLContext | None = None
            if tls:
                tls_ctx, renewer = _tls_context(config)
            try:
                factory = runners[0].server
                assert factory is not None  # set up above
                shares = limits.Shares(limits.CONNECTIONS_PER_ADDRESS,
                                       4 * limits.CONNECTIONS_PER_ADDRESS,
                                       limits.CONNECTIONS_TOTAL)
                closers.append(await loop.create_server(
                    limits.guarded(factory, shares, throttled, tls_ctx,
                                   SERVE_TLS_HANDSHAKE_TIMEOUT_S),
                    config.bind, port, reuse_address=True))
            except OSError as exc:
                raise ServeError(f"cannot listen on TCP {config.bind}:{port} "
                                 f"({'HTTPS' if tls else 'HTTP'}): {exc.strerror}") from None
        if relay is not None:
            try:
                await relay.start()
            except TurnError as exc:
                raise ServeError(str(exc)) from None
        if ready is not None:
            ready.set()
        collector = asyncio.create_task(_collect_garbage(capacity, renewer, stun_rate))
        await stop.wait()
        collector.cancel()
    finally:
        for closer in closers:
            closer.close()
        if relay is not None:
            await relay.stop()
        await echo.close()
        loop.set_exception_handler(previous_handler)
        logging.getLogger("aiohttp.server").removeFilter(bad_requests)
        for runner in runners:
            await runner.cleanup()


def run(config: ServeConfig) -> None:
    """Serve until SIGINT or SIGTERM; print one ready line so scripts can wait for it."""

    async def main() -> None:
        stop, ready = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        task = asyncio.create_task(serve(config, stop, ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if ready.is_set():
            tcp = ",".join(map(str, config.tcp_ports)) or "-"
            udp = ",".join(map(str, config.udp_ports)) or "-"
            print(  # noqa: T201 - the one line scripts wait for
                f"trtcdetect serve: ready on {config.bind} tcp {tcp} udp {udp} "
                f"https {config.https_port or '-'} http {config.http_port or '-'}", flush=True)
        waiter.cancel()
        await task

    asyncio.run(main())
