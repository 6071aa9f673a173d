"""An upload from the check page into the run-report model, judged as the command line judges.

Each part becomes the result of the probe that checks the same thing on the command line
(browsers, camera, microphone, speaker, rtp), with `details.ran_in = "browser"`: the camera's
and microphone's figures go through the command line's own judges, the call's through the test
call's judge (MOS by the same E-model), and the whole through the same diagnosis. What only a
browser can say (a permission refused, by the user or by the system) has its own sentences and
remedies, per browser where they differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec

from .. import __version__, thresholds
from ..call.signalling import CallFailed
from ..call.stats import summary
from ..devices.levels import MicCapture
from ..diagnosis import diagnose
from ..evidence import EvidenceError, JsonObject, details, read
from ..failures import said
from ..models import (
    Advice,
    Message,
    Metric,
    ProbeResult,
    RunReport,
    Status,
    Target,
    Verdict,
    unique_advice,
    worst,
)
from ..probes import browsers as browsers_probe
from ..probes import camera as camera_probe
from ..probes import microphone as microphone_probe
from ..probes import rtp as rtp_probe
from ..probes import speaker as speaker_probe
from ..probes import trtcweb as trtcweb_probe
from ..probes.base import MeasuredProbe
from ..probes.browsers import tencent_failures
from ..runner import error_result
from ..text.ids import R, S
from ..trtc.webevents import summarize
from . import platform
from .upload import Call, Camera, MediaError, Microphone, Schedule, Speaker, Upload, clean

RAN_IN = "browser"


def _result(probe: MeasuredProbe[Any], verdict: Verdict, details: JsonObject) -> ProbeResult:
    """The probe's result from what the page measured (its declaration gives id and title),
    its details read into the probe's evidence type as the command line's are; details that do
    not read (a converter's mistake) make that probe's result `error`, and the report is still
    written."""
    given = {"ran_in": RAN_IN, **details}
    try:
        evidence = None if probe.evidence is None else \
            read(probe.evidence, given, f"{probe.id} details")
    except EvidenceError as exc:
        return error_result(probe, said(str(exc)))
    return ProbeResult(probe.id, probe.title, verdict.status,
                       message=verdict.message, metrics=verdict.metrics,
                       details=given, advice=verdict.advice, evidence=evidence)


def permission_advice(family: str) -> Advice:
    known = {"chrome": R.BROWSER_PERMISSION_CHROME, "chromium": R.BROWSER_PERMISSION_CHROME,
             "webview": R.BROWSER_PERMISSION_CHROME, "edge": R.BROWSER_PERMISSION_EDGE,
             "firefox": R.BROWSER_PERMISSION_FIREFOX, "safari": R.BROWSER_PERMISSION_SAFARI}
    return Advice(known.get(family, R.BROWSER_PERMISSION))


def _media_error(camera: bool, error: MediaError, family: str) -> Verdict:
    """What getUserMedia's rejection means (of the camera, or else the microphone), by the
    DOMException's name (and Chrome's message for a refusal by the operating system)."""
    text = clean(f"{error.name}: {error.message}" if error.message else error.name)
    if error.name in ("NotAllowedError", "PermissionDeniedError", "SecurityError"):
        if "system" in error.message.lower():
            return Verdict(Status.FAIL, Message(S.CHECK_CAMERA_DENIED_SYSTEM if camera
                                                else S.CHECK_MIC_DENIED_SYSTEM, {"error": text}),
                           (Advice(R.BROWSER_PERMISSION_SYSTEM),))
        return Verdict(Status.FAIL, Message(S.CHECK_CAMERA_DENIED if camera
                                            else S.CHECK_MIC_DENIED, {"error": text}),
                       (permission_advice(family),))
    if error.name in ("NotReadableError", "TrackStartError", "AbortError"):
        return Verdict(Status.FAIL, Message(S.CHECK_CAMERA_BUSY if camera else S.CHECK_MIC_BUSY,
                                            {"error": text}),
                       (Advice(R.CAMERA_BUSY if camera else R.MIC_CANNOT_OPEN),))
    if error.name in ("NotFoundError", "DevicesNotFoundError"):
        return Verdict(Status.FAIL, Message(S.CHECK_CAMERA_MISSING if camera
                                            else S.CHECK_MIC_MISSING),
                       (Advice(R.CAMERA_MISSING if camera else R.MIC_MISSING),))
    return Verdict(Status.FAIL, Message(S.CHECK_CAMERA_ERROR if camera else S.CHECK_MIC_ERROR,
                                        {"error": text}),
                   (Advice(R.CAMERA_NO_FRAMES if camera else R.MIC_CANNOT_OPEN),))


def _labels(upload: Upload, kind: str) -> list[str]:
    return [clean(d.label) or "?" for d in upload.devices if d.kind == kind]


def camera_result(camera: Camera, family: str, labels: Sequence[str] = ()) -> ProbeResult:
    devices = [{"id": str(i), "name": label, "path": None} for i, label in enumerate(labels)]
    details: JsonObject = {"permission": camera.permission, "source": clean(camera.label),
                               "devices": devices}
    if camera.error is not None:
        details["media_error"] = {"name": clean(camera.error.name),
                                  "message": clean(camera.error.message)}
        return _result(camera_probe.PROBE, _media_error(True, camera.error, family), details)
    details["capture"] = {
        "width": camera.width, "height": camera.height,
        "requested_width": camera.requested_width, "requested_height": camera.requested_height,
        "fps": round(camera.fps, 2), "claimed_fps": None, "frames": camera.frames,
        "black_ratio": round(camera.black_ratio, 3), "frozen_ratio": round(camera.frozen_ratio, 3),
        "changed_pixels_median": None, "snapshot_jpeg_base64": None,
        "mean_luma": camera.mean_luma,
    }
    if camera.frames == 0:
        return _result(camera_probe.PROBE, Verdict(Status.FAIL, Message(S.CAMERA_NO_FRAMES),
                                         (Advice(R.CAMERA_NO_FRAMES),)), details)
    observation = camera_probe.CameraObservation(
        capture=read(camera_probe.CameraCapture, details["capture"], "camera"))
    return _result(camera_probe.PROBE, camera_probe.judge(observation), details)


def microphone_result(microphone: Microphone, family: str,
                      labels: Sequence[str] = ()) -> ProbeResult:
    devices = [{"id": i, "name": label, "host_api": "getUserMedia", "channels": 1,
                "default_sample_rate": microphone.sample_rate} for i, label in enumerate(labels)]
    details: JsonObject = {"permission": microphone.permission, "devices": devices,
                               "device": {"name": clean(microphone.label), "host_api": "getUserMedia"}}
    if microphone.error is not None:
        details["media_error"] = {"name": clean(microphone.error.name),
                                  "message": clean(microphone.error.message)}
        return _result(microphone_probe.PROBE, _media_error(False, microphone.error, family), details)
    silent = microphone.rms_dbfs < thresholds.SILENCE_DBFS
    details["capture"] = {
        "sample_rate": microphone.sample_rate, "channels": 1, "seconds": microphone.seconds,
        "rms_dbfs": round(microphone.rms_dbfs, 2), "peak_dbfs": round(microphone.peak_dbfs, 2),
        "noise_floor_dbfs": round(microphone.noise_floor_dbfs, 2),
        "clipped_samples": microphone.clipped_samples,
        "clipped_ratio": round(microphone.clipped_ratio, 6), "silent": silent,
        "channels_with_signal": [] if silent else [0],
        "level_series": {"step_s": microphone.step_s,
                         "dbfs": [round(v, 1) for v in microphone.level_series]},
    }
    verdict = microphone_probe.judge(microphone_probe.MicObservation(
        capture=read(MicCapture, details["capture"], "microphone")))
    if silent:
        # The command line reads a device, where silence is a muted or dead microphone. In a
        # browser a live microphone is also silent while nobody speaks: a warning, said so.
        verdict = Verdict(Status.WARN, Message(S.CHECK_MIC_SILENT,
                                               {"level": microphone.rms_dbfs}),
                          (Advice(R.CHECK_SPEAK),), verdict.metrics)
    return _result(microphone_probe.PROBE, verdict, details)


def speaker_result(speaker: Speaker | None) -> ProbeResult:
    heard = speaker.heard if speaker is not None else None
    details = {"heard": heard, "error": clean(speaker.error) if speaker and speaker.error else None}
    if heard is None:
        verdict = Verdict(Status.SKIP, Message(S.CHECK_SPEAKER_NOT_ASKED))
    elif heard:
        verdict = Verdict(Status.PASS, Message(S.CHECK_SPEAKER_HEARD))
    else:
        verdict = Verdict(Status.WARN, Message(S.CHECK_SPEAKER_NOT_HEARD),
                          (Advice(R.CHECK_SPEAKER),))
    return _result(speaker_probe.PROBE, verdict, details)


def browser_result(upload: Upload, judged: platform.Judged) -> ProbeResult:
    page = upload.page
    b = judged.browser
    words = {"browser": b.name, "os": b.os_name, "minimum": judged.minimum}
    statuses: list[Status] = []
    advice: list[Advice] = []
    if judged.verdict == "supported":
        message, status = Message(S.CHECK_BROWSER_OK, words), Status.PASS
    elif judged.verdict == "too_old":
        message, status = Message(S.CHECK_BROWSER_OLD, words), Status.FAIL
        advice.append(Advice(R.BROWSER_UPGRADE))
    elif judged.verdict == "receive_only":
        message, status = Message(S.CHECK_BROWSER_RECEIVE_ONLY, words), Status.FAIL
        advice.append(Advice(R.BROWSER_UPGRADE))
    else:
        message, status = Message(S.CHECK_BROWSER_UNKNOWN, words), Status.WARN
        advice.append(Advice(R.BROWSER_UPGRADE))
    statuses.append(status)
    url = f"{page.protocol}//{page.hostname}"
    if not page.secure_context:
        statuses.append(Status.FAIL)
        message = Message(S.CHECK_INSECURE, {"url": clean(url)})
        advice.append(Advice(R.HTTPS_REQUIRED, {"url": clean(url)}))
    tencent = upload.tencent
    details: JsonObject = {
        "user_agent": clean(page.user_agent), "family": b.family,
        "version": ".".join(map(str, b.version)) if b.version else None,
        "os": b.os, "mobile": b.mobile, "minimum": judged.minimum, "verdict": judged.verdict,
        "platform_source": platform.PLATFORM_SOURCE, "secure_context": page.secure_context,
        "page": clean(url), "language": clean(page.language),
        "viewport": {"width": page.width, "height": page.height, "touch": page.touch},
    }
    if tencent is not None:
        detect = {"errors": [clean(e) for e in tencent.errors],
                  "isSupported": ({"result": tencent.is_supported,
                                   "detail": {clean(k): v for k, v in tencent.checks.items()}}
                                  if tencent.is_supported is not None else {}),
                  "isTRTCSupported": ({"result": tencent.is_trtc_supported}
                                      if tencent.is_trtc_supported is not None else {})}
        details["tencent"] = {"sdk_version": clean(tencent.sdk_version or ""), "detect": detect}
        failed = tencent_failures(detect)
        before = message.as_dict()
        if failed:
            statuses.append(Status.FAIL)
            message = Message(S.CHECK_TENCENT_FAILED, {"before": before,
                                                       "which": clean(", ".join(failed))})
            advice.append(Advice(R.BROWSER_UPGRADE))
        elif tencent.is_supported is not None:
            message = Message(S.CHECK_TENCENT_OK, {"before": before,
                                                   "version": clean(tencent.sdk_version or "?")})
    verdict = Verdict(worst(statuses), message, unique_advice(advice),
                      (Metric("browser_version", b.version[0] if b.version else None, "major"),))
    return _result(browsers_probe.PROBE, verdict, details)


def _loss_pct(lost: int, base: int) -> float | None:
    return round(100 * max(lost, 0) / base, 2) if base > 0 else None


def _summary(values: Sequence[float | None]) -> JsonObject | None:
    """min/avg/max of a series as the details write them (call.stats.summary)."""
    found = summary(list(values))
    return None if found is None else details(found)


def call_evidence(call: Call, echo: str) -> JsonObject:
    """The call's figures in the shape of the command line's test call (rtp's details)."""
    received_all = call.packets_received + max(call.packets_lost_down, 0)
    if call.far_received is not None and call.far_lost is not None:
        # the echo's own count when the call ended, over what it expected (received + lost)
        up_lost, up_base, counted_by = call.far_lost, call.far_received + max(call.far_lost, 0), \
            "far end"
    else:  # its last receiver report: up to a second behind the packets sent
        up_lost, up_base, counted_by = call.packets_lost_up, call.packets_sent, "receiver reports"
    audio = {
        "packets_sent": call.packets_sent, "uplink_packets_lost": max(up_lost, 0),
        "uplink_loss_pct": _loss_pct(up_lost, up_base),
        "uplink_counted_by": counted_by,
        "packets_received": call.packets_received,
        "downlink_packets_lost": max(call.packets_lost_down, 0),
        "downlink_loss_pct": _loss_pct(call.packets_lost_down, received_all),
        "rtt_ms": _summary(call.rtt_ms), "jitter_ms": _summary(call.jitter_ms),
        "downlink_jitter_ms": _summary(call.downlink_jitter_ms),
        "bitrate_kbps": _summary([call.bitrate_kbps]) if call.bitrate_kbps else None,
        "rtt_reports": len(call.rtt_ms),
    }
    ends = {side: {"type": c.type, "protocol": c.protocol, "address": clean(c.address or ""),
                   "port": c.port, "relay_protocol": c.relay_protocol}
            for side, c in (("local", call.local), ("remote", call.remote)) if c is not None}
    return {"mode": "browser", "echo_url": clean(echo), "media": "camera and microphone",
            "setup": {"first_media_ms": round(call.setup_ms)} if call.setup_ms else {},
            "audio": audio, "path": ends, "seconds": call.seconds,
            "busy_retries": call.busy_retries}


def call_result(call: Call | None, echo: str) -> ProbeResult:
    if call is None:
        verdict = Verdict(Status.SKIP, Message(S.CHECK_CALL_NOT_RUN, {"error": "not asked"}))
        return _result(rtp_probe.PROBE, verdict, {"mode": "browser"})
    if not call.connected:
        # the stages of the command line's test call (schema.json); the page says "busy" when
        # the server had no free call slot after its retries
        stage = call.stage if call.stage in ("signalling", "ICE", "DTLS", "media", "busy") \
            else "signalling"
        error = clean(call.error or "")
        if stage == "busy":
            verdict = Verdict(Status.ERROR, Message(S.CHECK_CALL_BUSY), ())
        else:
            failure = CallFailed(stage, Message(S.CHECK_CALL_FAILED, {"stage": stage,
                                                                       "error": error}))
            verdict = rtp_probe.judge(rtp_probe.RtpObservation(failure=failure))
        return _result(rtp_probe.PROBE, verdict, {"mode": "browser", "echo_url": clean(echo),
                                        "failed_stage": "signalling" if stage == "busy" else stage,
                                        "busy": stage == "busy", "error": error,
                                        "media": "camera and microphone"})
    evidence = call_evidence(call, echo)
    verdict = rtp_probe.judge(rtp_probe.RtpObservation(seen=read(rtp_probe.RtpDetails, evidence, "rtp")))
    return _result(rtp_probe.PROBE, verdict, evidence)


def schedule_result(schedule: Schedule | None, upload: Upload,
                    browser: str) -> ProbeResult | None:
    """TRTC's scheduling service from the user's browser, and with the server's credentials
    Tencent's two-client network test, judged by the trtcweb probe's judge."""
    if upload.network is not None:
        return network_result(upload, browser)
    if schedule is None:
        return None
    version = clean(upload.tencent.sdk_version or "") if upload.tencent else ""
    answer = None if schedule.timed_out else trtcweb_probe.Schedule(
        entered=schedule.entered, ms=round(schedule.ms),
        error=None if schedule.error is None else {
            "code": schedule.error.code, "extraCode": schedule.error.extra_code,
            "name": clean(schedule.error.name or ""), "message": clean(schedule.error.message)})
    observation = trtcweb_probe.TrtcWebObservation(
        browser=browser, sdk_version=version or None, schedule=answer,
        ended_by="deadline" if schedule.timed_out else "done", deadline_s=schedule.deadline_s,
        elapsed_s=schedule.ms / 1000)
    return _result(trtcweb_probe.PROBE, trtcweb_probe.judge(observation), observation.details())


def network_result(upload: Upload, browser: str) -> ProbeResult:
    assert upload.network is not None
    events = [{k: (clean(v) if isinstance(v, str) else v)
               for k, v in msgspec.structs.asdict(e).items() if v is not None}
              for e in upload.network.events]
    version = clean(upload.tencent.sdk_version or "") if upload.tencent else ""
    observation = trtcweb_probe.TrtcWebObservation(
        browser=browser, sdk_version=version or None,
        schedule=trtcweb_probe.Schedule(network=tuple(events)), network=summarize(events),
        ended_by="done",
        error=clean(upload.network.error) if upload.network.error else None)
    return _result(trtcweb_probe.PROBE, trtcweb_probe.judge(observation), observation.details())


def to_report(upload: Upload, *, server: str, echo: str, ref: str | None,
              received_at: dt.datetime, address: str) -> RunReport:
    """The run report of one check page's upload (`server`: the host the page was served from;
    `address`: the uploader's, as the server saw it)."""
    judged = platform.judge(platform.parse(upload.page.user_agent))
    family = judged.browser.family
    probes = [browser_result(upload, judged)]
    if upload.camera is not None:
        probes.append(camera_result(upload.camera, family, _labels(upload, "videoinput")))
    if upload.microphone is not None:
        probes.append(microphone_result(upload.microphone, family,
                                        _labels(upload, "audioinput")))
    probes.append(speaker_result(upload.speaker))
    probes.append(call_result(upload.call, echo))
    schedule = schedule_result(upload.schedule, upload, judged.browser.name)
    if schedule is not None:
        probes.append(schedule)
    ordered = tuple(probes)
    try:
        diagnosis = diagnose(ordered, {})
    except Exception:  # noqa: BLE001 - as the runner: a rule's bug must not cost the report
        diagnosis = ()
    return RunReport(
        tool_version=__version__,
        started_at=upload.started_at.split(".")[0].rstrip("Z") + "Z",
        duration_s=round(upload.duration_ms / 1000, 3),
        target=Target(server, (), ()),
        # the document's contract: os, python and hostname; a browser has no Python, and its
        # machine's name is its address as this server saw it
        system={"os": judged.browser.os_name, "python": "-", "hostname": address,
                "browser": judged.browser.name,
                "ran_in": RAN_IN, "user_agent": clean(upload.page.user_agent),
                "address": address,
                "received_at": received_at.isoformat(timespec="seconds").replace("+00:00", "Z")},
        config={"source": "check page", "reference": clean(ref) if ref else None,
                "lang": upload.lang,
                "devices": [{"kind": d.kind, "label": clean(d.label)} for d in upload.devices]},
        probes=ordered,
        diagnosis=diagnosis,
    )
