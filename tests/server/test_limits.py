"""serve's fair shares and deadlines (server/limits.py), unit by unit and on a real serve on
loopback: a slowloris is cut at the header deadline, one address gets its share of connections
and calls while another is still served, the exporter's table of last results stays bounded,
the generated certificate is renewed, and the operator is told what a public bind means."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import ssl
from typing import Any

import pytest

from tests.server.test_hardening import _offer, _raw, free_port
from trtcdetect.server import certs, limits
from trtcdetect.server.app import ServeConfig, serve


def test_shares_per_address_per_network_and_in_all() -> None:
    shares = limits.Shares(per_address=2, per_prefix=3, total=4)
    assert shares.take("198.51.100.1") and shares.take("198.51.100.1")
    assert shares.full("198.51.100.1") == "this address already holds 2"
    assert shares.take("198.51.100.2")
    assert "already holds 3" in (shares.full("198.51.100.3") or "")  # the /24 is full
    assert shares.take("2001:db8::1") and shares.full("203.0.113.1") == "all 4 are in use"
    shares.give("198.51.100.1")  # its call ended: a share comes back to it
    assert shares.take("203.0.113.1") and not shares.take("198.51.100.1")  # all 4 in use
    shares.give("2001:db8::1")
    assert shares.take("198.51.100.1") and shares.held == 4
    assert limits.prefix("::ffff:198.51.100.7") == "198.51.100.0/24"
    assert limits.prefix("2001:db8:1:2:3::4") == "2001:db8:1:2::/64"


def test_rate_limit_per_key_and_in_all() -> None:
    now = [0.0]
    rate = limits.RateLimit(per_key=10, total=25, clock=lambda: now[0])
    assert sum(rate.allow("a") for _ in range(100)) == 20  # a burst of twice the rate
    assert sum(rate.allow("b") for _ in range(100)) == 20
    assert sum(rate.allow("c") for _ in range(100)) == 10  # what is left of everyone's 50
    now[0] = 1.0
    assert sum(rate.allow("a") for _ in range(100)) == 10  # one second's worth again
    keys = limits.RateLimit(per_key=1, total=1e9, keys=3, clock=lambda: now[0])
    for key in "wxyz":
        keys.allow(key)
    assert list(keys._buckets) == ["x", "y", "z"]  # the least recently seen is forgotten
    now[0] += limits.RATE_KEEP_S / 2
    keys.allow("y")
    now[0] += limits.RATE_KEEP_S / 2 + 1
    keys.sweep()  # on serve's timer: keys not seen for RATE_KEEP_S go, whatever their number
    assert list(keys._buckets) == ["y"]


def test_a_throttled_log_says_one_line_an_interval_and_how_many_it_held(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    logger = logging.getLogger("test.throttle")
    throttled = limits.ThrottledLog(logger, interval_s=10, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="test.throttle"):
        for _ in range(5000):
            throttled.info("junk", "junk from %s", "x")
        now[0] = 11
        throttled.info("junk", "junk from %s", "x")
    assert [r.getMessage() for r in caplog.records] == [
        "junk from x", "junk from x (and 4999 more like it)"]


def _serve(config: ServeConfig) -> tuple[asyncio.Event, asyncio.Task[None], asyncio.Event]:
    stop, ready = asyncio.Event(), asyncio.Event()
    return stop, asyncio.create_task(serve(config, stop, ready)), ready


def test_a_slowloris_is_cut_at_the_header_deadline_and_others_are_served(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "HEADER_DEADLINE_S", 1.5)
    port = free_port()
    config = ServeConfig(bind="127.0.0.1", tcp_ports=(), udp_ports=(), https_port=0,
                         http_port=port)

    async def scenario() -> tuple[float | None, int, int]:
        stop, task, ready = _serve(config)
        await asyncio.wait_for(ready.wait(), 10)
        loop = asyncio.get_running_loop()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = loop.time()
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            cut = None
            for _ in range(8):  # one header line a second, never the end of the headers
                await asyncio.sleep(0.5)
                if reader.at_eof() or writer.is_closing():
                    break
                try:
                    writer.write(b"X-Slow: 1\r\n")
                    await writer.drain()
                except ConnectionError:
                    break
                if await _closed(reader):
                    break
            cut = loop.time() - started if await _closed(reader) else None
            writer.close()
            # one address's share of connections: the 17th is closed at once, a second
            # address is still served
            held = [await asyncio.open_connection("127.0.0.1", port)
                    for _ in range(limits.CONNECTIONS_PER_ADDRESS)]
            extra = await asyncio.open_connection("127.0.0.1", port)
            refused = int(await _closed(extra[0], wait=1.0))
            reader2, writer2 = await asyncio.open_connection("127.0.0.1", port,
                                                             local_addr=("127.0.0.2", 0))
            writer2.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            served = int((await asyncio.wait_for(reader2.read(), 5)).startswith(b"HTTP/1.1 200"))
            writer2.close()
            for _, w in [*held, extra]:
                w.close()
            return cut, refused, served
        finally:
            stop.set()
            await task

    cut, refused, served = asyncio.run(scenario())
    assert cut is not None and 1.5 <= cut <= 4.0, cut
    assert (refused, served) == (1, 1)


async def _closed(reader: asyncio.StreamReader, wait: float = 0.05) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), wait) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def test_one_address_holds_at_most_its_share_of_calls_and_another_still_gets_one() -> None:
    port = free_port()
    config = ServeConfig(bind="127.0.0.1", tcp_ports=(), udp_ports=(), https_port=0,
                         http_port=port, max_calls=4, max_call_seconds=10)

    async def post(body: bytes, source: str) -> tuple[int, bytes]:
        if source == "127.0.0.1":
            return await _raw(port, b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\n", body)
        reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                       local_addr=(source, 0))
        writer.write(b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % len(body) + body)
        response = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return int(response.split(b" ", 2)[1]), response.partition(b"\r\n\r\n")[2]

    async def scenario() -> list[tuple[int, bytes]]:
        stop, task, ready = _serve(config)
        await asyncio.wait_for(ready.wait(), 10)
        try:
            offer = json.dumps({"sdp": await _offer(), "type": "offer"}).encode()
            return [await post(offer, "127.0.0.1"), await post(offer, "127.0.0.1"),
                    await post(offer, "127.0.0.1"), await post(offer, "127.0.0.2"),
                    await post(offer, "127.0.1.5")]
        finally:
            stop.set()
            await task

    first, second, third, other, elsewhere = asyncio.run(scenario())
    assert first[0] == second[0] == 200
    assert third[0] == 503 and b"this address already holds 2" in third[1]
    # 127.0.0.2 is in the same /24 as 127.0.0.1 on loopback: the network's share is full too
    assert other[0] == 503 and b"already holds 2" in other[1]
    # a caller from another network still gets its call while that one holds its share
    assert elsewhere[0] == 200, elsewhere


def test_the_exporters_table_of_last_results_is_bounded_in_size_and_age() -> None:
    from tests.fixtures import report_a
    from trtcdetect.exporter import app as exporter_app
    from trtcdetect.exporter.modules import load_modules

    async def run(module: Any, target: str, budget: float) -> Any:
        return report_a()

    async def scenario() -> tuple[int, int]:
        modules = load_modules(None)
        exporter = exporter_app.Exporter(modules, run=run)
        module = next(iter(modules.values()))
        for n in range(exporter_app.LAST_KEEP + 100):
            await exporter._one(module, f"host{n}.example", 1.0)
        size = len(exporter.last)
        exporter.prune(now=exporter_app.time.monotonic() + exporter_app.LAST_MAX_AGE_S + 1)
        return size, len(exporter.last)

    assert asyncio.run(scenario()) == (exporter_app.LAST_KEEP, 0)


def test_the_generated_certificate_is_renewed_under_the_same_ca() -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    renewer = certs.Renewer(ctx, ["localhost", "127.0.0.1"], days=30)
    first = renewer.not_after
    assert not renewer.renew_if_due()
    assert renewer.renew_if_due(now=first - dt.timedelta(days=5))  # 5 days left: renewed
    assert renewer.not_after > first and renewer.renewals == 1

    async def presented() -> dt.datetime:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=ctx)
        port = server.sockets[0].getsockname()[1]
        client = ssl.create_default_context(cadata=renewer.ca.pem.decode())
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        server.close()
        from cryptography import x509

        return x509.load_der_x509_certificate(der).not_valid_after_utc

    # the listener's context now presents the new one, signed by the CA clients already trust
    assert abs((asyncio.run(presented()) - renewer.not_after).total_seconds()) < 1


def test_a_public_bind_refuses_a_token_over_plain_http_and_warns_without_one(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    from trtcdetect.commands import serve as serve_command
    from trtcdetect.main import main

    monkeypatch.setenv("TRTCDETECT_TOKEN", "t0ken")
    code = main(["serve", "--bind", "198.51.100.9", "--http-port", "8089", "--udp-ports", "",
                 "--tcp-ports", "", "--https-port", "0"])
    err = capsys.readouterr().err
    assert code == 3 and "token would travel in clear" in err and "t0ken" not in err
    monkeypatch.delenv("TRTCDETECT_TOKEN")
    started: list[Any] = []
    monkeypatch.setattr("trtcdetect.server.app.run", started.append)
    monkeypatch.setattr(serve_command, "_loopback", lambda address: False)
    assert main(["serve", "--bind", "198.51.100.9", "--udp-ports", "", "--tcp-ports", "",
                 "--https-port", "0"]) == 0
    assert "198.51.100.9 without a token" in caplog.text
    assert logging.getLogger("trtcdetect.serve").level == logging.WARNING  # quiet by default
    assert started and started[0].token is None


def test_a_flood_of_failed_accepts_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    """asyncio reports each failed accept() through the loop's exception handler: serve's
    handler says one line an interval, where asyncio's own logged every one with its
    traceback (5,514 records in seconds when the open-files limit ran out)."""
    port = free_port()
    config = ServeConfig(bind="127.0.0.1", tcp_ports=(), udp_ports=(), https_port=0,
                         http_port=port)

    async def scenario() -> None:
        stop, task, ready = _serve(config)
        await asyncio.wait_for(ready.wait(), 10)
        loop = asyncio.get_running_loop()
        try:
            for _ in range(5000):
                loop.call_exception_handler({"message": "socket.accept() out of system "
                                             "resource", "exception": OSError(24, "Too many "
                                                                               "open files")})
        finally:
            stop.set()
            await task

    with caplog.at_level(logging.DEBUG):
        asyncio.run(scenario())
    lines = [r for r in caplog.records if "accept" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING, len(lines)


def test_what_tls_decrypts_before_start_tls_returns_reaches_the_server() -> None:
    """A client sending its request with the handshake's last flight (Python's TLS 1.3 does):
    asyncio hands the decrypted request to the protocol before start_tls returns. The guard
    keeps it for the server; it dropped it once, and calls over HTTPS hung (the lab's
    two-calls test found it)."""
    class Inner(asyncio.Protocol):
        def __init__(self) -> None:
            self.got: list[bytes] = []
            self.made = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.made = True

        def data_received(self, data: bytes) -> None:
            assert self.made, "data before the transport"
            self.got.append(data)

    class Transport(asyncio.Transport):
        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return ("198.51.100.1", 5000) if name == "peername" else default

    inner = Inner()
    guard = limits.GuardedConnection(inner, limits.Shares(4, 4, 4),
                                     limits.ThrottledLog(logging.getLogger("test")))
    guard.address, guard.counted = "198.51.100.1", True
    guard.data_received(b"POST /call HTTP/1.1\r\nHost: x\r\n\r\n{}")  # before start_tls returned
    assert inner.got == []
    guard._start(Transport())
    assert inner.got == [b"POST /call HTTP/1.1\r\nHost: x\r\n\r\n{}"]
