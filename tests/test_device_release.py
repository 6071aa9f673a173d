"""Devices are released when a run is interrupted mid-capture (real OpenCV, real PulseAudio)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from tests.media import write_video
from tests.test_microphone import pulse  # noqa: F401 - the fixture
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
        report = await runner.run(Config(camera=str(video), camera_seconds=20), [CAMERA], stop=stop)
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
            report = await runner.run(Config(mic_seconds=30), [PROBE], stop=stop)
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
