"""Tencent's capability checks (trtc-sdk-v5's and rtc-detect's) in every headless-capable
browser found: the measuring part of the browsers probe (its judge reads what they said)."""

from __future__ import annotations

from typing import Any

from ..trtc import DISABLE_ENV, switched_off
from .find import runs_headless
from .trtcweb import run_trtc_page, sdk_version

#: How long Tencent's capability checks may take in the page, s (the browsers probe took 1.1-1.4 s
#: with them in a no-route namespace here, the browser's start included)
TENCENT_DETECT_S = 20.0


def headless_capable(entries: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """The supported Chromium-family browsers (Chrome, Chromium, Edge): they run headless."""
    return [e for e in entries if runs_headless(e)]


async def tencent_all(entries: tuple[dict[str, Any], ...],
                      devices: str) -> tuple[dict[str, Any] | None, tuple[dict[str, Any], ...]]:
    """Tencent's checks in every headless-capable browser found, one after another: the first
    browser's, and the others'."""
    if not entries:
        return None, ()
    if switched_off():
        return {"skipped": f"switched off by {DISABLE_ENV}"}, ()
    browsers = headless_capable(entries)
    if not browsers:
        return {"skipped": "no supported Chrome, Chromium or Edge to run headless"}, ()
    found = [await tencent_checks(browser, devices) for browser in browsers]
    return found[0], tuple(found[1:])


async def tencent_checks(browser: dict[str, Any], devices: str = "fake") -> dict[str, Any]:
    run = await run_trtc_page(browser["path"], {"schedule": False}, TENCENT_DETECT_S,
                              fake_devices=devices == "fake")
    sdk = sdk_version()
    if run.detect is None:
        return {"skipped": run.error or f"the page did not report within {TENCENT_DETECT_S:g} s",
                "browser": browser["path"]}
    return {"browser": browser["path"], "name": browser["name"], "sdk_version": sdk,
            "devices": devices, "detect": run.detect}
