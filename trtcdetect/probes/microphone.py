"""Probe `microphone`: present, openable, and capturing real signal (sounddevice / PortAudio).

Tells apart: PortAudio missing, no input device, the device cannot be opened (permission, busy),
it opens but delivers nothing, and it delivers audio — then judges the audio: silent (muted or
dead), very low, clipping, or fine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .. import thresholds
from ..config import Config
from ..devices.findings import audio_devices, problem_verdict
from ..devices.levels import MicCapture
from ..devices.threads import DEVICE_DEADLINE_MARGIN_S, DeviceProblem, release, run_in_thread
from ..evidence import (
    UNSET,
    AudioDevice,
    Evidence,
    JsonObject,
    MediaError,
    UnsetType,
    details,
    given,
)
from ..models import Advice, Message, Metric, Status
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Sample, Series, Verdict, metric_value

MIC_SAMPLE_RATE = 48000
#: Audio delivered right after opening is dropped: some backends start with a burst or a stall.
MIC_WARMUP_S = 0.2


def choose(devices: Sequence[AudioDevice], wanted: str | None, default: int) -> AudioDevice:
    if wanted is None:
        for device in devices:
            if given(device.id) == default:
                return device
        if devices:
            return devices[0]
        raise DeviceProblem(R.MIC_MISSING, Message(S.MIC_NONE), missing=True)
    if wanted.strip().isdigit():
        for device in devices:
            if given(device.id) == int(wanted):
                return device
    else:
        for device in devices:
            if wanted.lower() in device.name.lower():
                return device
    raise DeviceProblem(R.MIC_MISSING, Message(S.MIC_NO_MATCH, {"wanted": wanted}), missing=True)


def record(sd: Any, device: AudioDevice, seconds: float, stop: threading.Event
           ) -> MicCapture:
    """Capture `seconds` of audio after a short warm-up; runs in a worker thread."""
    import numpy as np

    from ..devices.levels import analyse

    channels = max(1, min(2, given(device.channels) or 1))
    rate = MIC_SAMPLE_RATE
    try:
        sd.check_input_settings(device=given(device.id), channels=channels, samplerate=rate,
                                dtype="float32")
    except Exception:  # noqa: BLE001 - 48 kHz not supported: use the device's own rate
        rate = int(given(device.default_sample_rate) or MIC_SAMPLE_RATE)
    blocks: list[Any] = []
    got = threading.Event()
    needed = int((seconds + MIC_WARMUP_S) * rate)
    have = 0

    def callback(indata: Any, frames: int, _time: Any, _status: Any) -> None:
        nonlocal have
        blocks.append(indata.copy())
        have += frames
        if have >= needed:
            got.set()

    try:
        stream = sd.InputStream(device=given(device.id), channels=channels, samplerate=rate,
                                dtype="float32", callback=callback)
    except Exception as exc:  # noqa: BLE001 - PortAudioError and friends
        raise DeviceProblem(R.MIC_CANNOT_OPEN,
                            Message(S.MIC_CANNOT_OPEN, {"error": str(exc)})) from None
    opened = time.monotonic()
    # Opening can stall for ~2 s on some backends before the first block: allow for it.
    deadline = opened + seconds + MIC_WARMUP_S + 4.0
    try:
        stream.start()
        while not got.is_set() and not stop.is_set() and time.monotonic() < deadline:
            got.wait(0.05)
    finally:
        released = release(stream, "microphone")
    if stop.is_set():
        raise DeviceProblem(R.PROBE_ERROR, Message(S.INTERRUPTED), params={"error": "interrupted"})
    if not blocks:
        raise DeviceProblem(R.MIC_NO_DATA, Message(S.MIC_NO_DATA if released else S.MIC_NO_DATA_STUCK))
    data = np.concatenate(blocks)[int(MIC_WARMUP_S * rate):]
    capture = analyse(data, rate)
    return msgspec.structs.replace(
        capture, released=released,
        first_audio_after_s=round(time.monotonic() - opened - float(given(capture.seconds) or 0),
                                  2))


class MicDetails(Evidence, frozen=True, kw_only=True):
    """The microphone probe's details: the inputs found, the one recorded, the recording; from
    the check page also where it ran, the permission and the browser's error."""

    ran_in: str | UnsetType = UNSET
    permission: str | None | UnsetType = UNSET
    devices: tuple[AudioDevice, ...]
    device: AudioDevice | None | UnsetType = UNSET
    error: str | UnsetType = UNSET
    media_error: MediaError | UnsetType = UNSET
    capture: MicCapture | UnsetType = UNSET


@dataclass
class MicObservation:
    """What was seen, as it was gathered: the inputs, the one chosen, the recording, or why
    not (the audio system's error; the problem the judge says)."""

    devices: tuple[AudioDevice, ...] = ()
    device: AudioDevice | None = None
    error: str | None = None
    capture: MicCapture | None = None
    problem: DeviceProblem | None = None
    require_devices: bool = False

    def evidence(self) -> MicDetails:
        return MicDetails(devices=self.devices, device=self.device,
                          error=UNSET if self.error is None else self.error,
                          capture=UNSET if self.capture is None else self.capture)

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge_capture(capture: MicCapture) -> tuple[Status, Message, tuple[Advice, ...]]:
    level = capture.rms_dbfs
    if capture.silent:
        return Status.FAIL, Message(S.MIC_SILENT, {"level": level}), (Advice(R.MIC_SILENT),)
    if (capture.clipped_ratio or 0.0) > thresholds.CLIP_WARN_RATIO:
        return (Status.WARN, Message(S.MIC_CLIPPING, {"clipped": capture.clipped_samples}),
                (Advice(R.MIC_CLIPPING),))
    if level < thresholds.LOW_LEVEL_DBFS:
        return Status.WARN, Message(S.MIC_LOW, {"level": level}), (Advice(R.MIC_LOW),)
    return Status.PASS, Message(S.MIC_OK, {"level": level}), ()


def judge(observation: MicObservation) -> Verdict:
    if observation.problem is not None:
        return problem_verdict(observation.problem, observation.require_devices)
    capture = observation.evidence().capture
    if not capture:
        raise ValueError("the microphone probe saw no capture and no problem")
    status, message, advice = judge_capture(capture)
    metrics = (
        Metric("rms", capture.rms_dbfs, "dBFS", warn=thresholds.LOW_LEVEL_DBFS,
               fail=thresholds.SILENCE_DBFS, better="higher"),
        Metric("peak", capture.peak_dbfs, "dBFS"),
        Metric("noise_floor", capture.noise_floor_dbfs, "dBFS", better="lower"),
        Metric("clipped_samples", capture.clipped_samples, "count"),
    )
    return Verdict(status, message, advice, metrics)


async def measure(config: Config, prior: Prior = NO_PRIOR) -> MicObservation:
    seen = MicObservation(require_devices=config.devices.require_devices)
    try:
        sd = await audio_devices("input", seen, "microphone", Message(S.MIC_PORTAUDIO))
        device = choose(seen.devices, config.devices.mic, int(sd.default.device[0]))
        seen.device = device
        seen.capture = await run_in_thread(
            lambda stop: record(sd, device, config.devices.mic_seconds, stop))
    except DeviceProblem as problem:
        seen.problem = problem
    return seen


def deadline_s(config: Config) -> float:
    return config.devices.mic_seconds + DEVICE_DEADLINE_MARGIN_S


SERIES = (Series("trtcdetect_microphone_rms_dbfs", "Microphone level"),)


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    rms = metric_value(probe, "rms")
    if rms is not None:
        yield "trtcdetect_microphone_rms_dbfs", (), rms


PROBE = MeasuredProbe(
    id="microphone",
    traits=frozenset({"device"}),
    titles=Text("Microphone", "麦克风"),
    description="input device present, opens, and captures real sound (level, silence, clipping)",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=MicDetails,
    series=SERIES,
    samples=samples,
)
