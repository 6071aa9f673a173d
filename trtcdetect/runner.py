"""Runs probes concurrently, each under its own deadline, and never raises.

A probe that raises becomes `error` with the exception as its reason; one that overruns its
deadline becomes `error: timed out`; when the stop event is set (Ctrl-C), unfinished probes are
cancelled and recorded as `error: interrupted`, and the report is built from what there is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import platform
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from . import __version__
from .config import Config
from .diagnosis import diagnose
from .evidence import JsonObject, details
from .failures import Failure, Kind, said
from .load import LoadMonitor
from .models import Advice, Message, ProbeResult, RunReport, Status, Target
from .net import local
from .net.resolve import new_run
from .probes import Probe
from .probes.base import NO_PRIOR, Prior
from .text.ids import R, S

#: After Ctrl-C, how long unfinished probes get to clean up before the report is written, s.
#: Network probes end at once; a device probe waits up to DEVICE_RELEASE_S for its capture
#: thread to close the device, so this covers that.
INTERRUPT_GRACE_S = 2.5

log = logging.getLogger(__name__)

#: Called when a probe starts (result None) and when it ends.
Progress = Callable[[Probe, ProbeResult | None], None]


def error_result(probe: Probe, why: Failure, duration_s: float = 0.0) -> ProbeResult:
    return ProbeResult(
        id=probe.id, title=probe.title, status=Status.ERROR,
        message=Message(S.ERROR, {"reason": why}), duration_s=round(duration_s, 3),
        error=str(why), advice=(Advice(R.PROBE_ERROR, {"error": str(why)}),),
    )


async def run_probe(probe: Probe, config: Config, prior: Prior = NO_PRIOR) -> ProbeResult:
    start = time.perf_counter()
    deadline = probe.deadline_s(config)
    timer = asyncio.timeout(deadline)
    try:
        async with timer:
            result = await probe.run(config, prior)
    except TimeoutError as exc:
        if timer.expired():
            return error_result(probe, Failure.of(Kind.TIMED_OUT, seconds=deadline),
                                time.perf_counter() - start)
        # a timeout inside the probe that it did not turn into a finding: a bug, said as one
        log.debug("probe %s leaked a TimeoutError", probe.id, exc_info=True)
        why = said(f"TimeoutError: {exc}") if str(exc) else Failure.of(Kind.INNER_TIMEOUT)
        return error_result(probe, why, time.perf_counter() - start)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a crashing probe is a finding, not a crash
        log.debug("probe %s crashed", probe.id, exc_info=True)
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return error_result(probe, said(reason), time.perf_counter() - start)
    result = replace(result, duration_s=round(time.perf_counter() - start, 3))
    return _unbound(result, config, probe)


def _unbound(result: ProbeResult, config: Config, probe: Probe) -> ProbeResult:
    """-4/-6, --source and --interface reach trtcdetect's own sockets; a probe whose packets
    come from another stack says what they do not reach (MeasuredProbe.unbound), and its result
    carries that instead of implying the options held."""
    unbound = getattr(probe, "unbound", None)  # test stand-ins need not have it
    if unbound is None or result.status is Status.SKIP or not config.network.local_chosen:
        return result
    note = unbound(config)
    if note is None:
        return result
    return replace(result, details={**result.details, "local_options_not_applied": note})


def _after(probe: Probe, probes: Sequence[Probe]) -> list[str]:
    """The ids `probe` waits for: its `after`, "@TRAIT" standing for every other probe of the
    run with that trait."""
    wanted: list[str] = []
    for entry in probe.after:
        if entry.startswith("@"):
            wanted += [p.id for p in probes
                       if p.id != probe.id and entry[1:] in getattr(p, "traits", ())]
        else:
            wanted.append(entry)
    return list(dict.fromkeys(wanted))


async def run(
    config: Config,
    probes: Sequence[Probe],
    *,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
    settings: JsonObject | None = None,
) -> RunReport:
    started_at = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    stop = stop or asyncio.Event()
    new_run()
    load = LoadMonitor()
    load.start()
    # this computer's network, read once (no packet sent; ~ms): for the diagnosis and support
    network = await asyncio.to_thread(_local_network)
    results: dict[str, ProbeResult] = {}

    finished = {p.id: asyncio.Event() for p in probes}

    async def after_dependencies(probe: Probe) -> None:
        """A probe may list probes whose results it uses (`after`); it starts once those in
        this run have finished, and gets their results as `prior`."""
        wanted = [d for d in _after(probe, probes) if d in finished]
        for dependency in wanted:
            await finished[dependency].wait()
        await one(probe, {d: results[d] for d in wanted})

    async def one(probe: Probe, prior: dict[str, ProbeResult]) -> None:
        if progress:
            progress(probe, None)
        result = await run_probe(probe, config, prior)
        results[probe.id] = result
        finished[probe.id].set()
        if progress:
            progress(probe, result)

    tasks = [asyncio.create_task(after_dependencies(p), name=f"probe-{p.id}") for p in probes]
    stopper = asyncio.create_task(stop.wait())
    pending: set[asyncio.Future[Any]] = set(tasks)
    while pending and not stop.is_set():
        _, pending = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
        pending.discard(stopper)
    interrupted = stop.is_set() and bool(pending)
    stopper.cancel()
    if pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=INTERRUPT_GRACE_S)
    for probe in probes:
        if probe.id not in results:
            results[probe.id] = error_result(probe, Failure.of(Kind.INTERRUPTED),
                                             time.perf_counter() - start)
            if progress:
                progress(probe, results[probe.id])
    ordered = tuple(results[p.id] for p in probes)
    busy = load.stop()
    try:
        diagnosis = diagnose(ordered, network)
    except Exception:  # noqa: BLE001 - a rule's bug must not cost the report
        log.debug("the diagnosis failed", exc_info=True)
        diagnosis = ()
    return RunReport(
        tool_version=__version__,
        started_at=started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        duration_s=round(time.perf_counter() - start, 3),
        target=Target(config.network.target, config.network.tcp_ports, config.network.udp_ports),
        system={**system_info(), "network": {} if network is None else details(network),
                **busy},
        config=settings or {},
        probes=ordered,
        interrupted=interrupted,
        diagnosis=diagnosis,
    )


def _local_network() -> local.NetworkSeen | None:
    try:
        return local.read().seen()
    except Exception:  # noqa: BLE001 - context for support, never a reason to fail the run
        log.debug("reading the local network failed", exc_info=True)
        return None


def system_info() -> dict[str, str]:
    return {
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "hostname": socket.gethostname(),
    }
