"""Judge tables for the device probes, the test call and the browsers. Pure: no device, no
network; the observations are what the probes' measure steps return."""

from __future__ import annotations

from typing import Any

import pytest

from trtcdetect.browser.find import BrowserEntry, Installed
from trtcdetect.devices.levels import MicCapture
from trtcdetect.devices.threads import DeviceProblem
from trtcdetect.evidence import read
from trtcdetect.models import Message, Status
from trtcdetect.probes import browsers, camera, microphone, rtp, speaker

MISSING = DeviceProblem("speaker-missing", Message("speaker.none"), missing=True)
CANNOT = DeviceProblem("speaker-cannot-open", Message("speaker.cannot-open", {"error": "busy"}),
                       params={"error": "Device unavailable [PaErrorCode -9985]"})


def playback(**over: Any) -> dict[str, Any]:
    loop = over.pop("loopback", {"heard": True, "level_dbfs": -20.1, "delay_ms": 200.0})
    return {"playback": read(speaker.Playback, {"played": True, "underruns": 0,
                                                "output_latency_ms": 32.0, "loopback": loop,
                                                **over}),
            "loopback_device": "vsink.monitor"}


@pytest.mark.parametrize("observation, status, message, advice", [
    (speaker.SpeakerObservation(no_sound=True), Status.SKIP, "speaker.no-sound", []),
    (speaker.SpeakerObservation(problem=MISSING), Status.SKIP, "speaker.none", ["speaker-missing"]),
    (speaker.SpeakerObservation(problem=MISSING, require_devices=True), Status.FAIL,
     "speaker.none", ["speaker-missing"]),
    (speaker.SpeakerObservation(problem=CANNOT), Status.FAIL, "speaker.cannot-open",
     ["speaker-cannot-open"]),
    (speaker.SpeakerObservation(**playback()), Status.PASS, "speaker.verified", []),
    (speaker.SpeakerObservation(**playback(underruns=2)), Status.WARN, "speaker.underruns",
     ["speaker-underruns"]),
    (speaker.SpeakerObservation(**playback(played=False)), Status.FAIL, "speaker.stalled",
     ["speaker-cannot-open"]),
    (speaker.SpeakerObservation(**playback(loopback={"heard": False})), Status.WARN,
     "speaker.not-verified", ["speaker-check"]),
])
def test_speaker_judge(observation: speaker.SpeakerObservation, status: Status, message: str,
                       advice: list[str]) -> None:
    verdict = speaker.judge(observation)
    assert (verdict.status, verdict.message.id) == (status, message)
    assert [a.id for a in verdict.advice] == advice
    for item in verdict.advice:  # every remedy renders, with its values, in both languages
        assert item.text("en") and item.text("zh")


def test_a_speaker_that_cannot_be_opened_names_the_error_in_its_remedy() -> None:
    (advice,) = speaker.judge(speaker.SpeakerObservation(problem=CANNOT)).advice
    assert "PaErrorCode -9985" in advice.text("en") and "PaErrorCode -9985" in advice.text("zh")


def capture(**over: Any) -> dict[str, Any]:
    """A recording as devices/levels.py describes it (the microphone's evidence type)."""
    return {"sample_rate": 48000, "channels": 1, "rms_dbfs": -20.0, "peak_dbfs": -10.0,
            "noise_floor_dbfs": -70.0, "clipped_samples": 0, "clipped_ratio": 0.0,
            "silent": False, **over}


@pytest.mark.parametrize("evidence, status, message", [
    (capture(), Status.PASS, "mic.ok"),
    (capture(rms_dbfs=-90.0, silent=True), Status.FAIL, "mic.silent"),
    (capture(clipped_samples=500, clipped_ratio=0.01), Status.WARN, "mic.clipping"),
    (capture(rms_dbfs=-55.0), Status.WARN, "mic.low"),
])
def test_microphone_judge(evidence: dict[str, Any], status: Status, message: str) -> None:
    verdict = microphone.judge(microphone.MicObservation(capture=read(MicCapture, evidence)))
    assert (verdict.status, verdict.message.id) == (status, message)
    assert {m.name for m in verdict.metrics} >= {"rms", "peak", "noise_floor"}


def test_microphone_problems_follow_the_missing_device_rule() -> None:
    missing = DeviceProblem("mic-missing", Message("mic.none"), missing=True)
    assert microphone.judge(microphone.MicObservation(problem=missing)).status is Status.SKIP
    verdict = microphone.judge(microphone.MicObservation(problem=missing, require_devices=True))
    assert verdict.status is Status.FAIL
    assert [a.id for a in verdict.advice] == ["mic-missing", "upgrade-trtccalling"]


def frames(**over: Any) -> dict[str, Any]:
    return {"width": 640, "height": 480, "requested_width": 640, "requested_height": 480,
            "fps": 30.0, "frames": 90, "black_ratio": 0.0, "frozen_ratio": 0.0, **over}


@pytest.mark.parametrize("evidence, status, message", [
    (frames(), Status.PASS, "camera.ok"),
    (frames(black_ratio=0.9), Status.FAIL, "camera.black"),
    (frames(frozen_ratio=0.6), Status.FAIL, "camera.frozen"),
    (frames(fps=9.0), Status.WARN, "camera.degraded"),
    (frames(width=320, height=240), Status.WARN, "camera.degraded"),
])
def test_camera_judge(evidence: dict[str, Any], status: Status, message: str) -> None:
    verdict = camera.judge(camera.CameraObservation(capture=read(camera.CameraCapture, evidence)))
    assert (verdict.status, verdict.message.id) == (status, message)


def call(rtt: float | None, jitter: float, loss: float) -> dict[str, Any]:
    audio = {"packets_sent": 250, "uplink_loss_pct": loss, "downlink_loss_pct": 0.0,
             "rtt_ms": None if rtt is None else {"min": rtt, "avg": rtt, "max": rtt},
             "jitter_ms": {"min": jitter, "avg": jitter, "max": jitter},
             "bitrate_kbps": {"min": 40.0, "avg": 40.0, "max": 40.0}}
    return {"mode": "echo", "audio": audio, "setup": {"first_media_ms": 120.0}}


@pytest.mark.parametrize("evidence, status, message", [
    (call(20.0, 2.0, 0.0), Status.PASS, "call.ok"),
    ({**call(20.0, 2.0, 0.0), "mode": "local"}, Status.PASS, "call.ok-local"),
    (call(20.0, 2.0, 5.0), Status.WARN, "call.degraded"),
    (call(500.0, 2.0, 0.0), Status.WARN, "call.degraded"),
    (call(20.0, 40.0, 0.0), Status.WARN, "call.degraded"),
    (call(800.0, 60.0, 30.0), Status.FAIL, "call.poor"),
    (call(None, 2.0, 0.0), Status.WARN, "call.no-rtcp"),
])
def test_rtp_judge(evidence: dict[str, Any], status: Status, message: str) -> None:
    verdict = rtp.judge(rtp.RtpObservation(read(rtp.RtpDetails, evidence)))
    assert (verdict.status, verdict.message.id) == (status, message)


def browser(family: str, binary: str, version: str) -> BrowserEntry:
    return browsers.judge_one(Installed(family=family, binary=binary, path=f"/usr/bin/{binary}",
                                        version_text=version))


CHROMIUM = browser("chrome", "chromium", "Chromium 120.0.6099.224 built on Debian")
OLD_FIREFOX = browser("firefox", "firefox", "Mozilla Firefox 52.0")


def call(report: dict[str, Any]) -> browsers.WebrtcCall:
    """The --browser-webrtc call as the page reports it (browser/static/webrtc.html)."""
    return read(browsers.WebrtcCall, report)


@pytest.mark.parametrize("observation, status, message, advice", [
    (browsers.BrowsersObservation(()), Status.SKIP, "browsers.none", ["browser-install"]),
    (browsers.BrowsersObservation((CHROMIUM,)), Status.PASS, "browsers.ok", []),
    (browsers.BrowsersObservation((CHROMIUM, OLD_FIREFOX)), Status.WARN, "browsers.some-old",
     ["browser-upgrade"]),
    (browsers.BrowsersObservation((OLD_FIREFOX,)), Status.FAIL, "browsers.none-supported",
     ["browser-upgrade"]),
    (browsers.BrowsersObservation((CHROMIUM,), call({"browser": "/usr/bin/chromium",
                                                "connected": True}), True),
     Status.PASS, "browsers.webrtc-ok", []),
    (browsers.BrowsersObservation((CHROMIUM,), call({"browser": "/usr/bin/chromium",
                                                "connected": False, "stage": "ice",
                                                "error": "timeout"}), True),
     Status.FAIL, "browsers.webrtc-failed", ["call-no-connect"]),
    # the browser never loaded the local page (or never started): not the network's doing
    (browsers.BrowsersObservation((CHROMIUM,), call({"browser": "/usr/bin/chromium",
                                                "connected": False, "stage": "page",
                                                "error": "the browser did not load "
                                                         "trtcdetect's local page"}), True),
     Status.WARN, "browsers.webrtc-not-run", []),
    (browsers.BrowsersObservation((CHROMIUM,), call({"error": "--browser-webrtc needs "
                                                              "--echo-url"}), True),
     Status.WARN, "browsers.ok", []),
])
def test_browsers_judge(observation: browsers.BrowsersObservation, status: Status, message: str,
                        advice: list[str]) -> None:
    verdict = browsers.judge(observation)
    assert (verdict.status, verdict.message.id) == (status, message)
    assert [a.id for a in verdict.advice] == advice
