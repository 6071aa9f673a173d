"""The result model every output is rendered from.

A probe returns one :class:`ProbeResult`; the runner collects them into a :class:`RunReport`.
All classes are frozen: renderers read them and never change them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .evidence import JsonObject


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Rank used to find a run's worst status.

        A definite failure outranks an error (we could not tell), which outranks a warning;
        a skipped probe ranks with a pass and so never changes the run's status.
        """
        return _SEVERITY[self]

    @property
    def exit_code(self) -> int:
        """Monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
        return _EXIT_CODE[self]


_SEVERITY = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.ERROR: 2, Status.FAIL: 3}
_EXIT_CODE = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}


def worst(statuses: Sequence[Status]) -> Status:
    """The run's status: its worst probe's, `pass` when every probe passed or was skipped."""
    result = Status.PASS
    for status in statuses:
        if status.severity > result.severity:
            result = status
    return result


@dataclass(frozen=True)
class Metric:
    """A number with its unit and, where one applies, the limits it was judged by."""

    name: str
    value: float | int | None
    unit: str
    warn: float | None = None
    fail: float | None = None
    better: str | None = None  # "lower" or "higher": which side of the limits is good


@dataclass(frozen=True)
class Advice:
    """A remedy, by cause id (see :mod:`trtcdetect.text.remedies`), with the values its text
    names; checked against the catalogue when made (an unknown id or a missing value raises)."""

    id: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .text import check_remedy

        check_remedy(self.id, self.params)

    def text(self, lang: str = "en") -> str:
        from .text import remedy

        return remedy(self.id, self.params, lang)


def unique_advice(items: Iterable[Advice]) -> tuple[Advice, ...]:
    """The remedies in order, each once (Advice holds a dict, so it is not hashable)."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for item in items:
        key = (item.id, tuple(sorted((k, str(v)) for k, v in item.params.items())))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return tuple(kept)


@dataclass(frozen=True)
class Message:
    """A sentence by id (see :mod:`trtcdetect.text.sentences`) with its values, rendered per
    language; checked against the catalogue when made (an unknown id or a missing value raises).

    A value may itself be a message, as {"id": ..., "params": ...}, or a list of them.
    """

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from .text import check_sentence, words_of

        object.__setattr__(self, "params", words_of(self.id, self.params))
        check_sentence(self.id, self.params)

    def text(self, lang: str = "en") -> str:
        from .text import sentence

        return sentence(self.id, self.params, lang)

    def as_dict(self) -> JsonObject:
        return {"id": self.id, "params": dict(self.params)}


@dataclass(frozen=True)
class Verdict:
    """What a probe's judge concludes from what the probe saw: pure data, no evidence."""

    status: Status
    message: Message
    advice: tuple[Advice, ...] = ()
    metrics: tuple[Metric, ...] = ()


@dataclass(frozen=True)
class ProbeResult:
    id: str
    title: str
    status: Status
    summary: str = ""  # English; filled from `message` when not given
    duration_s: float = 0.0
    metrics: tuple[Metric, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    advice: tuple[Advice, ...] = ()
    error: str | None = None
    message: Message | None = None
    #: what the probe saw, typed (evidence.Evidence), when its probe declares a type for it:
    #: `details` is made from it; None for a result read back from a document (evidence.of
    #: then reads `details` into the type)
    evidence: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.message is not None and not self.summary:
            object.__setattr__(self, "summary", self.message.text("en"))


@dataclass(frozen=True)
class Finding:
    """One cause the diagnosis names (see :mod:`trtcdetect.diagnosis`): a headline, the probes
    whose findings it explains, what to do, and who can do it.

    `severity` is fail, warn or error for a problem; pass for a note that changes no verdict
    (e.g. "the test call did not cross the network")."""

    id: str
    severity: Status
    headline: Message
    explains: tuple[str, ...] = ()
    advice: tuple[Advice, ...] = ()
    party: str = "user"  # text.remedies.PARTIES

    @property
    def note(self) -> bool:
        return self.severity in (Status.PASS, Status.SKIP)


@dataclass(frozen=True)
class Target:
    host: str
    tcp_ports: tuple[int, ...]
    udp_ports: tuple[int, ...]


@dataclass(frozen=True)
class RunReport:
    tool_version: str
    started_at: str  # ISO 8601, UTC
    duration_s: float
    target: Target
    system: Mapping[str, Any]
    config: Mapping[str, Any]
    probes: tuple[ProbeResult, ...]
    interrupted: bool = False
    #: the causes, worst first; empty when the run was not diagnosed (a report from before)
    diagnosis: tuple[Finding, ...] = ()

    @property
    def status(self) -> Status:
        """The worst of the diagnosis' findings and of the probes no finding explains: a probe
        that could not finish (error) because of a cause the diagnosis names counts as that
        cause's severity."""
        explained = {pid for f in self.diagnosis for pid in f.explains}
        return worst([f.severity for f in self.diagnosis]
                     + [p.status for p in self.probes if p.id not in explained])

    @property
    def exit_code(self) -> int:
        return self.status.exit_code
