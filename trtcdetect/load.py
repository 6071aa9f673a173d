"""How busy this process and this machine were while the probes measured: the confidence of
the run's timings.

The loop-lag monitor asks the event loop to wake it every LAG_TICK_S and records how late it
woke: the wait any reply had before the loop got to it. TCP and UDP round trips are taken from
the kernel (net/timing.py) and do not carry it; DNS, TLS and HTTPS steps, and the test call's
RTCP, do. CPU busy is the share of non-idle time of all CPUs over the run (/proc/stat).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from .evidence import JsonObject

#: The monitor's tick, s: fine enough to see a 10 ms stall, cheap (100 wake-ups a second).
LAG_TICK_S = 0.01


class LoadMonitor:
    def __init__(self) -> None:
        self.lags_ms: list[float] = []
        self.woke: list[float] = []  # when each sample woke (perf_counter)
        self._task: asyncio.Task[None] | None = None
        self._cpu = _cpu_times()
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        global _current
        _current = self
        self.loop = asyncio.get_running_loop()
        self._task = self.loop.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            planned = time.perf_counter() + LAG_TICK_S
            await asyncio.sleep(LAG_TICK_S)
            now = time.perf_counter()
            self.woke.append(now)
            self.lags_ms.append(max(0.0, (now - planned) * 1000))

    def lag_during(self, start: float, end: float) -> float:
        """The longest the loop was late while [start, end] (perf_counter) lasted, ms: the
        most a wall-clock figure taken over that time can have been inflated by."""
        worst = 0.0
        for woke, lag in zip(self.woke, self.lags_ms, strict=True):
            if woke - lag / 1000 <= end and woke >= start:  # the stall overlapped the window
                worst = max(worst, lag)
        return round(worst, 2)

    def stop(self) -> JsonObject:
        """system.loop_lag_ms {p50, p99, max, samples} and system.cpu_busy_pct."""
        global _current
        if _current is self:
            _current = None
        if self._task is not None:
            self._task.cancel()
        lags = sorted(self.lags_ms)
        found: JsonObject = {"loop_lag_ms": None, "cpu_busy_pct": None}
        if lags:
            found["loop_lag_ms"] = {"p50": round(_pick(lags, 0.50), 2),
                                    "p99": round(_pick(lags, 0.99), 2),
                                    "max": round(lags[-1], 2), "samples": len(lags)}
        end = _cpu_times()
        if self._cpu is not None and end is not None:
            busy = end[0] - self._cpu[0]
            total = end[1] - self._cpu[1]
            if total > 0:
                found["cpu_busy_pct"] = round(100 * busy / total, 1)
        return found


_current: LoadMonitor | None = None


def lag_during(start: float, end: float) -> float | None:
    """The running monitor's lag_during, or None when no run is being watched or the caller
    runs on another loop (net/isolated.py): the run's loop lag did not touch its figure."""
    if _current is None:
        return None
    try:
        here = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return _current.lag_during(start, end) if here is _current.loop else None


def _pick(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs, from /proc/stat; None where there is none."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if first[0] != "cpu":
        return None
    values = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)
