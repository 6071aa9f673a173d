"""--repeat N / --for DURATION: the probes round after round, like mtr.

On a terminal, a live table (rich) shows each check's last result, how many rounds it worked
and its round-trip time (last, best, worst), with one coloured line per round above it; on a
pipe, one plain line per round. Ctrl-C ends the round in progress and the report is still
written; the run stops at N rounds, at the end of DURATION, or at 1000 rounds, whichever comes
first, and a round is not started that would begin after DURATION is over.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING

from ..config import Config

if TYPE_CHECKING:
    from ..models import RunReport
    from ..probes import Probe

#: --for without --repeat: at most this many rounds (what --repeat allows)
MAX_ROUNDS = 1000


async def rounds(args: argparse.Namespace, config: Config, probes: list[Probe],
                 stop: asyncio.Event, settings: dict[str, object]) -> RunReport:
    from .. import repeat, runner
    from ..ui import RepeatView

    done: list[repeat.Round] = []
    last: RunReport | None = None
    total: int | None = int(args.repeat) if args.repeat else None
    began = time.time()
    until = began + args.for_s if args.for_s else None
    with RepeatView(enabled=not config.output.quiet, total=total, until=until) as view:
        for index in range(1, (total or MAX_ROUNDS) + 1):
            started = time.time()
            report = await runner.run(config, probes, stop=stop, settings=settings)
            if report.interrupted and done:
                break  # the round Ctrl-C cut short says nothing of the network: leave it out
            last = report
            done.append(repeat.round_of(index, started, report))
            view.round(done)
            next_start = started + args.interval
            if stop.is_set() or index == total or (until is not None and next_start >= until):
                break
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, next_start - time.time()))
                break
            except TimeoutError:
                pass
    assert last is not None
    summary = repeat.summarize(done, args.interval)
    return dataclasses.replace(last, probes=(*last.probes, summary))
