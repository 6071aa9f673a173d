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

from ..evidence import JsonObject
from ..models import Finding, ProbeResult, Status, worst
from ..net.local import NetworkSeen, network_of
from ..text.remedies import PARTY
from . import rules

__all__ = ["contradictions", "diagnose", "finding_from_probe"]


def diagnose(probes: Sequence[ProbeResult],
             network: NetworkSeen | JsonObject | None = None) -> tuple[Finding, ...]:
    """Every cause the rules find, then a finding for each problem no rule explains. `network`:
    this computer's, as the run saw it, or a document's `system.network` (read into the type;
    None, empty or unreadable: not known, and the rules that need it say nothing)."""
    if not isinstance(network, NetworkSeen):
        network = network_of(network)
    by_id = {p.id: p for p in probes}
    found: list[Finding] = []
    explained: set[str] = set()
    for rule in rules.RULES:
        finding = rule(by_id, network, frozenset(explained))
        if finding is None:
            continue
        found.append(finding)
        if not finding.note:
            explained.update(finding.explains)
    for probe in probes:
        if probe.id not in explained and probe.status in (Status.FAIL, Status.WARN,
                                                          Status.ERROR):
            found.append(finding_from_probe(probe))
    found = fold_contradictions(found)
    lone = unexplained(found)
    if lone is not None:
        found.append(lone)
    order = {id(f): i for i, f in enumerate(found)}
    return tuple(sorted(found, key=lambda f: (f.note, -f.severity.severity, order[id(f)])))


def unexplained(findings: Sequence[Finding]) -> Finding | None:
    """A note when two or more network checks failed and no rule named a cause for them: the
    findings stay separate, and the report says that no single cause explains them (rather
    than leaving the reader to guess one)."""
    from ..models import Message
    from ..probes import with_trait
    from ..text.ids import S

    network = {f"probe.{pid}" for pid in with_trait("network")}
    problems = [f for f in findings if not f.note]
    separate = [f for f in problems if f.id in network]
    if len(separate) < 2 or any(not f.id.startswith("probe.") for f in problems):
        return None
    which = tuple(p for f in separate for p in f.explains)
    return Finding("no-single-cause", Status.PASS, Message(S.DX_NO_SINGLE_CAUSE, {
        "count": len(separate)}), which, (), "support")


#: What a finding asserts about this network, by finding id ("probe.ID" for a probe's own
#: finding, "probe.ID:SENTENCE" where the sentence decides). A cause that says nothing gets
#: out over UDP is contradicted by any finding that rests on UDP answers.
CLAIMS: Mapping[str, frozenset[str]] = {
    "no-network": frozenset({"no-udp", "no-tcp"}),
    "proxy-only": frozenset({"no-udp", "no-tcp"}),
    "captive-portal": frozenset({"no-udp", "no-tcp"}),
    "udp-none": frozenset({"no-udp", "tcp-answers"}),
    "udp-some": frozenset({"udp-answers"}),
    "path-loss": frozenset({"udp-answers"}),
    "path-delay": frozenset({"udp-answers"}),
    "path-mtu": frozenset({"udp-answers"}),
    "local-call": frozenset({"udp-answers"}),
    "tls-untrusted": frozenset({"tcp-answers"}),
    "probe.nat:nat.public": frozenset({"udp-answers"}),
    "probe.nat:nat.cone": frozenset({"udp-answers"}),
    "probe.nat:nat.symmetric": frozenset({"udp-answers"}),
    "probe.path:path.loss": frozenset({"udp-answers"}),
    "probe.path:path.loss-unplaced": frozenset({"udp-answers"}),
    "probe.path:path.delay": frozenset({"udp-answers"}),
    "probe.ports:ports.lossy": frozenset({"udp-answers"}),
}
OPPOSITE = {"no-udp": "udp-answers", "no-tcp": "tcp-answers"}


def claims(finding: Finding) -> frozenset[str]:
    """What `finding` asserts (CLAIMS), empty when it asserts nothing listed."""
    return CLAIMS.get(f"{finding.id}:{finding.headline.id}") or CLAIMS.get(finding.id) or frozenset()


def contradictions(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    """(cause, finding) pairs where the later finding asserts the opposite of the earlier."""
    found = []
    for i, cause in enumerate(findings):
        said = {OPPOSITE[c] for c in claims(cause) if c in OPPOSITE}
        found += [(cause.id, other.id) for other in findings[i + 1:] if said & claims(other)]
    return found


def fold_contradictions(findings: list[Finding]) -> list[Finding]:
    """The explicit rule that no finding shown contradicts the cause: a finding that asserts
    the opposite of an earlier (nearer) cause is folded under it, its probes counted as that
    cause's evidence (a note is dropped). The rules fold most of them already."""
    from dataclasses import replace

    kept = list(findings)
    for cause, other in contradictions(kept):
        first = next((f for f in kept if f.id == cause), None)
        later = next((f for f in kept if f.id == other), None)
        if first is None or later is None or first is later:
            continue
        kept.remove(later)
        if not later.note:
            index = kept.index(first)
            kept[index] = replace(first, severity=worst([first.severity, later.severity]),
                                  explains=tuple(dict.fromkeys((*first.explains,
                                                                *later.explains))))
    return kept


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
