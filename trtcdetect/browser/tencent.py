"""Tencent's capability checks (trtc-sdk-v5's and rtc-detect's) in every headless-capable
browser found: the measuring part of the browsers probe (its judge reads what they said)."""

from __future__ import annotations

from ..evidence import UNSET, Evidence, Foreign, UnsetType
from ..trtc import DISABLE_ENV, switched_off
from .find import BrowserEntry, runs_headless
from .trtcweb import run_trtc_page, sdk_version

#: How long Tencent's capability checks may take in the page, s (the browsers probe took 1.1-1.4 s
#: with them in a no-route namespace here, the browser's start included)
TENCENT_DETECT_S = 20.0


class TencentRun(Evidence, frozen=True, kw_only=True):
    """Tencent's own checks in one browser (browser/tencent.py), or why they did not run."""

    skipped: str | UnsetType = UNSET
    browser: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    sdk_version: str | None | UnsetType = UNSET
    devices: str | UnsetType = UNSET
    #: what trtc.js and rtc-detect answered: Tencent's own shapes (an edge: a mapping)
    detect: Foreign | UnsetType = UNSET



def headless_capable(entries: tuple[BrowserEntry, ...]) -> list[BrowserEntry]:
    """The supported Chromium-family browsers (Chrome, Chromium, Edge): they run headless."""
    return [e for e in entries if runs_headless(e)]


async def tencent_all(entries: tuple[BrowserEntry, ...],
                      devices: str) -> tuple[TencentRun | None, tuple[TencentRun, ...]]:
    """Tencent's checks in every headless-capable browser found, one after another: the first
    browser's, and the others'."""
    if not entries:
        return None, ()
    if switched_off():
        return TencentRun(skipped=f"switched off by {DISABLE_ENV}"), ()
    browsers = headless_capable(entries)
    if not browsers:
        return TencentRun(skipped="no supported Chrome, Chromium or Edge to run headless"), ()
    found = [await tencent_checks(browser, devices) for browser in browsers]
    return found[0], tuple(found[1:])


async def tencent_checks(browser: BrowserEntry, devices: str = "fake") -> TencentRun:
    run = await run_trtc_page(browser.path, {"schedule": False}, TENCENT_DETECT_S,
                              fake_devices=devices == "fake")
    sdk = sdk_version()
    if run.detect is None:
        return TencentRun(skipped=run.error
                          or f"the page did not report within {TENCENT_DETECT_S:g} s",
                          browser=browser.path)
    return TencentRun(browser=browser.path, name=browser.name, sdk_version=sdk, devices=devices,
                      detect=run.detect)
