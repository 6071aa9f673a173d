"""The echo peer: answers a WebRTC offer and sends every received track straight back.

Used by `trtcdetect serve` (HTTP signalling: POST /call with {"sdp", "type"}) and, in-process, by
the test-call probe's local loopback mode. Calls are bounded in number and each is capped in time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("trtcdetect.serve")


class EchoBusy(Exception):
    """Every call slot is taken."""


class EchoPeer:
    def __init__(self, max_calls: int = 4, max_call_seconds: float = 30.0) -> None:
        self.max_calls = max_calls
        self.max_call_seconds = max_call_seconds
        self.calls: set[Any] = set()
        self._timers: set[asyncio.Task[None]] = set()

    async def answer(self, sdp: str, type_: str = "offer") -> tuple[str, str]:
        """Answer `sdp`; the call is closed after max_call_seconds, or when the far end leaves."""
        from aiortc import RTCPeerConnection, RTCSessionDescription

        if len(self.calls) >= self.max_calls:
            raise EchoBusy(f"all {self.max_calls} call slots are in use")
        pc = RTCPeerConnection()
        self.calls.add(pc)

        @pc.on("track")
        def on_track(track: Any) -> None:
            pc.addTrack(track)  # echo: what comes in goes straight back

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close(pc)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=type_))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception:
            await self._close(pc)
            raise
        timer = asyncio.create_task(self._cap(pc))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)
        local = pc.localDescription
        return local.sdp, local.type

    async def _cap(self, pc: Any) -> None:
        await asyncio.sleep(self.max_call_seconds)
        log.info("echo call closed after the %.0f s cap", self.max_call_seconds)
        await self._close(pc)

    async def _close(self, pc: Any) -> None:
        if pc in self.calls:
            self.calls.discard(pc)
            await pc.close()

    async def close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        await asyncio.gather(*(self._close(pc) for pc in list(self.calls)))
