"""Check-page uploads for the tests: a good one, and variations."""

from __future__ import annotations

import copy
from typing import Any

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "HeadlessChrome/156.0.0.0 Safari/537.36")


def good(**changes: Any) -> dict[str, Any]:
    """What check.js sends for a working browser (the shape measured from Chromium 156)."""
    upload: dict[str, Any] = {
        "schema": 1, "started_at": "2026-12-03T09:00:00.123Z", "lang": "en", "duration_ms": 8000,
        "page": {"protocol": "https:", "hostname": "198.18.0.2", "secure_context": True,
                 "user_agent": CHROME, "language": "en-US", "width": 800, "height": 600,
                 "touch": False},
        "devices": [{"kind": "videoinput", "label": "fake_device_0"},
                    {"kind": "audioinput", "label": "Fake Default Audio Input"}],
        "camera": {"permission": "granted", "label": "fake_device_0", "width": 640,
                   "height": 480, "requested_width": 640, "requested_height": 480, "fps": 30.0,
                   "frames": 60, "black_ratio": 0.0, "frozen_ratio": 0.0, "mean_luma": 90.0},
        "microphone": {"permission": "granted", "label": "Fake Default Audio Input",
                       "sample_rate": 48000, "seconds": 2, "rms_dbfs": -31.5, "peak_dbfs": -28.0,
                       "noise_floor_dbfs": -32.0, "clipped_samples": 0, "clipped_ratio": 0.0,
                       "level_series": [-31.5] * 20, "step_s": 0.1},
        "call": {"connected": True, "stage": "measuring", "setup_ms": 420.0, "seconds": 5.0,
                 "rtt_ms": [21.0, 22.0, 20.0], "jitter_ms": [1.0, 2.0], "downlink_jitter_ms": [1.5],
                 "packets_sent": 250, "packets_lost_up": 0, "packets_received": 248,
                 "packets_lost_down": 0, "bitrate_kbps": 300.0,
                 "local": {"type": "host", "protocol": "udp", "address": "198.18.0.1",
                           "port": 50000},
                 "remote": {"type": "host", "protocol": "udp", "address": "198.18.0.2",
                            "port": 8000}},
        "tencent": {"sdk_version": "5.17.1", "is_supported": True, "is_trtc_supported": True,
                    "checks": {"isH264EncodeSupported": True, "isH264DecodeSupported": True,
                               "isVp8EncodeSupported": True, "isVp8DecodeSupported": True},
                    "errors": []},
        # Tencent's refusal of the placeholder application: the service answered
        "schedule": {"entered": False, "ms": 420.0, "timed_out": False, "deadline_s": 10.0,
                     "error": {"code": 5400, "extra_code": -100013, "name": "RtcError",
                               "message": "enterRoom failed: invalid sdkAppId"}},
    }
    for path, value in changes.items():
        where = upload
        *parents, last = path.split("__")
        for key in parents:
            where = where[key]
        if value is DELETE:
            del where[last]
        else:
            where[last] = copy.deepcopy(value)
    return upload


DELETE = object()


def strings(document: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path to every string value in `document`."""
    if isinstance(document, str):
        return [path]
    if isinstance(document, dict):
        return [p for k, v in document.items() for p in strings(v, (*path, k))]
    if isinstance(document, list):
        return [p for i, v in enumerate(document) for p in strings(v, (*path, i))]
    return []
