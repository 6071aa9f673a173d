"""Probe `microphone`: present, openable, and capturing real signal (sounddevice / PortAudio).

Tells apart: PortAudio missing, no input device, the device cannot be opened (permission, busy),
it opens but delivers nothing, and it delivers audio — then judges the audio: silent (muted or
dead), very low, clipping, or fine.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import thresholds
from ..config import Config
from ..models import Advice, Message, Metric, ProbeResult, Status
from .devices import (
    DeviceProblem,
    absent,
    device_advice,
    release,
    run_in_thread,
    scan_audio,
    scan_hung,
)


def choose(devices: list[dict[str, Any]], wanted: str | None, default: int) -> dict[str, Any]:
    if wanted is None:
        for device in devices:
            if device["id"] == default:
                return device
        if devices:
            return devices[0]
        raise DeviceProblem("mic-missing", Message("mic.none"), missing=True)
    if wanted.strip().isdigit():
        for device in devices:
            if device["id"] == int(wanted):
                return device
    else:
        for device in devices:
            if wanted.lower() in device["name"].lower():
                return device
    raise DeviceProblem("mic-missing", Message("mic.no-match", {"wanted": wanted}), missing=True)


def record(sd: Any, device: dict[str, Any], seconds: float, stop: threading.Event) -> dict[str, Any]:
    """Capture `seconds` of audio after a short warm-up; runs in a worker thread."""
    import numpy as np

    from .audio_levels import analyse

    channels = max(1, min(2, int(device["channels"])))
    rate = thresholds.MIC_SAMPLE_RATE
    try:
        sd.check_input_settings(device=device["id"], channels=channels, samplerate=rate,
                                dtype="float32")
    except Exception:  # noqa: BLE001 - 48 kHz not supported: use the device's own rate
        rate = int(device["default_sample_rate"])
    blocks: list[Any] = []
    got = threading.Event()
    needed = int((seconds + thresholds.MIC_WARMUP_S) * rate)
    have = 0

    def callback(indata: Any, frames: int, _time: Any, _status: Any) -> None:
        nonlocal have
        blocks.append(indata.copy())
        have += frames
        if have >= needed:
            got.set()

    try:
        stream = sd.InputStream(device=device["id"], channels=channels, samplerate=rate,
                                dtype="float32", callback=callback)
    except Exception as exc:  # noqa: BLE001 - PortAudioError and friends
        raise DeviceProblem("mic-cannot-open",
                            Message("mic.cannot-open", {"error": str(exc)})) from None
    opened = time.monotonic()
    # Opening can stall for ~2 s on some backends before the first block: allow for it.
    deadline = opened + seconds + thresholds.MIC_WARMUP_S + 4.0
    try:
        stream.start()
        while not got.is_set() and not stop.is_set() and time.monotonic() < deadline:
            got.wait(0.05)
    finally:
        released = release(stream, "microphone")
    if stop.is_set():
        raise DeviceProblem("probe-error", Message("interrupted"))
    if not blocks:
        raise DeviceProblem("mic-no-data", Message("mic.no-data" if released else "mic.no-data-stuck"))
    data = np.concatenate(blocks)[int(thresholds.MIC_WARMUP_S * rate):]
    capture = analyse(data, rate)
    capture["first_audio_after_s"] = round(time.monotonic() - opened - capture["seconds"], 2)
    capture["released"] = released
    return capture


def judge(capture: dict[str, Any]) -> tuple[Status, Message, tuple[Advice, ...]]:
    level = capture["rms_dbfs"]
    if capture["silent"]:
        return Status.FAIL, Message("mic.silent", {"level": level}), (Advice("mic-silent"),)
    if capture["clipped_ratio"] > thresholds.CLIP_WARN_RATIO:
        return (Status.WARN, Message("mic.clipping", {"clipped": capture["clipped_samples"]}),
                (Advice("mic-clipping"),))
    if level < thresholds.LOW_LEVEL_DBFS:
        return Status.WARN, Message("mic.low", {"level": level}), (Advice("mic-low"),)
    return Status.PASS, Message("mic.ok", {"level": level}), ()


class MicrophoneProbe:
    id = "microphone"
    title = "Microphone"
    description = "input device present, opens, and captures real sound (level, silence, clipping)"

    def deadline_s(self, config: Config) -> float:
        return config.mic_seconds + thresholds.DEVICE_DEADLINE_MARGIN_S

    async def run(self, config: Config) -> ProbeResult:
        details: dict[str, Any] = {"devices": [], "device": None}
        try:
            sd, details["devices"] = await scan_audio("input")
        except TimeoutError:  # (an OSError too: first)
            return scan_hung(self, details)
        except OSError as exc:  # the library is there, PortAudio is not
            details["error"] = str(exc)
            return absent(self, config, details, "portaudio-missing", Message("mic.portaudio"))
        try:
            device = choose(details["devices"], config.mic, int(sd.default.device[0]))
            details["device"] = device
            capture = await run_in_thread(lambda stop: record(sd, device, config.mic_seconds, stop))
        except DeviceProblem as problem:
            if problem.missing:
                return absent(self, config, details, problem.cause, problem.message)
            return ProbeResult(self.id, self.title, Status.FAIL, message=problem.message,
                               details=details, advice=device_advice(problem.cause))
        details["capture"] = capture
        status, message, advice = judge(capture)
        metrics = (
            Metric("rms", capture["rms_dbfs"], "dBFS", warn=thresholds.LOW_LEVEL_DBFS,
                   fail=thresholds.SILENCE_DBFS, better="higher"),
            Metric("peak", capture["peak_dbfs"], "dBFS"),
            Metric("noise_floor", capture["noise_floor_dbfs"], "dBFS", better="lower"),
            Metric("clipped_samples", capture["clipped_samples"], "count"),
        )
        return ProbeResult(self.id, self.title, status, message=message, metrics=metrics,
                           details=details, advice=advice)


PROBE = MicrophoneProbe()
