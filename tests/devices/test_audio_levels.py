"""Level analysis on synthetic signals whose levels are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from trtcdetect.devices.levels import analyse, dbfs

RATE = 48000


def tone(amplitude: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return amplitude * np.sin(2 * np.pi * 1000 * t)


def test_sine_levels() -> None:
    c = analyse(tone(0.5), RATE)
    assert c.rms_dbfs == pytest.approx(-9.03, abs=0.01)
    assert c.peak_dbfs == pytest.approx(-6.02, abs=0.01)
    assert c.silent is False and c.clipped_samples == 0


def test_noise_floor_is_the_quietest_windows() -> None:
    # 2 s of speech-like bursts over a -70 dBFS hiss: the floor is the hiss, not the average.
    rng = np.random.default_rng(1)
    hiss = rng.normal(0, 10 ** (-70 / 20), RATE * 2)
    bursts = np.concatenate([tone(0.3, 0.3), np.zeros(int(RATE * 0.7))] * 2)
    c = analyse(hiss + bursts, RATE)
    assert c.noise_floor_dbfs == pytest.approx(-70, abs=1.5)
    assert c.rms_dbfs > -25


def test_silence_threshold_and_floor() -> None:
    assert analyse(np.zeros(RATE), RATE).rms_dbfs == -120.0
    assert analyse(tone(10 ** (-65 / 20) * np.sqrt(2)), RATE).silent is True
    assert analyse(tone(10 ** (-55 / 20) * np.sqrt(2)), RATE).silent is False
    assert dbfs(1.0) == 0.0


def test_dead_channel_of_a_stereo_device() -> None:
    stereo = np.stack([tone(0.5), np.zeros(RATE)], axis=1)
    c = analyse(stereo, RATE)
    assert c.channels_with_signal == (0,)
    assert c.level_series and c.level_series.dbfs[0] == pytest.approx(-9.03, abs=0.1)


def test_clipping_counts_samples_at_full_scale() -> None:
    square = np.sign(tone(1.0))
    assert analyse(square, RATE).clipped_samples == np.count_nonzero(square)
