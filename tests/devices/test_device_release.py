"""Devices are released when a run is interrupted mid-capture (real OpenCV, real PulseAudio)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from tests.media import write_video
from tests.probes.test_microphone import pulse  # noqa: F401 - the fixture
from trtcdetect import runner
from trtcdetect.config import Config
from trtcdetect.probes.camera import PROBE as CAMERA


def open_fds_to(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            pass
    return count


def test_interrupted_camera_capture_releases_the_device(tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.avi", "moving", seconds=2)
    threads_before = threading.active_count()

    async def go() -> runner.RunReport:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, stop.set)
        opened = []
        loop.call_later(0.3, lambda: opened.append(open_fds_to(video)))
        report = await runner.run(Config.of(camera=str(video), camera_seconds=20), [CAMERA], stop=stop)
        assert opened == [1], "the capture had the file open while running"
        return report

    start = time.monotonic()
    report = asyncio.run(go())
    assert time.monotonic() - start < 1.5
    assert report.probes[0].error == "interrupted"
    assert open_fds_to(video) == 0  # released
    deadline = time.monotonic() + 2
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= threads_before  # the capture thread ended


def test_interrupted_microphone_capture_closes_the_stream(pulse: dict[str, str]) -> None:  # noqa: F811
    # In a fresh process, so PortAudio starts up with this PulseAudio's environment.
    script = textwrap.dedent("""
        import asyncio, subprocess
        from trtcdetect import runner
        from trtcdetect.config import Config
        from trtcdetect.probes.microphone import PROBE

        def recording():
            out = subprocess.run(["pactl", "list", "short", "source-outputs"],
                                 capture_output=True, text=True).stdout
            return len(out.strip().splitlines())

        async def go():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            seen = []
            loop.call_later(2.5, lambda: seen.append(recording()))
            loop.call_later(3.0, stop.set)
            report = await runner.run(Config.of(mic_seconds=30), [PROBE], stop=stop)
            # The run returns once the thread has closed the stream; PulseAudio drops the
            # source-output from its list a moment later, on its own connection.
            for _ in range(20):
                if recording() == 0:
                    break
                await asyncio.sleep(0.1)
            print(seen[0], recording(), report.probes[0].error)

        asyncio.run(go())
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=pulse, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    during, after, error = proc.stdout.split(maxsplit=2)
    assert during == "1", "the probe was recording from the virtual source"
    assert after == "0", "the stream was closed after the interruption"
    assert error.strip() == "interrupted"


STUCK_PCM = """\
# A capture device whose reads block for ever: ALSA's file plugin reads its samples from a FIFO
# that has a writer but never gets data. PortAudio then waits on that read even to stop.
pcm.stuck {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{fifo}"
    format "raw"
}}
"""


def stuck_device(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The FIFO behind the `stuck` device, and an environment whose ALSA configuration has it."""
    home = tmp_path / "home"
    home.mkdir()
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    (home / ".asoundrc").write_text(STUCK_PCM.format(fifo=fifo))
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    env.pop("PULSE_SERVER", None)
    return fifo, env


def trtcdetect(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """A whole run in a fresh process, and how long it took (s)."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", *args], capture_output=True,
                          text=True, timeout=60, env=env)
    return proc, time.monotonic() - start


def test_a_microphone_stuck_in_a_read_gives_no_data_and_the_run_still_ends(tmp_path: Path) -> None:
    fifo, env = stuck_device(tmp_path)
    writer = os.open(fifo, os.O_RDWR)  # keeps the FIFO open without ever writing to it
    try:
        proc, elapsed = trtcdetect(env, "--only", "microphone", "--mic", "stuck", "--mic-seconds",
                                   "1", "--json", "--quiet", "--output", str(tmp_path / "out"))
    finally:
        os.close(writer)
    assert proc.returncode == 2, proc.stderr
    probe = json.loads(proc.stdout)["probes"][0]
    assert probe["status"] == "fail" and probe["details"]["device"]["name"] == "stuck"
    assert probe["summary"] == ("the microphone opened but delivered no audio, and its driver "
                                "would not let go of it")
    # no data after 1 s + warm-up + 4 s of grace, then 2 s waiting for the close: the run
    # ends on its own (it waited for ever on the stuck close before) and writes both reports
    assert elapsed < 15, elapsed
    assert len(list((tmp_path / "out").glob("*.json"))) == 1
    assert len(list((tmp_path / "out").glob("*.html"))) == 1


def test_an_audio_device_scan_that_hangs_fails_both_audio_probes_and_the_run_ends(
        tmp_path: Path) -> None:
    # The same device with no writer on its FIFO: opening it blocks, and PortAudio opens every
    # device while sounddevice is imported.
    _, env = stuck_device(tmp_path)
    proc, elapsed = trtcdetect(env, "--only", "microphone,speaker", "--json",
                               "--output", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    # sounddevice points fd 2 at /dev/null while PortAudio starts, here for good: the progress
    # lines still come (trtcdetect writes them through its own copy of fd 2)
    assert " fail Microphone: the audio system did not answer" in proc.stderr, proc.stderr
    assert " fail Speaker: the audio system did not answer" in proc.stderr, proc.stderr
    probes = json.loads(proc.stdout)["probes"]
    for probe in probes:
        assert probe["status"] == "fail", probe
        assert probe["summary"] == "the audio system did not answer: listing the audio devices hung"
        assert "did not end within 5 s" in probe["details"]["error"]
    # each waits 5 s for the scan and 2 s for its thread; the speaker starts after the microphone
    assert elapsed < 25, elapsed
    assert len(list((tmp_path / "out").glob("*.html"))) == 1
