"""What a probe is: a module-level object satisfying :class:`Probe`, listed in the registry.

Every probe is two steps. `measure(config, prior)` looks at the world (sockets, devices,
processes) and returns an observation: a dataclass of what was seen, with `details()` for the
report. `judge(observation)` is a pure function from that to a :class:`Verdict` — status,
sentence, remedies, metrics with the limits they were judged by — tested by tables without a
network or a device. `run` joins them; the runner adds the duration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..config import Config
from ..evidence import Evidence, JsonObject, details
from ..models import ProbeResult, Verdict
from ..text.base import Text

#: Results of the probes a probe runs after, by id (see `after`)
Prior = Mapping[str, ProbeResult]
#: A probe's traits: "network" (its result depends on the network: it sends packets), "target"
#: (it checks the run's target host itself: a run with one is about that host), "device" (a
#: camera, microphone or speaker of this machine), "browser" (it runs a browser), "load" (it
#: loads the path: not repeated round after round unless asked for), "call" (it makes the test
#: call: --call adds it to every round), "sdk" (it runs Tencent's SDK: asked for by id, it runs
#: whatever the target)
TRAITS = frozenset({"network", "target", "device", "browser", "load", "call", "sdk"})
__all__ = ["NO_PRIOR", "TRAITS", "MeasuredProbe", "Observation", "Prior", "Probe", "Sample",
           "Series", "Verdict", "Check", "metric_value", "result", "seconds"]
NO_PRIOR: Prior = {}


@dataclass(frozen=True)
class Series:
    """One OpenMetrics family a probe exports (report/metrics.py makes it with prometheus-client):
    its full name, help, labels besides `target`, unit suffix, and for a state set its states.
    Names are part of the contract: times in seconds, ratios 0-1, as Prometheus asks."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    #: a state set (prometheus-client's Enum): a sample's value is one of these
    states: tuple[str, ...] = ()


#: One value of a Series: (series name, label values after target, value; a state for a state set)
Sample = tuple[str, tuple[str, ...], float | str]
#: A probe's samples from its entry in the JSON document (the contract the metrics follow)
Samples = Callable[[Mapping[str, Any]], Iterable[Sample]]


def metric_value(probe: Mapping[str, Any], name: str) -> float | None:
    """The value of the probe's metric `name` in its JSON entry, or None."""
    for metric in probe.get("metrics", []):
        if metric["name"] == name and metric["value"] is not None:
            return float(metric["value"])
    return None


def seconds(ms: float) -> float:
    """ms as seconds without binary noise (33.41 ms is 0.03341, not 0.033409999999999995): the
    figures have at most microsecond resolution."""
    return round(ms / 1000, 9)


def no_samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    return ()


#: One check of a --repeat round: its name on the board ("UDP 8000", "CALL"), whether it
#: worked, and how it failed ("no answer", "refused"; None: "failed")
Check = tuple[str, bool, str | None]


def no_checks(result: ProbeResult) -> Iterable[Check]:
    return ()


class Probe(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def titles(self) -> Text:
        """Its title in both languages."""
        ...

    @property
    def description(self) -> str:
        """One line for `trtcdetect probes`."""
        ...

    @property
    def after(self) -> tuple[str, ...]:
        """Probes whose results this one uses: it starts once those in the run have ended. An
        entry "@TRAIT" stands for every other probe of the run with that trait."""
        ...

    @property
    def traits(self) -> frozenset[str]:
        """What the probe is (TRAITS): the runner, the diagnosis, the exporter and the report
        ask this instead of listing probe ids."""
        ...

    @property
    def evidence(self) -> type[Evidence] | None:
        """The type of its evidence, from which its JSON details and their schema are made."""
        ...

    @property
    def series(self) -> tuple[Series, ...]:
        """The OpenMetrics families the probe exports besides its status and duration."""
        ...

    @property
    def samples(self) -> Samples:
        """The values of `series`, read from the probe's entry in the JSON document."""
        ...

    @property
    def checks(self) -> Callable[[ProbeResult], Iterable[Check]]:
        """What it puts on --repeat's board each round."""
        ...

    def deadline_s(self, config: Config) -> float:
        """After this long the runner stops waiting and records `error`."""
        ...

    async def run(self, config: Config, prior: Prior = NO_PRIOR) -> ProbeResult:
        """Check, never print, never raise on a network failure: that is a finding."""
        ...


class Observation(Protocol):
    def details(self) -> JsonObject:
        """The evidence, as the JSON document's `details` of the probe."""
        ...


def result(probe: Probe, observation: Observation, verdict: Verdict) -> ProbeResult:
    """A probe's result from what it saw and what its judge said."""
    evidence = getattr(observation, "evidence", None)
    seen = evidence() if callable(evidence) else None
    return ProbeResult(probe.id, probe.title, verdict.status, message=verdict.message,
                       metrics=verdict.metrics,
                       details=details(seen) if seen is not None else observation.details(),
                       advice=verdict.advice, evidence=seen)


Seen = TypeVar("Seen", bound=Observation)


@dataclass(frozen=True)
class MeasuredProbe(Generic[Seen]):
    """A probe made of its two steps: what a probe module ends with (`PROBE = MeasuredProbe(...)`).

    `deadline` says how long the runner waits for it, given the run's configuration; `after`
    names the probes whose results `measure` receives as `prior`."""

    id: str
    #: its title in English and Chinese (the JSON document's `title` is the English one)
    titles: Text
    description: str
    measure: Callable[[Config, Prior], Awaitable[Seen]]
    judge: Callable[[Seen], Verdict]
    deadline: Callable[[Config], float]
    after: tuple[str, ...] = ()
    traits: frozenset[str] = frozenset()
    #: for a probe whose packets come from another stack (Chromium, Tencent's SDKs): which of
    #: -4/-6, --source, --interface do not reach it with this configuration, or None
    unbound: Callable[[Config], str | None] | None = None
    #: the type of its evidence (evidence.Evidence): its JSON details and their JSON Schema
    #: are made from it (report/schema.py); None while the probe has none yet
    evidence: type[Evidence] | None = None
    #: OpenMetrics families beyond status and duration, and how to read their values
    series: tuple[Series, ...] = ()
    samples: Samples = no_samples
    #: what it puts on --repeat's board each round (repeat.py), from its result
    checks: Callable[[ProbeResult], Iterable[Check]] = no_checks

    def __post_init__(self) -> None:
        unknown = self.traits - TRAITS
        if unknown:
            raise ValueError(f"probe {self.id}: unknown traits {sorted(unknown)}")

    @property
    def title(self) -> str:
        return self.titles.en

    def deadline_s(self, config: Config) -> float:
        return self.deadline(config)

    async def run(self, config: Config, prior: Prior = NO_PRIOR) -> ProbeResult:
        observation = await self.measure(config, prior)
        return result(self, observation, self.judge(observation))
