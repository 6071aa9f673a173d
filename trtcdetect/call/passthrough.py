"""The echo without decoding: each encoded frame that arrives goes back as it is.

aiortc's receiver reassembles a caller's RTP into encoded frames (its jitter buffer) and hands
them to a decoder thread (`aiortc.rtcrtpreceiver.decoder_worker`) that feeds the track; its
sender encodes frames, or packs already-encoded packets (`encoder.pack`, aiortc's path for files
played without decoding). The echo needs neither the decoding nor the encoding: it sends back
the caller's own frames. Decoding and re-encoding cost a check-page call (320x240 at 15 fps and
Opus) about 8 % of a core, mostly in Python around the codecs (thread hand-offs for every frame,
RFC 6465's audio level computed sample by sample): 16 calls at once queued serve's loop and
added 20 ms to their RTT (benchmarks/check_page.py).

`passing_encoded_frames()`: while the echo's receivers are created, their worker is
`encoded_worker`, which puts each encoded frame on the track as an `av.Packet` (its data, its
RTP timestamp as pts) instead of decoding it; the echo's sender packs it. This replaces a
public name of aiortc's module for that moment (call/receivers.py), as call/jitter.py does for
the jitter buffer; an aiortc without that name keeps decoding, and the echo re-encodes as
before.

A picture-loss report from the caller about the echo's stream (its decoder lost a frame) is
passed on to the caller's encoder as the echo's own PLI, so a keyframe comes: aiortc has no
public hook for either, so `pass_keyframe_requests` overrides the sender's keyframe request and
calls the receiver's PLI (aiortc 1.9-1.16; without them, nothing is passed on and a lost
keyframe is waited for).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .receivers import replaced

if TYPE_CHECKING:
    from aiortc import RTCRtpReceiver, RTCRtpSender

log = logging.getLogger("trtcdetect.serve")

def encoded_worker(loop: asyncio.AbstractEventLoop, input_q: queue.Queue[Any],
                   output_q: asyncio.Queue[Any], decode_error: threading.Event) -> None:
    """aiortc's decoder_worker's contract, without the decoder: (codec, encoded frame) in, an
    av.Packet of the frame out; None ends the track."""
    import av

    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            break
        codec, encoded = task
        packet = av.Packet(encoded.data)
        packet.pts = encoded.timestamp
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        asyncio.run_coroutine_threadsafe(output_q.put(packet), loop)


@contextmanager
def passing_encoded_frames(enabled: bool = True) -> Iterator[bool]:
    """While the echo's receivers are created, they pass encoded frames instead of decoding
    (call/receivers.py). Yields whether they do (False: disabled, or this aiortc has no such
    worker)."""
    if not enabled:
        yield False
        return
    with replaced("decoder_worker", lambda _aiortcs: encoded_worker) as done:
        yield done


def pass_keyframe_requests(sender: RTCRtpSender, receiver: RTCRtpReceiver) -> bool:
    """The caller's picture-loss reports about what the echo sends become the echo's PLI to the
    caller's encoder: packed frames cannot be re-encoded as a keyframe here. False: this aiortc
    has neither hook, and nothing is passed on."""
    ask = getattr(receiver, "_send_rtcp_pli", None)
    if ask is None or not hasattr(sender, "_send_keyframe"):
        return False

    def request() -> None:
        for source in receiver.getSynchronizationSources():
            asyncio.ensure_future(ask(source.source))

    setattr(sender, "_send_keyframe", request)  # noqa: B010
    return True
