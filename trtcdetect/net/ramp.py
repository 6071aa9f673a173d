"""The capacity ramp without a socket: its steps and what estimate the steps give
(net/capacity.py runs the trains; when a step shows the bottleneck is the probe's rule,
probes/capacity.judge_step, handed to the trains). See net/capacity.py for the method."""

from __future__ import annotations

from dataclasses import dataclass, field

PAYLOAD = 1200
START_KBPS = 250.0
RAMP = 1.4
STEP_S = 0.4
STEPS_MAX = 16
#: after a step's last datagram, how long to wait for stragglers (a queue draining), s
DRAIN_QUIET_S = 0.15
DRAIN_MAX_S = 2.0


@dataclass(frozen=True)
class Step:
    kbps: float  # the rate the step was sent at
    sent: int
    received: int
    #: rate the receiver saw the datagrams arrive at (None: fewer than two arrived)
    delivered_kbps: float | None
    #: one-way delay's median over the lowest seen in this direction, ms
    queue_ms: float | None
    congested: str | None = None  # "delay" | "rate" | None

    @property
    def loss_pct(self) -> float:
        return round(100 * (self.sent - self.received) / self.sent, 2) if self.sent else 0.0


@dataclass(frozen=True)
class Direction:
    name: str  # "up" (this machine to the server) or "down"
    steps: tuple[Step, ...]
    #: kbit/s: the estimate, or the highest rate carried cleanly when `bound` is "at least"
    kbps: float | None
    bound: str  # "estimate" | "at least" | "none"
    confidence: str  # "high" | "medium" | "low"
    by: str | None = None  # what showed the bottleneck: "delay" | "rate"


def conclude(name: str, steps: list[Step], ceiling: float) -> Direction:
    hit = next((s for s in steps if s.congested), None)
    if hit is None:
        clean = max((s.kbps for s in steps), default=0.0)
        return Direction(name, tuple(steps), round(clean) if steps else None,
                         "at least" if steps else "none", "high" if steps else "low")
    rate = hit.delivered_kbps
    if rate is None:  # nothing arrived in the step that hit it: the step before is the figure
        before = [s for s in steps if s is not hit and s.kbps < hit.kbps]
        rate = before[-1].delivered_kbps if before else None
    confidence = ("high" if hit.received >= 50 else "medium" if hit.received >= 15 else "low")
    return Direction(name, tuple(steps), None if rate is None else round(rate),
                     "estimate" if rate is not None else "none", confidence, hit.congested)


@dataclass
class Arrivals:
    """One step's datagrams as they arrived, at either end: each sequence number once, its
    arrival time (in arrival order, s) and its one-way offset (arrival minus the sender's stamp,
    s; clocks differ, so only differences between offsets mean anything)."""

    seqs: set[int] = field(default_factory=set)
    times: list[float] = field(default_factory=list)
    offsets: list[float] = field(default_factory=list)

    def add(self, seq: int, now: float, sent_ns: int) -> bool:
        """Count a datagram; False for one already counted (a duplicate)."""
        if seq in self.seqs:
            return False
        self.seqs.add(seq)
        self.times.append(now)
        self.offsets.append(now - sent_ns / 1e9)
        return True


#: the first share of a step's arrivals left out of its rate: after a quiet spell a shaper's
#: bucket lets a burst through at line speed (tbf's `burst`), which is not its rate
ARRIVALS_TRIMMED = 0.1


def arrival_rate(times: list[float], size_bytes: int) -> float | None:
    """kbit/s at which datagrams of `size_bytes` (IP-level) arrived at `times` (s, in arrival
    order), without the first ARRIVALS_TRIMMED of them; None for fewer than two left."""
    kept = times[int(len(times) * ARRIVALS_TRIMMED):]
    if len(kept) < 2 or kept[-1] <= kept[0]:
        return None
    return (len(kept) - 1) * size_bytes * 8 / (kept[-1] - kept[0]) / 1000


def rates(ceiling: float) -> list[float]:
    out: list[float] = []
    rate = START_KBPS
    while rate < ceiling and len(out) < STEPS_MAX - 1:
        out.append(round(rate))
        rate *= RAMP
    return [*out, round(ceiling)]
