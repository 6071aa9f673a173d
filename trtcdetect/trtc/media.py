"""The test call's generated media and the level of what came back (trtc/worker.py).

Plain Python on purpose: the worker imports nothing heavy, and 50 tone frames and 15 pattern
frames a second cost it a few milliseconds."""

from __future__ import annotations

import math

#: The generated media: a 1 kHz tone, 48 kHz mono, 20 ms frames; a 320x240 test pattern, 15 fps
TONE_HZ = 1000.0
SAMPLE_RATE = 48000
FRAME_MS = 20
VIDEO_W, VIDEO_H, VIDEO_FPS = 320, 240, 15


def tone_frame(index: int) -> bytes:
    samples = SAMPLE_RATE * FRAME_MS // 1000
    start = index * samples
    amplitude = 0.25 * 32767
    return b"".join(
        int(amplitude * math.sin(2 * math.pi * TONE_HZ * (start + n) / SAMPLE_RATE))
        .to_bytes(2, "little", signed=True) for n in range(samples))


def pattern_frame(index: int) -> bytes:
    """YUV420p: a grey ramp whose bright bar moves one column step a frame (never frozen)."""
    bar = (index * 8) % VIDEO_W
    row = bytes(255 if bar <= x < bar + 16 else (x * 200 // VIDEO_W) for x in range(VIDEO_W))
    return row * VIDEO_H + bytes([128]) * (VIDEO_W * VIDEO_H // 2)


def level_dbfs(pcm: bytes) -> float | None:
    count = len(pcm) // 2
    if count == 0:
        return None
    total = 0
    for n in range(0, count * 2, 2):
        value = int.from_bytes(pcm[n:n + 2], "little", signed=True)
        total += value * value
    rms = math.sqrt(total / count) / 32768
    return round(20 * math.log10(rms), 1) if rms > 0 else -120.0
