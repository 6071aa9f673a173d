"""Probe `path`: where on the way to the target loss and delay start, hop by hop (as mtr).

`net.path.trace` sends UDP datagrams with rising TTL toward the target's media port (the first
UDP port the ports probe saw answered, else the first one configured): the routers answer "time
exceeded", the target (a `trtcdetect serve`) answers STUN. From what came back:

- loss starts at the first hop of the unbroken run of lossy hops that ends at the last hop
  (the target, or the last hop that answered). A router that loses only its own answers (they
  rate-limit ICMP; mtr shows the same) is followed by a hop without loss and is not blamed.
  The start is said only when the evidence holds: the clean hop before the run would have lost
  something at the run's loss rate (CLEAN_HOP_EVIDENCE), and the run's hops do not lose far
  more than the end (every router limiting). Otherwise the loss is said without a place.
- delay starts at the hop where the median RTT rises by DELAY_STEP_MS or more and stays up.
- the place: hop 1 is this computer's own link (its Wi-Fi or LAN, to its router); the target's
  own hop is the server's end; anything between is the middle (the internet provider, or
  beyond). Hops that never answer are said to hide themselves.

Bounded: at most net.path.PER_HOP datagrams a hop, MAX_HOPS hops, at most 2.9 s; only toward the
target. Runs with the network probes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from .. import thresholds
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..evidence import UNSET, Evidence, JsonObject, Place, UnsetType, details, of, of_entry
from ..models import Advice, Message, Metric, Status
from ..net import ResolveError, resolve
from ..net.path import INTERVAL_S, LINGER_S, MAX_HOPS, PER_HOP, PathHop, Traced, trace
from ..net.ports import PortVerdict
from ..offloop import in_thread
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Sample, Series, Verdict, seconds

#: a rise of the median RTT from one hop to the next that counts as delay starting there, ms
DELAY_STEP_MS = 30.0
#: hops from the start on that lose more than this many points more than the end: routers
#: limiting their answers, not loss on the path; where the loss starts is then uncertain
RATE_LIMIT_MARGIN_PCT = 50.0
#: a clean hop before the lossy run shows where the loss starts only when it would have lost
#: something at the run's loss rate with at least this probability: with 8 datagrams a hop,
#: from about 25 % loss on; below, the start is not said (a wrong hop blames the wrong party)
CLEAN_HOP_EVIDENCE = 0.9
#: the media port traced to when no UDP port answered and none is configured
FALLBACK_PORT = 8000

PLACE_SENTENCES = {"here": S.PATH_PLACE_HERE, "middle": S.PATH_PLACE_MIDDLE,
                   "server": S.PATH_PLACE_SERVER}
#: what to do, by place (each remedy's party: text.remedies.PARTY)
PLACE_ADVICE = {"here": R.PATH_HERE, "middle": R.PATH_MIDDLE, "server": R.PATH_SERVER}


def place_of(ttl: int, reached_at: int | None) -> Place:
    """'here' (hop 1: this computer's link), 'server' (the target's own hop), else 'middle'."""
    if ttl == 1 and reached_at != 1:
        return "here"
    if reached_at is not None and ttl == reached_at:
        return "server" if ttl > 1 else "here"
    return "middle"


def _answering(hops: Sequence[PathHop], reached_at: int | None) -> list[PathHop]:
    last = reached_at or max((h.ttl for h in hops if h.answered), default=0)
    return [h for h in hops if h.answered and h.ttl <= last]


class PathStart(Evidence, frozen=True, kw_only=True):
    """The hop where loss or delay starts: its TTL, its router, and the place that makes it."""

    ttl: Annotated[int, Meta(ge=1)]
    address: str | None
    #: here: this computer's own link (hop 1); server: the target's own hop; middle: between
    place: Place


class LossStart(PathStart, frozen=True, kw_only=True):
    #: the loss at the end of the path, %
    loss_pct: float
    #: False when routers limiting their answers, or too few datagrams, leave the start unsure
    certain: bool
    #: whether a clean hop came before the lossy run
    clean_before: bool = False


class DelayStart(PathStart, frozen=True, kw_only=True):
    #: how much the median RTT rose at this hop, ms
    added_ms: float
    #: the median RTT at the end of the path, ms
    rtt_ms: float


class PathLimits(Evidence, frozen=True, kw_only=True):
    per_hop: int
    max_hops: int
    seconds: float


class PathDetails(Evidence, frozen=True, kw_only=True):
    """The path probe's details: the target, and when traced, its hops and where loss and
    delay start."""

    host: str
    address: str | None
    port: int | None
    dns_error: str | None = None
    #: the TTL at which the target itself answered
    reached_at: int | None | UnsetType = UNSET
    hops: tuple[PathHop, ...] | UnsetType = UNSET
    error: str | None | UnsetType = UNSET
    elapsed_s: float | UnsetType = UNSET
    datagrams: int | UnsetType = UNSET
    #: the TTLs of the routers that did not answer at all
    hidden: tuple[int, ...] | UnsetType = UNSET
    loss_from: LossStart | None | UnsetType = UNSET
    delay_from: DelayStart | None | UnsetType = UNSET
    limits: PathLimits | UnsetType = UNSET


def loss_start(hops: Sequence[PathHop], reached_at: int | None) -> LossStart | None:
    """Where the loss that reaches the end of the path starts, or None when the end lost
    nothing. Pure: table-tested."""
    answering = _answering(hops, reached_at)
    if not answering:
        return None
    end = answering[-1]
    if end.answered >= end.sent:
        return None
    index = len(answering) - 1
    while index > 0 and answering[index - 1].answered < answering[index - 1].sent:
        index -= 1
    start = answering[index]
    run = answering[index:]
    limited = any((h.loss_pct or 0) - (end.loss_pct or 0) > RATE_LIMIT_MARGIN_PCT
                  for h in run[:-1])
    sent = sum(h.sent for h in run)
    rate = sum(h.sent - h.answered for h in run) / sent if sent else 0.0
    # the hop before the run was clean: could it have been, had the loss started earlier?
    shown = index == 0 or 1 - (1 - rate) ** answering[index - 1].sent >= CLEAN_HOP_EVIDENCE
    return LossStart(ttl=start.ttl, address=start.address,
                     place=place_of(start.ttl, reached_at), loss_pct=end.loss_pct or 0.0,
                     certain=shown and not limited, clean_before=index > 0)


def delay_start(hops: Sequence[PathHop], reached_at: int | None) -> DelayStart | None:
    """The hop where the median RTT rises by DELAY_STEP_MS or more and later hops stay up
    (a router slow to answer ICMP rises alone); None without such a rise. Pure."""
    answering = [h for h in _answering(hops, reached_at) if h.rtt_ms is not None]
    rtts = [h.rtt_ms or 0.0 for h in answering]
    previous = 0.0
    for index, hop in enumerate(answering):
        rise = rtts[index] - previous
        if rise >= DELAY_STEP_MS and all(r - previous >= 0.8 * rise for r in rtts[index:]):
            return DelayStart(ttl=hop.ttl, address=hop.address,
                              place=place_of(hop.ttl, reached_at), added_ms=round(rise, 1),
                              rtt_ms=rtts[-1])
        previous = rtts[index]
    return None


@dataclass(frozen=True)
class PathObservation:
    host: str
    address: str | None = None
    port: int | None = None
    traced: Traced | None = None
    dns_error: str | None = None

    def evidence(self) -> PathDetails:
        found = PathDetails(host=self.host, address=self.address, port=self.port,
                            dns_error=self.dns_error)
        if self.traced is None:
            return found
        hops, reached = self.traced.hops, self.traced.reached_at
        return msgspec.structs.replace(
            found, reached_at=reached, hops=hops, error=self.traced.error,
            elapsed_s=self.traced.elapsed_s, datagrams=self.traced.datagrams,
            hidden=tuple(h.ttl for h in hops if not h.answered),
            loss_from=loss_start(hops, reached), delay_from=delay_start(hops, reached),
            limits=PathLimits(per_hop=PER_HOP, max_hops=MAX_HOPS,
                              seconds=round((PER_HOP - 1) * INTERVAL_S + LINGER_S, 1)))

    def details(self) -> JsonObject:
        return details(self.evidence())


def place_message(where: PathStart) -> JsonObject:
    """The words for where a loss or delay starts (loss_start, delay_start), as a nested
    message; the diagnosis' headline uses the same."""
    return {"id": PLACE_SENTENCES[where.place], "params": {}}


def judge(observation: PathObservation) -> Verdict:
    host, seen = observation.host, observation.traced
    if observation.dns_error is not None or seen is None:
        return Verdict(Status.SKIP, Message(S.PATH_DNS, {
            "host": host, "error": observation.dns_error or "not resolved"}))
    if seen.error and not seen.datagrams:
        return Verdict(Status.SKIP, Message(S.PATH_NOT_SENT, {"error": seen.error}))
    answering = _answering(seen.hops, seen.reached_at)
    metrics = _metrics(seen, answering)
    if not answering:
        return Verdict(Status.WARN, Message(S.PATH_SILENT, {
            "host": host, "sent": seen.datagrams}), (), metrics)
    loss, delay = loss_start(seen.hops, seen.reached_at), delay_start(seen.hops, seen.reached_at)
    if loss is not None and loss.certain:
        return Verdict(Status.WARN, Message(S.PATH_LOSS, {
            "host": host, "ttl": loss.ttl, "address": loss.address,
            "place": place_message(loss), "loss": loss.loss_pct}),
            (Advice(PLACE_ADVICE[loss.place]),), metrics)
    if delay is not None and delay.rtt_ms >= thresholds.CALL_RTT_WARN_MS / 2:
        return Verdict(Status.WARN, Message(S.PATH_DELAY, {
            "host": host, "ttl": delay.ttl, "address": delay.address,
            "place": place_message(delay), "added": delay.added_ms, "rtt": delay.rtt_ms}),
            (Advice(PLACE_ADVICE[delay.place]),), metrics)
    end = answering[-1]
    if seen.reached_at is None:
        if end.ttl == 1:
            return Verdict(Status.PASS, Message(S.PATH_NOT_REACHED_ONE_HOP, {
                "host": host, "port": observation.port}), (), metrics)
        return Verdict(Status.PASS, Message(S.PATH_NOT_REACHED, {
            "host": host, "hops": end.ttl, "port": observation.port}), (), metrics)
    if loss is not None:  # lost at the end, but every router limited its answers
        return Verdict(Status.WARN, Message(S.PATH_LOSS_UNPLACED, {
            "host": host, "loss": loss.loss_pct}), (Advice(R.CALL_POOR),), metrics)
    if end.ttl == 1:
        return Verdict(Status.PASS, Message(S.PATH_CLEAN_ONE_HOP, {
            "host": host, "rtt": end.rtt_ms}), (), metrics)
    return Verdict(Status.PASS, Message(S.PATH_CLEAN, {
        "host": host, "hops": end.ttl, "rtt": end.rtt_ms}), (), metrics)


def _metrics(seen: Traced, answering: list[PathHop]) -> tuple[Metric, ...]:
    metrics = [Metric("path_hops", len(seen.hops), "count"),
               Metric("path_datagrams", seen.datagrams, "count")]
    if answering:
        end = answering[-1]
        metrics.append(Metric("path_end_loss", end.loss_pct, "%", better="lower"))
        if end.rtt_ms is not None:
            metrics.append(Metric("path_end_rtt", end.rtt_ms, "ms", better="lower"))
    return tuple(metrics)


class _PortsSeen(Evidence, frozen=True, kw_only=True):
    """What the path reads of the ports probe's evidence: the verdicts."""

    ports: tuple[PortVerdict, ...] = ()


def _port(config: Config, prior: Prior) -> int:
    seen = of(_PortsSeen, prior.get("ports"))
    for entry in seen.ports if seen is not None else ():
        if entry.protocol == "udp" and entry.verdict == "open":
            return entry.port
    return config.network.udp_ports[0] if config.network.udp_ports else FALLBACK_PORT


async def measure(config: Config, prior: Prior = NO_PRIOR) -> PathObservation:
    import threading

    host = config.network.target
    try:
        resolution = await resolve(config, host)
    except ResolveError as exc:
        return PathObservation(host, dns_error=str(exc))
    address, port = resolution.addresses[0], _port(config, prior)
    stop = threading.Event()
    traced = await in_thread(lambda: trace(address, port, local=config.network.local, stop=stop),
                             name="path", on_cancel=stop.set)
    return PathObservation(host, address, port, traced.seen())


def deadline_s(config: Config) -> float:
    return config.network.timeout_s + PER_HOP * INTERVAL_S + LINGER_S + PROBE_DEADLINE_MARGIN_S



#: OpenMetrics: each hop's loss and RTT (label `hop`: its TTL; routers are not labels, they vary),
#: how many hops the target is away, and where loss and delay start when the judge placed them
SERIES = (
    Series("trtcdetect_path_hop_loss_ratio", "Share of a hop's datagrams it did not answer",
           ("hop",), unit="ratio"),
    Series("trtcdetect_path_hop_rtt_seconds", "Median round-trip time to a hop", ("hop",),
           unit="seconds"),
    Series("trtcdetect_path_target_hops", "How many hops away the target answered"),
    Series("trtcdetect_path_loss_start_hop", "The hop where loss to the target starts"),
    Series("trtcdetect_path_delay_start_hop", "The hop where delay to the target starts"),
)


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    seen = of_entry(PathDetails, probe)
    if seen is None:
        return
    for hop in seen.hops or ():
        if not hop.answered:
            continue  # a hidden router: no figure, rather than 100 % loss
        label = (str(hop.ttl),)
        yield "trtcdetect_path_hop_loss_ratio", label, round((hop.loss_pct or 0) / 100, 4)
        if hop.rtt_ms is not None:
            yield "trtcdetect_path_hop_rtt_seconds", label, seconds(hop.rtt_ms)
    if seen.reached_at:
        yield "trtcdetect_path_target_hops", (), seen.reached_at
    if seen.loss_from:
        yield "trtcdetect_path_loss_start_hop", (), seen.loss_from.ttl
    if seen.delay_from:
        yield "trtcdetect_path_delay_start_hop", (), seen.delay_from.ttl


PROBE = MeasuredProbe(
    id="path",
    traits=frozenset({"network", "target"}),
    titles=Text("Path to the target", "到目标的路径"),
    description="UDP datagrams with rising TTL, as mtr: where loss and delay start on the way",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    after=("ports",),
    evidence=PathDetails,
    series=SERIES,
    samples=samples,
)
