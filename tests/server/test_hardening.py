"""serve facing the internet: nothing it answers is an amplifier for a forged source, no input
from a caller raises, and junk takes no call slot. Loopback, in-process, no root; each attack is
a bounded loop.

The capacity server's checks of a cookie's address are exercised through its handler with the
address given, as the socket would give it: a raw-socket replay with a forged source is not
here (tests/server/test_abuse_lab.py is where it would go, in namespaces).
"""

from __future__ import annotations

import asyncio
import fractions
import json
import logging
import socket
from typing import Any

import pytest
from aioice import stun

from trtcdetect.net import capacitywire as wire
from trtcdetect.server import capacity as capacity_server
from trtcdetect.server.app import ServeConfig, host_address, offer_problem, serve
from trtcdetect.server.mux import MediaMux
from trtcdetect.server.stun import StunResponder

#: IP + UDP header bytes, by family: the ratios are what a link carries
OVERHEAD = {socket.AF_INET: 28, socket.AF_INET6: 48}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"),
                                          (socket.AF_INET6, "::1")])
def test_a_stun_answer_is_at_most_one_and_a_half_times_the_request(family: int,
                                                                    host: str) -> None:
    async def scenario() -> tuple[bytes, bytes]:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(lambda: StunResponder(0),
                                                        local_addr=(host, 0))
        client = socket.socket(family, socket.SOCK_DGRAM)
        client.setblocking(False)
        try:
            request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
            client.sendto(bytes(request), server.get_extra_info("sockname")[:2])
            return bytes(request), await asyncio.wait_for(loop.sock_recv(client, 2048), 2)
        finally:
            client.close()
            server.close()

    try:
        request, answer = asyncio.run(scenario())
    except OSError as exc:
        pytest.skip(f"no {host} here: {exc}")
    ratio = (len(answer) + OVERHEAD[family]) / (len(request) + OVERHEAD[family])
    assert len(request) == 20 and ratio <= 1.5, (len(answer), ratio)
    message = stun.parse_message(answer)
    assert message.attributes["XOR-MAPPED-ADDRESS"][0] == host  # what a client reads
    assert "SOFTWARE" not in message.attributes and "MAPPED-ADDRESS" not in message.attributes


class Recorder:
    """The UDP transport's stand-in: what is under test is the bookkeeping, not the socket."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Any]] = []

    def sendto(self, data: bytes, addr: Any = None) -> None:
        self.sent.append((data, addr))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _welcome(server: capacity_server.CapacityServer, addr: tuple[str, int]) -> bytes:
    transport = Recorder()
    server.handle(wire.hello(b"n" * 8), addr, transport, None)  # type: ignore[arg-type]
    _, cookie, _ = wire.read_welcome(transport.sent[-1][0])
    return cookie


def test_a_hello_shorter_than_its_welcome_gets_no_answer() -> None:
    server, transport = capacity_server.CapacityServer(), Recorder()
    short = wire.MAGIC + wire.HELLO + b"n" * 8  # what a HELLO was before it was padded
    server.handle(short, ("192.0.2.1", 5000), transport, None)  # type: ignore[arg-type]
    assert transport.sent == []
    server.handle(wire.hello(b"n" * 8), ("192.0.2.1", 5000), transport, None)  # type: ignore[arg-type]
    (welcome, _), = transport.sent
    assert len(welcome) <= len(wire.hello(b"n" * 8))  # no more out than in


def test_an_old_cookie_starts_no_train(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> tuple[int, int]:
        server, addr = capacity_server.CapacityServer(), ("127.0.0.1", 4000)
        cookie = _welcome(server, addr)
        request = wire.down(wire.DownRequest(cookie, b"s" * 8, 0, 100, 100, 10))
        now = capacity_server.clock_s()
        monkeypatch.setattr(capacity_server, "clock_s", lambda: now + wire.COOKIE_MAX_AGE_S + 1)
        server.handle(request, addr, Recorder(), None)  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        stale = server.trains_sent
        monkeypatch.setattr(capacity_server, "clock_s", lambda: now + 1)
        server.handle(request, addr, Recorder(), None)  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        return stale, server.trains_sent

    stale, fresh = asyncio.run(scenario())
    assert (stale, fresh) == (0, 1)


def _trains(echoing: bool) -> int:
    async def scenario() -> int:
        server, addr, transport = capacity_server.CapacityServer(), ("127.0.0.1", 4001), Recorder()
        cookie = _welcome(server, addr)
        for step in range(capacity_server.MAX_TRAINS_PER_COOKIE + 10):
            transport.sent.clear()
            server.handle(wire.down(wire.DownRequest(cookie, b"s" * 8, step, 100, 100, 1)),
                          addr, transport, None)  # type: ignore[arg-type]
            await asyncio.sleep(0.01)  # each train (one datagram) is over before the next
            if echoing and transport.sent:
                token = wire.read_data(transport.sent[-1][0]).token
                server.handle(wire.echo(cookie, b"s" * 8, step, token), addr, transport, None)  # type: ignore[arg-type]
        return server.trains_sent

    return asyncio.run(scenario())


def test_a_cookie_buys_a_bounded_number_of_trains_and_only_while_they_are_echoed() -> None:
    # a client that gets its trains echoes each one's token: its ramp goes on, up to the cap
    assert _trains(echoing=True) == capacity_server.MAX_TRAINS_PER_COOKIE
    # someone with a stolen cookie who cannot see the trains: the first, and one asked again
    assert _trains(echoing=False) == wire.MAX_UNECHOED


def test_one_address_cannot_push_out_everyone_elses_tallies_and_old_ones_go_on_a_timer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, transport = capacity_server.CapacityServer(), Recorder()
    other = ("192.0.2.2", 6000)
    theirs = _welcome(server, other)
    server.handle(wire.up(theirs, b"o" * 8, 0, 0, 0, 64), other, transport, None)  # type: ignore[arg-type]
    noisy = ("192.0.2.1", 5000)
    cookie = _welcome(server, noisy)
    for step in range(capacity_server.MAX_TALLIES + 10):
        server.handle(wire.up(cookie, b"s" * 8, step, 0, 0, 64), noisy, transport, None)  # type: ignore[arg-type]
    mine = [k for k in server._tallies if k[0] == noisy]
    assert len(mine) == capacity_server.MAX_TALLIES_PER_ADDRESS
    assert any(k[0] == other for k in server._tallies)
    later = capacity_server.time.perf_counter() + capacity_server.TALLY_KEEP_S + 1
    monkeypatch.setattr(capacity_server.time, "perf_counter", lambda: later)
    server.sweep()  # what serve's timer calls: nothing new has to arrive for them to go
    assert server._tallies == {}


def test_one_network_holds_at_most_two_trains_at_once() -> None:
    async def scenario() -> set[str]:
        server = capacity_server.CapacityServer()
        for host in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "203.0.113.7"):
            addr = (host, 5000)
            cookie = _welcome(server, addr)
            server.handle(wire.down(wire.DownRequest(cookie, b"s" * 8, 0, 100, 1200, 1000)),
                          addr, Recorder(), None)  # type: ignore[arg-type]
        running = {a[0] for a, t in server._trains.items() if not t.done()}
        for task in server._trains.values():
            task.cancel()
        return running

    assert asyncio.run(scenario()) == {"198.51.100.1", "198.51.100.2", "203.0.113.7"}


ANSWER = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"
          "a=ice-ufrag:echo\r\na=ice-pwd:echopasswordechopassword\r\n"
          "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n")


def test_a_check_without_the_calls_password_ties_nothing_to_the_media_port() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        mux = MediaMux(8000)
        mux.register("call", ANSWER, ("127.0.0.1",))
        forged = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        forged.attributes["USERNAME"] = "echo:caller"  # the ufrag travels in clear
        forged.add_message_integrity(b"a guess")
        tied_forged = mux.handle(bytes(forged), ("127.0.0.1", 5555),
                                 stun.parse_message(bytes(forged)))
        honest = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        honest.attributes["USERNAME"] = "echo:caller"
        honest.add_message_integrity(b"echopasswordechopassword")
        tied_honest = mux.handle(bytes(honest), ("127.0.0.1", 5556),
                                 stun.parse_message(bytes(honest)))
        mux.unregister("call")
        await asyncio.sleep(0)
        return tied_forged, tied_honest, mux.forged

    assert asyncio.run(scenario()) == (False, True, 1)


@pytest.mark.parametrize("host, address", [
    ("198.19.0.2:8089", "198.19.0.2"), ("[2001:db8::1]:443", "2001:db8::1"), ("10.0.0.1", "10.0.0.1"),
    ("media.example.com:443", None), ("a:99999999", None), ("a" * 300, None), ("[::1", None),
    ("", None), ("ü:1", None)])
def test_the_host_header_gives_an_ip_literal_or_nothing(host: str, address: str | None) -> None:
    assert host_address(host) == address


@pytest.mark.parametrize("sdp, problem", [
    ("v=0", "no audio or video"), ("junk", "v=0"), ("v=0\r\nm=audio 9 RTP/AVP 0\r\n", "ICE"),
    ("v=0\r\nm=video 9 X 0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\n", "fingerprint"),
    ("v=0\r\n" + "a=x\r\n" * 20000, "longer than")])
def test_an_offer_that_cannot_be_a_call_is_named(sdp: str, problem: str) -> None:
    found = offer_problem(sdp)
    assert found is not None and problem in found


async def _offer() -> str:
    from aiortc import RTCPeerConnection

    pc = RTCPeerConnection()
    pc.addTransceiver("audio")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return str(sdp)


async def _raw(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return status, response.partition(b"\r\n\r\n")[2]


def test_remote_input_gets_a_4xx_and_never_a_traceback_nor_a_slot(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    config = ServeConfig(bind="127.0.0.1", tcp_ports=(), udp_ports=(), https_port=0,
                         http_port=port, token="secret", max_calls=1, max_call_seconds=5)

    async def scenario() -> dict[str, Any]:
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(config, stop, ready))
        await asyncio.wait_for(ready.wait(), 10)
        auth = b"Authorization: Bearer secret\r\n"
        offer = json.dumps({"sdp": await _offer(), "type": "offer"}).encode()
        seen: dict[str, Any] = {}
        try:
            seen["non-ascii token"] = await _raw(port, (
                "POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sécret\r\n"
                "Content-Type: application/json\r\n").encode(), offer)
            for n in range(4):  # four junk offers: none may hold the one slot
                seen[f"junk {n}"] = await _raw(port, b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                               + auth, b'{"sdp": "v=0"}')
            seen["bad json"] = await _raw(port, b"POST /call HTTP/1.1\r\nHost: x\r\n" + auth,
                                          b"\xff\xfe{")
            seen["huge port"] = await _raw(port, b"POST /call HTTP/1.1\r\nHost: a:99999999\r\n"
                                           + auth, offer)
            seen["calls after"] = await _raw(port, b"POST /call HTTP/1.1\r\nHost: "
                                             + b"a" * 300 + b"\r\n" + auth, offer)
            seen["huge header"] = await _raw(port, b"POST /call HTTP/1.1\r\nHost: x\r\n"
                                             + b"X-Huge: " + b"h" * 20000 + b"\r\n" + auth, offer)
            seen["many headers"] = await _raw(port, b"POST /call HTTP/1.1\r\nHost: x\r\n"
                                              + b"".join(b"X-%d: 1\r\n" % n for n in range(500))
                                              + auth, offer)
        finally:
            stop.set()
            await task
        return seen

    with caplog.at_level(logging.DEBUG):
        seen = asyncio.run(scenario())
    assert seen["non-ascii token"][0] == 401
    for n in range(4):
        status, body = seen[f"junk {n}"]
        assert status == 400 and b"no audio or video section" in body
    assert seen["bad json"][0] == 400
    # a Host that is no address costs nothing: the offer is answered (the one slot was free),
    # and the next one too once that call ended or is busy -- 200 or 503, never 500
    assert seen["huge port"][0] == 200, seen["huge port"]
    assert seen["calls after"][0] in (200, 503), seen["calls after"]
    # headers past aiohttp's bounds: a 4xx, and no call made of them
    assert 400 <= seen["huge header"][0] < 500 and 400 <= seen["many headers"][0] < 500, seen
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text


def test_the_echo_encodes_back_no_more_than_its_cap_and_asks_for_less() -> None:
    import av
    from aiortc import MediaStreamTrack

    from trtcdetect.call.echo import ECHO_MAX_PIXELS, ECHO_VIDEO_KBPS, bandwidth_asked, capped

    class Source(MediaStreamTrack):  # a caller's 1080p, as the echo receives it decoded
        kind = "video"

        def __init__(self, width: int, height: int) -> None:
            super().__init__()
            self.size = (width, height)

        async def recv(self) -> av.VideoFrame:
            frame = av.VideoFrame(*self.size, "yuv420p")
            frame.pts = 3000
            return frame

    async def sizes() -> list[tuple[int, int, int | None]]:
        got = []
        for width, height in ((1920, 1080), (320, 240)):
            frame = await capped(Source(width, height)).recv()
            got.append((frame.width, frame.height, frame.pts))
        return got

    (big_w, big_h, pts), small = asyncio.run(sizes())
    assert big_w * big_h <= ECHO_MAX_PIXELS and abs(big_w / big_h - 16 / 9) < 0.02
    assert pts == 3000 and small == (320, 240, 3000)  # a small frame goes back as it came

    class Sixty(MediaStreamTrack):  # a caller at 60 frames a second, 90 kHz timestamps
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        async def recv(self) -> av.VideoFrame:
            frame = av.VideoFrame(320, 240, "yuv420p")
            frame.pts, frame.time_base = self.n * 1500, fractions.Fraction(1, 90000)
            self.n += 1
            return frame

    async def echoed() -> list[int | None]:
        track = capped(Sixty())
        return [(await track.recv()).pts for _ in range(5)]

    assert asyncio.run(echoed()) == [0, 3000, 6000, 9000, 12000]  # every other frame: 30 fps
    answer = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
              "m=video 9 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 0.0.0.0\r\nb=AS:20000\r\na=x\r\n")
    asked = bandwidth_asked(answer).split("\r\n")
    assert asked.count(f"b=AS:{ECHO_VIDEO_KBPS}") == 1 and "b=AS:20000" not in asked
    assert asked.index(f"b=AS:{ECHO_VIDEO_KBPS}") > asked.index("m=video 9 UDP/TLS/RTP/SAVPF 97")


def test_hellos_share_the_stun_budget_of_their_source() -> None:
    """A WELCOME goes to an address that has proved nothing yet: a source past its budget gets
    no more of them, as it gets no more STUN answers."""
    from trtcdetect.server.limits import RateLimit

    now = [0.0]
    rate = RateLimit(per_key=5, total=1e9, clock=lambda: now[0])
    responder = StunResponder(8000, None, capacity_server.CapacityServer(), rate)
    transport = Recorder()
    responder.transport = transport  # type: ignore[assignment]
    for _ in range(100):
        responder.datagram_received(wire.hello(b"n" * 8), ("192.0.2.7", 5000))
    assert len(transport.sent) == 10  # a burst of twice the rate, then silence
