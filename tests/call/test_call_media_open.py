"""The test call opens its camera off the event loop, bounded: a source whose open() blocks (a
FIFO nobody writes to, opened by aiortc's MediaPlayer as a real camera would be) neither stalls
the loop — other probes' timers go on — nor holds the call past DEVICE_OPEN_S."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from trtcdetect.call import media


def test_a_camera_whose_open_blocks_gives_up_in_time_and_the_loop_keeps_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "camera.fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(media, "DEVICE_OPEN_S", 0.6)

    async def go() -> tuple[float, float, str]:
        gaps: list[float] = []

        async def heartbeat() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        start = time.monotonic()
        try:
            await media.camera_track(str(fifo), (320, 240))
            said = "opened"
        except TimeoutError as exc:
            said = str(exc)
        took = time.monotonic() - start
        beat.cancel()
        return took, max(gaps), said

    try:
        took, worst_gap, said = asyncio.run(go())
    finally:
        _release_reader(fifo)  # the thread still in open() gets EOF and ends
    assert said == "the camera did not open within 0.6 s"
    # the timeout, plus the bounded wait for the device thread (DEVICE_RELEASE_S, 2 s)
    assert 0.6 <= took < 0.6 + 2.0 + 0.5, took
    assert worst_gap < 0.1, worst_gap  # on the loop, the open would have stalled it 0.6 s+


def _release_reader(fifo: Path) -> None:
    """A writer that opens and closes at once ends a reader blocked in open()."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: no reader (any more)
        pass


def test_the_echos_receivers_pass_encoded_frames_only_while_it_makes_them() -> None:
    """call/passthrough.py swaps aiortc's decoder worker for the echo's receivers only, and
    puts the real one back (a caller in the same process keeps decoding)."""
    import aiortc.rtcrtpreceiver as receiver_module

    from trtcdetect.call.passthrough import encoded_worker, passing_encoded_frames

    real = receiver_module.decoder_worker
    with passing_encoded_frames() as passes:
        assert passes and receiver_module.decoder_worker is encoded_worker
        with passing_encoded_frames() as again:  # two echo calls answered at once
            assert again and receiver_module.decoder_worker is encoded_worker
        assert receiver_module.decoder_worker is encoded_worker
    assert receiver_module.decoder_worker is real
    with passing_encoded_frames(enabled=False) as passes:
        assert not passes and receiver_module.decoder_worker is real


def test_the_encoded_worker_turns_frames_into_packets_and_ends_with_the_stream() -> None:
    import asyncio
    import queue
    import threading
    from types import SimpleNamespace

    from trtcdetect.call.passthrough import encoded_worker

    async def main() -> None:
        loop = asyncio.get_running_loop()
        frames: queue.Queue[object] = queue.Queue()
        out: asyncio.Queue[object] = asyncio.Queue()
        worker = threading.Thread(target=encoded_worker, args=(loop, frames, out,
                                                               threading.Event()))
        worker.start()
        frames.put((SimpleNamespace(clockRate=90000),
                    SimpleNamespace(data=b"\x10\x02\x00\x9d", timestamp=3000)))
        frames.put(None)
        packet = await asyncio.wait_for(out.get(), 5)
        assert bytes(packet) == b"\x10\x02\x00\x9d" and packet.pts == 3000  # type: ignore[call-overload,attr-defined]
        assert packet.time_base.denominator == 90000  # type: ignore[attr-defined]
        assert await asyncio.wait_for(out.get(), 5) is None  # the track ends
        await asyncio.to_thread(worker.join, 5)
        assert not worker.is_alive()

    asyncio.run(main())


def test_keyframe_requests_pass_on_only_where_aiortc_has_the_hooks() -> None:
    from types import SimpleNamespace

    from trtcdetect.call.passthrough import pass_keyframe_requests

    assert pass_keyframe_requests(SimpleNamespace(), SimpleNamespace()) is False  # type: ignore[arg-type]
