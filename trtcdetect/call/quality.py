"""MOS for a voice call from delay, jitter and loss: the ITU-T G.107 E-model, simplified.

    R = R0 - Id - Ie_eff                                  (G.107 (06/2015) eq. 3-1, Is = A = 0)
    R0 = 93.2                                             (default values, G.107 Table 3)
    Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)          (the widely used linear fit of G.107's
                                                           Idd for absolute one-way delay d, ms)
    Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl)           (G.107 eq. 7-29 with random loss, BurstR=1)
    MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6         (G.107 Annex B, 0 < R < 100)

Opus has no G.113 entry; we use Ie = 0 and Bpl = 25.1, the G.113 Appendix I values for G.711
with packet-loss concealment — conservative for Opus, whose FEC and PLC do at least as well.
One-way delay d = RTT / 2 + a jitter buffer of 2 x jitter + 20 ms of packetisation.
"""

from __future__ import annotations

R0 = 93.2
IE_OPUS = 0.0
BPL_OPUS = 25.1
PACKETISATION_MS = 20.0


def r_factor(rtt_ms: float, jitter_ms: float, loss_pct: float) -> float:
    d = rtt_ms / 2 + 2 * jitter_ms + PACKETISATION_MS
    idelay = 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)
    ie_eff = IE_OPUS + (95 - IE_OPUS) * loss_pct / (loss_pct + BPL_OPUS)
    return R0 - idelay - ie_eff


def mos(rtt_ms: float, jitter_ms: float, loss_pct: float) -> float:
    r = r_factor(rtt_ms, jitter_ms, loss_pct)
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def video_freezes(arrivals: list[float], until: float) -> tuple[int, float]:
    """Freezes of received video, as WebRTC's statistics define them (w3c webrtc-stats,
    freezeCount / totalFreezesDuration): a frame interval of at least max(3 x the average
    interval, the average + 150 ms), the average taken over the 30 intervals before. The time
    from the last frame to `until` (the end of the media) counts as one more interval: video
    that stops for good is one long freeze. Returns (count, total seconds)."""
    intervals = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    if arrivals and until > arrivals[-1]:
        intervals.append(until - arrivals[-1])
    count, total = 0, 0.0
    for i, interval in enumerate(intervals):
        recent = intervals[max(0, i - 30):i]
        if not recent:
            continue
        average = sum(recent) / len(recent)
        if interval >= max(3 * average, average + 0.150):
            count += 1
            total += interval
    return count, round(total, 3)
