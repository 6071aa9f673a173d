"""From the worker's events to the figures of a TRTC test call: pure, table-tested.

Events are the worker's JSON lines ({"t", "user", "event", ...}); see trtc/worker.py. The
online sequences in the tests are written from Tencent's documented API, the offline ones were
recorded from the real SDK (tests/data/trtc/*.events).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..evidence import Evidence, Foreign, Number

#: Tencent's network quality scale (TRTC's NetworkQuality: 0 Unknown ... 6 Down)
QUALITY_WORDS = {0: "unknown", 1: "excellent", 2: "good", 3: "poor", 4: "bad", 5: "very bad",
                 6: "down"}
#: A gap in the received audio: no frame for this long (frames come every 20 ms)
AUDIO_GAP_MS = 100.0
#: Pings sent in the last this-many seconds are not counted lost: their answer may be on its way
PING_GRACE_S = 1.0


class UserSeen(Evidence, frozen=True, kw_only=True):
    """One user of the two-user call: when it entered, the SDK's error codes, and its own
    network quality samples (Tencent's 0-6 scale) with when each came."""

    entered_ms: Number | None
    error_codes: tuple[int, ...] = ()
    quality: tuple[int, ...] = ()
    quality_series: tuple[tuple[Number, int], ...] = ()
    quality_mean: Number | None = None


class CallSeen(Evidence, frozen=True, kw_only=True):
    """The two-user test call through TRTC's cloud (summarize)."""

    up: UserSeen
    down: UserSeen
    first_audio_ms: Number | None = None
    first_video_ms: Number | None = None
    audio_frames: int = 0
    audio_gaps: int = 0
    audio_longest_gap_ms: Number | None = None
    audio_level_dbfs: Number | None = None
    video_frames: int = 0
    pings: int = 0
    pongs: int = 0
    ping_loss_pct: Number | None = None
    rtt_median_ms: Number | None = None
    quality_mean: Number | None = None
    worst_quality: int | None = None
    seconds: Number | None = None


@dataclass(frozen=True)
class UserFigures:
    entered_ms: float | None
    error_codes: tuple[int, ...]
    #: this user's own network quality samples (OnNetworkQuality local), Tencent's scale
    quality: tuple[int, ...]
    #: when each sample came, s from the worker's start
    quality_t: tuple[float, ...] = ()

    def seen(self) -> UserSeen:
        return UserSeen(entered_ms=self.entered_ms, error_codes=self.error_codes,
                        quality=self.quality,
                        quality_series=tuple((round(t, 2), q) for t, q in zip(
                            self.quality_t, self.quality, strict=False)),
                        quality_mean=mean_quality(self.quality))


@dataclass(frozen=True)
class CallFigures:
    up: UserFigures
    down: UserFigures
    first_audio_ms: float | None = None
    first_video_ms: float | None = None
    audio_frames: int = 0
    audio_gaps: int = 0
    audio_longest_gap_ms: float | None = None
    audio_level_dbfs: float | None = None
    video_frames: int = 0
    pings: int = 0
    pongs: int = 0
    rtt_ms: tuple[float, ...] = field(default_factory=tuple)
    seconds: float | None = None

    @property
    def entered(self) -> bool:
        return self.up.entered_ms is not None and self.down.entered_ms is not None

    @property
    def ping_loss_pct(self) -> float | None:
        return None if self.pings == 0 else round(100 * (1 - self.pongs / self.pings), 1)

    @property
    def rtt_median_ms(self) -> float | None:
        return round(statistics.median(self.rtt_ms), 1) if self.rtt_ms else None

    @property
    def quality_mean(self) -> float | None:
        return mean_quality(self.up.quality + self.down.quality)

    @property
    def worst_quality(self) -> int | None:
        known = [q for q in self.up.quality + self.down.quality if q]
        return max(known) if known else None

    def seen(self) -> CallSeen:
        """The figures as the trtc probe's evidence: the raw samples summed up."""
        return CallSeen(
            up=self.up.seen(), down=self.down.seen(), first_audio_ms=self.first_audio_ms,
            first_video_ms=self.first_video_ms, audio_frames=self.audio_frames,
            audio_gaps=self.audio_gaps, audio_longest_gap_ms=self.audio_longest_gap_ms,
            audio_level_dbfs=self.audio_level_dbfs, video_frames=self.video_frames,
            pings=self.pings, pongs=self.pongs, ping_loss_pct=self.ping_loss_pct,
            rtt_median_ms=self.rtt_median_ms, quality_mean=self.quality_mean,
            worst_quality=self.worst_quality, seconds=self.seconds)


def mean_quality(samples: Sequence[int]) -> float | None:
    """The mean of the known samples (0 is "unknown" on Tencent's scale, not a good network)."""
    known = [q for q in samples if q]
    return round(statistics.fmean(known), 2) if known else None


def _user(events: Sequence[Foreign], role: str) -> UserFigures:
    mine = [e for e in events if e.get("user") == role]
    asked = next((e["t"] for e in mine if e["event"] == "enter"), None)
    entered = next((e["t"] for e in mine if e["event"] == "entered"), None)
    return UserFigures(
        entered_ms=None if entered is None or asked is None else round(1000 * (entered - asked), 1),
        error_codes=tuple(int(e["code"]) for e in mine if e["event"] == "error"),
        quality=tuple(int(e["local"]) for e in mine if e["event"] == "quality"),
        quality_t=tuple(float(e["t"]) for e in mine if e["event"] == "quality"))


def summarize(events: Sequence[Foreign]) -> CallFigures:
    """The figures of a two-user call from its events (the uplink "up" sends, "down" receives)."""
    up, down = _user(events, "up"), _user(events, "down")
    sending = next((e["t"] for e in events
                    if e.get("user") == "up" and e["event"] == "audio_channel"), None)
    audio = [e for e in events if e.get("user") == "down" and e["event"] == "audio_frame"]
    video = [e for e in events if e.get("user") == "down" and e["event"] == "video_frame"]
    gaps = [1000 * (b["t"] - a["t"]) for a, b in zip(audio, audio[1:], strict=False)]
    levels = [e["level_dbfs"] for e in audio if e.get("level_dbfs") is not None]
    pings = {int(e["seq"]): e["t"] for e in events if e.get("user") == "up" and e["event"] == "ping"}
    pongs = {int(e["seq"]): e["t"] for e in events if e.get("user") == "up" and e["event"] == "pong"}
    last = max((e["t"] for e in events), default=0.0)
    counted = [seq for seq, t in pings.items() if t <= last - PING_GRACE_S]
    over = next((e for e in events if e["event"] == "call_over"), None)
    return CallFigures(
        up=up, down=down,
        first_audio_ms=None if not audio or sending is None
        else round(1000 * (audio[0]["t"] - sending), 1),
        first_video_ms=None if not video or sending is None
        else round(1000 * (video[0]["t"] - sending), 1),
        audio_frames=len(audio),
        audio_gaps=sum(1 for g in gaps if g >= AUDIO_GAP_MS),
        audio_longest_gap_ms=round(max(gaps), 1) if gaps else None,
        audio_level_dbfs=round(statistics.median(levels), 1) if levels else None,
        video_frames=len(video),
        pings=len(counted),
        pongs=sum(1 for seq in counted if seq in pongs),
        rtt_ms=tuple(round(1000 * (pongs[s] - pings[s]), 1) for s in sorted(pongs) if s in pings),
        seconds=None if over is None else float(over["seconds"]))
