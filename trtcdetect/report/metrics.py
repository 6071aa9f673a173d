"""OpenMetrics (Prometheus) text for a run, with prometheus-client: for node_exporter's textfile
collector or any scraper. Built from the JSON document, so names follow the contract there.

Metric names and labels are stable: `target` on every series, `probe`, `protocol`, `port`,
`step` where they apply. Times are in seconds and ratios in 0-1, as Prometheus conventions ask.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prometheus_client import CollectorRegistry, Enum, Gauge
from prometheus_client.openmetrics.exposition import generate_latest

from ..models import Status

STATUSES = [str(s) for s in Status]
VERDICTS = ["open", "closed", "no_answer", "error"]


def _metric(probe: dict[str, Any], name: str) -> float | None:
    for metric in probe.get("metrics", []):
        if metric["name"] == name and metric["value"] is not None:
            return float(metric["value"])
    return None


def _seconds(ms: float) -> float:
    """ms as seconds without binary noise (33.41 ms is 0.03341, not 0.033409999999999995): the
    figures have at most microsecond resolution."""
    return round(ms / 1000, 9)


def render(document: dict[str, Any], flavour: str = "openmetrics") -> bytes:
    """The run's metrics as OpenMetrics text, or with flavour "prometheus" in Prometheus' text
    format 0.0.4 (node_exporter's textfile collector: no stateset type, state sets become
    gauges with one series per state, as prometheus-client writes them there)."""
    registry = CollectorRegistry(auto_describe=True)
    target = document["target"]["host"]
    t = ["target"]

    Gauge("trtcdetect_run_duration_seconds", "Wall time of the run", t,
          unit="seconds", registry=registry).labels(target).set(document["duration_s"])
    Gauge("trtcdetect_run_status_code", "0 pass, 1 warn, 2 fail, 3 unknown (the exit code)", t,
          registry=registry).labels(target).set(document.get("exit_code",
                                                              Status(document["status"]).exit_code))
    Gauge("trtcdetect_run_info", "Tool version of the run", [*t, "version"],
          registry=registry).labels(target, document["tool"]["version"]).set(1)
    status = Enum("trtcdetect_probe_status", "Status of each probe", [*t, "probe"],
                  states=STATUSES, registry=registry)
    code = Gauge("trtcdetect_probe_status_code",
                 "0 pass, 1 warn, 2 fail, 3 error; a skipped probe is 0 here and 1 in "
                 "trtcdetect_probe_skipped", [*t, "probe"], registry=registry)
    skipped = Gauge("trtcdetect_probe_skipped", "1 when the probe was skipped (did not check)",
                    [*t, "probe"], registry=registry)
    duration = Gauge("trtcdetect_probe_duration_seconds", "Wall time of each probe",
                     [*t, "probe"], unit="seconds", registry=registry)
    port_state = Enum("trtcdetect_port_verdict", "Verdict per port (no_answer: open or filtered)",
                      [*t, "protocol", "port"], states=VERDICTS, registry=registry)
    port_rtt = Gauge("trtcdetect_port_rtt_seconds", "TCP connect / STUN round-trip time",
                     [*t, "protocol", "port"], unit="seconds", registry=registry)
    step_time = Gauge("trtcdetect_domain_step_seconds", "Time of each DNS/TCP/TLS/HTTPS step",
                      [*t, "step"], unit="seconds", registry=registry)
    step_ok = Gauge("trtcdetect_domain_step_ok", "1 when the step worked, 0 when it failed",
                    [*t, "step"], registry=registry)
    cert_expiry = Gauge("trtcdetect_certificate_expiry_timestamp_seconds",
                        "When the TLS certificate expires, Unix time (alert on it minus time())",
                        t, unit="seconds", registry=registry)
    call = {
        "rtt": Gauge("trtcdetect_call_rtt_seconds", "Test call RTT (RTCP), average", t,
                     unit="seconds", registry=registry),
        "jitter": Gauge("trtcdetect_call_jitter_seconds", "Test call audio jitter, average", t,
                        unit="seconds", registry=registry),
        "loss": Gauge("trtcdetect_call_loss_ratio", "Test call audio loss, worse direction", t,
                      unit="ratio", registry=registry),
        "mos": Gauge("trtcdetect_call_mos", "Test call E-model MOS (1-4.5)", t, registry=registry),
        "setup": Gauge("trtcdetect_call_setup_seconds", "Test call: until the first media", t,
                       unit="seconds", registry=registry),
    }
    device = {
        ("camera", "fps"): Gauge("trtcdetect_camera_fps", "Measured camera frame rate", t,
                                 registry=registry),
        ("microphone", "rms"): Gauge("trtcdetect_microphone_rms_dbfs", "Microphone level", t,
                                     registry=registry),
    }
    capacity = Gauge("trtcdetect_capacity_bytes_per_second",
                     "Capacity estimate per direction (up: from this machine), IP-level",
                     [*t, "direction"], unit="bytes_per_second", registry=registry)
    capacity_floor = Gauge("trtcdetect_capacity_lower_bound",
                           "1 when the capacity figure is only a lower bound (no bottleneck up "
                           "to the test's ceiling)", [*t, "direction"], registry=registry)
    scale = {"rtt": 1e-3, "jitter": 1e-3, "loss": 1e-2, "mos": 1.0, "setup": 1e-3}

    for probe in document["probes"]:
        pid = probe["id"]
        status.labels(target, pid).state(probe["status"])
        code.labels(target, pid).set(Status(probe["status"]).exit_code)
        skipped.labels(target, pid).set(1 if probe["status"] == "skip" else 0)
        duration.labels(target, pid).set(probe["duration_s"])
        details = probe.get("details") or {}
        if pid == "ports":
            for p in details.get("ports", []):
                labels = (target, p["protocol"], str(p["port"]))
                port_state.labels(*labels).state(p["verdict"])
                if p.get("rtt_ms") is not None:
                    port_rtt.labels(*labels).set(_seconds(p["rtt_ms"]))
        elif pid == "domain":
            for s in details.get("steps", []):
                if s["ok"] is not None:
                    step_ok.labels(target, s["name"]).set(1 if s["ok"] else 0)
                if s["ok"] and s["ms"] is not None:
                    step_time.labels(target, s["name"]).set(_seconds(s["ms"]))
            for s in details.get("steps", []):
                if s.get("name") == "tls" and s.get("not_after"):
                    try:
                        expiry = dt.datetime.fromisoformat(str(s["not_after"]))
                    except ValueError:
                        continue
                    cert_expiry.labels(target).set(expiry.timestamp())
        elif pid == "capacity":
            for name in ("up", "down"):
                found = details.get(name) or {}
                if found.get("kbps") is not None:
                    capacity.labels(target, name).set(found["kbps"] * 1000 / 8)
                    capacity_floor.labels(target, name).set(1 if found["bound"] == "at least"
                                                            else 0)
        elif pid == "rtp":
            for name, gauge in call.items():
                value = _metric(probe, name)
                if value is not None:
                    gauge.labels(target).set(round(value * scale[name], 9))
        for (owner, name), gauge in device.items():
            value = _metric(probe, name) if pid == owner else None
            if value is not None:
                gauge.labels(target).set(value)
    if flavour == "prometheus":
        from prometheus_client.exposition import generate_latest as generate_text

        plain: bytes = generate_text(registry)
        return plain
    text: bytes = generate_latest(registry)  # type: ignore[no-untyped-call]
    return text
