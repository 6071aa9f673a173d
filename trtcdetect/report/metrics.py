"""OpenMetrics (Prometheus) text for a run, with prometheus-client: for node_exporter's textfile
collector or any scraper. Built from the JSON document, so names follow the contract there.

Metric names and labels are stable: `target` on every series, `probe`, `protocol`, `port`,
`step` where they apply. Times are in seconds and ratios in 0-1, as Prometheus conventions ask.
Each probe declares its own families and reads their values from its entry in the document
(`series` and `samples` of its declaration, probes/base.py); here are the run's and every
probe's status and duration.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Enum, Gauge
from prometheus_client.openmetrics.exposition import generate_latest

from ..evidence import JsonObject
from ..models import Status
from ..probes import REGISTRY

STATUSES = [str(s) for s in Status]


def render(document: JsonObject, flavour: str = "openmetrics") -> bytes:
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
    families: dict[str, Enum | Gauge] = {}
    for probe_declared in REGISTRY.values():
        for series in probe_declared.series:
            labels = [*t, *series.labels]
            families[series.name] = (
                Enum(series.name, series.help, labels, states=list(series.states),
                     registry=registry) if series.states
                else Gauge(series.name, series.help, labels, unit=series.unit, registry=registry))

    for probe in document["probes"]:
        pid = probe["id"]
        status.labels(target, pid).state(probe["status"])
        code.labels(target, pid).set(Status(probe["status"]).exit_code)
        skipped.labels(target, pid).set(1 if probe["status"] == "skip" else 0)
        duration.labels(target, pid).set(probe["duration_s"])
        declared = REGISTRY.get(pid)
        for name, values, value in declared.samples(probe) if declared else ():
            family = families[name].labels(target, *values)
            if isinstance(family, Enum):
                family.state(str(value))
            else:
                family.set(float(value))
    if flavour == "prometheus":
        from prometheus_client.exposition import generate_latest as generate_text

        plain: bytes = generate_text(registry)
        return plain
    text: bytes = generate_latest(registry)  # type: ignore[no-untyped-call]
    return text
