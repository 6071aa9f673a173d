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
from typing import Any

from aioice import stun

from .. import thresholds


class _TrainClient(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.sent: dict[bytes, float] = {}
        self.rtt: dict[bytes, float] = {}
        self.errors = 0
        self.all_answered = asyncio.Event()
        self.expected = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = stun.parse_message(data)
        except Exception:  # noqa: BLE001 - garbage is not an answer
            return
        sent = self.sent.get(message.transaction_id)
        if sent is not None and message.transaction_id not in self.rtt:
            self.rtt[message.transaction_id] = time.perf_counter() - sent
            if len(self.rtt) >= self.expected:
                self.all_answered.set()

    def error_received(self, exc: Exception) -> None:
        self.errors += 1


async def run_train(address: str, port: int, count: int, rate_pps: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    client = _TrainClient()
    client.expected = count
    transport, _ = await loop.create_datagram_endpoint(lambda: client,
                                                       remote_addr=(address, port))
    order: list[bytes] = []
    try:
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate_pps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
            client.sent[request.transaction_id] = time.perf_counter()
            order.append(request.transaction_id)
            transport.sendto(bytes(request))
        try:
            await asyncio.wait_for(client.all_answered.wait(),
                                   thresholds.QUALITY_TRAIN_LOSS_AFTER_S)
        except TimeoutError:
            pass
    finally:
        transport.close()
    rtts = [client.rtt.get(txid) for txid in order]
    answered = [r * 1000 for r in rtts if r is not None]
    diffs = [abs(b - a) for a, b in zip(answered, answered[1:], strict=False)]
    return {
        "port": port,
        "sent": count,
        "answered": len(answered),
        "loss_pct": round(100 * (count - len(answered)) / count, 2),
        "rtt_ms": ({"min": round(min(answered), 2), "avg": round(statistics.fmean(answered), 2),
                    "max": round(max(answered), 2)} if answered else None),
        "jitter_ms": round(statistics.fmean(diffs), 2) if diffs else None,
        "icmp_errors": client.errors,
    }
