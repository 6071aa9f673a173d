"""The diagnosis: after the probes, name the cause(s) in one line each.

One cause often fails several probes (no network fails ports, nat, domain and the call). The
rules (`rules.py`, pure functions over the probes' results and this computer's network) each
look for one cause; a finding lists the probes whose findings it explains, so the report shows
one headline with one set of advice instead of three FAILs. Probes no rule explains keep their
own finding. Findings are ordered worst first, then by how near the cause is (this computer
before the network before the servers); notes (which change no verdict) come last.

The run's status and exit code come from the findings (`RunReport.status`): a probe that could
not finish (`error`) because of a named cause counts as that cause's severity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..models import Finding, ProbeResult, Status, worst
from ..text.remedies import PARTY
from . import rules

__all__ = ["diagnose", "finding_from_probe"]


def diagnose(probes: Sequence[ProbeResult],
             network: Mapping[str, Any] | None = None) -> tuple[Finding, ...]:
    """Every cause the rules find, then a finding for each problem no rule explains."""
    by_id = {p.id: p for p in probes}
    found: list[Finding] = []
    explained: set[str] = set()
    for rule in rules.RULES:
        finding = rule(by_id, network or {}, frozenset(explained))
        if finding is None:
            continue
        found.append(finding)
        if not finding.note:
            explained.update(finding.explains)
    for probe in probes:
        if probe.id not in explained and probe.status in (Status.FAIL, Status.WARN,
                                                          Status.ERROR):
            found.append(finding_from_probe(probe))
    order = {id(f): i for i, f in enumerate(found)}
    return tuple(sorted(found, key=lambda f: (f.note, -f.severity.severity, order[id(f)])))


def finding_from_probe(probe: ProbeResult) -> Finding:
    """A probe's own problem as a finding: its sentence, its advice, its advice's party."""
    from ..models import Message
    from ..text.ids import S

    headline = probe.message or Message(S.ERROR, {"reason": probe.summary or probe.status})
    parties = [PARTY.get(a.id, "user") for a in probe.advice]
    return Finding(id=f"probe.{probe.id}", severity=probe.status, headline=headline,
                   explains=(probe.id,), advice=probe.advice,
                   party=parties[0] if parties else "user")


def severity_of(probes: Mapping[str, ProbeResult], ids: Sequence[str],
                at_least: Status = Status.WARN) -> Status:
    """The severity of a cause: the worst of the problems it explains, an error (a probe that
    could not finish) counted as a failure once its cause is known."""
    statuses = [Status.FAIL if probes[i].status == Status.ERROR else probes[i].status
                for i in ids if i in probes]
    found = worst([*statuses, at_least])
    return found
