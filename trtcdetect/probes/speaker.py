"""Probe `speaker`: can this machine play the far end's voice? (sounddevice / PortAudio)

Plays a short sweep on the output device and reports whether it opened, took the whole buffer
without underruns, and the output latency PortAudio reports. Where the sound can come back to an
input — a virtual sink's monitor, or --speaker-loopback MIC for a microphone in the same room, or
by default the system's default input — it records while playing and cross-correlates what was
played with what was heard: the level that came back and the round-trip delay. When nothing came
back it says so plainly: "played, not verified".
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from .. import thresholds
from ..config import Config
from ..devices.findings import audio_devices, problem_verdict
from ..devices.threads import DEVICE_DEADLINE_MARGIN_S, DeviceProblem, release, run_in_thread
from ..evidence import (
    UNSET,
    AudioDevice,
    Evidence,
    Foreign,
    JsonObject,
    Number,
    UnsetType,
    details,
    given,
)
from ..models import Advice, Message, Metric, Status
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict

#: The test sound: a 300-3000 Hz sweep (unambiguous to cross-correlate, unlike a pure tone),
#: 1 s at -20 dBFS RMS: clearly audible, not loud.
SPEAKER_SECONDS = 1.0
SPEAKER_DBFS = -20.0
SPEAKER_SWEEP_HZ = (300.0, 3000.0)
#: Recording goes on this long after the sound ends, for the path's delay (and a slow start), s.
SPEAKER_TAIL_S = 2.5
#: Output buffer asked of PortAudio for the test sound (its "high" latency is 32 ms through
#: ALSA's PulseAudio plugin). The check is whether the device plays, not how the machine keeps up
#: at low latency. (A larger buffer did not stop the occasional underrun seen in test runs.)
SPEAKER_LATENCY_S = 0.2
#: Silence played before the sweep: with that buffer the recording starts a little after the
#: playback, and the start of the sweep was missing from it (-1.9 dB)
SPEAKER_LEAD_S = 0.5

RATE = 48000


def sweep() -> Any:
    import numpy as np

    low, high = SPEAKER_SWEEP_HZ
    n = int(RATE * SPEAKER_SECONDS)
    t = np.arange(n) / RATE
    k = (high - low) / SPEAKER_SECONDS
    signal = np.sin(2 * math.pi * (low * t + k * t * t / 2))
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)  # 10 ms fades: no clicks
    amplitude = 10 ** (SPEAKER_DBFS / 20) * math.sqrt(2)
    return (amplitude * signal * ramp).astype(np.float32)


class Loopback(Evidence, frozen=True, kw_only=True):
    """Whether the input that can hear the speaker heard the sweep, how loud and how late."""

    heard: bool
    reason: str | UnsetType = UNSET
    level_dbfs: Number | UnsetType = UNSET
    delay_ms: Number | None | UnsetType = UNSET
    peak_ratio: Number | UnsetType = UNSET


class Playback(Evidence, frozen=True, kw_only=True):
    """How the sweep played: whether to the end, the underruns, the output's latency, and
    what the input that can hear the speaker heard."""

    played: bool
    underruns: int
    underruns_at_s: tuple[Number, ...] | UnsetType = UNSET
    output_latency_ms: Number
    seconds: Number | UnsetType = UNSET
    released: bool | UnsetType = UNSET
    input_overflows: int | UnsetType = UNSET
    loopback: Loopback | UnsetType = UNSET


def _pick(sd: Any, wanted: str | None, kind: str) -> Foreign | None:
    """A device of `kind` ("input"/"output") by index or name part; None: the default."""
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = [d for d in sd.query_devices() if d[channels] > 0]
    if wanted is None:
        default = sd.default.device[0 if kind == "input" else 1]
        return next((d for d in devices if d["index"] == default), devices[0] if devices else None)
    for d in devices:
        if (wanted.isdigit() and d["index"] == int(wanted)) or \
                (not wanted.isdigit() and wanted.lower() in d["name"].lower()):
            return dict(d)
    return None


def play(sd: Any, output: AudioDevice, loop_in: Foreign | None,
         stop: threading.Event) -> Playback:
    """Play the sweep (and record from `loop_in` at the same time); runs in a thread."""
    import numpy as np

    sound = sweep()
    # silence first, so the recording is running before the sweep reaches the speaker
    lead = int(RATE * SPEAKER_LEAD_S)
    total = lead + len(sound) + int(RATE * SPEAKER_TAIL_S)
    played = np.zeros(total, np.float32)
    played[lead:lead + len(sound)] = sound
    heard: list[Any] = []
    underruns: list[float] = []  # where in the sound (s) each underflow was flagged
    position = 0
    overflows = 0  # capture blocks PortAudio flagged as overrun (samples lost)
    arrivals: list[tuple[float, int]] = []  # per capture block: when it came, frames so far
    handed: list[float] = []  # when the sweep's first sample was handed to the output
    done = threading.Event()

    def write(out: Any, frames: int) -> None:
        nonlocal position
        chunk = played[position:position + frames]
        out[:len(chunk), :] = chunk[:, None]
        out[len(chunk):, :] = 0
        position += frames
        if position >= total:
            done.set()

    def output_only(outdata: Any, frames: int, _t: Any, status: Any) -> None:
        if status.output_underflow:
            underruns.append(round(position / RATE, 3))
        if position <= lead < position + frames:
            handed.append(time.monotonic() + (lead - position) / RATE)
        write(outdata, frames)

    def record(indata: Any, _frames: int, _t: Any, status: Any) -> None:
        nonlocal overflows
        overflows += bool(status.input_overflow)
        heard.append(indata[:, 0].copy())
        arrivals.append((time.monotonic(), (arrivals[-1][1] if arrivals else 0) + len(indata)))

    def delay_of(lag: int) -> float:
        """From handing the sweep to the output to getting it back from the input, s: both
        streams' buffers plus the path between them (the two streams start independently, so
        the recording's sample count alone does not say when the sweep was played)."""
        if not handed:
            return (lag - lead) / RATE
        came, total_then = next((a for a in arrivals if a[1] > lag), arrivals[-1])
        return came - (total_then - lag) / RATE - handed[0]

    # Two streams, not one duplex stream: PortAudio's ALSA duplex stream polls both devices in
    # one thread and, on a starved machine, stops for good at the first capture overrun
    # ("PaAlsaStream_WaitForFrames failed"); the lag is found by cross-correlation anyway.
    # A roomy buffer (SPEAKER_LATENCY_S): this checks that the device plays, not how the
    # machine keeps up at low latency.
    streams: list[Any] = []
    try:
        if loop_in is not None:
            streams.append(sd.InputStream(device=loop_in["index"], channels=1, samplerate=RATE,
                                          dtype="float32", callback=record,
                                          latency=SPEAKER_LATENCY_S))
        streams.append(sd.OutputStream(device=given(output.id), channels=1, samplerate=RATE,
                                       dtype="float32", callback=output_only,
                                       latency=SPEAKER_LATENCY_S))
    except Exception as exc:  # noqa: BLE001 - PortAudioError and friends
        for stream in streams:
            stream.close()
        raise DeviceProblem(R.SPEAKER_CANNOT_OPEN,
                            Message(S.SPEAKER_CANNOT_OPEN, {"error": str(exc)}),
                            params={"error": str(exc)}) from None
    latency = streams[-1].latency
    started = time.monotonic()
    try:
        for stream in streams:  # the recording first, so it runs before the sweep plays
            stream.start()
        # the whole sound plus the tail, and up to 3 s more for a backend's slow start
        limit = started + total / RATE + 3.0
        while not done.is_set() and not stop.is_set() and time.monotonic() < limit:
            done.wait(0.05)
    finally:
        released = all([release(stream, "speaker") for stream in reversed(streams)])
    if stop.is_set():
        raise DeviceProblem(R.PROBE_ERROR, Message(S.INTERRUPTED), params={"error": "interrupted"})
    result = Playback(played=done.is_set(), underruns=len(underruns),
                      underruns_at_s=tuple(underruns), output_latency_ms=round(1000 * latency, 1),
                      seconds=round(time.monotonic() - started, 2), released=released)
    if loop_in is None:
        return result
    return msgspec.structs.replace(
        result, input_overflows=overflows,
        loopback=analyse_loopback(sound, np.concatenate(heard) if heard else
                                  np.zeros(0, np.float32), delay_of))


def analyse_loopback(sound: Any, heard: Any,
                     delay_of: Callable[[int], float] = lambda lag: lag / RATE) -> Loopback:
    """Where the sweep is in the recording (cross-correlation), and how loud it came back;
    `delay_of`: the delay (s) at which a sweep found at a sample of the recording came back."""
    import numpy as np

    from ..devices.scale import dbfs

    if len(heard) < len(sound):
        return Loopback(heard=False, reason="too little audio recorded")
    size = 1 << int(math.ceil(math.log2(len(heard) + len(sound))))
    spectrum = np.fft.rfft(heard, size) * np.conj(np.fft.rfft(sound, size))
    correlation = np.abs(np.fft.irfft(spectrum, size)[:len(heard) - len(sound) + 1])
    lag = int(np.argmax(correlation))
    median = float(np.median(correlation)) or 1e-12
    ratio = float(correlation[lag]) / median
    segment = heard[lag:lag + len(sound)]
    level = dbfs(float(np.sqrt(np.mean(segment.astype(np.float64) ** 2))))
    came_back = ratio >= thresholds.SPEAKER_PEAK_RATIO_MIN and level >= thresholds.SILENCE_DBFS
    return Loopback(heard=came_back, level_dbfs=round(level, 2),
                    delay_ms=round(1000 * max(delay_of(lag), 0.0), 1) if came_back else None,
                    peak_ratio=round(min(ratio, 1e6), 1))


class SpeakerDetails(Evidence, frozen=True, kw_only=True):
    """The speaker probe's details: the outputs found, the one played on, the input that
    listened, the playback; from the check page whether the user heard the tone."""

    ran_in: str | UnsetType = UNSET
    devices: tuple[AudioDevice, ...] | UnsetType = UNSET
    device: AudioDevice | None | UnsetType = UNSET
    loopback_device: str | None | UnsetType = UNSET
    playback: Playback | UnsetType = UNSET
    #: the check page: whether the user said they heard the test tone (None: not asked)
    heard: bool | None | UnsetType = UNSET
    error: str | None | UnsetType = UNSET


@dataclass
class SpeakerObservation:
    """What was seen, as it was gathered: the outputs, the one played on, the input that
    listened (UNSET: not looked for), the playback, or why not; nothing with --no-sound."""

    no_sound: bool = False
    devices: tuple[AudioDevice, ...] = ()
    device: AudioDevice | None = None
    loopback_device: str | None | UnsetType = UNSET
    playback: Playback | None = None
    error: str | None = None
    problem: DeviceProblem | None = None
    require_devices: bool = False

    def evidence(self) -> SpeakerDetails:
        if self.no_sound:
            return SpeakerDetails()
        return SpeakerDetails(devices=self.devices, device=self.device,
                              loopback_device=self.loopback_device,
                              playback=UNSET if self.playback is None else self.playback,
                              error=UNSET if self.error is None else self.error)

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge(observation: SpeakerObservation) -> Verdict:
    if observation.no_sound:
        return Verdict(Status.SKIP, Message(S.SPEAKER_NO_SOUND))
    if observation.problem is not None:
        return problem_verdict(observation.problem, observation.require_devices)
    seen = observation.evidence()
    played = seen.playback
    if not played:
        raise ValueError("the speaker probe saw no playback and no problem")
    metrics = [Metric("output_latency", played.output_latency_ms, "ms", better="lower"),
               Metric("underruns", played.underruns, "count", warn=0, better="lower")]
    loop = played.loopback or None
    if loop is not None and loop.heard:
        metrics += [Metric("loopback_level", given(loop.level_dbfs), "dBFS"),
                    Metric("loopback_delay", given(loop.delay_ms), "ms", better="lower")]
    if not played.played:
        error = "the device did not take the sound"
        return Verdict(Status.FAIL, Message(S.SPEAKER_STALLED),
                       (Advice(R.SPEAKER_CANNOT_OPEN, {"error": error}),), tuple(metrics))
    if played.underruns:
        return Verdict(Status.WARN, Message(S.SPEAKER_UNDERRUNS, {"count": played.underruns}),
                       (Advice(R.SPEAKER_UNDERRUNS),), tuple(metrics))
    if loop is not None and loop.heard:
        return Verdict(Status.PASS, Message(S.SPEAKER_VERIFIED, {
            "level": given(loop.level_dbfs), "delay": given(loop.delay_ms),
            "device": given(seen.loopback_device)}), (), tuple(metrics))
    return Verdict(Status.WARN, Message(S.SPEAKER_NOT_VERIFIED), (Advice(R.SPEAKER_CHECK),),
                   tuple(metrics))


async def measure(config: Config, prior: Prior = NO_PRIOR) -> SpeakerObservation:
    seen = SpeakerObservation(require_devices=config.devices.require_devices)
    if config.devices.no_sound:
        seen.no_sound = True
        return seen
    try:
        sd = await audio_devices("output", seen, "speaker", Message(S.SPEAKER_PORTAUDIO))
    except DeviceProblem as problem:
        seen.problem = problem
        return seen
    output = _pick(sd, config.devices.speaker, "output")
    if output is None:  # a server has none: the same rule as camera and microphone
        seen.problem = DeviceProblem(R.SPEAKER_MISSING, Message(S.SPEAKER_NONE), missing=True)
        return seen
    device = AudioDevice(id=output["index"], name=output["name"])
    seen.device = device
    loop_in = None
    if config.devices.speaker_loopback != "none":
        wanted = None if config.devices.speaker_loopback == "auto" else config.devices.speaker_loopback
        loop_in = _pick(sd, wanted, "input")
    seen.loopback_device = loop_in["name"] if loop_in else None
    try:
        seen.playback = await run_in_thread(lambda stop: play(sd, device, loop_in, stop))
    except DeviceProblem as problem:
        seen.problem = problem
    return seen


def deadline_s(config: Config) -> float:
    return SPEAKER_LEAD_S + SPEAKER_SECONDS + SPEAKER_TAIL_S \
        + DEVICE_DEADLINE_MARGIN_S


PROBE = MeasuredProbe(
    id="speaker",
    traits=frozenset({"device"}),
    titles=Text("Speaker", "扬声器"),
    description="output device plays a test sound; verified through a loopback input where one exists",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=SpeakerDetails,
    #: it records from the input the microphone probe uses: not both at once
    after=("microphone",),
)
