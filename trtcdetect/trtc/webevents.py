"""From the Web SDK's network-test events (browser/static/trtc.html) to figures: pure.

Events: {"t": ms since the test began, "client": "up" | "down" | "page", "event": ...}. The
uplink client publishes and reports its uplink quality; the downlink client subscribes and
reports its downlink quality (TRTC.EVENT.NETWORK_QUALITY, every 2 s, Tencent's 0-6 scale).
Written from Tencent's documented events; no online sequence could be recorded here.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ..evidence import Evidence, Foreign, Number, read
from .events import mean_quality


class SdkError(Evidence, frozen=True, kw_only=True):
    """An error the SDK threw in the network test: which client, at which step, Tencent's code
    (RtcError.code, a number; None when what was thrown had none) and its message."""

    client: str | None = None
    step: str | None = None
    code: int | str | None = None
    message: str | None = None


class NetworkTest(Evidence, frozen=True, kw_only=True):
    """Tencent's two-client network test, summarized (trtc/webevents.py): when each client
    entered, the first media, quality on Tencent's 0-6 scale each way, RTT and loss."""

    entered_ms: dict[str, Number | None] = {}
    #: the SDK's errors: which client, at which step, Tencent's code and message
    errors: tuple[SdkError, ...] = ()
    first_audio_ms: Number | None = None
    first_video_ms: Number | None = None
    uplink_quality: tuple[int, ...] = ()
    downlink_quality: tuple[int, ...] = ()
    quality_mean: Number | None = None
    worst_quality: int | None = None
    rtt_median_ms: Number | None = None
    loss_median_pct: Number | None = None


def _first(events: Sequence[Foreign], client: str, event: str) -> float | None:
    return next((float(e["t"]) for e in events
                 if e.get("client") == client and e.get("event") == event), None)


def _since(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else round(later - earlier, 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summarize(events: Sequence[Foreign]) -> NetworkTest:
    quality = [e for e in events if e.get("event") == "quality"]
    up_q = [int(e["uplink"]) for e in quality if e.get("client") == "up"
            and isinstance(e.get("uplink"), int)]
    down_q = [int(e["downlink"]) for e in quality if e.get("client") == "down"
              and isinstance(e.get("downlink"), int)]
    rtts = [float(e["uplinkRTT"]) for e in quality if e.get("client") == "up"
            and isinstance(e.get("uplinkRTT"), int | float)]
    rtts += [float(e["downlinkRTT"]) for e in quality if e.get("client") == "down"
             and isinstance(e.get("downlinkRTT"), int | float)]
    losses = [float(e["uplinkLoss"]) for e in quality if e.get("client") == "up"
              and isinstance(e.get("uplinkLoss"), int | float)]
    losses += [float(e["downlinkLoss"]) for e in quality if e.get("client") == "down"
               and isinstance(e.get("downlinkLoss"), int | float)]
    publishing = _first(events, "up", "publishing")
    known = [q for q in up_q + down_q if q]
    return NetworkTest(
        entered_ms={c: _since(_first(events, c, "entered"), _first(events, c, "enter"))
                    for c in ("up", "down")},
        errors=tuple(read(SdkError, {k: e.get(k) for k in ("client", "step", "code", "message")},
                          "the SDK's error event")
                     for e in events if e.get("event") == "error"),
        first_audio_ms=_since(_first(events, "down", "remote_audio"), publishing),
        first_video_ms=_since(_first(events, "down", "first_video_frame")
                              or _first(events, "down", "remote_video"), publishing),
        uplink_quality=tuple(up_q), downlink_quality=tuple(down_q),
        quality_mean=mean_quality(up_q + down_q),
        worst_quality=max(known) if known else None,
        rtt_median_ms=_median(rtts), loss_median_pct=_median(losses),
    )
