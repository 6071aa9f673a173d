"""RunReports for renderer tests: every probe, every status, hostile names — no network needed."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from trtcdetect.models import Advice, Message, Metric, ProbeResult, RunReport, Status, Target
from trtcdetect.net.path import PathHop, Traced
from trtcdetect.probes.browsers import MINIMUMS_SOURCE

HOSTILE_FILE = "<img src=x onerror=alert(1)>.mp4"


def snapshot() -> str:
    import cv2

    frame = np.zeros((120, 160, 3), np.uint8)
    frame[:, :80] = (40, 160, 40)
    ok, jpeg = cv2.imencode(".jpg", frame)
    assert ok
    return base64.b64encode(jpeg.tobytes()).decode()


def _ports(status: Status) -> ProbeResult:
    ports = [
        {"protocol": "tcp", "port": 8687, "verdict": "open", "rtt_ms": 12.0, "error": None},
        {"protocol": "udp", "port": 8000, "verdict": "no_answer", "rtt_ms": None,
         "error": "no answer to 4 STUN requests in 1.1 s"},
        {"protocol": "udp", "port": 8080, "verdict": "closed", "rtt_ms": None,
         "error": "Connection refused (errno 111)"},
        {"protocol": "udp", "port": 443, "verdict": "open", "rtt_ms": 14.5, "error": None},
    ]
    if status is Status.PASS:
        ports = [dict(p, verdict="open", rtt_ms=10.0, error=None) for p in ports]
        message = Message("ports.all-open", {"count": 4})
        advice: tuple[Advice, ...] = ()
    else:
        message = Message("ports.some-open", {"open": 2, "count": 4, "which": "UDP 8000, 8080"})
        advice = (Advice("whitelist-udp", {"host": "qcloud.rtc.qq.com", "ports": "8000, 8080"}),)
    return ProbeResult("ports", "Firewall ports", status, message=message, duration_s=1.1,
                       metrics=(Metric("ports_open", 2, "count"),),
                       details={"host": "qcloud.rtc.qq.com", "address": "198.18.0.2",
                                "ports": ports}, advice=advice)


def _domain(status: Status) -> ProbeResult:
    steps = [
        {"name": "dns", "ok": True, "ms": 3.0, "error": None, "a": ["198.18.0.2"], "aaaa": [],
         "source": "dns"},
        {"name": "tcp", "ok": True, "ms": 1.0, "error": None, "address": "198.18.0.2", "port": 443},
        {"name": "tls", "ok": status is Status.PASS, "ms": 6.0, "verified": status is Status.PASS,
         "error": None if status is Status.PASS else "certificate not trusted: certificate has expired",
         "version": "TLSv1.3", "subject": "CN=qcloud.rtc.qq.com", "issuer": "CN=<script>alert(2)</script>",
         "not_after": "2030-01-01T00:00:00+00:00", "days_left": 1000.0, "dns_names": []},
        {"name": "https", "ok": True if status is Status.PASS else None, "ms": 4.0, "error": None,
         "status_code": 200, "http_version": "HTTP/1.1", "server": "<b>nginx</b>"},
    ]
    if status is Status.PASS:
        message, advice = Message("domain.ok", {"ms": 14.0}), ()
    else:
        message = Message("domain.step-failed", {"step": "TLS",
                                                 "error": "certificate not trusted: certificate has expired"})
        advice = (Advice("tls-untrusted", {"host": "qcloud.rtc.qq.com", "error": "expired"}),)
    return ProbeResult("domain", "Media domain", status, message=message, duration_s=0.02,
                       metrics=(Metric("cert_days_left", 1000.0, "days", warn=14, better="higher"),),
                       details={"host": "qcloud.rtc.qq.com", "steps": steps}, advice=advice)


def _camera(status: Status) -> ProbeResult:
    capture = {"width": 640, "height": 480, "requested_width": 640, "requested_height": 480,
               "fps": 29.9, "claimed_fps": 30.0, "frames": 90, "black_ratio": 0.0,
               "frozen_ratio": 0.0, "snapshot_jpeg_base64": snapshot()}
    message = Message("camera.ok", {"width": 640, "height": 480, "fps": 29.9})
    advice: tuple[Advice, ...] = ()
    if status is Status.FAIL:
        capture["black_ratio"] = 1.0
        message, advice = Message("camera.black", {"ratio": 1.0}), (Advice("camera-black"),)
    return ProbeResult("camera", "Camera", status, message=message, duration_s=3.0,
                       metrics=(Metric("fps", 29.9, "fps", warn=15, better="higher"),),
                       details={"devices": [{"id": "0", "name": "<i>USB Cam</i>", "path": "/dev/video0"}],
                                "source": f"/tmp/{HOSTILE_FILE}", "capture": capture},
                       advice=advice)


def _microphone(status: Status) -> ProbeResult:
    if status is Status.SKIP:
        return ProbeResult("microphone", "Microphone", status, message=Message("mic.none"),
                           details={"devices": [], "device": None},
                           advice=(Advice("mic-missing"), Advice("upgrade-trtccalling")))
    device = {"id": 1, "name": "default <mic>", "host_api": "ALSA", "channels": 2,
              "default_sample_rate": 44100.0}
    capture = {"sample_rate": 48000, "channels": 2, "rms_dbfs": -9.0, "peak_dbfs": 0.0,
               "noise_floor_dbfs": -70.0, "clipped_samples": 4000, "clipped_ratio": 0.01,
               "silent": False, "channels_with_signal": [0, 1], "channel_rms_dbfs": [-9.0, -9.0],
               "level_series": {"step_s": 0.1, "dbfs": [-60.0, -20.0, -9.0, -3.0, -9.0, -40.0]}}
    return ProbeResult("microphone", "Microphone", status,
                       message=Message("mic.clipping", {"clipped": 4000}), duration_s=3.2,
                       metrics=(Metric("rms", -9.0, "dBFS", warn=-50, fail=-60, better="higher"),),
                       details={"devices": [device], "device": device, "capture": capture},
                       advice=(Advice("mic-clipping"),))


def _rtp(status: Status) -> ProbeResult:
    if status is Status.ERROR:
        return ProbeResult("rtp", "Test call", status, message=Message("error", {"reason": "interrupted"}),
                           error="interrupted", advice=(Advice("probe-error", {"error": "interrupted"}),))
    kind = {"packets_sent": 250, "bytes_sent": 75000, "uplink_packets_lost": 3,
            "uplink_loss_pct": 1.2, "packets_received": 245, "downlink_packets_lost": 2,
            "downlink_loss_pct": 0.8, "rtt_ms": {"min": 98.0, "avg": 101.0, "max": 104.0},
            "jitter_ms": {"min": 1.0, "avg": 2.0, "max": 3.0},
            "downlink_jitter_ms": {"min": 1.0, "avg": 2.5, "max": 4.0},
            "bitrate_kbps": {"min": 100.0, "avg": 120.0, "max": 130.0}}
    series = {"t": [1.0, 2.0, 3.0, 4.2],
              "audio": {"rtt_ms": [None, 99.0, 101.0, 104.0], "jitter_ms": [1.0, 2.0, 3.0, 2.0],
                        "loss_pct": [0.0, 2.0, 1.0, 0.0], "bitrate_kbps": [130.0, 120.0, 110.0, None]}}
    numbers = Message("call.numbers", {"rtt": 101.0, "jitter": 2.0, "loss": 1.2, "mos": 4.3}).as_dict()
    return ProbeResult("rtp", "Test call", status, message=Message("call.ok", {"numbers": numbers}),
                       duration_s=6.9,
                       metrics=(Metric("rtt", 101.0, "ms", warn=400, better="lower"),
                                Metric("mos", 4.3, "MOS", warn=3.1, fail=2.5, better="higher")),
                       details={"mode": "echo", "echo_url": "http://198.19.0.2:8089/call",
                                "media": "generated 440 Hz tone", "setup": {
                                    "ice_gathering_ms": 15.0, "ice_connected_ms": 120.0,
                                    "dtls_connected_ms": 230.0, "first_media_ms": 400.0},
                                "codecs": {"audio": {"mime_type": "audio/opus", "payload_type": 96,
                                                     "clock_rate": 48000}},
                                "audio": kind, "series": series,
                                "received": {"frames": {"audio": 240}, "audio_rms_dbfs": -23.0}})


def _nat(status: Status) -> ProbeResult:
    ipv4 = {"answered": True, "behind_nat": True, "public_addresses": ["203.0.113.7"],
            "mapping": "dependent" if status is Status.WARN else "endpoint-independent",
            "compared": "destinations differing in address and port", "port_preserved": False}
    message = Message("nat.symmetric" if status is Status.WARN else "nat.cone",
                      {"address": "203.0.113.7", "mapping": ipv4["mapping"]})
    return ProbeResult("nat", "NAT and public address", status, message=message,
                       details={"stun": ["198.18.0.2:8000"], "ipv4": ipv4, "bindings": [],
                                "ipv6_addresses": ["2001:db8::5"], "ipv6_stun": False},
                       advice=(Advice("nat-relay"),) if status is Status.WARN else ())


def _url(status: Status) -> ProbeResult:
    if status is Status.SKIP:
        return ProbeResult("url", "Deployment page", status, message=Message("url.none"))
    url = "http://10.0.0.5/<call>.html"
    entry = {"url": url, "secure_context": False, "status": "fail", "cause": "https-required",
             "message": Message("url.plain-http", {"url": url}).as_dict()}
    return ProbeResult("url", "Deployment page", status,
                       message=Message("url.plain-http", {"url": url}), details={"urls": [entry]},
                       advice=(Advice("https-required", {"url": url, "host": "10.0.0.5",
                                                         "error": ""}),))


def _speaker(status: Status) -> ProbeResult:
    playback = {"played": True, "underruns": 0, "output_latency_ms": 32.0, "seconds": 3.5,
                "loopback": {"heard": status is Status.PASS, "level_dbfs": -20.2,
                             "delay_ms": 11.0, "peak_ratio": 900.0}}
    message = (Message("speaker.verified", {"level": -20.2, "delay": 11.0, "device": "monitor"})
               if status is Status.PASS else Message("speaker.not-verified"))
    return ProbeResult("speaker", "Speaker", status, message=message,
                       details={"devices": [], "device": {"id": 0, "name": "<speakers>"},
                                "loopback_device": "monitor", "playback": playback},
                       advice=() if status is Status.PASS else (Advice("speaker-check"),))


def _browsers(status: Status) -> ProbeResult:
    browsers = [
        {"family": "chrome", "binary": "chromium", "path": "/usr/bin/chromium",
         "version_text": "Chromium 156.0", "version": "156.0", "minimum": "56",
         "name": "Chromium", "verdict": "supported"},
        {"family": "firefox", "binary": "firefox", "path": "/usr/bin/firefox",
         "version_text": "<b>Firefox</b> 50.0", "version": "50.0", "minimum": "56",
         "name": "Firefox", "verdict": "too_old" if status is Status.WARN else "supported"},
    ]
    message = Message("browsers.some-old" if status is Status.WARN else "browsers.ok",
                      {"list": "Chromium 156.0, Firefox 50.0"})
    webrtc = {"browser": "/usr/bin/chromium", "stage": "done", "connected": True, "family": 4,
              "path": {"local": {"address": "192.0.2.10", "protocol": "udp", "type": "host"},
                       "remote": {"address": "<i>203.0.113.5</i>", "protocol": "udp",
                                  "type": "srflx"}},
              "stats": [{"type": "remote-inbound-rtp", "kind": "audio", "roundTripTime": 0.001,
                         "packetsLost": 0}]}
    return ProbeResult("browsers", "Browsers", status, message=message,
                       details={"browsers": browsers, "minimums_source": MINIMUMS_SOURCE,
                                "minimums": {"chrome": "56"}, "webrtc": webrtc},
                       advice=(Advice("browser-upgrade"),) if status is Status.WARN else ())


def _judged(probe: Any, seen: Any, status: Status, duration_s: float) -> ProbeResult:
    """A probe's result as the probe makes it (probes.base.result) from an observation and its
    real judge, which must say `status`."""
    from dataclasses import replace

    from trtcdetect.probes.base import result

    verdict = probe.judge(seen)
    assert verdict.status is status
    return replace(result(probe, seen, verdict), duration_s=duration_s)


def hop(ttl: int, address: str | None, answered: int, rtt_ms: float | None, sent: int = 5,
        said: str | None = "time-exceeded") -> PathHop:
    """One row of the path probe's hops (net.path.Hop.seen)."""
    return PathHop(ttl=ttl, address=address, addresses=(address,) if address else (),
                   sent=sent, answered=answered,
                   loss_pct=round(100.0 * (sent - answered) / sent, 1) if sent else None,
                   rtt_ms=rtt_ms, rtt_best_ms=rtt_ms, rtt_worst_ms=rtt_ms,
                   said=said if answered else None)  # type: ignore[arg-type]


def traced(*hops: PathHop, reached_at: int | None = None) -> Traced:
    """What net.path.Trace.seen gives for `hops`."""
    return Traced(address="198.18.0.2", port=8000, reached_at=reached_at, hops=hops,
                  error=None, elapsed_s=2.6, datagrams=sum(h.sent for h in hops))


def _path(status: Status) -> ProbeResult:
    from trtcdetect.probes.path import PROBE, PathObservation

    lossy = status is Status.WARN
    seen = PathObservation("qcloud.rtc.qq.com", "198.18.0.2", 8000, traced(
        hop(1, "192.168.1.1", 5, 1.2), hop(2, "100.64.0.1", 3 if lossy else 5, 9.8),
        hop(3, None, 0, None), hop(4, "198.18.0.2", 3 if lossy else 5, 12.4, said="answer"),
        reached_at=4))
    return _judged(PROBE, seen, status, 2.6)


def _trtc(status: Status) -> ProbeResult:
    """fail: the real judge on a log recorded from Tencent's SDK offline (packets dropped, names
    NXDOMAIN); pass: an answer as Tencent documents it (tests/probes/test_trtc_judge.py)."""
    from pathlib import Path

    from trtcdetect.probes.trtc import PROBE, TrtcObservation
    from trtcdetect.trtc.sdklog import parse

    if status is Status.FAIL:
        lines = (Path(__file__).parent / "data" / "trtc" /
                 "offline-dropped-nxdomain.log").read_text().splitlines(keepends=True)
        routes = {a.host: "no route: Network is unreachable" if ":" in a.host else "192.0.2.2"
                  for a in parse(lines).tried()}
        seen = TrtcObservation(mode="reach", target="qcloud.rtc.qq.com", log=parse(lines),
                               ended_by="deadline", elapsed_s=12.05, deadline_s=12,
                               routes=routes)
    else:
        lines = ["[I][12-01/10:00:00.000+0.0][1,2][x.cc:1]QueryAccessServerInfo from server: "
                 "162.14.22.165:8000 [UDP]\n",
                 "[I][12-01/10:00:00.043+0.0][1,2][x.cc:1]OnEnterRoom , code: [-100018]x, "
                 "cost_time: 43ms\n"]
        seen = TrtcObservation(mode="reach", target="qcloud.rtc.qq.com", log=parse(lines),
                               ended_by="done", elapsed_s=0.05, deadline_s=12)
    return _judged(PROBE, seen, status, seen.elapsed_s)


def _trtcweb(status: Status) -> ProbeResult:
    """fail: the real judge on what the page reported offline (recorded in a namespace with no
    route out); skip: no browser to run it in."""
    from trtcdetect.probes.trtcweb import PROBE, Schedule, TrtcWebObservation

    if status is Status.SKIP:
        seen = TrtcWebObservation(skipped="no supported Chrome, Chromium or Edge to run headless")
    elif status is Status.PASS:  # Tencent's network test, events written from its documentation
        from trtcdetect.trtc.webevents import summarize

        events = [{"t": 0, "client": c, "event": "enter"} for c in ("up", "down")] + [
            {"t": 400, "client": "up", "event": "entered"},
            {"t": 450, "client": "down", "event": "entered"},
            {"t": 900, "client": "up", "event": "publishing"},
            {"t": 1100, "client": "down", "event": "remote_audio"},
            {"t": 1500, "client": "down", "event": "first_video_frame"}] + [
            {"t": 2000 * (n + 1), "client": c, "event": "quality", "uplink": [1, 1, 2, 2, 3, 2, 1][n],
             "downlink": [1, 2, 2, 1, 1, 1, 2][n], "uplinkRTT": 40, "downlinkRTT": 44,
             "uplinkLoss": 0, "downlinkLoss": 1} for n in range(7) for c in ("up", "down")]
        seen = TrtcWebObservation(browser="/usr/bin/chromium", sdk_version="5.17.1",
                                  ended_by="done", deadline_s=12, elapsed_s=16.2,
                                  schedule=Schedule(network=tuple(events)),
                                  network=summarize(events))
    else:
        seen = TrtcWebObservation(
            browser="/usr/bin/chromium", sdk_version="5.17.1", ended_by="done", deadline_s=12,
            elapsed_s=1.1, schedule=Schedule(entered=False, ms=197, error={
                "name": "OPERATION_FAILED", "code": 5500, "functionName": "enterRoom",
                "message": "'enterRoom' failed, reason: Failed to join room - schedule failed: "
                           "Failed to fetch code: 0 \nRefer to: https://web.sdk.qcloud.com/"}),
            net_errors=(("schedule.cloud-rtc.com", "ERR_NAME_NOT_RESOLVED"),
                        ("schedule.cloud-rtc.net", "ERR_NAME_NOT_RESOLVED")))
    return _judged(PROBE, seen, status, seen.elapsed_s)


def _capacity(status: Status) -> ProbeResult:
    """The capacity probe as the lab measured it: an uplink of 1 Mbit/s (warn), or both ways
    beyond the ceiling (pass)."""
    from trtcdetect.net.capacity import Capacity
    from trtcdetect.net.ramp import Direction, Step
    from trtcdetect.probes.capacity import PROBE, CapacityObservation

    steps = (Step(250, 10, 10, 250.1, 0.0), Step(686, 27, 27, 684.0, 0.2),
             Step(960, 39, 39, 957.6, 0.2), Step(1345, 54, 53, 1049.4, 40.6, "delay"))
    up = (Direction("up", steps, 1049, "estimate", "high", "delay") if status is Status.WARN
          else Direction("up", steps[:3], 10_000, "at least", "high"))
    down = Direction("down", steps[:3], 10_000, "at least", "high")
    seen = CapacityObservation("198.19.0.2", 8000, Capacity("198.19.0.2", 8000, up, down,
                                                            10_000, 8.6))
    return _judged(PROBE, seen, status, 8.6)


def report_a() -> RunReport:
    """warn ports, fail domain, pass camera (snapshot, hostile file name), skip mic, pass call."""
    return _report((_ports(Status.WARN), _domain(Status.FAIL), _nat(Status.WARN), _path(Status.WARN),
                    _trtc(Status.FAIL), _url(Status.FAIL), _camera(Status.PASS), _microphone(Status.SKIP),
                    _speaker(Status.PASS), _browsers(Status.WARN), _trtcweb(Status.FAIL),
                    _rtp(Status.PASS), _capacity(Status.WARN)))


def report_b() -> RunReport:
    """pass ports and domain, fail camera (black), warn mic (clipping), error call."""
    return _report((_ports(Status.PASS), _domain(Status.PASS), _nat(Status.PASS), _path(Status.PASS),
                    _trtc(Status.PASS), _url(Status.SKIP), _camera(Status.FAIL), _microphone(Status.WARN),
                    _speaker(Status.WARN), _browsers(Status.PASS), _trtcweb(Status.PASS),
                    _rtp(Status.ERROR), _capacity(Status.PASS)))


def _report(probes: tuple[ProbeResult, ...]) -> RunReport:
    return RunReport(tool_version="0.0.test", started_at="2026-11-21T00:00:00Z", duration_s=7.5,
                     target=Target("qcloud.rtc.qq.com", (8687,), (8000, 8080, 443)),
                     system={"os": "Linux", "python": "3.11", "hostname": "desk-<01>"},
                     config={}, probes=probes)
