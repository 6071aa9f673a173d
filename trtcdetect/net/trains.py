"""Per-port quality trains: a fixed number of STUN Binding requests at a fixed rate to one UDP
port, answered ones timed: RTT, jitter and loss on the real media port, without credentials.

Bounded: `count` requests, then at most QUALITY_TRAIN_LOSS_AFTER_S of waiting; it stops by itself.
Jitter is the mean absolute difference of consecutive answered RTTs (as RFC 3550's interarrival
jitter, without its smoothing).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from ..config import Local
from ..evidence import Evidence, MinAvgMax, Port
from .stun import StunSocket, binding_request

#: A request unanswered this long after it was sent is lost, s.
QUALITY_TRAIN_LOSS_AFTER_S = 1.0


class Train(Evidence, frozen=True, kw_only=True):
    """One port's train: requests sent and answered, the answers' RTT and jitter."""

    port: Port
    sent: int
    answered: int
    loss_pct: float
    rtt_ms: MinAvgMax | None
    jitter_ms: float | None
    #: ICMP errors the connected socket received during the train
    icmp_errors: int = 0


async def run_train(address: str, port: int, count: int, rate_pps: float,
                    local: Local | None = None) -> Train:
    sock = await StunSocket.open(remote=(address, port), local=local)
    order: list[bytes] = []
    try:
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate_pps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            request = binding_request()
            order.append(request.transaction_id)
            sock.send_stun(request, None)
        # every answer, or QUALITY_TRAIN_LOSS_AFTER_S after the last request
        pending = [sock.reply(tid) for tid in order]
        await asyncio.wait(pending, timeout=QUALITY_TRAIN_LOSS_AFTER_S)
    finally:
        sock.close()
    rtt = {tid: reply.at - sock.sent[tid] for tid, reply in sock.replies.items()}
    rtts = [rtt.get(txid) for txid in order]
    answered = [r * 1000 for r in rtts if r is not None]
    diffs = [abs(b - a) for a, b in zip(answered, answered[1:], strict=False)]
    return Train(
        port=port, sent=count, answered=len(answered),
        loss_pct=round(100 * (count - len(answered)) / count, 2),
        rtt_ms=MinAvgMax(min=round(min(answered), 2), avg=round(statistics.fmean(answered), 2),
                         max=round(max(answered), 2)) if answered else None,
        jitter_ms=round(statistics.fmean(diffs), 2) if diffs else None,
        icmp_errors=sock.errors)
