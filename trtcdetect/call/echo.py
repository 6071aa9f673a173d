"""The echo peer: answers a WebRTC offer and sends every received track straight back.

Used by `trtcdetect serve` (HTTP signalling: POST /call with {"sdp", "type"}) and, in-process, by
the test-call probe's local loopback mode. Calls are bounded in number and each is capped in time.

Each call has a random id. `received(id)` gives what this end has counted of the caller's media
(packets received and lost, jitter, per SSRC): the same numbers its RTCP receiver reports carry,
but at once, so the caller need not wait up to 1.5 s for the next report after it stops sending.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..evidence import JsonObject

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack, RTCPeerConnection

log = logging.getLogger("trtcdetect.serve")


class EchoBusy(Exception):
    """Every call slot is taken."""


@dataclass(frozen=True)
class Answer:
    sdp: str
    type: str
    call_id: str


#: RTP clock rates, to turn RFC 3550 jitter (clock units) into milliseconds
CLOCK = {"audio": 48000, "video": 90000}
#: what the echo encodes back at most: re-encoding is what a caller's large frames cost the echo
#: (docs/serve.md has the measured figures), so larger frames are scaled down to this many
#: pixels first, and the answer asks the caller to send no more than ECHO_VIDEO_KBPS (b=AS,
#: which browsers honour)
ECHO_MAX_PIXELS = 640 * 480
ECHO_VIDEO_KBPS = 1500
#: and no more frames a second than this (a 60 fps caller gets every other frame back)
ECHO_MAX_FPS = 30


def bandwidth_asked(sdp: str) -> str:
    """The answer with b=AS:ECHO_VIDEO_KBPS in its video section (RFC 4566 5.8)."""
    lines = sdp.split("\r\n")
    out: list[str] = []
    video = False
    for line in lines:
        if line.startswith("m="):
            video = line.startswith("m=video")
        elif video and line.startswith("c="):
            out += [line, f"b=AS:{ECHO_VIDEO_KBPS}"]
            continue
        elif line.startswith("b=AS:") and video:
            continue  # ours replaces any
        out.append(line)
    return "\r\n".join(out)


def capped(track: MediaStreamTrack) -> MediaStreamTrack:
    """`track`'s frames, no more than ECHO_MAX_FPS a second (by their timestamps), each scaled
    down to at most ECHO_MAX_PIXELS (aspect kept, even sides)."""
    from aiortc import MediaStreamTrack as Base

    shortest = 1 / ECHO_MAX_FPS - 0.002  # a timestamp's rounding is no reason to drop a frame

    class Capped(Base):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.last: float | None = None

        async def recv(self) -> Any:
            while True:
                frame: Any = await track.recv()
                if frame.pts is None or frame.time_base is None:
                    break
                at = float(frame.pts * frame.time_base)
                if self.last is None or not 0 <= at - self.last < shortest:
                    self.last = at
                    break
            pixels = frame.width * frame.height
            if pixels <= ECHO_MAX_PIXELS:
                return frame
            scale = (ECHO_MAX_PIXELS / pixels) ** 0.5
            smaller = frame.reformat(width=int(frame.width * scale) // 2 * 2,
                                     height=int(frame.height * scale) // 2 * 2)
            smaller.pts = frame.pts
            if frame.time_base is not None:
                smaller.time_base = frame.time_base
            return smaller

    return Capped()


class EchoPeer:
    def __init__(self, max_calls: int = 4, max_call_seconds: float = 30.0,
                 on_close: Callable[[str], None] | None = None,
                 stun: tuple[str, int] | None = None, passthrough: bool = True) -> None:
        #: send back each encoded frame as it came (call/passthrough.py); False: decode and
        #: re-encode (what the echo did before)
        self.passthrough = passthrough
        #: the STUN server the echo learns its public address from (serve --stun); None asks
        #: no one (not aiortc's default, Google's STUN server)
        self.stun = stun
        self.max_calls = max_calls
        self.max_call_seconds = max_call_seconds
        self.on_close = on_close  # told each call id that ends
        self.calls: dict[str, RTCPeerConnection] = {}
        self._timers: set[asyncio.Task[None]] = set()

    async def answer(self, sdp: str, type_: str = "offer") -> Answer:
        """Answer `sdp`; the call is closed after max_call_seconds, or when the far end leaves."""
        from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

        from .jitter import skipping_lost_audio
        from .passthrough import pass_keyframe_requests, passing_encoded_frames

        if len(self.calls) >= self.max_calls:
            raise EchoBusy(f"all {self.max_calls} call slots are in use")
        servers = [] if self.stun is None else [RTCIceServer(
            f"stun:{f'[{self.stun[0]}]' if ':' in self.stun[0] else self.stun[0]}:{self.stun[1]}")]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        call_id = secrets.token_urlsafe(12)
        self.calls[call_id] = pc

        passing = [False]  # set once the receivers are made: do they pass encoded frames?

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            # echo: what comes in goes straight back -- each encoded frame as it came
            # (call/passthrough.py), or where aiortc cannot pass them, decoded and re-encoded,
            # video no larger than the echo encodes
            if not passing[0]:
                pc.addTrack(capped(track) if track.kind == "video" else track)
                return
            sender = pc.addTrack(track)
            receiver = next((r for r in pc.getReceivers() if r.track is track), None)
            if track.kind == "video" and receiver is not None:
                pass_keyframe_requests(sender, receiver)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close(pc)

        try:
            # one packet echoed for each that arrives, a lost one skipped (call/jitter.py)
            with skipping_lost_audio(), passing_encoded_frames(self.passthrough) as passes:
                passing[0] = passes
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=type_))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception:
            await self._close(pc)
            raise
        timer = asyncio.create_task(self._cap(pc))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)
        local = pc.localDescription
        return Answer(bandwidth_asked(local.sdp), local.type, call_id)

    async def received(self, call_id: str) -> list[JsonObject] | None:
        """What this end has received of call `call_id`'s media, one entry per SSRC; None when
        there is no such call (ended, or never was)."""
        pc = self.calls.get(call_id)
        if pc is None:
            return None
        found: list[JsonObject] = []
        for receiver in pc.getReceivers():
            kind = receiver.track.kind
            # aiortc keeps one StreamStatistics per SSRC but getStats() reports them under one
            # id, so once a retransmission (RTX) stream exists it hides the primary one. The
            # SSRC in each row tells the caller whether it is the stream it sent; when it is
            # not, the caller counts from its receiver reports instead (public in both cases).
            rows = [(s.ssrc, s.packetsReceived, s.packetsLost, s.jitter)
                    for s in (await receiver.getStats()).values() if s.type == "inbound-rtp"]
            found += [{"kind": kind, "ssrc": ssrc, "packets_received": received,
                       "packets_lost": lost, "jitter_ms": round(jitter / CLOCK[kind] * 1000, 3)}
                      for ssrc, received, lost, jitter in rows]
        return found

    async def _cap(self, pc: RTCPeerConnection) -> None:
        await asyncio.sleep(self.max_call_seconds)
        log.info("echo call closed after the %.0f s cap", self.max_call_seconds)
        await self._close(pc)

    async def _close(self, pc: RTCPeerConnection) -> None:
        for call_id, known in list(self.calls.items()):
            if known is pc:
                del self.calls[call_id]
                if self.on_close is not None:
                    self.on_close(call_id)
                await pc.close()

    async def close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        await asyncio.gather(*(self._close(pc) for pc in list(self.calls.values())))
