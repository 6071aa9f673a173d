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


def test_the_echo_falls_back_to_decoding_where_aiortc_cannot_be_tapped() -> None:
    """call/passthrough.py reaches into aiortc's receiver; an aiortc without that queue gets
    None, and the echo decodes and re-encodes as it did before."""
    from trtcdetect.call.passthrough import tap

    class Receiver:  # no _RTCRtpReceiver__decoder_queue
        pass

    assert tap(Receiver(), "audio") is None  # type: ignore[arg-type]


def test_the_tap_turns_encoded_frames_into_packets_and_ends_the_decoder_thread() -> None:
    import asyncio
    import queue
    from types import SimpleNamespace

    from trtcdetect.call.passthrough import tap

    async def main() -> None:
        original: queue.Queue[object] = queue.Queue()
        receiver = SimpleNamespace(_RTCRtpReceiver__decoder_queue=original)
        track = tap(receiver, "video")  # type: ignore[arg-type]
        assert track is not None
        hand_off = receiver._RTCRtpReceiver__decoder_queue
        codec = SimpleNamespace(clockRate=90000)
        hand_off.put((codec, SimpleNamespace(data=b"\x10\x02\x00\x9d", timestamp=3000)))
        packet = await track.recv()
        assert bytes(packet) == b"\x10\x02\x00\x9d" and packet.pts == 3000
        assert packet.time_base.denominator == 90000
        hand_off.put(None)  # the receiver stops: the decoder thread hears it on its own queue
        assert original.get_nowait() is None

    asyncio.run(main())
