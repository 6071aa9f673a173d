"""Generated call media: a tone and a moving test pattern, as aiortc tracks that can pause.

Pausing (recv() waits) stops RTP while RTCP goes on: the far end then counts every packet it got.
The generated media is built from bytes (no numpy: its import would sit between starting a run
and the call connecting).
"""

from __future__ import annotations

import array
import asyncio
import fractions
import math
import threading
import time
from typing import TYPE_CHECKING, Any

import av
from aiortc import MediaStreamTrack

if TYPE_CHECKING:
    import numpy as np

from ..devices.threads import release, release_soon, run_in_thread

#: Opening a device for the call normally takes well under a second; one that takes longer is
#: not used (the call falls back to generated media and says why), s.
DEVICE_OPEN_S = 5.0

#: Generated media: a 440 Hz tone at -20 dBFS and a moving test pattern.
CALL_VIDEO_SIZE = (320, 240)
CALL_VIDEO_FPS = 30

AUDIO_RATE = 48000
AUDIO_PTIME = 0.020


class _Pacer:
    def __init__(self) -> None:
        self.start: float | None = None
        self.running = asyncio.Event()
        self.running.set()

    async def wait(self, index: int, interval: float) -> None:
        await self.running.wait()
        if self.start is None:
            self.start = time.monotonic()
        delay = self.start + index * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def audio_frame(pcm: bytes, index: int) -> av.AudioFrame:
    """Frame number `index` of a mono 48 kHz stream, from native-endian s16 samples."""
    samples = len(pcm) // 2
    frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
    plane = frame.planes[0]
    plane.update(pcm.ljust(plane.buffer_size, b"\0"))  # any padding lies past the samples
    frame.sample_rate = AUDIO_RATE
    frame.pts = index * samples
    frame.time_base = fractions.Fraction(1, AUDIO_RATE)
    return frame


def s16_power(frame: av.AudioFrame) -> tuple[float, int]:
    """Sum of squares (full scale 1.0) and count of the samples of a packed s16 frame."""
    count = frame.samples * len(frame.layout.channels)
    values = array.array("h", bytes(frame.planes[0])[:2 * count])
    return sum(v * v for v in values) / 32768**2, len(values)


class ToneTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, frequency: float = 440.0, dbfs: float = -20.0) -> None:
        super().__init__()
        self.pacer = _Pacer()
        self.samples = int(AUDIO_RATE * AUDIO_PTIME)
        amplitude = 10 ** (dbfs / 20) * math.sqrt(2) * 32767
        # one second, which holds a whole number of 440 Hz periods and of 20 ms frames
        self.wave = array.array("h", (round(amplitude * math.sin(2 * math.pi * frequency * i
                                                                 / AUDIO_RATE))
                                      for i in range(AUDIO_RATE))).tobytes()
        self.index = 0

    async def recv(self) -> av.AudioFrame:
        await self.pacer.wait(self.index, AUDIO_PTIME)
        offset = 2 * ((self.index * self.samples) % AUDIO_RATE)
        frame = audio_frame(self.wave[offset:offset + 2 * self.samples], self.index)
        self.index += 1
        return frame


class PatternTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.pacer = _Pacer()
        self.width, self.height = CALL_VIDEO_SIZE
        self.fps = CALL_VIDEO_FPS
        # grey bars from dark to light (video levels 16-235), and a 16 px inverted bar moving
        # 4 px a frame; no colour (U and V at 128)
        self.bars = bytes(16 + (235 - 16) * i // (self.width - 1) for i in range(self.width))
        self.index = 0

    async def recv(self) -> av.VideoFrame:
        await self.pacer.wait(self.index, 1 / self.fps)
        x = (self.index * 4) % self.width
        row = self.bars[:x] + bytes(255 - b for b in self.bars[x:x + 16]) + self.bars[x + 16:]
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        luma, *chroma = frame.planes
        luma.update(row.ljust(luma.line_size, b"\0") * self.height)
        for plane in chroma:
            plane.update(b"\x80" * plane.buffer_size)
        frame.pts = self.index * (90000 // self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.index += 1
        return frame


def pause(*tracks: MediaStreamTrack) -> None:
    """Stop sending media (RTCP goes on): every track here waits until it is closed."""
    for track in tracks:
        pacer = getattr(track, "pacer", None)
        if isinstance(pacer, _Pacer):
            pacer.running.clear()


class MicTrack(MediaStreamTrack):
    """The microphone, through PortAudio, as 20 ms mono frames: what a call would send.
    Made by :func:`open_mic`, which opens the device off the event loop."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.pacer = _Pacer()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=50)
        self.index = 0
        self.samples = int(AUDIO_RATE * AUDIO_PTIME)
        self.stream: Any = None
        self.released: asyncio.Future[bool] | None = None

    def _put(self, block: bytes) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # a call drops old audio rather than fall behind
        self.queue.put_nowait(block)

    async def recv(self) -> av.AudioFrame:
        await self.pacer.running.wait()
        frame = audio_frame(await self.queue.get(), self.index)
        self.index += 1
        return frame

    def stop(self) -> None:
        """Stop at once; the device is closed in a device thread (a driver may block in its
        close: never on the event loop). `released` is done when it let go, or gave up."""
        super().stop()
        if self.released is None and self.stream is not None:
            self.released = release_soon(self.stream, "call-microphone")


async def open_mic(device: int) -> MicTrack:
    """Open microphone `device` for a call in a device thread, bounded by DEVICE_OPEN_S: opening
    (and starting) a PortAudio stream blocks, and a driver may block for good."""
    track = MicTrack()
    loop = asyncio.get_running_loop()

    def callback(indata: np.ndarray, frames: int, _time: object, _status: object) -> None:
        loop.call_soon_threadsafe(track._put, indata[:, 0].tobytes())

    def work(stop: threading.Event) -> Any:
        import sounddevice as sd

        stream = sd.InputStream(device=device, channels=1, samplerate=AUDIO_RATE,
                                dtype="int16", blocksize=track.samples, callback=callback)
        stream.start()
        if stop.is_set():  # given up meanwhile: let go of it here
            release(stream, "call-microphone")
            raise TimeoutError("opening the microphone was given up")
        return stream

    try:
        async with asyncio.timeout(DEVICE_OPEN_S):
            track.stream = await run_in_thread(work)
    except TimeoutError:
        raise TimeoutError(f"the microphone did not open within {DEVICE_OPEN_S:g} s") from None
    return track


class Pausable(MediaStreamTrack):
    """Another track (a camera through aiortc's MediaPlayer) that can be paused."""

    def __init__(self, inner: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = inner.kind
        self.inner = inner
        self.pacer = _Pacer()

    async def recv(self) -> av.frame.Frame | av.packet.Packet:  # type: ignore[type-arg]
        await self.pacer.running.wait()
        return await self.inner.recv()

    def stop(self) -> None:
        super().stop()
        self.inner.stop()


async def camera_track(source: str, size: tuple[int, int]) -> MediaStreamTrack:
    """The camera the camera probe found working, opened as aiortc's MediaPlayer does — in a
    device thread, bounded by DEVICE_OPEN_S (opening a camera or a stream URL blocks)."""
    from aiortc.contrib.media import MediaPlayer

    def work(stop: threading.Event) -> MediaStreamTrack:
        if source.startswith("/dev/video"):
            player = MediaPlayer(source, format="v4l2",
                                 options={"video_size": f"{size[0]}x{size[1]}"})
        elif "://" in source:
            player = MediaPlayer(source)
        else:
            player = MediaPlayer(source, loop=True)  # a file stands in for a camera: keep going
        if player.video is None:
            raise ValueError(f"no video in {source}")
        if stop.is_set():
            player.video.stop()
            raise TimeoutError("opening the camera was given up")
        return player.video

    try:
        async with asyncio.timeout(DEVICE_OPEN_S):
            return Pausable(await run_in_thread(work))
    except TimeoutError:
        raise TimeoutError(f"the camera did not open within {DEVICE_OPEN_S:g} s") from None
