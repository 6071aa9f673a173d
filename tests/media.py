"""Generated test media: videos written with OpenCV, tones written as WAV."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_video(path: Path, kind: str, fps: int = 30, seconds: float = 2.0,
                size: tuple[int, int] = (640, 480)) -> Path:
    """kind: "moving" (a test pattern with a moving bar and a frame counter), "black", "still",
    "slow" (noise-free slow motion: a small square moving one pixel a frame, as a virtual camera
    or a synthetic clip shows a nearly still scene)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(int(fps * seconds)):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        if kind == "moving":
            frame[:] = (40, 80, 120)
            x = (i * 12) % size[0]
            cv2.rectangle(frame, (x, 100), (x + 80, 300), (255, 255, 255), -1)
            cv2.putText(frame, str(i), (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 255, 0), 3)
        elif kind == "slow":
            frame[:] = (40, 80, 120)
            cv2.rectangle(frame, (100 + i, 200), (140 + i, 240), (200, 200, 200), -1)
        elif kind == "still":
            frame[:] = (40, 80, 120)
            cv2.circle(frame, (size[0] // 2, size[1] // 2), 100, (200, 200, 200), -1)
        writer.write(frame)
    writer.release()
    return path


def write_tone(path: Path, kind: str = "sine", amplitude: float = 0.5, seconds: float = 10.0,
               rate: int = 48000, frequency: float = 1000.0) -> Path:
    """A mono 16-bit WAV: a sine, or a square wave (full scale at amplitude 1.0)."""
    t = np.arange(int(rate * seconds)) / rate
    wave_ = np.sin(2 * np.pi * frequency * t)
    if kind == "square":
        wave_ = np.sign(wave_)
    samples = np.clip(np.round(amplitude * wave_ * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path
