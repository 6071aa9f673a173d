"""Probe `rtp`: a real test call through aiortc (ICE, DTLS-SRTP, Opus, VP8, RTCP).

Local loopback (default): a second RTCPeerConnection in this process echoes the media back; it
proves this machine's stack, codecs and CPU can carry a call. With --echo-url the far end is
`trtcdetect serve`'s echo peer and the media crosses the real network twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

import msgspec

from .. import thresholds
from ..call.quality import mos
from ..call.session import RTCP_DRAIN_S, CallResult, Codec, Received
from ..call.signalling import CallFailed
from ..call.stats import CallKind, SeriesSeen, kind_details
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
    given,
    of,
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


class MicUsed(Evidence, frozen=True, kw_only=True):
    """What a call reads of the microphone probe's evidence: the device it recorded from (a
    view of its details, read by type: a probe does not import another)."""

    device: AudioDevice | None | UnsetType = UNSET


class CameraUsed(Evidence, frozen=True, kw_only=True):
    """What a call reads of the camera probe's evidence: the source it captured."""

    source: str | None | UnsetType = UNSET


async def choose_media(config: Config,
                       prior: Prior = NO_PRIOR) -> tuple[list[MediaStreamTrack], list[Message]]:
    """The tracks a call from here would send: the camera and microphone the device probes
    found working in this run, else a generated tone and test pattern; and what they are."""
    from ..call.media import PatternTrack, ToneTrack, camera_track, open_mic

    mic = of(MicUsed, _usable(prior.get("microphone")))
    cam = of(CameraUsed, _usable(prior.get("camera")))
    device = given(mic.device) if mic is not None else None
    source = given(cam.source) if cam is not None else None
    tracks: list[MediaStreamTrack] = []
    said: list[Message] = []
    if device is not None:
        try:
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
        if source:
            try:
                video = await camera_track(source, config.devices.camera_size)
                said.append(Message(S.MEDIA_CAMERA, {"source": source}))
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
    series: SeriesSeen | UnsetType = UNSET
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
    series: SeriesSeen | UnsetType = UNSET
    #: the check page's call: the ICE pair it went over, how long, how often serve was busy
    path: dict[str, CallEnd] | UnsetType = UNSET
    seconds: Number | UnsetType = UNSET
    busy_retries: int | UnsetType = UNSET


class CallRecord(TypedDict):
    """What a call that connected showed: the fields RtpDetails and Fallback both have (mypy
    holds each key to both types where they are made from it)."""

    loop_lag_ms: float | None
    media: str
    media_messages: tuple[Said, ...]
    received: Received
    setup: dict[str, Number]
    codecs: dict[str, Codec]
    media_seconds: Number
    audio: NotRequired[CallKind]
    video: NotRequired[CallKind]
    series: SeriesSeen


@dataclass
class RtpObservation:
    #: what the call showed, or how it failed (None: only the failure is known, as with the
    #: check page's call that did not connect)
    seen: RtpDetails | None = None
    failure: CallFailed | None = None

    def evidence(self) -> RtpDetails:
        if self.seen is None:
            raise ValueError("the test call has no details to write")
        return self.seen

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
    found = given(observation.seen.fallback) if observation.seen is not None else None
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

    mode: Literal["local", "echo"] = "echo" if config.call.echo_url else "local"
    base = RtpDetails(mode=mode, echo_url=config.call.echo_url, media="none")
    if not host_addresses():
        # aiortc gathers no ICE candidate on loopback: with nothing else the call can only
        # time out at ICE (10 s); say why at once
        return RtpObservation(msgspec.structs.replace(base, failed_stage="network"),
                              CallFailed("network", Message(S.CALL_NO_NETWORK)))
    tracks, media = await choose_media(config, prior)
    started = time.perf_counter()
    try:
        call = await run_call(config, tracks)
    except CallFailed as failure:
        fallback = await _fall_back(config, prior) \
            if failure.stage.lower() == "ice" and mode == "echo" else UNSET
        return RtpObservation(msgspec.structs.replace(
            base, failed_stage=failure.stage, fallback=fallback), failure)
    return RtpObservation(RtpDetails(mode=mode, echo_url=config.call.echo_url,
                                     **_record(call, media, started)))


async def _fall_back(config: Config, prior: Prior) -> Fallback | None | UnsetType:
    """The direct call failed at ICE: when the echo's serve fronts it with a TURN relay (serve
    --turn), the same call over TCP through it, as a call falls back when UDP does not get
    out: its figures (its credentials are not kept), or how it failed; None: no relay
    (UNSET: a relay that offered no URL)."""
    from ..call.session import run_call
    from ..call.signalling import turn_offer

    relay = await turn_offer(config)
    if relay is None:
        return None
    tried: list[Fallback] = []
    for url in relay["urls"][:2]:  # TLS first when offered, then plain TCP
        tls = url.startswith("turns:")
        via, server = "TURN over TLS" if tls else "TURN over TCP", url.split(":", 1)[1].split("?")[0]
        tracks, media = await choose_media(config, prior)
        started = time.perf_counter()
        try:
            call = await run_call(config, tracks, relay={**relay, "urls": [url]})
        except CallFailed as failure:
            tried.append(Fallback(via=via, server=server, failed_stage=failure.stage,
                                  error=read(Said, failure.message.as_dict())))
            continue
        return Fallback(via=via, server=server, **_record(call, media, started),
                        failed_before=tuple(tried) or UNSET)
    return tried[-1] if tried else UNSET


def _record(call: CallResult, media: list[Message], started: float) -> CallRecord:
    record = CallRecord(
        loop_lag_ms=lag_during(started, time.perf_counter()),  # RTCP is read on the loop
        media=" and ".join(m.text("en") for m in media),  # as before: English
        media_messages=tuple(read(Said, m.as_dict()) for m in media),  # for the report
        received=call.received, setup=dict(call.marks), codecs=call.codecs,
        media_seconds=call.media_seconds, series=call.series.seen())
    for kind, k in call.stats.items():
        if kind == "audio":
            record["audio"] = kind_details(k, call.series)
        elif kind == "video":
            record["video"] = kind_details(k, call.series)
        else:
            raise ValueError(f"a call's stats of {kind!r}: neither audio nor video")
    return record


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
