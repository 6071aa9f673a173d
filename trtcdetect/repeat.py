"""--repeat: the network probes round after round, as mtr does, for faults that come and go.

Each round keeps only its figures (a few hundred bytes), never its whole report, so memory
stays flat however many rounds run. `summarize` (pure) turns the rounds into series and the
worst window: the longest stretch in which a check (a port, a domain step, the call) failed,
with when it began and how long it lasted ("UDP 8000 stopped working for 40 s at 10:42:10").
The run's report is the last round's, with one more result, `repeat`, that carries all this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .evidence import JsonObject
from .models import Message, Metric, ProbeResult, RunReport, Status, worst
from .probes import REGISTRY
from .text.ids import S

#: Rounds kept in full in the report's details (the series keep every round's figures)
MAX_ROUNDS_LISTED = 50


@dataclass(frozen=True)
class Round:
    index: int
    at: float  # Unix time the round started
    status: Status
    #: "UDP 8000" / "DOMAIN TLS" -> True when it worked in this round
    checks: dict[str, bool] = field(default_factory=dict)
    #: "ports.udp_8000_rtt" -> value, for every numeric metric
    figures: dict[str, float] = field(default_factory=dict)
    #: a failed check -> how: "no answer" (open or filtered), "refused", "error", "failed"
    why: dict[str, str] = field(default_factory=dict)


def round_of(index: int, at: float, report: RunReport) -> Round:
    checks: dict[str, bool] = {}
    figures: dict[str, float] = {}
    why: dict[str, str] = {}
    for probe in report.probes:
        for metric in probe.metrics:
            if isinstance(metric.value, int | float) and not isinstance(metric.value, bool):
                figures[f"{probe.id}.{metric.name}"] = float(metric.value)
        declared = REGISTRY.get(probe.id)
        for name, ok, how in declared.checks(probe) if declared is not None else ():
            checks[name] = ok
            if not ok and how is not None:
                why[name] = how
    for name, ok in checks.items():
        if not ok:
            why.setdefault(name, "failed")
    return Round(index, at, report.status, checks, figures, why)


def _clock(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%H:%M:%S")


def worst_window(rounds: list[Round]) -> JsonObject | None:
    """The longest stretch of consecutive rounds in which one check failed after (or before)
    working: its check, start, length in seconds (to the first round that worked again, or to
    the last round), and whether it came back."""
    best: JsonObject | None = None
    names = sorted({name for r in rounds for name in r.checks})
    for name in names:
        seen = [(r.at, r.checks[name]) for r in rounds if name in r.checks]
        if all(ok for _, ok in seen) or not any(ok for _, ok in seen):
            continue  # never failed, or never worked: not intermittent
        start: float | None = None
        for i, (at, ok) in enumerate(seen):
            if not ok and start is None:
                start = at
            if start is not None and (ok or i == len(seen) - 1):
                end = at if ok else seen[-1][0]
                length = end - start
                if best is None or length > best["seconds"]:
                    best = {"check": name, "start": start, "at": _clock(start),
                            "seconds": round(length, 1), "recovered": ok}
                start = None
    return best


def summarize(rounds: list[Round], interval_s: float) -> ProbeResult:
    statuses = [r.status for r in rounds]
    window = worst_window(rounds)
    bad_rounds = sum(s in (Status.FAIL, Status.ERROR, Status.WARN) for s in statuses)
    series: dict[str, list[float | None]] = {}
    for name in sorted({n for r in rounds for n in r.figures}):
        series[name] = [r.figures.get(name) for r in rounds]
    checks = {name: [r.checks.get(name) for r in rounds]
              for name in sorted({n for r in rounds for n in r.checks})}
    if window is not None:
        message = Message(S.REPEAT_WINDOW, {
            "rounds": len(rounds), "interval": interval_s, "check": window["check"],
            "seconds": window["seconds"], "at": window["at"]})
        status = Status.WARN if window["recovered"] else Status.FAIL
    else:
        message = Message(S.REPEAT_STEADY, {"rounds": len(rounds), "interval": interval_s,
                                            "bad": bad_rounds})
        status = worst(statuses) if statuses else Status.SKIP
    details = {"rounds": len(rounds), "interval_s": interval_s, "worst_window": window,
               "statuses": [str(s) for s in statuses],
               "started": [round(r.at, 3) for r in rounds],
               "series": series, "checks": checks,
               "listed": [{"index": r.index, "at": _clock(r.at), "status": str(r.status),
                           "failing": sorted(n for n, ok in r.checks.items() if not ok)}
                          for r in rounds[-MAX_ROUNDS_LISTED:]]}
    metrics = (Metric("repeat_rounds", len(rounds), "count"),
               Metric("repeat_bad_rounds", bad_rounds, "count", better="lower"))
    return ProbeResult("repeat", "Repeated checks", status, message=message, details=details,
                       metrics=metrics)


def line(r: Round, total: int | None) -> str:
    """One terminal line per round: its status and each failed check with how it failed
    ("UDP 8000 no answer, TCP 8687 refused, DOMAIN TLS failed")."""
    failing = sorted(n for n, ok in r.checks.items() if not ok)
    return (f"round {r.index}{f'/{total}' if total else ''} {_clock(r.at)} {r.status}"
            + (": " + ", ".join(f"{n} {r.why.get(n, 'failed')}" for n in failing)
               if failing else ""))


def figure_of(check: str) -> str:
    """The round-trip figure that goes with a check: 'UDP 8000' -> 'ports.udp_8000_rtt',
    'DOMAIN TLS' -> 'domain.tls_time', 'CALL' -> 'rtp.rtt'."""
    kind, _, name = check.partition(" ")
    if kind == "DOMAIN":
        return f"domain.{name.lower()}_time"
    if kind == "CALL":
        return "rtp.rtt"
    return f"ports.{kind.lower()}_{name}_rtt"


def board(rounds: list[Round]) -> list[JsonObject]:
    """mtr's table: per check, the last result (how it failed, if it did), rounds it worked
    of rounds seen, and the round-trip time last / best / worst (ms)."""
    rows = []
    for name in sorted({n for r in rounds for n in r.checks}):
        seen = [r for r in rounds if name in r.checks]
        times = [r.figures[figure_of(name)] for r in seen if figure_of(name) in r.figures]
        last_time = seen[-1].figures.get(figure_of(name))
        rows.append({"check": name, "last": seen[-1].checks[name],
                     "why": seen[-1].why.get(name), "worked": sum(r.checks[name] for r in seen),
                     "seen": len(seen),
                     "ms": (last_time, min(times), max(times)) if times else None})
    return rows
