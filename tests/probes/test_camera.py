"""The camera probe through real OpenCV on generated videos.

This machine has no /dev/video* and no v4l2loopback, so the "device" cases use files OpenCV
opens the same way (`--camera PATH`); the default-device path is tested for what it finds here:
nothing, which is skipped, or failed with --require-devices.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.media import write_video
from tests.unprivileged import locked_file, run_as_nobody
from trtcdetect.config import Config
from trtcdetect.probes.camera import PROBE
from trtcdetect.report.json import probe_to_dict


def camera(*args: str) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "camera", "--json",
                           "--quiet", *args], capture_output=True, text=True, timeout=60)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    from trtcdetect.report.json import validate

    validate(doc)
    return proc.returncode, doc["probes"][0]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("videos")
    return {kind: write_video(tmp / f"{kind}.avi", kind) for kind in ("moving", "black", "still")}


def test_moving_pattern_passes_with_the_source_frame_rate(videos: dict[str, Path]) -> None:
    code, probe = camera("--camera", str(videos["moving"]), "--camera-seconds", "2")
    capture = probe["details"]["capture"]
    assert code == 0 and probe["status"] == "pass", probe
    assert capture["fps"] == pytest.approx(30, rel=0.05)  # measured from frame timestamps
    assert (capture["width"], capture["height"]) == (640, 480)
    assert capture["frames"] == pytest.approx(60, abs=4)
    assert capture["black_ratio"] == 0 and capture["frozen_ratio"] == 0
    jpeg = base64.b64decode(capture["snapshot_jpeg_base64"])
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) > 1000  # a real JPEG snapshot


def test_black_video_fails_black(videos: dict[str, Path]) -> None:
    code, probe = camera("--camera", str(videos["black"]), "--camera-seconds", "1")
    assert code == 2 and "black" in probe["summary"]
    assert probe["details"]["capture"]["black_ratio"] == 1.0
    assert probe["advice_ids"][0]["id"] == "camera-black"


def test_still_image_fails_frozen(videos: dict[str, Path]) -> None:
    code, probe = camera("--camera", str(videos["still"]), "--camera-seconds", "1")
    assert code == 2 and "frozen" in probe["summary"]
    assert probe["details"]["capture"]["black_ratio"] == 0.0
    assert probe["details"]["capture"]["frozen_ratio"] == 1.0


def test_noise_free_slow_motion_is_not_frozen(tmp_path: Path) -> None:
    """A still-looking, noise-free picture that does change (a square moving a pixel a frame)
    is a live source; only an exact repeat is frozen. A mean-difference rule called most of
    these frames frozen."""
    slow = write_video(tmp_path / "slow.avi", "slow", seconds=2)
    code, probe = camera("--camera", str(slow), "--camera-seconds", "1")
    capture = probe["details"]["capture"]
    assert capture["frozen_ratio"] == 0.0 and code == 0, (probe["summary"], capture)
    # what the old rule saw: the mean difference of a 160x120 grey copy, frame to frame
    import cv2
    import numpy as np

    cap, small = cv2.VideoCapture(str(slow)), []
    for _ in range(10):
        ok, frame = cap.read()
        assert ok
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        small.append(cv2.resize(grey, (160, 120), interpolation=cv2.INTER_AREA).astype(np.int16))
    cap.release()
    means = [float(np.abs(b - a).mean()) for a, b in zip(small, small[1:], strict=False)]
    assert sum(m < 0.5 for m in means) / len(means) > 1 / 3  # the old rule: frozen


def test_low_resolution_and_frame_rate_warn(tmp_path: Path) -> None:
    small = write_video(tmp_path / "small.avi", "moving", fps=10, size=(320, 240))
    code, probe = camera("--camera", str(small), "--camera-seconds", "1.5")
    assert code == 1 and probe["status"] == "warn"
    # measured from frame timestamps, so 9.9 or 10.1 on a busy machine: both below 15
    assert probe["details"]["capture"]["fps"] == pytest.approx(10, rel=0.05)
    assert re.search(r"\b(9\.\d|10\.\d) fps", probe["summary"]), probe["summary"]
    assert "320x240 instead of 640x480" in probe["summary"]


def test_missing_camera_is_skipped_or_failed_by_rule(tmp_path: Path) -> None:
    code, probe = camera("--camera", str(tmp_path / "nothing-here"))
    assert code == 0 and probe["status"] == "skip" and "no camera" in probe["summary"]
    code, probe = camera("--camera", str(tmp_path / "nothing-here"), "--require-devices")
    assert code == 2 and probe["status"] == "fail"


@pytest.mark.skipif(any(Path("/dev").glob("video*")), reason="this machine has a camera")
def test_no_video_device_on_this_machine_is_skipped() -> None:
    code, probe = camera()
    assert probe["details"]["devices"] == []
    assert code == 0 and probe["status"] == "skip" and probe["summary"] == "no camera found"


def test_a_file_that_is_not_video_cannot_be_opened(tmp_path: Path) -> None:
    not_video = tmp_path / "notes.txt"
    not_video.write_text("not a video")
    code, probe = camera("--camera", str(not_video))
    assert code == 2 and "cannot be opened" in probe["summary"]
    assert probe["advice_ids"][0]["id"] == "camera-busy"


def test_opens_but_delivers_no_frames(videos: dict[str, Path], tmp_path: Path) -> None:
    data = videos["moving"].read_bytes()
    headers_only = tmp_path / "headers-only.avi"
    headers_only.write_bytes(data[: data.find(b"movi") + 4])  # the index of frames, no frames
    code, probe = camera("--camera", str(headers_only), "--camera-seconds", "1")
    assert code == 2 and probe["summary"] == "the camera opened but delivered no frames"


def test_permission_denied_as_an_unprivileged_user(videos: dict[str, Path]) -> None:
    """A real permission check: a forked child drops to `nobody` and runs the probe."""
    import grp  # noqa: F401 - imported before the fork: `nobody` cannot read this Python's files

    def probe_as_nobody() -> str:
        result = asyncio.run(PROBE.run(Config.of(camera=str(locked))))
        return json.dumps(probe_to_dict(result))

    with locked_file("video-locked.avi", videos["moving"].read_bytes()) as locked:
        probe = json.loads(run_as_nobody(probe_as_nobody))
    assert probe["status"] == "fail"
    assert probe["summary"].startswith("permission denied: this user may not read")
    assert "join the group 'root'" in probe["summary"]  # the group that owns the file
    assert probe["advice_ids"][0]["id"] == "camera-permission"


def test_test_call_sends_the_working_camera(videos: dict[str, Path]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trtcdetect", "--only", "camera,rtp", "--json", "--quiet",
         "--camera", str(videos["moving"]), "--camera-seconds", "1", "--call-seconds", "2"],
        capture_output=True, text=True, timeout=90)
    doc = json.loads(proc.stdout)
    camera_probe, call = doc["probes"]
    assert camera_probe["status"] == "pass" and call["status"] in ("pass", "warn")
    assert call["details"]["media"] == f"generated 440 Hz tone and camera {str(videos['moving'])!r}"
    # The generated tone is sent at -20 dBFS and comes back 3 dB lower (mono upmixed to stereo).
    assert call["details"]["received"]["audio_rms_dbfs"] == pytest.approx(-23.0, abs=1.5)
    assert call["details"]["received"]["frames"]["video"] > 30


def test_a_failed_camera_is_not_used_by_the_test_call(videos: dict[str, Path]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trtcdetect", "--only", "camera,rtp", "--json", "--quiet",
         "--camera", str(videos["black"]), "--camera-seconds", "1", "--call-seconds", "1"],
        capture_output=True, text=True, timeout=90)
    _, call = json.loads(proc.stdout)["probes"]
    assert call["details"]["media"] == (
        "generated 440 Hz tone and a moving test pattern (320x240, 30 fps)")
