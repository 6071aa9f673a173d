"""Level analysis of captured audio: RMS, peak, noise floor, clipping, silence — all in dBFS."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import thresholds
from ..evidence import UNSET, Evidence, Number, UnsetType
from .scale import dbfs

#: Windows for the noise floor and the level series, s; the noise floor is the mean level of
#: the quietest NOISE_FLOOR_SHARE of the 50 ms windows.
LEVEL_WINDOW_S = 0.05
NOISE_FLOOR_SHARE = 0.10
LEVEL_SERIES_STEP_S = 0.1

__all__ = ["analyse", "dbfs"]


def _window_rms(mono: npt.NDArray[np.float64], size: int) -> npt.NDArray[np.float64]:
    count = len(mono) // size
    if count == 0:
        return np.array([math.sqrt(float(np.mean(mono**2)))]) if len(mono) else np.zeros(1)
    windows = mono[: count * size].reshape(count, size)
    result: npt.NDArray[np.float64] = np.sqrt(np.mean(windows**2, axis=1))
    return result


class LevelSeries(Evidence, frozen=True, kw_only=True):
    step_s: Number
    dbfs: tuple[Number, ...]


class MicCapture(Evidence, frozen=True, kw_only=True):
    """What the recording held (devices/levels.py): level, peak, noise floor, clipping, which
    channels carry a signal, and the level over time."""

    sample_rate: int
    channels: int
    seconds: Number | UnsetType = UNSET
    rms_dbfs: Number
    peak_dbfs: Number
    noise_floor_dbfs: Number
    clipped_samples: int
    clipped_ratio: Number | UnsetType = UNSET
    silent: bool
    channels_with_signal: tuple[int, ...] | UnsetType = UNSET
    channel_rms_dbfs: tuple[Number, ...] | UnsetType = UNSET
    level_series: LevelSeries | UnsetType = UNSET
    first_audio_after_s: Number | UnsetType = UNSET
    #: whether the driver let the stream go when asked
    released: bool | UnsetType = UNSET


def analyse(samples: npt.NDArray[Any], rate: int) -> MicCapture:
    """`samples`: float array (frames, channels) in [-1, 1]."""
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    frames, channels = data.shape
    rms = math.sqrt(float(np.mean(data**2))) if frames else 0.0
    peak = float(np.max(np.abs(data))) if frames else 0.0
    clipped = int(np.count_nonzero(np.abs(data) >= thresholds.CLIP_LEVEL))
    per_channel = [dbfs(math.sqrt(float(np.mean(data[:, c] ** 2)))) for c in range(channels)]
    # Levels over time use the loudest channel of each window: a dead channel of a stereo
    # device must not halve the level of the live one.
    loud = data[:, int(np.argmax(per_channel))] if channels else np.zeros(0)
    floor_windows = np.sort(_window_rms(loud, max(1, int(rate * LEVEL_WINDOW_S))))
    quiet = floor_windows[: max(1, int(len(floor_windows) * NOISE_FLOOR_SHARE))]
    series = _window_rms(loud, max(1, int(rate * LEVEL_SERIES_STEP_S)))
    rms_dbfs = dbfs(rms)
    return MicCapture(
        sample_rate=rate,
        channels=channels,
        seconds=round(frames / rate, 3) if rate else 0.0,
        rms_dbfs=round(rms_dbfs, 2),
        peak_dbfs=round(dbfs(peak), 2),
        noise_floor_dbfs=round(dbfs(float(np.mean(quiet))), 2),
        clipped_samples=clipped,
        clipped_ratio=round(clipped / data.size, 6) if data.size else 0.0,
        silent=rms_dbfs < thresholds.SILENCE_DBFS,
        channels_with_signal=tuple(c for c, level in enumerate(per_channel)
                                   if level >= thresholds.SILENCE_DBFS),
        channel_rms_dbfs=tuple(round(level, 2) for level in per_channel),
        level_series=LevelSeries(step_s=LEVEL_SERIES_STEP_S,
                                 dbfs=tuple(round(dbfs(float(v)), 1) for v in series)),
    )
