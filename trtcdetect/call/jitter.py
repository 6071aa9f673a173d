"""The echo's audio jitter buffer: one packet back for each that arrives, a lost one skipped.

aiortc's audio jitter buffer (aiortc 1.16: 16 slots, prefetch 4) releases nothing past a
missing packet until its slots overflow, and then drops frames to make room. An echo fed from
it sends back only what it releases: at 10 % loss on the way in, about half the packets, in
bursts that read as 18-38 ms of downlink jitter on a link with none (lab link, 2026-12-01).

`SkippingAudioBuffer` keeps aiortc's prefetch (the same delay, reordering within it undone) and
releases the oldest packet it holds each time one arrives: a packet missing when its turn comes
has been passed by `prefetch` later ones and is taken as lost. It is built from aiortc's public
parts only (RtpPacket's fields, JitterFrame), for audio, where a frame is one packet and
aiortc's depayloading returns the payload unchanged (Opus, G.711, G.722).

aiortc has no option for a receiver's buffer: while the echo's peer connection creates its
receivers (setRemoteDescription), `aiortc.rtcrtpreceiver.JitterBuffer` gives audio receivers
this one; video keeps aiortc's, and the original comes back at once (call/receivers.py; as
call/local.py does for ICE's address list). An aiortc without that name keeps its own buffer
everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .receivers import replaced


class SkippingAudioBuffer:
    """aiortc's JitterBuffer interface (`capacity`, `add`) for audio, one frame a packet."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        assert not is_video, "audio only: a video frame spans packets"
        self._capacity = capacity
        self.prefetch = prefetch
        self.held: dict[int, Any] = {}  # sequence number -> RtpPacket
        self.next: int | None = None  # the oldest sequence number still to be released

    @property
    def capacity(self) -> int:
        return self._capacity

    def _ahead(self, seq: int) -> int:
        assert self.next is not None
        return (seq - self.next) % 65536

    def add(self, packet: Any) -> tuple[bool, Any]:
        """(no picture loss, the frame to decode or None), as aiortc's JitterBuffer.add."""
        from aiortc.jitterbuffer import JitterFrame

        seq = packet.sequence_number
        if self.next is None:
            self.next = seq
        ahead = self._ahead(seq)
        if ahead >= 32768:
            return False, None  # older than one already released: too late
        if ahead >= self._capacity:  # a jump: start again from here, as aiortc does
            self.held.clear()
            self.next = seq
        self.held[seq] = packet
        if len(self.held) <= self.prefetch:
            return False, None
        oldest = min(self.held, key=self._ahead)
        released = self.held.pop(oldest)
        self.next = (oldest + 1) % 65536
        return False, JitterFrame(data=released.payload, timestamp=released.timestamp)


def _skipping(real: Any) -> Any:
    """aiortc's JitterBuffer for video, SkippingAudioBuffer for audio."""
    def buffer(capacity: int, prefetch: int = 0, is_video: bool = False) -> Any:
        if is_video:
            return real(capacity, prefetch=prefetch, is_video=True)
        return SkippingAudioBuffer(capacity, prefetch)

    return buffer


@contextmanager
def skipping_lost_audio() -> Iterator[bool]:
    """While the echo's receivers are created: audio ones get SkippingAudioBuffer. Yields
    whether it could be given (False: this aiortc builds its buffers some other way)."""
    with replaced("JitterBuffer", _skipping) as done:
        yield done
