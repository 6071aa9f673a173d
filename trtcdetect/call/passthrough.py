"""The echo without decoding: each encoded frame that arrives goes back as it is.

aiortc's receiver reassembles a caller's RTP into encoded frames (its jitter buffer) and hands
them to a decoder thread; its sender encodes frames, or packs already-encoded packets
(`encoder.pack`, used for files played without decoding). The echo needs neither the decoding
nor the encoding: it sends back the caller's own frames. Decoding and re-encoding cost a
check-page call (320x240 at 15 fps and Opus) about 8 % of a core, mostly in Python around the
codecs (thread hand-offs for every frame, RFC 6465's audio level computed sample by sample):
16 calls at once queued serve's loop and added 20 ms to their RTT (benchmarks/check_page.py).

`tap(receiver, track)` puts a tap on the receiver's hand-off to its decoder thread: every
encoded frame becomes an `av.Packet` (its data, its RTP timestamp as pts) on the returned track,
which the echo's sender packs. The decoder thread keeps waiting on its own queue and ends when
the receiver stops. A picture-loss report from the caller on the way back (its decoder lost a
frame) is passed on to the caller's encoder as the echo's own PLI, so a keyframe comes.

This reaches into aiortc's receiver (`_RTCRtpReceiver__decoder_queue`, aiortc 1.9-1.16):
without it, `tap` returns None and the echo decodes and re-encodes as before.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import queue
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender

log = logging.getLogger("trtcdetect.serve")

#: encoded frames waiting for the sender, at most (a sender that stalls drops the oldest)
BACKLOG = 64
_QUEUE = "_RTCRtpReceiver__decoder_queue"


class _Tap:
    """Stands in for the receiver's decoder queue: frames go to the echo's track; the end of
    the stream (None) also goes to the decoder thread, which waits on the original queue."""

    def __init__(self, original: queue.Queue[Any], frames: asyncio.Queue[Any]) -> None:
        self.original, self.frames = original, frames

    def put(self, item: Any) -> None:
        if item is None:
            self.original.put(None)
            self._offer(None)
            return
        import av

        codec, encoded = item
        packet = av.Packet(encoded.data)
        packet.pts = encoded.timestamp
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        self._offer(packet)

    def _offer(self, item: Any) -> None:
        if self.frames.full():
            self.frames.get_nowait()
        self.frames.put_nowait(item)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.original.get(*args, **kwargs)


def tap(receiver: RTCRtpReceiver, kind: str) -> MediaStreamTrack | None:
    """A track of the encoded frames `receiver` gets, for a sender to pack; None when this
    aiortc has no decoder queue to tap (the caller then echoes the decoded track)."""
    from aiortc import MediaStreamTrack
    from aiortc.mediastreams import MediaStreamError

    original = getattr(receiver, _QUEUE, None)
    if not isinstance(original, queue.Queue):
        return None
    frames: asyncio.Queue[Any] = asyncio.Queue(BACKLOG)

    class Encoded(MediaStreamTrack):
        def __init__(self) -> None:
            super().__init__()
            self.kind = kind

        async def recv(self) -> Any:
            item = await frames.get()
            if item is None:
                self.stop()
                raise MediaStreamError
            return item

    setattr(receiver, _QUEUE, _Tap(original, frames))
    return Encoded()


def pass_keyframe_requests(sender: RTCRtpSender, receiver: RTCRtpReceiver) -> None:
    """The caller's picture-loss reports about what the echo sends become the echo's PLI to the
    caller's encoder: packed frames cannot be re-encoded as a keyframe here."""
    def request() -> None:
        for source in receiver.getSynchronizationSources():
            asyncio.ensure_future(receiver._send_rtcp_pli(source.source))

    sender._send_keyframe = request  # type: ignore[method-assign]
