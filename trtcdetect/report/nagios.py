"""One line for Nagios/Icinga (the monitoring-plugins guidelines): status, the one cause, and
performance data; the exit code is the run's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

    TRTCDETECT WARNING - No UDP answer from ... | 'udp_8000_rtt'=1.2ms;;;; 'ports_open'=1;;;;

Perfdata: 'label'=value[UOM];[warn];[crit];[min];[max], one per numeric metric, named
`<probe>.<metric>` where two probes could share a name. Units Nagios knows (s, ms, %, B) are
kept; others (dBFS, fps, counts) go without a unit. A limit where higher is better is written
as a range "N:" (alert below N).
"""

from __future__ import annotations

import re

from ..models import Metric, RunReport, Status

STATES = {Status.PASS: "OK", Status.SKIP: "OK", Status.WARN: "WARNING",
          Status.FAIL: "CRITICAL", Status.ERROR: "UNKNOWN"}
UNITS = {"ms": "ms", "s": "s", "%": "%", "bytes": "B", "B": "B"}
_LABEL_BAD = re.compile(r"['=\s|]")


def _limit(value: float | None, metric: Metric) -> str:
    if value is None:
        return ""
    return f"{value:g}:" if metric.better == "higher" else f"{value:g}"


def perfdata(report: RunReport) -> list[str]:
    found = []
    for probe in report.probes:
        for metric in probe.metrics:
            if not isinstance(metric.value, int | float) or isinstance(metric.value, bool):
                continue
            label = _LABEL_BAD.sub("_", f"{probe.id}.{metric.name}")
            found.append(f"'{label}'={metric.value:g}{UNITS.get(metric.unit, '')};"
                         f"{_limit(metric.warn, metric)};{_limit(metric.fail, metric)};;")
    return found


def headline(report: RunReport) -> str:
    """The diagnosis' first cause; without one, the worst probe's summary; all good: a count."""
    problems = [f for f in report.diagnosis if not f.note]
    if problems:
        text = problems[0].headline.text("en")
    else:
        bad = sorted((p for p in report.probes if p.status not in (Status.PASS, Status.SKIP)),
                     key=lambda p: -p.status.severity)
        passed = sum(p.status is Status.PASS for p in report.probes)
        skipped = sum(p.status is Status.SKIP for p in report.probes)
        text = f"{bad[0].title}: {bad[0].summary}" if bad else \
            f"{passed} checks passed, {skipped} skipped"
    return " ".join(text.replace("|", "/").split())  # one line, no perfdata separator


def render(report: RunReport) -> str:
    line = f"TRTCDETECT {STATES[report.status]} - {headline(report)}"
    data = perfdata(report)
    return f"{line} | {' '.join(data)}\n" if data else line + "\n"
