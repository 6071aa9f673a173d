"""Probe `capacity`: how many kbit/s this network carries up and down, against `trtcdetect serve`.

A ramped UDP train per direction (net/capacity.py) on the target's first UDP port -- the port a
TRTC call's media uses -- until loss or queueing delay shows the bottleneck. Only a `serve`
answers it: Tencent's servers are not asked (a flood of test datagrams to someone else's media
server is not a test), and a host that does not answer the HELLO is skipped, not judged.
The runner starts it after every other network probe has ended: its load would be their delay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from .. import thresholds
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..evidence import UNSET, Evidence, JsonObject, UnsetType, details, of_entry
from ..models import Advice, Message, Metric, Status, worst
from ..net import ResolveError, ramp, resolve
from ..net import capacity as train
from ..text.base import Text
from ..text.ids import R, S
from ..trtc import is_tencent
from .base import NO_PRIOR, MeasuredProbe, Prior, Sample, Series, Verdict

#: a step's delay median this far above the lowest seen: a queue is building
QUEUE_RISE_MS = 40.0
#: delivered under this share of the sent rate (with loss above the lower steps'): bottleneck
DELIVERED_MIN = 0.85



class CapacityStep(Evidence, frozen=True, kw_only=True):
    """One step of the ramp: sent at `kbps`, what arrived, the delay it built, what it hit."""

    kbps: float
    sent: int
    received: int
    #: the rate the receiver saw the datagrams arrive at (None: fewer than two arrived)
    delivered_kbps: float | None
    #: one-way delay's median over the lowest seen in this direction, ms
    queue_ms: float | None
    congested: Literal["delay", "rate"] | None = None
    loss_pct: float = 0.0


class CapacityDirection(Evidence, frozen=True, kw_only=True):
    """One direction's ramp and its figure: an estimate, a floor ("at least"), or none."""

    name: Literal["up", "down"]
    steps: tuple[CapacityStep, ...]
    kbps: float | None
    bound: Literal["estimate", "at least", "none"]
    confidence: Literal["high", "medium", "low"]
    by: Literal["delay", "rate"] | None = None


class CapacityDetails(Evidence, frozen=True, kw_only=True):
    """The capacity probe's details: the ramp each way against a 'trtcdetect serve', or why it
    did not run."""

    target: str
    port: int | None
    address: str | UnsetType = UNSET
    ceiling_kbps: float | UnsetType = UNSET
    seconds: float | UnsetType = UNSET
    payload_bytes: int | UnsetType = UNSET
    step_s: float | UnsetType = UNSET
    ramp: float | UnsetType = UNSET
    start_kbps: float | UnsetType = UNSET
    up: CapacityDirection | UnsetType = UNSET
    down: CapacityDirection | UnsetType = UNSET
    #: why nothing was measured
    skipped: Literal["tencent", "no-udp-port", "dns", "unsupported"] | UnsetType = UNSET
    dns_error: str | UnsetType = UNSET


def _direction(direction: ramp.Direction) -> CapacityDirection:
    return CapacityDirection(
        name=direction.name,  # type: ignore[arg-type]  # ramp names them "up" and "down"
        steps=tuple(CapacityStep(kbps=s.kbps, sent=s.sent, received=s.received,
                                 delivered_kbps=s.delivered_kbps, queue_ms=s.queue_ms,
                                 congested=s.congested,  # type: ignore[arg-type]
                                 loss_pct=s.loss_pct) for s in direction.steps),
        kbps=direction.kbps, bound=direction.bound,  # type: ignore[arg-type]
        confidence=direction.confidence, by=direction.by)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CapacityObservation:
    target: str
    port: int | None
    result: train.Capacity | None = None
    #: why nothing was measured: "tencent" | "no-udp-port" | "dns" | "unsupported"
    skipped: str | None = None
    dns_error: str | None = None

    def evidence(self) -> CapacityDetails:
        found = CapacityDetails(
            target=self.target, port=self.port,
            skipped=self.skipped or UNSET,  # type: ignore[arg-type]  # the four words above
            dns_error=self.dns_error or UNSET)
        r = self.result
        if r is None:
            return found
        return msgspec.structs.replace(
            found, address=r.address, port=r.port, ceiling_kbps=r.ceiling_kbps,
            seconds=round(r.seconds, 2), payload_bytes=ramp.PAYLOAD, step_s=ramp.STEP_S,
            ramp=ramp.RAMP, start_kbps=ramp.START_KBPS, up=_direction(r.up),
            down=_direction(r.down))

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge_step(kbps: float, sent: int, received: int, delivered: float | None,
               queue_ms: float | None, lower: list[ramp.Step]) -> str | None:
    """What, if anything, says this step hit the bottleneck (a pure rule, table-tested).

    A queue that grows is the bottleneck ("delay"). Else, a step whose datagrams arrived at
    under DELIVERED_MIN of the rate they were sent at, once the loss the lower steps had anyway
    (pooled) is allowed for, met a link slower than itself ("rate": a policer or a shallow
    buffer drops the excess instead of queueing it). Random loss lowers every step alike; the
    first step has no lower one to compare with and is judged by its delay alone."""
    if queue_ms is not None and queue_ms > QUEUE_RISE_MS:
        return "delay"
    if not lower:
        return None
    if received < 2 or delivered is None:
        return "rate" if sent >= 4 else None  # nothing came: all of it was beyond capacity
    # the random loss the lower steps show, pooled: a step of a few dozen datagrams reads 0 %
    # or 15 % of a 5 % loss by chance, and the smallest of them was no floor at all
    floor = 100 * sum(s.sent - s.received for s in lower) / max(sum(s.sent for s in lower), 1)
    if delivered < DELIVERED_MIN * kbps * (1 - floor / 100):
        return "rate"
    return None


def need(kbps: float) -> str:
    """What a TRTC call of this many kbit/s (one direction) can carry."""
    if kbps >= thresholds.CAPACITY_720P_NEED_KBPS:
        return "720p"
    if kbps >= thresholds.CAPACITY_360P_NEED_KBPS:
        return "360p"
    if kbps >= thresholds.CAPACITY_AUDIO_NEED_KBPS:
        return "audio"
    return "none"


_STATUS = {"720p": Status.PASS, "360p": Status.WARN, "audio": Status.WARN, "none": Status.FAIL}


def _direction_verdict(direction: ramp.Direction) -> tuple[Status, str]:
    if direction.bound == "none" or direction.kbps is None:
        return Status.WARN, "none"
    if direction.bound == "at least":  # no bottleneck below the ceiling
        return Status.PASS, need(direction.kbps)
    fits = need(direction.kbps)
    return _STATUS[fits], fits


def _shown(direction: ramp.Direction) -> str:
    if direction.kbps is None:
        return "?"
    prefix = "≥ " if direction.bound == "at least" else ""
    return f"{prefix}{direction.kbps:,.0f}"


def judge(observation: CapacityObservation) -> Verdict:
    if observation.skipped == "tencent":
        return Verdict(Status.SKIP, Message(S.CAPACITY_TENCENT, {"host": observation.target}))
    if observation.skipped == "no-udp-port":
        return Verdict(Status.SKIP, Message(S.CAPACITY_NO_PORT))
    if observation.skipped == "dns":
        return Verdict(Status.SKIP, Message(S.CAPACITY_DNS, {
            "host": observation.target, "error": observation.dns_error or ""}))
    result = observation.result
    if result is None:
        return Verdict(Status.SKIP, Message(S.CAPACITY_UNSUPPORTED, {
            "host": observation.target, "port": observation.port}))
    (up_status, up_fits), (down_status, down_fits) = (_direction_verdict(result.up),
                                                      _direction_verdict(result.down))
    status = worst([up_status, down_status])
    params = {"up": _shown(result.up), "down": _shown(result.down),
              "need": f"{thresholds.CAPACITY_720P_NEED_KBPS:,}"}
    metrics = tuple(
        Metric(f"capacity_{d.name}", d.kbps, "kbit/s", warn=thresholds.CAPACITY_720P_NEED_KBPS,
               fail=thresholds.CAPACITY_AUDIO_NEED_KBPS, better="higher")
        for d in (result.up, result.down))
    if "none" in (result.up.bound, result.down.bound):
        return Verdict(Status.WARN, Message(S.CAPACITY_NOT_MEASURED, params), metrics=metrics)
    if status == Status.PASS:
        return Verdict(status, Message(S.CAPACITY_OK, params), metrics=metrics)
    fits = min((up_fits, down_fits), key=["none", "audio", "360p", "720p"].index)
    advice = Advice(R.CAPACITY_LOW, {
        "need": f"{thresholds.CAPACITY_720P_NEED_KBPS:,}",
        "need360": f"{thresholds.CAPACITY_360P_NEED_KBPS:,}"})
    sentence = {"360p": S.CAPACITY_360P, "audio": S.CAPACITY_AUDIO_ONLY,
                "none": S.CAPACITY_TOO_LOW}[fits]
    return Verdict(status, Message(sentence, params), (advice,), metrics)


async def measure(config: Config, prior: Prior = NO_PRIOR) -> CapacityObservation:
    port = config.network.udp_ports[0] if config.network.udp_ports else None
    if is_tencent(config.network.target):
        return CapacityObservation(config.network.target, port, skipped="tencent")
    if port is None:
        return CapacityObservation(config.network.target, None, skipped="no-udp-port")
    try:
        address = (await resolve(config, config.network.target)).addresses[0]
    except ResolveError as exc:
        return CapacityObservation(config.network.target, port, skipped="dns", dns_error=str(exc))
    try:
        network = config.network
        result = await train.measure(address, port, network.capacity_max_kbps, network.timeout_s,
                                     judge_step, network.local)
    except train.CapacityUnsupported:
        return CapacityObservation(config.network.target, port, skipped="unsupported")
    return CapacityObservation(config.network.target, port, result)


def deadline_s(config: Config) -> float:
    steps = len(ramp.rates(config.network.capacity_max_kbps))
    per_step = ramp.STEP_S + ramp.DRAIN_MAX_S
    return config.network.timeout_s * 2 + 2 * steps * per_step + PROBE_DEADLINE_MARGIN_S


#: OpenMetrics: the estimate per direction, and whether it is only a lower bound
SERIES = (
    Series("trtcdetect_capacity_bytes_per_second",
           "Capacity estimate per direction (up: from this machine), IP-level", ("direction",),
           unit="bytes_per_second"),
    Series("trtcdetect_capacity_lower_bound",
           "1 when the capacity figure is only a lower bound (no bottleneck up to the test's "
           "ceiling)", ("direction",)),
)


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    seen = of_entry(CapacityDetails, probe)
    for direction in (seen.up, seen.down) if seen is not None else ():
        if direction and direction.kbps is not None:
            yield ("trtcdetect_capacity_bytes_per_second", (direction.name,),
                   direction.kbps * 1000 / 8)
            yield ("trtcdetect_capacity_lower_bound", (direction.name,),
                   1 if direction.bound == "at least" else 0)


PROBE = MeasuredProbe(
    id="capacity",
    traits=frozenset({"network", "load"}),
    titles=Text("Capacity (up / down)", "带宽容量（上行/下行）"),
    description="ramped UDP train to and from a 'trtcdetect serve': kbit/s each way, against "
                "what a 720p TRTC call needs",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    # its load would be every other network probe's delay: it starts after all of them
    after=("@network",),
    evidence=CapacityDetails,
    series=SERIES,
    samples=samples,
)
