"""The capacity test's rules as tables (no network): when a step shows the bottleneck, what the
estimate is, and what a call of that size can carry. And the reference endpoint's side of the
protocol on loopback: it sends a train only to an address holding its cookie."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from trtcdetect import thresholds
from trtcdetect.models import Status
from trtcdetect.net import capacitywire as wire
from trtcdetect.net.capacity import Capacity
from trtcdetect.net.ramp import Direction, Step, conclude, rates
from trtcdetect.probes.capacity import CapacityObservation, judge, judge_step
from trtcdetect.text.remedies import PARTY

CLEAN = Step(250, 10, 10, 250.0, 0.2)
LOSSY = Step(250, 100, 92, 230.0, 0.2)  # 8 % lost at random at the lowest rate


@pytest.mark.parametrize(("kbps", "sent", "received", "delivered", "queue", "lower", "expected"), [
    (350, 14, 14, 349.0, 0.3, [CLEAN], None),            # everything on time
    (1345, 54, 54, 1049.0, 62.0, [CLEAN], "delay"),      # a queue builds: the classic sign
    (1345, 54, 41, 1000.0, 8.0, [CLEAN], "rate"),        # a policer drops the excess
    (1345, 54, 54, 1000.0, 20.0, [CLEAN], "rate"),       # all came, spread out (short step)
    (1345, 54, 50, 1240.0, 0.5, [LOSSY], None),          # random loss, same as the lower step
    (1345, 54, 1, None, None, [CLEAN], "rate"),          # nothing came through
    # 5 % random loss read by small steps (1 of 10, 0 of 14, 1 of 20, then 4 of 27): pooled,
    # the lower steps' loss allows for it; their smallest (0 %) read a bottleneck (a CI run)
    (686, 27, 23, 571.9, 1.0, [Step(250, 10, 9, 222.0, 0.2), Step(350, 14, 14, 350.0, 0.3),
                               Step(490, 20, 19, 466.0, 0.2)], None),
    (250, 10, 5, 125.0, 3.0, [], None),                  # the first step: delay alone judges
    (250, 10, 10, 200.0, 80.0, [], "delay"),
])
def test_judge_step(kbps: float, sent: int, received: int, delivered: float | None,
                    queue: float | None, lower: list[Step], expected: str | None) -> None:
    assert judge_step(kbps, sent, received, delivered, queue, lower) == expected


def test_conclude_estimate_is_the_rate_that_arrived() -> None:
    steps = [CLEAN, Step(350, 14, 14, 349.0, 0.3),
             Step(490, 19, 19, 410.0, 55.0, "delay")]
    direction = conclude("up", steps, 10_000)
    assert (direction.kbps, direction.bound, direction.by) == (410, "estimate", "delay")
    assert direction.confidence == "medium"  # 19 datagrams: 15-49


def test_conclude_without_a_bottleneck_is_a_lower_bound() -> None:
    direction = conclude("down", [CLEAN, Step(2000, 80, 80, 1998.0, 0.4)], 2000)
    assert (direction.kbps, direction.bound) == (2000, "at least")


def test_conclude_when_nothing_came_through_uses_the_step_before() -> None:
    steps = [CLEAN, Step(350, 14, 0, None, None, "rate")]
    assert conclude("up", steps, 10_000).kbps == 250


def test_rates_ramp_and_end_at_the_ceiling() -> None:
    ramp = rates(2000)
    assert ramp[0] == 250 and ramp[-1] == 2000
    assert all(b / a <= 1.41 for a, b in zip(ramp, ramp[1:], strict=False))


def _direction(name: str, kbps: float | None, bound: str = "estimate") -> Direction:
    return Direction(name, (), kbps, bound, "high", "delay" if bound == "estimate" else None)


def _observed(up: Direction, down: Direction) -> CapacityObservation:
    return CapacityObservation("media.example", 8000,
                               Capacity("192.0.2.1", 8000, up, down, 10_000, 8.0))


NEED = thresholds.CAPACITY_720P_NEED_KBPS


@pytest.mark.parametrize(("up", "down", "status", "sentence"), [
    (_direction("up", 10_000, "at least"), _direction("down", 10_000, "at least"),
     Status.PASS, "capacity.ok"),
    (_direction("up", NEED), _direction("down", 4000), Status.PASS, "capacity.ok"),
    (_direction("up", NEED - 1), _direction("down", 4000), Status.WARN, "capacity.360p"),
    (_direction("up", 4000), _direction("down", 300), Status.WARN, "capacity.audio-only"),
    (_direction("up", 30), _direction("down", 4000), Status.FAIL, "capacity.too-low"),
    (_direction("up", None, "none"), _direction("down", 4000), Status.WARN,
     "capacity.not-measured"),
])
def test_judge(up: Direction, down: Direction, status: Status, sentence: str) -> None:
    verdict = judge(_observed(up, down))
    assert (verdict.status, verdict.message.id) == (status, sentence)
    if status in (Status.WARN, Status.FAIL) and sentence != "capacity.not-measured":
        assert [a.id for a in verdict.advice] == ["capacity-low"]
        assert PARTY["capacity-low"] == "user"  # their own link, not the deployment's


@pytest.mark.parametrize(("skipped", "sentence"), [
    ("tencent", "capacity.tencent"), ("no-udp-port", "capacity.no-port"),
    ("unsupported", "capacity.unsupported"), ("dns", "capacity.dns")])
def test_nothing_measured_is_a_skip(skipped: str, sentence: str) -> None:
    verdict = judge(CapacityObservation("h.example", 8000, skipped=skipped, dns_error="NXDOMAIN"))
    assert (verdict.status, verdict.message.id) == (Status.SKIP, sentence)


def test_server_sends_a_train_only_to_the_address_that_holds_its_cookie() -> None:
    from trtcdetect.server.capacity import CapacityServer
    from trtcdetect.server.stun import StunResponder

    async def scenario() -> tuple[int, int, int]:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(
            lambda: StunResponder(0, None, CapacityServer()), local_addr=("127.0.0.1", 0))
        port = server.get_extra_info("sockname")[1]
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (client, other):
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
        try:
            client.sendto(wire.hello(b"n" * 8), ("127.0.0.1", port))
            welcome = await loop.sock_recv(client, 2048)
            _, cookie, _ = wire.read_welcome(welcome)

            async def count(sock: socket.socket, wait: float) -> int:
                got, end = 0, time.monotonic() + wait
                while time.monotonic() < end:
                    try:
                        await asyncio.wait_for(loop.sock_recv(sock, 2048), end - time.monotonic())
                        got += 1
                    except TimeoutError:
                        break
                return got

            request = wire.DownRequest(cookie, b"s" * 8, 0, 500, 1200, 400)
            # the cookie was made for `client`'s address: from `other` it is worth nothing
            other.sendto(wire.down(request), ("127.0.0.1", port))
            stolen = await count(other, 0.6)
            forged = await count(client, 0.01)
            client.sendto(wire.down(request), ("127.0.0.1", port))
            honest = await count(client, 1.0)
            return stolen, forged, honest
        finally:
            client.close()
            other.close()
            server.close()

    stolen, forged, honest = asyncio.run(scenario())
    assert stolen == 0 and forged == 0
    assert honest == int(500 * 1000 * 0.4 / ((1200 + 28) * 8))  # the whole train, 20


def test_server_memory_is_bounded_against_a_client_that_never_stops() -> None:
    """handle() fed directly (a recording stand-in for the UDP transport: what is under test
    is the bookkeeping, not the socket): one step's datagrams and the number of steps kept
    stop growing at their bounds."""
    from trtcdetect.server import capacity as server

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def sendto(self, data: bytes, addr: object = None) -> None:
            self.sent.append(data)

    capacity, transport, addr = server.CapacityServer(), Recorder(), ("192.0.2.9", 5000)
    capacity.handle(wire.hello(b"n" * 8), addr, transport, None)  # type: ignore[arg-type]
    _, cookie, _ = wire.read_welcome(transport.sent[-1])
    for seq in range(server.MAX_TALLY_DATAGRAMS + 50):
        capacity.handle(wire.up(cookie, b"s" * 8, 0, seq, 0, 64), addr, transport, None)  # type: ignore[arg-type]
    capacity.handle(wire.report(cookie, b"s" * 8, 0, b"r" * 8), addr, transport, None)  # type: ignore[arg-type]
    _, figures = wire.read_tally(transport.sent[-1])
    assert figures["count"] == server.MAX_TALLY_DATAGRAMS
    for step in range(server.MAX_TALLIES + 40):
        capacity.handle(wire.up(cookie, b"t" * 8, step, 0, 0, 64), addr, transport, None)  # type: ignore[arg-type]
    # one address is held to its own share of the tallies ...
    assert len(capacity._tallies) == server.MAX_TALLIES_PER_ADDRESS
    # ... and many addresses to the bound of them all
    for n in range(server.MAX_TALLIES + 40):
        many = (f"198.18.{n // 250}.{n % 250 + 1}", 5000)
        capacity.handle(wire.hello(b"n" * 8), many, transport, None)  # type: ignore[arg-type]
        _, theirs, _ = wire.read_welcome(transport.sent[-1])
        capacity.handle(wire.up(theirs, b"t" * 8, 0, 0, 0, 64), many, transport, None)  # type: ignore[arg-type]
    assert len(capacity._tallies) == server.MAX_TALLIES


def test_arrival_rate_leaves_out_a_shapers_opening_burst() -> None:
    from trtcdetect.net.ramp import arrival_rate

    size = 1228  # IP-level bytes
    gap = size * 8 / 1_000_000  # 1 Mbit/s
    burst = [0.0, 0.0001, 0.0002]  # a bucket's worth at line speed after a quiet spell
    steady = [0.0002 + gap * (i + 1) for i in range(40)]
    rate = arrival_rate(burst + steady, size)
    assert rate is not None and abs(rate - 1000) < 1  # 1,000 kbit/s, not the burst's
    untrimmed = (len(burst + steady) - 1) * size * 8 / steady[-1] / 1000
    assert untrimmed > 1040  # what counting every arrival said
    assert arrival_rate([0.0], size) is None and arrival_rate([], size) is None
