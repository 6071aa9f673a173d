"""The decibel scale for audio levels, without numpy (the test call uses it after a call)."""

from __future__ import annotations

import math

#: Levels are floored here so that digital silence stays a finite number in JSON.
DBFS_FLOOR = -120.0


def dbfs(value: float) -> float:
    """Full scale (1.0) is 0 dBFS; digital silence is floored at DBFS_FLOOR."""
    if value <= 0:
        return DBFS_FLOOR
    return max(20 * math.log10(value), DBFS_FLOOR)
