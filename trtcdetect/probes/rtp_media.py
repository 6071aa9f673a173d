"""Generated call media: a tone and a moving test pattern, as aiortc tracks that can pause.

Pausing (recv() waits) stops RTP while RTCP goes on: that is how the probe lets the far end
send a final receiver report covering every packet before the loss is counted.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack

from .. import thresholds

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


def audio_frame(samples: np.ndarray, index: int) -> av.AudioFrame:
    """Frame number `index` of a mono 48 kHz s16 stream."""
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = AUDIO_RATE
    frame.pts = index * len(samples)
    frame.time_base = fractions.Fraction(1, AUDIO_RATE)
    return frame


class ToneTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, frequency: float = 440.0, dbfs: float = -20.0) -> None:
        super().__init__()
        self.pacer = _Pacer()
        self.samples = int(AUDIO_RATE * AUDIO_PTIME)
        amplitude = 10 ** (dbfs / 20) * math.sqrt(2) * 32767
        t = np.arange(AUDIO_RATE) / AUDIO_RATE  # one second; 440 Hz repeats exactly
        self.wave = (amplitude * np.sin(2 * math.pi * frequency * t)).astype(np.int16)
        self.index = 0

    async def recv(self) -> av.AudioFrame:
        await self.pacer.wait(self.index, AUDIO_PTIME)
        offset = (self.index * self.samples) % AUDIO_RATE
        frame = audio_frame(self.wave[offset:offset + self.samples], self.index)
        self.index += 1
        return frame


class PatternTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.pacer = _Pacer()
        self.width, self.height = thresholds.CALL_VIDEO_SIZE
        self.fps = thresholds.CALL_VIDEO_FPS
        bars = np.linspace(16, 235, self.width, dtype=np.uint8)
        self.background = np.repeat(bars[None, :], self.height, axis=0)
        self.index = 0

    async def recv(self) -> av.VideoFrame:
        await self.pacer.wait(self.index, 1 / self.fps)
        luma = self.background.copy()
        x = (self.index * 4) % self.width
        luma[:, x:x + 16] = 255 - luma[:, x:x + 16]
        rgb = np.repeat(luma[:, :, None], 3, axis=2)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
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
    """The microphone, through PortAudio, as 20 ms mono frames: what a call would send."""

    kind = "audio"

    def __init__(self, device: int) -> None:
        import sounddevice as sd

        super().__init__()
        self.pacer = _Pacer()
        self.queue: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=50)
        self.index = 0
        loop = asyncio.get_running_loop()
        self.samples = int(AUDIO_RATE * AUDIO_PTIME)

        def callback(indata: np.ndarray, frames: int, _time: object, _status: object) -> None:
            loop.call_soon_threadsafe(self._put, indata[:, 0].copy())

        self.stream = sd.InputStream(device=device, channels=1, samplerate=AUDIO_RATE,
                                     dtype="int16", blocksize=self.samples, callback=callback)
        self.stream.start()

    def _put(self, block: np.ndarray) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # a call drops old audio rather than fall behind
        self.queue.put_nowait(block)

    async def recv(self) -> av.AudioFrame:
        await self.pacer.running.wait()
        frame = audio_frame(await self.queue.get(), self.index)
        self.index += 1
        return frame

    def stop(self) -> None:
        super().stop()
        self.stream.stop()
        self.stream.close()


class Pausable(MediaStreamTrack):
    """Another track (a camera through aiortc's MediaPlayer) that can be paused."""

    def __init__(self, inner: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = inner.kind
        self.inner = inner
        self.pacer = _Pacer()

    async def recv(self) -> Any:
        await self.pacer.running.wait()
        return await self.inner.recv()

    def stop(self) -> None:
        super().stop()
        self.inner.stop()


def camera_track(source: str, size: tuple[int, int]) -> MediaStreamTrack:
    """The camera the camera probe found working, opened as aiortc's MediaPlayer does."""
    from aiortc.contrib.media import MediaPlayer

    if source.startswith("/dev/video"):
        player = MediaPlayer(source, format="v4l2", options={"video_size": f"{size[0]}x{size[1]}"})
    elif "://" in source:
        player = MediaPlayer(source)
    else:
        player = MediaPlayer(source, loop=True)  # a file stands in for a camera: keep it going
    if player.video is None:
        raise ValueError(f"no video in {source}")
    return Pausable(player.video)
