"""The microphone probe through real PortAudio (sounddevice) on a PulseAudio virtual source.

A user-space PulseAudio with a null sink is started per module; its monitor is the default
source, and `paplay` plays generated tones into the sink. The probe runs as the real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.media import write_tone
from trtcdetect.report.json import validate

PA_CONFIG = """\
load-module module-native-protocol-unix
load-module module-null-sink sink_name=vsink rate=48000
set-default-sink vsink
set-default-source vsink.monitor
"""


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        pytest.skip("pulseaudio and paplay are needed for the virtual microphone")
    home = tmp_path_factory.mktemp("pulse")
    (home / "default.pa").write_text(PA_CONFIG)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(home), "HOME": str(home)}
    env.pop("PULSE_SERVER", None)
    server = subprocess.Popen(
        ["pulseaudio", "-n", "-F", str(home / "default.pa"), "--daemonize=no",
         "--exit-idle-time=-1", "--disable-shm=yes"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (home / "pulse" / "native").exists():
        assert server.poll() is None and time.monotonic() < deadline, "pulseaudio did not start"
        time.sleep(0.05)
    try:
        yield env
    finally:
        server.terminate()
        server.wait(10)


def microphone(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "microphone", "--json",
                           "--quiet", "--mic-seconds", "1.5", *args],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc)
    return proc.returncode, doc["probes"][0]


def play(env: dict[str, str], wav: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["paplay", "-d", "vsink", str(wav)], env=env)


def test_known_sine_is_measured_within_1_db(pulse: dict[str, str], tmp_path: Path) -> None:
    player = play(pulse, write_tone(tmp_path / "sine.wav", "sine", amplitude=0.5))
    try:
        code, probe = microphone(pulse, "--output", str(tmp_path / "out"))
    finally:
        player.terminate()
        player.wait()
    capture = probe["details"]["capture"]
    assert code == 0 and probe["status"] == "pass", probe
    # A 0.5-amplitude sine has RMS 0.5/sqrt(2) = -9.03 dBFS and peak 0.5 = -6.02 dBFS.
    assert capture["rms_dbfs"] == pytest.approx(-9.03, abs=1.0)
    assert capture["peak_dbfs"] == pytest.approx(-6.02, abs=1.0)
    assert capture["sample_rate"] == 48000 and capture["silent"] is False
    assert capture["clipped_samples"] == 0
    assert capture["channels_with_signal"] == list(range(capture["channels"]))
    series = capture["level_series"]["dbfs"]
    assert len(series) == pytest.approx(15, abs=1)  # 1.5 s in 100 ms steps
    assert all(abs(level + 9.03) < 1.5 for level in series)
    (page,) = (tmp_path / "out").glob("*.html")
    assert page.read_text().count("<polyline") == 1  # the level-over-time chart
    names = {d["name"] for d in probe["details"]["devices"]}
    assert "pulse" in names and probe["details"]["device"]["name"] in names


def test_nothing_playing_is_silent_and_fails(pulse: dict[str, str]) -> None:
    code, probe = microphone(pulse)
    assert code == 2 and probe["status"] == "fail"
    assert probe["details"]["capture"]["silent"] is True
    assert "silent" in probe["summary"] and probe["advice_ids"][0]["id"] == "mic-silent"


def test_full_scale_square_wave_clips_and_warns(pulse: dict[str, str], tmp_path: Path) -> None:
    player = play(pulse, write_tone(tmp_path / "square.wav", "square", amplitude=1.0))
    try:
        code, probe = microphone(pulse)
    finally:
        player.terminate()
        player.wait()
    capture = probe["details"]["capture"]
    assert code == 1 and probe["status"] == "warn", probe
    assert capture["clipped_samples"] > 1000
    assert capture["peak_dbfs"] > -0.5
    assert "clips" in probe["summary"]


def test_choosing_a_device_by_name_and_an_unknown_one(pulse: dict[str, str]) -> None:
    _, probe = microphone(pulse, "--mic", "pulse")
    assert probe["details"]["device"]["name"] == "pulse"
    code, probe = microphone(pulse, "--mic", "no-such-microphone", "--require-devices")
    assert code == 2 and "no input device matches 'no-such-microphone'" in probe["summary"]


def test_no_sound_server_means_no_microphone(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path),
           "PULSE_SERVER": f"unix:{tmp_path}/none"}
    code, probe = microphone(env)
    assert code == 0 and probe["status"] == "skip"
    assert probe["summary"] == "no microphone (input device) found"
    code, probe = microphone(env, "--require-devices")
    assert code == 2 and probe["status"] == "fail"


def test_portaudio_missing_names_the_package(tmp_path: Path) -> None:
    """A stand-in: PortAudio cannot be removed from this machine for one test, so a module
    shadowing sounddevice raises what sounddevice raises when libportaudio2 is absent."""
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    code, probe = microphone(env)
    assert code == 0 and probe["status"] == "skip"
    assert "PortAudio is not installed" in probe["summary"]
    assert "apt-get install libportaudio2" in probe["advice"][0]


def test_test_call_sends_the_working_microphone(pulse: dict[str, str], tmp_path: Path) -> None:
    """The call carries the real capture: the tone played into the virtual source comes back
    through Opus at its level, less the 3 dB of the mono-to-stereo upmix (libswresample puts a
    mono channel into left and right at -3 dB each)."""
    player = play(pulse, write_tone(tmp_path / "sine.wav", "sine", amplitude=0.5))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "trtcdetect", "--only", "microphone,rtp", "--json", "--quiet",
             "--mic-seconds", "1", "--call-seconds", "3", "--audio-only"],
            capture_output=True, text=True, timeout=90, env=pulse)
    finally:
        player.terminate()
        player.wait()
    doc = json.loads(proc.stdout)
    validate(doc)
    mic, call = doc["probes"]
    assert mic["status"] == "pass" and call["status"] == "pass", call["summary"]
    assert call["details"]["media"] == f"microphone {mic['details']['device']['name']!r}"
    assert call["details"]["received"]["audio_rms_dbfs"] == pytest.approx(-9.03 - 3.01, abs=1.5)
