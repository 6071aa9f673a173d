"""The test call's video truth as tables: freezes by WebRTC's definition, and the judge."""

from __future__ import annotations

import pytest

from trtcdetect.call.quality import video_freezes
from trtcdetect.call.session import Received, VideoBack
from trtcdetect.call.stats import KindStats, Series, kind_details
from trtcdetect.models import Message
from trtcdetect.probes.rtp import stalled_video
from trtcdetect.text.ids import S


def steady(fps: float, seconds: float, start: float = 0.0) -> list[float]:
    return [start + i / fps for i in range(int(fps * seconds))]


@pytest.mark.parametrize("name, arrivals, until, freezes, frozen_s", [
    ("30 fps throughout", steady(30, 5), 5.0, 0, 0.0),
    ("a 1 s gap", steady(30, 2) + steady(30, 2, start=3.0), 5.0, 1, 1.0),
    ("stops for good after 2 s", steady(30, 2), 5.0, 1, 3.033),
    ("a 120 ms hiccup at 30 fps is not a freeze (< average + 150 ms)",
     steady(30, 2) + steady(30, 2, start=2.12), 4.1, 0, 0.0),
    ("no video at all", [], 5.0, 0, 0.0),
])
def test_freezes_follow_webrtcs_definition(name: str, arrivals: list[float], until: float,
                                          freezes: int, frozen_s: float) -> None:
    count, total = video_freezes(arrivals, until)
    assert count == freezes, name
    assert total == pytest.approx(frozen_s, abs=0.05), name


@pytest.mark.parametrize("video, stalled", [
    ({"fps": 29.6, "freezes": 0, "frozen_s": 0.0, "frozen_share": 0.0}, False),
    ({"fps": 6.0, "freezes": 0, "frozen_s": 0.0, "frozen_share": 0.0}, True),  # slide show
    ({"fps": 29.7, "freezes": 1, "frozen_s": 1.56, "frozen_share": 0.26}, True),
    ({"fps": 28.0, "freezes": 1, "frozen_s": 0.3, "frozen_share": 0.06}, False),
])
def test_stalled_video_is_judged_by_frames_and_freezes(video: dict[str, float],
                                                       stalled: bool) -> None:
    message = stalled_video(Received(video=VideoBack(**video)))
    assert (message is not None) is stalled
    if message is not None:
        assert "stalled" in message.text("en") and message.text("zh")
    assert stalled_video(Received()) is None  # audio-only call


def test_counts_hidden_by_retransmissions_are_unknown_not_stale() -> None:
    """Once an RTX stream hides the primary stream in getStats(), its counts stop where they
    were: they must read as unknown, not as "received 6, lost 0"."""
    k = KindStats("video", received=6, lost_down=0, down_hidden=True)
    details = kind_details(k, Series())
    assert details.packets_received is None and details.downlink_loss_pct is None
    assert details.downlink_counted == "hidden by retransmissions"
    shown = kind_details(KindStats("video", received=600, lost_down=6), Series())
    assert shown.downlink_loss_pct == pytest.approx(0.99, abs=0.01)


@pytest.mark.parametrize("stage, message, remedy", [
    ("ICE", Message(S.CALL_NO_LOCAL_ADDRESS, {"which": "-6"}), "local-options-left-nothing"),
    ("ICE", Message(S.CALL_NO_CONNECT, {"stage": "ICE", "how": "failed"}), "call-no-connect"),
    ("network", Message(S.CALL_NO_NETWORK), "no-network"),
])
def test_a_call_that_could_not_start_is_blamed_on_the_right_party(
        stage: str, message: Message, remedy: str) -> None:
    """-6 on a machine without IPv6 left the call no address: the options, not a firewall."""
    from trtcdetect.call.signalling import CallFailed
    from trtcdetect.probes.rtp import RtpObservation, judge

    verdict = judge(RtpObservation(failure=CallFailed(stage, message)))
    assert verdict.status.value == "fail"
    assert [a.id for a in verdict.advice] == [remedy]


def audio(rtt: float, jitter: float, up: float, down: float) -> dict[str, object]:
    """A call's audio figures in the shape kind_details gives them."""
    return {"packets_sent": 250, "uplink_loss_pct": up, "downlink_loss_pct": down,
            "rtt_ms": {"min": rtt, "avg": rtt, "max": rtt},
            "jitter_ms": {"min": jitter, "avg": jitter, "max": jitter}, "bitrate_kbps": None}


def test_a_direct_call_that_failed_and_a_relayed_one_that_worked_is_a_warning() -> None:
    """serve --turn: the direct call failed at ICE, the one over TCP through the relay worked.
    A warning with the relayed call's figures and who can open UDP; no relay answered -- or the
    relayed call failed too -- leaves the failure as it was."""
    from trtcdetect.call.signalling import CallFailed
    from trtcdetect.evidence import read
    from trtcdetect.probes.rtp import RtpDetails, RtpObservation, judge

    failed = CallFailed("ICE", Message(S.CALL_NO_CONNECT, {"stage": "ICE", "how": "failed"}))
    relayed = {"via": "TURN over TCP", "server": "192.0.2.9:3478",
               "audio": audio(48.0, 3.0, 0.0, 1.5)}
    verdict = judge(RtpObservation(read(RtpDetails, {"mode": "echo", "failed_stage": "ICE",
                                                     "fallback": relayed}), failed))
    assert verdict.status.value == "warn" and [a.id for a in verdict.advice] == ["call-fallback"]
    text = verdict.message.text("en")
    assert "over TCP through the relay at 192.0.2.9:3478 it works: RTT 48 ms" in text
    assert "loss 1.5 %" in text and verdict.message.text("zh").startswith("直连通话失败")
    assert {m.name: m.value for m in verdict.metrics}["fallback_rtt"] == 48.0
    for fallback in (None, {"via": "TURN over TCP", "server": "192.0.2.9:3478",
                            "failed_stage": "ICE"}):
        verdict = judge(RtpObservation(read(RtpDetails, {"mode": "echo", "fallback": fallback}),
                                       failed))
        assert verdict.status.value == "fail" and verdict.advice[0].id == "call-no-connect"
