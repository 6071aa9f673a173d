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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import thresholds
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..models import Advice, Message, Metric, Status
from ..net import ResolveError, resolve
from ..net.path import INTERVAL_S, LINGER_S, MAX_HOPS, PER_HOP, trace
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


def place_of(ttl: int, reached_at: int | None) -> str:
    """'here' (hop 1: this computer's link), 'server' (the target's own hop), else 'middle'."""
    if ttl == 1 and reached_at != 1:
        return "here"
    if reached_at is not None and ttl == reached_at:
        return "server" if ttl > 1 else "here"
    return "middle"


def _answering(hops: list[dict[str, Any]], reached_at: int | None) -> list[dict[str, Any]]:
    last = reached_at or max((h["ttl"] for h in hops if h["answered"]), default=0)
    return [h for h in hops if h["answered"] and h["ttl"] <= last]


def loss_start(hops: list[dict[str, Any]], reached_at: int | None) -> dict[str, Any] | None:
    """Where the loss that reaches the end of the path starts, or None when the end lost
    nothing. Pure: table-tested."""
    answering = _answering(hops, reached_at)
    if not answering:
        return None
    end = answering[-1]
    if end["answered"] >= end["sent"]:
        return None
    index = len(answering) - 1
    while index > 0 and answering[index - 1]["answered"] < answering[index - 1]["sent"]:
        index -= 1
    start = answering[index]
    run = answering[index:]
    limited = any(h["loss_pct"] - end["loss_pct"] > RATE_LIMIT_MARGIN_PCT for h in run[:-1])
    sent = sum(h["sent"] for h in run)
    rate = sum(h["sent"] - h["answered"] for h in run) / sent if sent else 0.0
    # the hop before the run was clean: could it have been, had the loss started earlier?
    shown = index == 0 or 1 - (1 - rate) ** answering[index - 1]["sent"] >= CLEAN_HOP_EVIDENCE
    return {"ttl": start["ttl"], "address": start["address"],
            "place": place_of(start["ttl"], reached_at), "loss_pct": end["loss_pct"],
            "certain": shown and not limited, "clean_before": index > 0}


def delay_start(hops: list[dict[str, Any]], reached_at: int | None) -> dict[str, Any] | None:
    """The hop where the median RTT rises by DELAY_STEP_MS or more and later hops stay up
    (a router slow to answer ICMP rises alone); None without such a rise. Pure."""
    answering = [h for h in _answering(hops, reached_at) if h["rtt_ms"] is not None]
    previous = 0.0
    for index, hop in enumerate(answering):
        rise = hop["rtt_ms"] - previous
        later = answering[index:]
        if rise >= DELAY_STEP_MS and all(h["rtt_ms"] - previous >= 0.8 * rise for h in later):
            return {"ttl": hop["ttl"], "address": hop["address"],
                    "place": place_of(hop["ttl"], reached_at), "added_ms": round(rise, 1),
                    "rtt_ms": answering[-1]["rtt_ms"]}
        previous = hop["rtt_ms"]
    return None


@dataclass(frozen=True)
class PathObservation:
    host: str
    address: str | None = None
    port: int | None = None
    traced: dict[str, Any] | None = None
    dns_error: str | None = None

    def details(self) -> dict[str, Any]:
        found: dict[str, Any] = {"host": self.host, "address": self.address, "port": self.port,
                                 "dns_error": self.dns_error}
        if self.traced is None:
            return found
        hops, reached = self.traced["hops"], self.traced["reached_at"]
        hidden = [h["ttl"] for h in hops if not h["answered"]]
        return {**found, **self.traced, "hidden": hidden,
                "loss_from": loss_start(hops, reached), "delay_from": delay_start(hops, reached),
                "limits": {"per_hop": PER_HOP, "max_hops": MAX_HOPS,
                           "seconds": round((PER_HOP - 1) * INTERVAL_S + LINGER_S, 1)}}


def place_message(where: dict[str, Any]) -> dict[str, Any]:
    """The words for where a loss or delay starts (loss_start, delay_start), as a nested
    message; the diagnosis' headline uses the same."""
    return {"id": PLACE_SENTENCES[where["place"]], "params": {}}


def judge(observation: PathObservation) -> Verdict:
    details = observation.details()
    host = observation.host
    if observation.dns_error is not None:
        return Verdict(Status.SKIP, Message(S.PATH_DNS, {"host": host,
                                                         "error": observation.dns_error}))
    if details.get("error") and not details.get("datagrams"):
        return Verdict(Status.SKIP, Message(S.PATH_NOT_SENT, {"error": details["error"]}))
    hops: list[dict[str, Any]] = details["hops"]
    answering = _answering(hops, details["reached_at"])
    metrics = _metrics(details, answering)
    if not answering:
        return Verdict(Status.WARN, Message(S.PATH_SILENT, {
            "host": host, "sent": details["datagrams"]}), (), metrics)
    loss, delay = details["loss_from"], details["delay_from"]
    if loss is not None and loss["certain"]:
        return Verdict(Status.WARN, Message(S.PATH_LOSS, {
            "host": host, "ttl": loss["ttl"], "address": loss["address"],
            "place": place_message(loss), "loss": loss["loss_pct"]}),
            (Advice(PLACE_ADVICE[loss["place"]]),), metrics)
    if delay is not None and delay["rtt_ms"] >= thresholds.CALL_RTT_WARN_MS / 2:
        return Verdict(Status.WARN, Message(S.PATH_DELAY, {
            "host": host, "ttl": delay["ttl"], "address": delay["address"],
            "place": place_message(delay), "added": delay["added_ms"], "rtt": delay["rtt_ms"]}),
            (Advice(PLACE_ADVICE[delay["place"]]),), metrics)
    end = answering[-1]
    if details["reached_at"] is None:
        return Verdict(Status.PASS, Message(S.PATH_NOT_REACHED, {
            "host": host, "hops": end["ttl"], "port": observation.port}), (), metrics)
    if loss is not None:  # lost at the end, but every router limited its answers
        return Verdict(Status.WARN, Message(S.PATH_LOSS_UNPLACED, {
            "host": host, "loss": loss["loss_pct"]}), (Advice(R.CALL_POOR),), metrics)
    return Verdict(Status.PASS, Message(S.PATH_CLEAN, {
        "host": host, "hops": end["ttl"], "rtt": end["rtt_ms"]}), (), metrics)


def _metrics(details: dict[str, Any], answering: list[dict[str, Any]]) -> tuple[Metric, ...]:
    metrics = [Metric("path_hops", len(details["hops"]), "count"),
               Metric("path_datagrams", details["datagrams"], "count")]
    if answering:
        end = answering[-1]
        metrics.append(Metric("path_end_loss", end["loss_pct"], "%", better="lower"))
        if end["rtt_ms"] is not None:
            metrics.append(Metric("path_end_rtt", end["rtt_ms"], "ms", better="lower"))
    return tuple(metrics)


def _port(config: Config, prior: Prior) -> int:
    ports = prior.get("ports")
    for entry in (ports.details.get("ports") or ()) if ports is not None else ():
        if isinstance(entry, dict) and entry.get("protocol") == "udp" \
                and entry.get("verdict") == "open":
            return int(entry["port"])
    return config.udp_ports[0] if config.udp_ports else FALLBACK_PORT


async def measure(config: Config, prior: Prior = NO_PRIOR) -> PathObservation:
    import threading

    host = config.target
    try:
        resolution = await resolve(config, host)
    except ResolveError as exc:
        return PathObservation(host, dns_error=str(exc))
    address, port = resolution.addresses[0], _port(config, prior)
    stop = threading.Event()
    traced = await in_thread(lambda: trace(address, port, local=config.local, stop=stop),
                             name="path", on_cancel=stop.set)
    return PathObservation(host, address, port, traced.as_dict())


def deadline_s(config: Config) -> float:
    return config.timeout_s + PER_HOP * INTERVAL_S + LINGER_S + PROBE_DEADLINE_MARGIN_S



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
    details = probe.get("details") or {}
    for hop in details.get("hops") or []:
        if not hop["answered"]:
            continue  # a hidden router: no figure, rather than 100 % loss
        label = (str(hop["ttl"]),)
        yield "trtcdetect_path_hop_loss_ratio", label, round(hop["loss_pct"] / 100, 4)
        if hop.get("rtt_ms") is not None:
            yield "trtcdetect_path_hop_rtt_seconds", label, seconds(hop["rtt_ms"])
    if details.get("reached_at") is not None:
        yield "trtcdetect_path_target_hops", (), details["reached_at"]
    for key, series in (("loss_from", "trtcdetect_path_loss_start_hop"),
                        ("delay_from", "trtcdetect_path_delay_start_hop")):
        if details.get(key):
            yield series, (), details[key]["ttl"]


PROBE = MeasuredProbe(
    id="path",
    traits=frozenset({"network", "target"}),
    titles=Text("Path to the target", "到目标的路径"),
    description="UDP datagrams with rising TTL, as mtr: where loss and delay start on the way",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    after=("ports",),
    series=SERIES,
    samples=samples,
)
