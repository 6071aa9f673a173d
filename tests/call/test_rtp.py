"""The test-call probe: real aiortc calls, locally and across the user-space impaired link,
checked against what the link really did to the packets."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.impair import SERVER_ADDR, ImpairedLink, Impairment, serving_link
from tests.lab import lab_available
from trtcdetect.call.quality import mos
from trtcdetect.call.stats import Series
from trtcdetect.call.stats import kind_details as _kind_details
from trtcdetect.config import Config
from trtcdetect.evidence import MinAvgMax
from trtcdetect.probes.rtp import PROBE
from trtcdetect.report.json import validate

ECHO = f"http://{SERVER_ADDR}:8089/call"
AUDIO_PT = "rtp-96"  # aiortc offers Opus first, as payload type 96 (checked in the test below)


def call(link: ImpairedLink, *args: str) -> tuple[int, dict[str, Any]]:
    proc = link.client_run("--only", "rtp", "--echo-url", ECHO, "--json", "--quiet", *args)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc)
    return proc.returncode, doc["probes"][0]


@pytest.fixture(scope="module")
def link() -> Iterator[ImpairedLink]:
    yield from serving_link("--max-calls", "2", "--max-call-seconds", "20")


def test_local_loopback_call_passes_with_sane_numbers() -> None:
    result = asyncio.run(PROBE.run(Config.of(call_seconds=2)))
    d = result.details
    assert result.status.value == "pass", result.summary
    assert d["mode"] == "local" and d["codecs"]["audio"]["mime_type"] == "audio/opus"
    assert d["codecs"]["video"]["mime_type"] == "video/VP8"
    setup = d["setup"]
    assert setup["ice_gathering_ms"] <= setup["ice_connected_ms"] <= setup["first_media_ms"]
    assert d["audio"]["rtt_ms"]["avg"] < 20  # same process
    assert d["audio"]["uplink_loss_pct"] == 0 and d["audio"]["downlink_loss_pct"] == 0
    assert 40 <= d["audio"]["packets_sent"] / d["media_seconds"] <= 60  # 20 ms Opus packets
    # The tone goes out at -20 dBFS and comes back 3 dB lower (mono upmixed to stereo); the
    # test pattern comes back at about 30 frames a second.
    assert d["received"]["audio_rms_dbfs"] == pytest.approx(-23.0, abs=1.5)
    assert d["received"]["frames"]["video"] >= 20 * d["media_seconds"]
    metrics = {m.name: m.value for m in result.metrics}
    assert set(metrics) >= {"setup", "rtt", "jitter", "loss", "bitrate", "mos"}
    assert metrics["mos"] > 4.0
    # a row a second, and one from the final reports after media stopped
    assert len(d["series"]["t"]) == 3 and len(d["series"]["audio"]["rtt_ms"]) == 3


def test_the_media_window_starts_when_media_first_comes_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The far end echoes nothing for its first 1.5 s (as when its DTLS handshake waits for a
    retransmission on a lossy path: up to 5.6 s after this side connected in the benchmark's
    100 ms / 10 % cell). The call still measures its call_seconds of echoed media; counted
    from the connection, it measured what was left of them (22 packets back instead of 100)."""
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import MediaStreamTrack
    from aiortc.rtcrtpreceiver import RemoteStreamTrack

    class Late(MediaStreamTrack):
        """The far end's echo of one track, silent for the first 1.5 s of what it receives."""

        def __init__(self, inner: MediaStreamTrack) -> None:
            super().__init__()
            self.kind = inner.kind
            self.inner = inner
            self.first: float | None = None

        async def recv(self) -> Any:
            while True:
                frame = await self.inner.recv()
                self.first = self.first or time.monotonic()
                if time.monotonic() - self.first >= 1.5:
                    return frame

    real = RTCPeerConnection.addTrack

    def echoed(track: MediaStreamTrack) -> bool:
        """The echo's own track: what it received, decoded or as encoded frames (passthrough)."""
        return isinstance(track, RemoteStreamTrack) or type(track).__module__.endswith(
            "call.passthrough")

    def add(self: RTCPeerConnection, track: MediaStreamTrack) -> Any:  # the echo's, only
        return real(self, Late(track) if echoed(track) else track)

    monkeypatch.setattr(RTCPeerConnection, "addTrack", add)
    result = asyncio.run(PROBE.run(Config.of(call_seconds=2, audio_only=True)))
    d = result.details
    assert result.status.value == "pass", result.summary
    setup = d["setup"]
    assert setup["first_media_ms"] - setup["dtls_connected_ms"] >= 1400, setup
    assert d["media_seconds"] >= 2.0
    assert d["audio"]["packets_received"] >= 0.8 * 50 * 2, d["audio"]  # 2 s at 50 a second


def test_delay_50_ms_each_way_measures_rtt_100_ms(link: ImpairedLink) -> None:
    link.set(Impairment(delay_ms=50), Impairment(delay_ms=50))
    code, probe = call(link, "--call-seconds", "3", "--audio-only")
    rtt = probe["details"]["audio"]["rtt_ms"]["avg"]
    assert rtt == pytest.approx(100, rel=0.10), rtt
    assert probe["details"]["audio"]["rtt_reports"] >= 1
    # --call-seconds counts from connect: set-up over a 100 ms RTT (signalling, ICE, DTLS:
    # several round trips) does not eat into the media time
    assert probe["details"]["setup"]["first_media_ms"] > 300
    assert probe["details"]["media_seconds"] >= 3.0
    assert probe["details"]["audio"]["packets_sent"] >= 3.0 * 50 * 0.97, probe["details"]  # 20 ms
    assert code == 0 and probe["details"]["mode"] == "echo"
    assert probe["details"]["codecs"]["audio"]["payload_type"] == 96


def test_random_loss_is_measured_as_the_link_dropped_it(link: ImpairedLink) -> None:
    link.set(Impairment(delay_ms=10, loss_pct=5), Impairment(delay_ms=10, loss_pct=5))
    code, probe = call(link, "--call-seconds", "6")
    audio = probe["details"]["audio"]
    counts = link.counts
    up_truth = counts.window_loss_pct("up", AUDIO_PT)
    down_truth = counts.window_loss_pct("down", AUDIO_PT)
    # Within 1.5 percentage points of what the forwarder really dropped, each way.
    assert audio["uplink_loss_pct"] == pytest.approx(up_truth, abs=1.5), (audio, up_truth)
    assert audio["downlink_loss_pct"] == pytest.approx(down_truth, abs=1.5), (audio, down_truth)
    # The audio uplink was counted by the echo peer itself (asked when media stopped). Video
    # under loss has retransmissions (RTX) on a second SSRC, which hides the primary stream in
    # aiortc's public getStats(): its count then comes from the echo peer's receiver reports
    # for the primary SSRC -- the same counter, sent over RTCP -- and is as exact.
    video = probe["details"]["video"]
    assert audio["uplink_counted_by"] == "far end"
    assert video["uplink_counted_by"] == "receiver reports"
    video_pt = f"rtp-{probe['details']['codecs']['video']['payload_type']}"
    video_truth = counts.window_loss_pct("up", video_pt)
    assert video["uplink_loss_pct"] == pytest.approx(video_truth, abs=1.5), (video, video_truth)
    assert 1.5 <= counts.loss_pct("up", video_pt) <= 10
    # ... and the link did inject about the loss asked for (a check on the lab itself).
    assert 1.5 <= counts.loss_pct("up", AUDIO_PT) <= 10
    assert code == 1 and probe["status"] == "warn"  # 5 % is above the 3 % warning limit
    assert "loss" in probe["summary"]


def test_an_outage_of_the_way_back_is_one_freeze_of_its_length(link: ImpairedLink) -> None:
    """Video truth: the link drops everything on the way back for 1.5 s mid-call. The video
    that came back shows one freeze of about that length (WebRTC's freeze definition), the
    verdict says the video stalled, and the way-back counts are not a stale "lost 0"."""
    link.set(Impairment(delay_ms=10), Impairment(delay_ms=10))
    outage = {}

    def cut() -> None:
        time.sleep(3.0)  # the client starts (~1 s), connects and sends for a while first
        link.set(Impairment(delay_ms=10), Impairment(delay_ms=10, loss_pct=100))
        outage["start"] = time.monotonic()
        time.sleep(1.5)
        link.set(Impairment(delay_ms=10), Impairment(delay_ms=10))
        outage["s"] = time.monotonic() - outage["start"]

    cutter = threading.Thread(target=cut)
    cutter.start()
    code, probe = call(link, "--call-seconds", "6")
    cutter.join()
    video = probe["details"]["received"]["video"]
    assert video["freezes"] >= 1, video
    # the freeze lasts the outage, plus up to a round trip and a key frame to recover
    assert outage["s"] - 0.2 <= video["frozen_s"] <= outage["s"] + 0.6, (video, outage)
    assert "video that came back stalled" in probe["summary"], probe["summary"]
    assert code in (1, 2)
    down = probe["details"]["video"]
    assert down["packets_received"] is None or down["downlink_packets_lost"] > 0, down


def test_injected_jitter_raises_measured_jitter(link: ImpairedLink) -> None:
    link.set(Impairment(), Impairment())
    _, calm = call(link, "--call-seconds", "3", "--audio-only")
    link.set(Impairment(delay_ms=5, jitter_ms=18), Impairment(delay_ms=5))
    _, shaky = call(link, "--call-seconds", "4", "--audio-only")
    base = calm["details"]["audio"]["jitter_ms"]["avg"]
    jitter = shaky["details"]["audio"]["jitter_ms"]["avg"]
    # Uniform delays over 18 ms give an RFC 3550 jitter of 18/3 = 6 ms on top of the baseline.
    # The estimator averages ~16 packets (gain 1/16); over 4 s of 1 s samples its spread is
    # about 15 %, so +-40 % is a bound that holds and still tells 6 ms from 0 or from 18.
    assert jitter - base == pytest.approx(6.0, rel=0.40), (base, jitter)


def test_each_receiver_reports_rtt_is_recovered_from_aiortcs_smoothed_value() -> None:
    """aiortc smooths RTT (new = a * old + (1 - a) * sample); reading it after every report,
    the probe recovers each report's own RTT, so the call's RTT is their mean and not, as the
    smoothed value is, mostly the first report's."""
    from aiortc.rtcrtpsender import RTT_ALPHA

    from trtcdetect.call.stats import KindStats
    from trtcdetect.call.stats import rtt_sample as _rtt_sample

    reports = [30.0, 10.0, 20.0, 12.0, 28.0]
    entry, smoothed = KindStats("audio"), None
    for rtt in reports:
        smoothed = rtt if smoothed is None else RTT_ALPHA * smoothed + (1 - RTT_ALPHA) * rtt
        _rtt_sample(entry, smoothed)
        _rtt_sample(entry, smoothed)  # read again before the next report: no new sample
    assert entry.rtt_samples == pytest.approx(reports)
    assert smoothed is not None and smoothed > 24  # what aiortc itself would say: the first
    result = _kind_details(entry, Series()).rtt_ms
    assert result == MinAvgMax(min=10.0, avg=20.0, max=30.0)


def test_a_busy_far_end_is_asked_again_until_two_answers_agree() -> None:
    """A scripted far end stands in here: no lab makes a real echo peer slow to read its
    socket on demand. It reads more packets between the first answers, then settles."""
    from trtcdetect.call.signalling import ask_until_stable

    def far(answers: list[Any]) -> tuple[list[float], Any]:
        asked: list[float] = []

        async def ask() -> Any:
            asked.append(time.monotonic())
            return answers[min(len(asked), len(answers)) - 1]

        return asked, ask

    def counts(n: int) -> list[dict[str, Any]]:
        return [{"kind": "audio", "ssrc": 1, "packets_received": n, "packets_lost": 250 - n}]

    asked, ask = far([counts(180), counts(240), counts(250), counts(250)])
    assert asyncio.run(ask_until_stable(ask, 0.01, 5.0)) == counts(250)
    assert len(asked) == 4  # the third answer still differed from the second
    asked, ask = far([None])  # a far end that cannot say: one question, then receiver reports
    assert asyncio.run(ask_until_stable(ask, 0.01, 5.0)) is None and len(asked) == 1
    asked, ask = far([counts(n) for n in range(1000)])  # never settles: the limit ends it
    started = time.monotonic()
    assert asyncio.run(ask_until_stable(ask, 0.05, 0.3)) is not None
    assert time.monotonic() - started < 0.6 and 4 <= len(asked) <= 8


def test_blocked_path_fails_inside_the_deadline(link: ImpairedLink) -> None:
    link.set(Impairment(loss_pct=100), Impairment(loss_pct=100))
    start = time.monotonic()
    code, probe = call(link, "--connect-deadline", "3", "--timeout", "1")
    assert time.monotonic() - start < 10
    assert code == 2 and probe["status"] == "fail"
    # Signalling is plain HTTP over the same link, so it is the first thing to fail here.
    assert probe["details"]["failed_stage"] == "signalling"
    assert probe["advice_ids"][0]["id"] == "call-no-connect"


def test_udp_blocked_fails_at_ice_with_could_not_connect(link: ImpairedLink) -> None:
    link.set(Impairment(), Impairment())
    from tests.lab import run

    run(["ip", "netns", "exec", link.server, "nft", "-f", "-"], input=(
        "table inet block {\n chain input {\n  type filter hook input priority 0;\n"
        "  meta l4proto udp drop\n }\n}\n"))
    try:
        start = time.monotonic()
        code, probe = call(link, "--connect-deadline", "3")
        elapsed = time.monotonic() - start
    finally:
        run(["ip", "netns", "exec", link.server, "nft", "delete", "table", "inet", "block"])
    assert code == 2 and probe["summary"] == "could not connect: ICE not done within 3 s"
    assert probe["details"]["failed_stage"] == "ICE"
    assert elapsed < 8, elapsed  # our deadline, not aiortc's ~60 s


def test_echo_peer_without_a_received_url_falls_back_to_receiver_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An echo peer that only answers offers (as an older serve did): the uplink loss then
    comes from RTCP receiver reports, waited for after media stops. Those late reports give no
    RTT: once media stops aiortc's sender reports all carry the same stamp, and an answer to an
    older one would be taken for an answer to the newest."""
    from aiohttp import web

    from trtcdetect.call import media as rtp_media
    from trtcdetect.call import stats as rtp

    events: list[str] = []
    sample, pause = rtp.rtt_sample, rtp_media.pause

    def noted_sample(entry: Any, smoothed: float) -> None:
        events.append("rtt")
        sample(entry, smoothed)

    def noted_pause(*tracks: Any) -> None:
        events.append("pause")
        pause(*tracks)

    monkeypatch.setattr(rtp, "rtt_sample", noted_sample)
    monkeypatch.setattr(rtp_media, "pause", noted_pause)

    from tests.lab import free_port
    from trtcdetect.call.echo import EchoPeer

    async def scenario() -> dict[str, Any]:
        echo = EchoPeer(max_calls=1)

        async def offer(request: web.Request) -> web.Response:
            body = await request.json()
            answer = await echo.answer(body["sdp"], body["type"])
            return web.json_response({"sdp": answer.sdp, "type": answer.type})

        app = web.Application()
        app.router.add_post("/call", offer)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            config = Config.of(echo_url=f"http://127.0.0.1:{port}/call", call_seconds=2,
                               audio_only=True)
            return (await PROBE.run(config)).details
        finally:
            await echo.close()
            await runner.cleanup()

    details = asyncio.run(scenario())
    audio = details["audio"]
    assert details["mode"] == "echo"
    assert audio["uplink_counted_by"] == "receiver reports", audio
    assert audio["uplink_loss_pct"] == 0 and audio["uplink_packets_lost"] == 0
    assert audio["rtt_ms"] is not None
    # RTT was read while media flowed, never after; the wait for the final receiver report
    # (which the loss needs) happened after the pause
    assert "rtt" in events and events[-1] == "pause", events


def test_echo_peer_tells_what_it_received_to_its_caller_only() -> None:
    """GET /call/ID/received: the token is asked for, an unknown call is 404, and the counts
    are those of the caller's streams (SSRC, packets) while the call runs."""
    import httpx
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from tests.lab import free_port
    from trtcdetect.call.media import ToneTrack
    from trtcdetect.server.app import ServeConfig, serve

    async def scenario() -> None:
        port = free_port()
        stop, ready = asyncio.Event(), asyncio.Event()
        server = asyncio.create_task(serve(ServeConfig(
            bind="127.0.0.1", tcp_ports=(), udp_ports=(), https_port=0, http_port=port,
            token="s3cret"), stop, ready))
        await asyncio.wait_for(ready.wait(), 10)
        pc = RTCPeerConnection()
        track = ToneTrack()
        pc.addTrack(track)
        auth = {"Authorization": "Bearer s3cret"}
        try:
            await pc.setLocalDescription(await pc.createOffer())
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                answer = (await client.post("/call", headers=auth, json={
                    "sdp": pc.localDescription.sdp, "type": "offer"})).json()
                url = answer["received"]
                assert url.startswith("call/") and url.endswith("/received")
                await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
                await asyncio.sleep(1.5)
                assert (await client.get(url)).status_code == 401
                assert (await client.get("/call/nothing/received", headers=auth)).status_code \
                    == 404
                streams = (await client.get(url, headers=auth)).json()["streams"]
                sent = next(s for s in (await pc.getSenders()[0].getStats()).values()
                            if s.type == "outbound-rtp")
                [audio] = [s for s in streams if s["ssrc"] == sent.ssrc]
                assert audio["kind"] == "audio" and audio["packets_lost"] == 0
                # 1.5 s of 20 ms packets, less set-up: what was sent, give or take in flight
                assert 0 <= sent.packetsSent - audio["packets_received"] <= 3, (sent, audio)
                assert audio["packets_received"] >= 40
        finally:
            track.stop()
            await pc.close()
            stop.set()
            await server

    asyncio.run(scenario())


def test_echo_peer_wants_its_token_and_caps_concurrent_calls() -> None:
    reason = lab_available()
    if reason:
        pytest.skip(reason)
    import subprocess
    import sys

    with ImpairedLink() as link:
        # the lab's plain HTTP on a namespace's address: the token in clear is said on purpose
        link.serve_echo("--token", "s3cret", "--max-calls", "1", "--max-call-seconds", "30",
                        "--plain-http-token")
        code, probe = call(link, "--call-seconds", "1")
        assert code == 2 and "HTTP 401" in probe["summary"]
        # One call holds the only slot for 4 s; a second caller meanwhile is turned away.
        first = link.spawn(link.client, [
            sys.executable, "-m", "trtcdetect", "--only", "rtp", "--echo-url", ECHO,
            "--echo-token", "s3cret", "--json", "--quiet", "--call-seconds", "4",
            "--audio-only"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2.0)
        code, probe = call(link, "--call-seconds", "1", "--echo-token", "s3cret")
        assert code == 2 and "HTTP 503" in probe["summary"], probe["summary"]
        out, _ = first.communicate(timeout=30)
        assert first.returncode == 0, out
        assert json.loads(out)["probes"][0]["status"] == "pass"


def test_five_calls_in_one_process_leak_no_fds_or_threads() -> None:
    """One descriptor or thread left per call shows after any number of calls: five (twenty
    before) keep the suite's time down and still repeat every step five times."""
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def calls(n: int) -> None:
        for _ in range(n):
            result = await PROBE.run(Config.of(call_seconds=0.5, audio_only=True))
            # Half a second is too short to be sure of an RTT (RTCP every 0.5-1.5 s): the
            # call must connect and carry media; its quality verdict is not the point here.
            assert result.status.value in ("pass", "warn"), result.summary
            assert result.details["audio"]["packets_sent"] > 0

    asyncio.run(calls(1))  # warm up: imports, codec libraries, the default executor
    fds_before, threads_before = fds(), threading.active_count()
    asyncio.run(calls(5))
    time.sleep(0.5)
    assert fds() <= fds_before, (fds_before, fds())
    assert threading.active_count() <= threads_before


def test_emodel_reference_points() -> None:
    assert mos(0, 0, 0) == pytest.approx(4.41, abs=0.02)  # R = 93.2 - 0.48 (20 ms packetisation)
    assert mos(300, 10, 0) > mos(600, 10, 0) > 1
    assert mos(50, 5, 5) < mos(50, 5, 1) < mos(50, 5, 0)
    assert 2.5 < mos(100, 10, 5) < 4.0


def test_the_call_asks_no_third_party_stun_server(link: ImpairedLink) -> None:
    """aiortc's default configuration gathers through Google's STUN server: every test call
    looked up stun.l.google.com (and would have sent it a request). The call, and the echo
    peer of a loopback call, use no ICE server now; a DNS listener in the client namespace
    hears no query during either call."""
    link.set(Impairment(), Impairment())
    with link.dns_heard(link.client) as heard:
        _, probe = call(link, "--audio-only", "--call-seconds", "1")
        assert probe["status"] == "pass", probe["summary"]
        # and the default, a loopback call to an echo peer in the same process
        loopback = link.client_run("--only", "rtp", "--audio-only", "--call-seconds", "1",
                                   "--json", "--quiet")
        local = json.loads(loopback.stdout)["probes"][0]
        assert local["status"] == "pass" and local["details"]["mode"] == "local", local
    assert heard == [], heard


def test_the_echo_skips_a_lost_packet_instead_of_stalling() -> None:
    """The echo's audio buffer, fed 40 Opus-sized packets with every tenth lost and two swapped:
    one frame out for each packet in (less the 4 it holds back), in sequence order, the lost
    ones skipped; a packet older than one released is dropped. (aiortc 1.16's own buffer,
    fed the same, released 11 of 36: it stops at the first gap until its 16 slots overflow.)"""
    from aiortc.rtp import RtpPacket

    from trtcdetect.call.jitter import SkippingAudioBuffer

    buffer = SkippingAudioBuffer(capacity=16, prefetch=4)
    order = [s for s in range(40) if s % 10 != 5]
    order[20], order[21] = order[21], order[20]  # reordered on the way, within the prefetch
    released = []
    for seq in order:
        packet = RtpPacket(payload_type=96, sequence_number=(65530 + seq) % 65536,
                           timestamp=seq * 960, payload=bytes([seq]))
        picture_loss, frame = buffer.add(packet)
        assert picture_loss is False
        if frame is not None:
            released.append(frame.data[0])
    assert released == [s for s in range(40) if s % 10 != 5][:-4]
    late = RtpPacket(payload_type=96, sequence_number=(65530 + 15) % 65536, timestamp=0)
    assert buffer.add(late) == (False, None)


def test_the_echo_sends_back_what_reached_it_on_a_lossy_way_out(link: ImpairedLink) -> None:
    """10 % loss on the way to serve's echo, none back, no jitter: the echo sends back a packet
    for each that reached it (with aiortc's own buffer it sent about half, 82-83 of 144-146, in
    bursts that read as 18-38 ms of downlink jitter on a link with none: 2026-12-01). What the
    echo sends after this side stops counting is not counted: run alone (`pytest -k
    lossy_way_out`, 4 runs, 2026-12-02) the test got back 140-143 of 144-147, and once in the
    full suite 146 of 198 (the echo about a second behind on a busy machine), so the bound is
    70 %, well above aiortc's 57 %."""
    link.set(Impairment(loss_pct=10), Impairment())
    _, probe = call(link, "--audio-only", "--call-seconds", "3")
    reached = link.counts.forwarded[("up", AUDIO_PT)]
    audio = probe["details"]["audio"]
    assert audio["packets_received"] >= 0.7 * reached, (audio, reached)
    assert audio["downlink_jitter_ms"]["avg"] < 15, audio["downlink_jitter_ms"]


def test_echoes_answering_at_once_leave_aiortc_as_it_was() -> None:
    """serve answers calls concurrently: two echoes creating receivers at once (nested, as
    their awaits interleave) both get the buffer, and aiortc's own comes back after the last."""
    import aiortc.rtcrtpreceiver as receiver_module

    from trtcdetect.call.jitter import SkippingAudioBuffer, skipping_lost_audio

    original = receiver_module.JitterBuffer  # type: ignore[attr-defined]
    first, second = skipping_lost_audio(), skipping_lost_audio()
    assert first.__enter__() is True
    assert second.__enter__() is True
    assert isinstance(receiver_module.JitterBuffer(16, prefetch=4),  # type: ignore[attr-defined]
                      SkippingAudioBuffer)
    first.__exit__(None, None, None)
    assert isinstance(receiver_module.JitterBuffer(16, prefetch=4),  # type: ignore[attr-defined]
                      SkippingAudioBuffer)  # the second is still creating its receivers
    second.__exit__(None, None, None)
    assert receiver_module.JitterBuffer is original  # type: ignore[attr-defined]
    video = receiver_module.JitterBuffer(512, is_video=True)  # type: ignore[attr-defined]
    assert not isinstance(video, SkippingAudioBuffer)
