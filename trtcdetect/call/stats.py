"""Per-kind call statistics from aiortc's getStats, converted with care.

Jitter is in RTP clock units (48 kHz audio, 90 kHz video); fractionLost is 0-255; only the
sending side has RTT (from the far end's receiver reports); a receiver's inbound-rtp entry can be
overwritten by its RTX stream, so downlink samples from any SSRC other than the first seen are
ignored.

aiortc reports RTT smoothed (new = 0.85 old + 0.15 sample), so its value stays close to the first
report's for the whole of a short call. The stats are read every CALL_POLL_S, faster than
receiver reports come (0.5-1.5 s apart), so each change of the smoothed value is one report: the
report's own RTT is recovered from it, and the call's RTT is the mean over the reports.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal

from msgspec import Meta

from ..evidence import UNSET, Evidence, MinAvgMax, Number, UnsetType
from .echo import CLOCK

#: During the call its stats are read this often: faster than receiver reports come, so each
#: report's RTT can be told apart (see probes/rtp.py).
CALL_POLL_S = 0.1

if TYPE_CHECKING:
    from datetime import datetime

    from aiortc import RTCPeerConnection


@dataclass
class KindStats:
    """What one media kind (audio or video) has shown so far."""

    kind: str
    packets_sent: int = 0
    bytes_sent: int = 0
    rr_lost: int | None = None
    rr_jitter_ms: float | None = None
    rr_at: datetime | None = None  # when the last receiver report was made (its timestamp)
    rtt_ms: float | None = None  # aiortc's smoothed value, as last read
    rtt_samples: list[float] = field(default_factory=list)  # one per receiver report
    rtt_row_from: int = 0  # samples before this index are in earlier series rows
    fraction_lost_pct: float | None = None
    received: int | None = None
    lost_down: int | None = None
    jitter_down_ms: float | None = None
    primary_ssrc: int | None = None
    #: a retransmission (RTX) stream appeared: aiortc's getStats() then shows it instead of the
    #: primary stream, whose received/lost counts stop at their last value (stale)
    down_hidden: bool = False
    sender_ssrc: int | None = None
    far_received: int | None = None
    far_lost: int | None = None


class SeriesSeen(Evidence, frozen=True, kw_only=True):
    """A call's per-second figures: `t` (seconds into the call), and per kind, per figure (the
    kind's own figure names: an open set, hence a mapping), a value each second."""

    t: tuple[Number, ...]
    audio: dict[str, tuple[Number | None, ...]] | UnsetType = UNSET
    video: dict[str, tuple[Number | None, ...]] | UnsetType = UNSET


@dataclass
class Series:
    t: list[float] = field(default_factory=list)
    rows: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)

    def add(self, kind: str, **values: float | None) -> None:
        columns = self.rows.setdefault(kind, {})
        for name, value in values.items():
            columns.setdefault(name, []).append(None if value is None else round(value, 2))

    def seen(self) -> SeriesSeen:
        def kind(name: str) -> dict[str, tuple[Number | None, ...]] | UnsetType:
            columns = self.rows.get(name)
            return UNSET if columns is None else {k: tuple(v) for k, v in columns.items()}

        unknown = set(self.rows) - {"audio", "video"}
        if unknown:
            raise ValueError(f"a call's series of {sorted(unknown)}: neither audio nor video")
        return SeriesSeen(t=tuple(self.t), audio=kind("audio"), video=kind("video"))


async def collect(pc: RTCPeerConnection, stats: dict[str, KindStats], rtt: bool = True) -> None:
    """Read every sender's and receiver's stats into `stats`, keyed by kind (RTT only with
    `rtt`: while media flows)."""
    for sender in pc.getSenders():
        if sender.track is None:
            continue
        kind = sender.track.kind
        entry = stats.setdefault(kind, KindStats(kind))
        for s in (await sender.getStats()).values():
            if s.type == "outbound-rtp":
                entry.packets_sent, entry.bytes_sent = s.packetsSent, s.bytesSent
                entry.sender_ssrc = s.ssrc
            elif s.type == "remote-inbound-rtp":
                entry.rr_lost = s.packetsLost
                entry.rr_jitter_ms = s.jitter / CLOCK[kind] * 1000
                entry.rr_at = s.timestamp
                entry.fraction_lost_pct = s.fractionLost / 256 * 100
                if rtt and s.roundTripTime is not None:
                    rtt_sample(entry, s.roundTripTime * 1000)
    for receiver in pc.getReceivers():
        kind = receiver.track.kind
        entry = stats.setdefault(kind, KindStats(kind))
        for s in (await receiver.getStats()).values():
            if s.type != "inbound-rtp":
                continue
            if entry.primary_ssrc is None:
                entry.primary_ssrc = s.ssrc
            if s.ssrc != entry.primary_ssrc:
                entry.down_hidden = True  # the RTX stream overwrote the entry
                continue
            entry.received, entry.lost_down = s.packetsReceived, s.packetsLost
            entry.jitter_down_ms = s.jitter / CLOCK[kind] * 1000


def rtt_sample(entry: KindStats, smoothed: float) -> None:
    """Recover the newest receiver report's RTT from aiortc's smoothed value (see above)."""
    from aiortc import rtcrtpsender

    alpha = getattr(rtcrtpsender, "RTT_ALPHA", None)
    if entry.rtt_ms is None or not isinstance(alpha, float):
        entry.rtt_samples.append(smoothed)  # the first report, or an aiortc that changed
    elif smoothed != entry.rtt_ms:
        entry.rtt_samples.append(max((smoothed - alpha * entry.rtt_ms) / (1 - alpha), 0.0))
    entry.rtt_ms = smoothed


def row_rtt(k: KindStats) -> float | None:
    """The mean RTT of the reports since the previous series row (None: no report)."""
    fresh = k.rtt_samples[k.rtt_row_from:]
    k.rtt_row_from = len(k.rtt_samples)
    return statistics.fmean(fresh) if fresh else None


class CallKind(Evidence, frozen=True, kw_only=True):
    """One kind of media (audio, video) of the call: packets each way and who counted the
    losses, RTT from RTCP, jitter each way, bitrate."""

    packets_sent: int
    bytes_sent: int | UnsetType = UNSET
    uplink_packets_lost: int | None | UnsetType = UNSET
    uplink_loss_pct: Number | None
    #: who counted the uplink loss: the far end itself when media stopped, or its RTCP
    #: receiver reports
    uplink_counted_by: Literal["far end", "receiver reports"] | None | UnsetType = UNSET
    packets_received: int | None | UnsetType = UNSET
    downlink_packets_lost: int | None | UnsetType = UNSET
    downlink_counted: str | None | UnsetType = UNSET
    downlink_loss_pct: Number | None
    rtt_ms: MinAvgMax | None
    #: receiver reports whose RTT went into rtt_ms
    rtt_reports: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    jitter_ms: MinAvgMax | None
    downlink_jitter_ms: MinAvgMax | None | UnsetType = UNSET
    bitrate_kbps: MinAvgMax | None



def summary(values: list[float | None]) -> MinAvgMax | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return MinAvgMax(min=round(min(present), 2), avg=round(statistics.fmean(present), 2),
                     max=round(max(present), 2))


def kind_details(k: KindStats, series: Series) -> CallKind:
    uplink_loss: float | None = None
    counted_by: Literal["far end", "receiver reports"] | None
    up_lost: int | None
    if k.far_lost is not None and k.far_received is not None:
        counted_by, up_lost = "far end", k.far_lost
        if k.far_received + k.far_lost > 0:
            uplink_loss = 100 * k.far_lost / (k.far_received + k.far_lost)
    else:
        counted_by, up_lost = ("receiver reports" if k.rr_lost is not None else None), k.rr_lost
        if k.rr_lost is not None and k.packets_sent:
            uplink_loss = 100 * k.rr_lost / k.packets_sent
    downlink_loss = None
    received, lost_down = (None, None) if k.down_hidden else (k.received, k.lost_down)
    if received is not None and lost_down is not None and received + lost_down > 0:
        downlink_loss = 100 * lost_down / (received + lost_down)
    rows = series.rows.get(k.kind, {})
    return CallKind(
        packets_sent=k.packets_sent,
        bytes_sent=k.bytes_sent,
        uplink_packets_lost=up_lost,
        uplink_loss_pct=None if uplink_loss is None else round(max(uplink_loss, 0), 3),
        uplink_counted_by=counted_by,
        # None when retransmissions hid the primary stream's counts (never a stale count: it
        # read "received 6, lost 0" for video that stalled at 10 % loss)
        packets_received=received,
        downlink_packets_lost=lost_down,
        downlink_counted="hidden by retransmissions" if k.down_hidden else
        ("receiver" if received is not None else None),
        downlink_loss_pct=None if downlink_loss is None else round(max(downlink_loss, 0), 3),
        rtt_ms=summary(list(k.rtt_samples)),
        rtt_reports=len(k.rtt_samples),
        jitter_ms=summary(rows.get("jitter_ms", [])),
        downlink_jitter_ms=summary(rows.get("downlink_jitter_ms", [])),
        bitrate_kbps=summary(rows.get("bitrate_kbps", [])),
    )


