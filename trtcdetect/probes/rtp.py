"""Probe `rtp`: a real test call through aiortc (ICE, DTLS-SRTP, Opus, VP8, RTCP).

Local loopback (default): a second RTCPeerConnection in this process echoes the media back; it
proves this machine's stack, codecs and CPU can carry a call. With --echo-url the far end is
`trtcdetect serve`'s echo peer and the media crosses the real network twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .. import thresholds
from ..call.quality import mos
from ..call.session import RTCP_DRAIN_S, Codec, Received
from ..call.signalling import CallFailed
from ..call.stats import CallKind, kind_details
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..evidence import (
    UNSET,
    AudioDevice,
    Evidence,
    JsonObject,
    Number,
    Said,
    UnsetType,
    details,
    faithful,
    given,
    read,
)
from ..load import lag_during
from ..models import Advice, Message, Metric, ProbeResult, Status
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, Check, MeasuredProbe, Prior, Sample, Series, Verdict, metric_value

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack


def _usable(result: ProbeResult | None) -> ProbeResult | None:
    """The result when its device works (pass or warn), else None."""
    return result if result is not None and result.status in (Status.PASS, Status.WARN) else None


async def choose_media(config: Config,
                       prior: Prior = NO_PRIOR) -> tuple[list[MediaStreamTrack], list[Message]]:
    """The tracks a call from here would send: the camera and microphone the device probes
    found working in this run, else a generated tone and test pattern; and what they are."""
    from ..call.media import PatternTrack, ToneTrack, camera_track, open_mic

    mic, cam = _usable(prior.get("microphone")), _usable(prior.get("camera"))
    tracks: list[MediaStreamTrack] = []
    said: list[Message] = []
    if mic is not None and mic.details.get("device"):
        try:
            device = read(AudioDevice, mic.details["device"], "the microphone probe's device")
            index = given(device.id)
            if index is None:
                raise ValueError("the microphone probe's device has no PortAudio index")
            tracks.append(await open_mic(index))
            said.append(Message(S.MEDIA_MIC, {"name": device.name}))
        except Exception as exc:  # noqa: BLE001 - fall back, and say so
            said.append(Message(S.MEDIA_TONE_MIC_FAILED, {"error": str(exc)}))
    if not tracks:
        tracks.append(ToneTrack())
        said = said or [Message(S.MEDIA_TONE)]
    if not config.call.audio_only:
        video = None
        if cam is not None and cam.details.get("source"):
            try:
                video = await camera_track(str(cam.details["source"]), config.devices.camera_size)
                said.append(Message(S.MEDIA_CAMERA, {"source": str(cam.details["source"])}))
            except Exception as exc:  # noqa: BLE001
                said.append(Message(S.MEDIA_PATTERN_CAMERA_FAILED, {"error": str(exc)}))
        if video is None:
            video = PatternTrack()
            if not any(m.id == S.MEDIA_PATTERN_CAMERA_FAILED for m in said):
                said.append(Message(S.MEDIA_PATTERN))
        tracks.append(video)
    return tracks, said


class CallEnd(Evidence, frozen=True, kw_only=True):
    """One end of the browser's call (the check page): its ICE candidate."""

    type: str | None = None
    protocol: str | None = None
    address: str = ""
    port: int | None = None
    relay_protocol: str | None = None


class Fallback(Evidence, frozen=True, kw_only=True):
    """The call made again through serve's TURN relay after the direct one failed at ICE. Its
    figures repeat RtpDetails' field for field: a shared base would put them first in the JSON,
    before `via` here and `mode` there (msgspec orders a subclass's fields after its base's)."""

    via: str
    server: str
    failed_stage: str | UnsetType = UNSET
    error: Said | UnsetType = UNSET
    loop_lag_ms: Number | None | UnsetType = UNSET
    media: str | UnsetType = UNSET
    media_messages: tuple[Said, ...] | UnsetType = UNSET
    received: Received | UnsetType = UNSET
    setup: dict[str, Number] | UnsetType = UNSET
    codecs: dict[str, Codec] | UnsetType = UNSET
    media_seconds: Number | UnsetType = UNSET
    audio: CallKind | UnsetType = UNSET
    video: CallKind | UnsetType = UNSET
    #: per-second figures: "t" (seconds into the call) and per kind, per figure, a value each
    series: dict[str, Any] | UnsetType = UNSET
    failed_before: tuple[Fallback, ...] | UnsetType = UNSET


class RtpDetails(Evidence, frozen=True, kw_only=True):
    """The test call's details: how it was made, where it failed, its set-up marks and each
    kind's figures; over the relay when the direct call failed."""

    ran_in: str | UnsetType = UNSET
    #: local: aiortc to itself; echo: to serve's echo peer; browser: the check page's call from
    #: the end user's browser to serve's echo peer
    mode: Literal["local", "echo", "browser"]
    echo_url: str | None | UnsetType = UNSET
    media: str | UnsetType = UNSET
    failed_stage: str | UnsetType = UNSET
    busy: bool | UnsetType = UNSET
    error: str | UnsetType = UNSET
    fallback: Fallback | None | UnsetType = UNSET
    loop_lag_ms: Number | None | UnsetType = UNSET
    media_messages: tuple[Said, ...] | UnsetType = UNSET
    received: Received | UnsetType = UNSET
    setup: dict[str, Number] | UnsetType = UNSET
    codecs: dict[str, Codec] | UnsetType = UNSET
    media_seconds: Number | UnsetType = UNSET
    audio: CallKind | UnsetType = UNSET
    video: CallKind | UnsetType = UNSET
    #: per-second figures: "t" (seconds into the call) and per kind, per figure, a value each
    #: (the same keys as the kind's figures: an open set, hence a mapping)
    series: dict[str, Any] | UnsetType = UNSET
    #: the check page's call: the ICE pair it went over, how long, how often serve was busy
    path: dict[str, CallEnd] | UnsetType = UNSET
    seconds: Number | UnsetType = UNSET
    busy_retries: int | UnsetType = UNSET


@dataclass
class RtpObservation:
    #: what was seen, as it was gathered (a dict filled step by step); `evidence()` types it
    seen: dict[str, Any] = field(default_factory=dict)
    failure: CallFailed | None = None

    def evidence(self) -> RtpDetails:
        return faithful(RtpDetails, self.seen, "rtp")

    def details(self) -> JsonObject:
        return details(self.evidence())


def figures(audio: CallKind | None) -> tuple[float | None, float | None, float | None,
                                            float | None]:
    """(RTT, jitter, loss of the worse direction, MOS) of a call's audio, as judged."""
    if audio is None:
        return None, None, None, None
    rtt = audio.rtt_ms.avg if audio.rtt_ms is not None else None
    jitter = audio.jitter_ms.avg if audio.jitter_ms is not None else None
    losses = [v for v in (audio.uplink_loss_pct, audio.downlink_loss_pct) if v is not None]
    loss = max(losses) if losses else None
    score = mos(rtt or 0.0, jitter or 0.0, loss or 0.0) if rtt is not None else None
    return rtt, jitter, loss, score


def _fallback(observation: RtpObservation, failure: CallFailed) -> Verdict | None:
    """The direct call failed, the one through serve's TURN relay over TCP worked: a warning
    with that call's figures (calls work here, slower)."""
    gathered = observation.seen.get("fallback")
    found = faithful(Fallback, gathered, "rtp fallback") if isinstance(gathered, dict) else None
    if found is None or given(found.audio) is None:
        return None
    rtt, jitter, loss, score = figures(given(found.audio))
    metrics = (Metric("fallback_rtt", rtt, "ms", better="lower"),
               Metric("fallback_loss", None if loss is None else round(loss, 2), "%",
                      better="lower"),
               Metric("fallback_mos", None if score is None else round(score, 2), "MOS",
                      better="higher"))
    numbers = Message(S.CALL_NUMBERS, {"rtt": rtt or 0.0, "jitter": jitter or 0.0,
                                       "loss": loss or 0.0, "mos": score or 0.0}).as_dict()
    return Verdict(Status.WARN, Message(S.CALL_FALLBACK, {
        "stage": failure.stage, "server": found.server, "numbers": numbers}),
        (Advice(R.CALL_FALLBACK),), metrics)


def judge(observation: RtpObservation) -> Verdict:
    """Where the call failed (the failure, and the call over the relay after it, typed); else
    what the typed evidence says (observation.evidence()): its figures against the thresholds."""
    failure = observation.failure
    if failure is not None:
        fallback = _fallback(observation, failure)
        if fallback is not None:
            return fallback
        if failure.stage == "network":
            advice = Advice(R.NO_NETWORK)
        elif failure.message.id == S.CALL_NO_LOCAL_ADDRESS:  # -4/-6, --source, --interface
            advice = Advice(R.LOCAL_OPTIONS_LEFT_NOTHING, dict(failure.message.params))
        else:
            advice = Advice(R.CALL_NO_CONNECT, {"stage": failure.stage})
        return Verdict(Status.FAIL, failure.message, (advice,))
    seen = observation.evidence()
    rtt, jitter, loss, score = figures(given(seen.audio))
    kinds = [k for k in (given(seen.audio), given(seen.video)) if k is not None]
    bitrate = sum(k.bitrate_kbps.avg if k.bitrate_kbps is not None else 0.0 for k in kinds)
    setup = (given(seen.setup) or {}).get("first_media_ms")
    t = thresholds
    metrics = (
        Metric("setup", setup, "ms", better="lower"),
        Metric("rtt", rtt, "ms", warn=t.CALL_RTT_WARN_MS, better="lower"),
        Metric("jitter", jitter, "ms", warn=t.CALL_JITTER_WARN_MS, better="lower"),
        Metric("loss", None if loss is None else round(loss, 2), "%", warn=t.CALL_LOSS_WARN_PCT,
               better="lower"),
        Metric("bitrate", round(bitrate, 1), "kbps", better="higher"),
        Metric("mos", None if score is None else round(score, 2), "MOS", warn=t.CALL_MOS_WARN,
               fail=t.CALL_MOS_FAIL, better="higher"),
    )
    if score is None or rtt is None or jitter is None or loss is None:
        return Verdict(Status.WARN, Message(S.CALL_NO_RTCP), (Advice(R.CALL_POOR),), metrics)
    numbers = Message(S.CALL_NUMBERS, {"rtt": rtt, "jitter": jitter, "loss": loss,
                                       "mos": score}).as_dict()
    problems = [rtt > t.CALL_RTT_WARN_MS, jitter > t.CALL_JITTER_WARN_MS,
                loss > t.CALL_LOSS_WARN_PCT, score < t.CALL_MOS_WARN]
    poor = score < t.CALL_MOS_FAIL
    said = [Message(S.CALL_POOR if poor else S.CALL_DEGRADED, {"numbers": numbers})] \
        if poor or any(problems) else []
    stalled = stalled_video(given(seen.received))
    if stalled is not None:
        said.append(stalled)
    if said:
        message = said[0] if len(said) == 1 else Message(S.CALL_SEVERAL, {
            "which": [m.as_dict() for m in said]})
        return Verdict(Status.FAIL if poor else Status.WARN, message, (Advice(R.CALL_POOR),),
                       metrics)
    ok = S.CALL_OK_LOCAL if seen.mode == "local" else S.CALL_OK
    return Verdict(Status.PASS, Message(ok, {"numbers": numbers}), (), metrics)


def stalled_video(received: Received | None) -> Message | None:
    """The video that came back, judged as a viewer would see it: too few frames a second, or
    frozen for a good part of the call (WebRTC's freeze definition, call/quality.py)."""
    video = given(received.video) if received is not None else None
    if video is None:
        return None
    if video.fps < thresholds.CALL_VIDEO_FPS_WARN \
            or video.frozen_share > thresholds.CALL_FROZEN_SHARE_WARN:
        return Message(S.CALL_VIDEO_STALLED, {"fps": video.fps, "freezes": video.freezes,
                                              "seconds": video.frozen_s})
    return None


def host_addresses() -> list[str]:
    """The addresses aiortc would gather ICE host candidates on (aioice's own list)."""
    from aioice.ice import get_host_addresses

    return get_host_addresses(use_ipv4=True, use_ipv6=True)


async def measure(config: Config, prior: Prior = NO_PRIOR) -> RtpObservation:
    from ..call.session import run_call

    mode = "echo" if config.call.echo_url else "local"
    seen = RtpObservation({"mode": mode, "echo_url": config.call.echo_url, "media": "none"})
    details = seen.seen
    if not host_addresses():
        # aiortc gathers no ICE candidate on loopback: with nothing else the call can only
        # time out at ICE (10 s); say why at once
        seen.failure = CallFailed("network", Message(S.CALL_NO_NETWORK))
        details["failed_stage"] = "network"
        return seen
    tracks, media = await choose_media(config, prior)
    started = time.perf_counter()
    try:
        call = await run_call(config, tracks)
    except CallFailed as failure:
        details["failed_stage"] = failure.stage
        seen.failure = failure
        if failure.stage.lower() == "ice" and mode == "echo":
            await _fall_back(config, prior, details)
        return seen
    _record(details, call, media, started)
    return seen


async def _fall_back(config: Config, prior: Prior, details: dict[str, Any]) -> None:
    """The direct call failed at ICE: when the echo's serve fronts it with a TURN relay (serve
    --turn), the same call over TCP through it, as a call falls back when UDP does not get
    out; its figures go in details["fallback"] (its credentials do not)."""
    from ..call.session import run_call
    from ..call.signalling import turn_offer

    relay = await turn_offer(config)
    if relay is None:
        details["fallback"] = None
        return
    tried: list[dict[str, Any]] = []
    for url in relay["urls"][:2]:  # TLS first when offered, then plain TCP
        tls = url.startswith("turns:")
        found: dict[str, Any] = {"via": "TURN over TLS" if tls else "TURN over TCP",
                                 "server": url.split(":", 1)[1].split("?")[0]}
        details["fallback"] = found
        tracks, media = await choose_media(config, prior)
        started = time.perf_counter()
        try:
            call = await run_call(config, tracks, relay={**relay, "urls": [url]})
        except CallFailed as failure:
            found["failed_stage"], found["error"] = failure.stage, failure.message.as_dict()
            tried.append(found)
            continue
        _record(found, call, media, started)
        break
    if tried and details["fallback"] is not tried[-1]:
        details["fallback"]["failed_before"] = tried


def _record(details: dict[str, Any], call: Any, media: list[Message], started: float) -> None:
    details["loop_lag_ms"] = lag_during(started, time.perf_counter())  # RTCP is read on the loop
    details["media"] = " and ".join(m.text("en") for m in media)  # as before: English
    details["media_messages"] = [m.as_dict() for m in media]  # for the report, in its language
    details["received"] = call.received
    details["setup"] = call.marks
    details["codecs"] = call.codecs
    details["media_seconds"] = call.media_seconds
    for kind, k in call.stats.items():
        details[kind] = kind_details(k, call.series)
    details["series"] = {"t": call.series.t, **call.series.rows}


def deadline_s(config: Config) -> float:
    # set-up, the call, waiting for a first RTT, then for the far end's counts; with an echo,
    # room for the call over its TURN relay after a direct one that failed at ICE
    one = config.call.connect_deadline_s + config.call.call_seconds + 2 * RTCP_DRAIN_S + 3
    fallback = 2 * one + config.network.timeout_s if config.call.echo_url else 0.0  # TLS, then TCP
    return one + fallback + PROBE_DEADLINE_MARGIN_S


#: OpenMetrics: the call's figures, from its metrics, in Prometheus' units (seconds, ratios)
SERIES = (
    Series("trtcdetect_call_rtt_seconds", "Test call RTT (RTCP), average", unit="seconds"),
    Series("trtcdetect_call_jitter_seconds", "Test call audio jitter, average", unit="seconds"),
    Series("trtcdetect_call_loss_ratio", "Test call audio loss, worse direction", unit="ratio"),
    Series("trtcdetect_call_mos", "Test call E-model MOS (1-4.5)"),
    Series("trtcdetect_call_setup_seconds", "Test call: until the first media", unit="seconds"),
)
#: metric name -> (series, factor from the metric's unit)
_SERIES_OF = {"rtt": ("trtcdetect_call_rtt_seconds", 1e-3),
              "jitter": ("trtcdetect_call_jitter_seconds", 1e-3),
              "loss": ("trtcdetect_call_loss_ratio", 1e-2), "mos": ("trtcdetect_call_mos", 1.0),
              "setup": ("trtcdetect_call_setup_seconds", 1e-3)}


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    for name, (series, factor) in _SERIES_OF.items():
        value = metric_value(probe, name)
        if value is not None:
            yield series, (), round(value * factor, 9)


def checks(result: ProbeResult) -> Iterable[Check]:
    """--repeat's board with --call: did this round's test call connect?"""
    yield "CALL", result.status in (Status.PASS, Status.WARN), None


PROBE = MeasuredProbe(
    id="rtp",
    traits=frozenset({"network", "device", "call"}),
    titles=Text("Test call", "测试通话"),
    description=("a real WebRTC call through aiortc (ICE, DTLS-SRTP, Opus, VP8): set-up, RTT, "
                "jitter, loss, MOS"),
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=RtpDetails,
    checks=checks,
    #: a call sends what the camera and microphone probes found working, so it runs after them
    after=("camera", "microphone", "speaker"),
    series=SERIES,
    samples=samples,
)
