"""Tencent's Web SDK and rtc-detect, the pure parts: the vendored files against their manifest,
the `current` profile against the host names in trtc.js, and the judges' tables -- the
scheduling check (an answer from Tencent's scheduling service cannot reach the lab: it is
tabled from the documented error codes, TRTC.ERROR_CODE: SERVER_ERROR 5400 is the service's
own refusal), Tencent's two-client network test (event sequences written from the docs), and
Tencent's checks in every headless browser. No browser, no network: the unit part runs them.
The real page in headless Chromium is tests/probes/test_trtc_web.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from trtcdetect.evidence import read
from trtcdetect.models import Status
from trtcdetect.probes.browsers import tencent_failures
from trtcdetect.probes.trtcweb import Schedule, TrtcWebObservation, judge
from trtcdetect.profiles import BUILTIN, WEB_SDK_HOSTS, WEB_SDK_NOT_CONTACTED
from trtcdetect.text.ids import R, S

VENDOR = resources.files("trtcdetect.browser").joinpath("static/vendor")
TENCENT = re.compile(r"[a-z0-9][a-z0-9.-]*\.(?:qq\.com|cloud-rtc\.com|cloud-rtc\.net|rtc-web\.com|"
                     r"rtc-web\.io|my-imcloud\.com|qcloud\.com|tencent\.cn|tencent-cloud\.com|"
                     r"tencentcloud\.com|myqcloud\.com|cloud\.tencent\.com)\b")


# --- the vendored files ---------------------------------------------------------------------

def test_vendored_files_match_their_manifest() -> None:
    manifest = json.loads(VENDOR.joinpath("MANIFEST.json").read_text())
    assert {p["package"] for p in manifest["packages"]} == {"trtc-sdk-v5", "rtc-detect"}
    for package in manifest["packages"]:
        data = VENDOR.joinpath(package["file"]).read_bytes()
        assert package["license"] == "ISC"
        assert len(data) == package["bytes"]
        assert hashlib.sha256(data).hexdigest() == package["sha256"], package["file"]


def test_the_current_profile_names_every_host_trtc_js_names() -> None:
    """Updating the SDK updates the profile or fails here."""
    named = set(TENCENT.findall(VENDOR.joinpath("trtc.js").read_text("utf-8", "replace")))
    profile = BUILTIN["current"]
    covered = set(profile.hosts) | set(WEB_SDK_NOT_CONTACTED)
    wildcard_roots = {w.removeprefix("*.") for w in profile.wildcards}
    missing = {n for n in named if n not in covered and n not in wildcard_roots}
    assert missing == set(), f"trtc.js names hosts the current profile lacks: {missing}"
    stale = set(WEB_SDK_HOSTS) - named
    assert stale == set(), f"the profile names hosts trtc.js no longer does: {stale}"
    assert "qcloud.rtc.qq.com" not in profile.hosts  # the Web SDK never contacts it
    assert profile.hosts[0] == "schedule.cloud-rtc.com"


# --- the judges, pure -------------------------------------------------------------------------

SUPPORTED = {"isSupported": {"result": True, "detail": {
    "isBrowserSupported": True, "isWebRTCSupported": True, "isH264EncodeSupported": True,
    "isH264DecodeSupported": True, "isVp8EncodeSupported": True, "isVp8DecodeSupported": True,
    "isH265EncodeSupported": False}}, "isTRTCSupported": {"result": True},
    "codec": {"isH264EncodeSupported": True, "isH264DecodeSupported": True,
              "isVp8EncodeSupported": True, "isVp8DecodeSupported": True}, "errors": []}


@pytest.mark.parametrize("change, failed", [
    ({}, []),
    ({"isSupported": {"result": False, "detail": {"isWebRTCSupported": False,
                                                  "isH265EncodeSupported": False}}},
     ["isSupported.isWebRTCSupported"]),
    ({"codec": {"isH264EncodeSupported": True, "isH264DecodeSupported": False,
                "isVp8EncodeSupported": False, "isVp8DecodeSupported": True}},
     ["H.264/VP8 encode and decode"]),
    ({"codec": {"isH264EncodeSupported": False, "isH264DecodeSupported": False,
                "isVp8EncodeSupported": True, "isVp8DecodeSupported": True}}, []),
    ({"isTRTCSupported": {"result": False}}, ["isTRTCSupported"]),
    ({"errors": ["trtc.js did not load"]}, ["script: trtc.js did not load"]),
])
def test_tencents_checks_name_what_said_no(change: dict[str, Any], failed: list[str]) -> None:
    assert tencent_failures({**SUPPORTED, **change}) == failed


def web(schedule: dict[str, Any] | None, ended_by: str = "done",
        net_errors: tuple[tuple[str, str], ...] = (), proxy: str | None = None) -> TrtcWebObservation:
    return TrtcWebObservation(browser="/usr/bin/chromium", sdk_version="5.17.1",
                              schedule=None if schedule is None else read(Schedule, schedule),
                              ended_by=ended_by, deadline_s=12,
                              elapsed_s=1.0, net_errors=net_errors, proxy=proxy)


RECORDED_OFFLINE = {"entered": False, "ms": 129, "error": {
    "name": "OPERATION_FAILED", "code": 5500, "functionName": "enterRoom",
    "message": "'enterRoom' failed, reason: Failed to join room - schedule failed: Failed to "
               "fetch code: 0 \nRefer to: https://web.sdk.qcloud.com/trtc/webrtc/doc/en/"}}


def test_recorded_offline_schedule_failure_names_the_hosts_and_the_pages_net_errors() -> None:
    verdict = judge(web(RECORDED_OFFLINE, net_errors=(
        ("schedule.cloud-rtc.com", "ERR_INTERNET_DISCONNECTED"),
        ("schedule.cloud-rtc.net", "ERR_INTERNET_DISCONNECTED"))))
    assert verdict.status is Status.FAIL and verdict.message.id == S.TRTCWEB_UNREACHABLE
    text = verdict.message.text("en")
    assert "schedule.cloud-rtc.com ERR_INTERNET_DISCONNECTED" in text and "Refer to" not in text
    assert [a.id for a in verdict.advice] == [R.WHITELIST_DOMAIN, R.TRTC_WEB_PROXY]


@pytest.mark.parametrize("schedule", [
    {"entered": False, "ms": 80, "error": {"name": "SERVER_ERROR", "code": 5400,
                                           "message": "user sig check failed"}},
    {"entered": True, "ms": 310}])
def test_from_the_docs_the_scheduling_service_answering_is_a_pass(schedule: dict[str, Any]) -> None:
    verdict = judge(web(schedule, proxy="proxy.example.com"))
    assert verdict.status is Status.PASS and verdict.message.id == S.TRTCWEB_ANSWERED
    assert "through TRTC's proxy proxy.example.com" in verdict.message.text("en")


def test_no_answer_at_the_deadline_and_unknown_codes() -> None:
    verdict = judge(web(None, ended_by="deadline"))
    assert verdict.status is Status.FAIL and "within 12 s" in verdict.message.text("en")
    verdict = judge(web({"entered": False, "ms": 5, "error": {"code": 5000, "message": "x"}}))
    assert verdict.status is Status.WARN
    assert judge(TrtcWebObservation(skipped="no browser")).status is Status.SKIP
    # no browser found here: the skip says how to install one; another reason says nothing
    none_here = judge(TrtcWebObservation(skipped="no supported Chrome", no_browser=True))
    assert [a.id for a in none_here.advice] == ["browser-install"]
    assert judge(TrtcWebObservation(skipped="switched off")).advice == ()
    # the page never loaded: nothing was asked of the network, so no network advice
    page = TrtcWebObservation(browser="/usr/bin/chromium", ended_by="page", deadline_s=12,
                              error="the browser did not load trtcdetect's local page "
                                    "http://127.0.0.1:4711/ within 8 s")
    verdict = judge(page)
    assert (verdict.status, verdict.message.id, verdict.advice) == (
        Status.ERROR, S.TRTCWEB_NO_PAGE, ())
    assert "within 12 s" not in verdict.message.text("en")


# --- Tencent's two-client network test, FROM THE DOCS (TRTC.EVENT names and fields) ------------

def network_events(quality: int = 1, video: bool = True, error: int | None = None) -> list[Any]:
    ev: list[dict[str, Any]] = [{"t": 0, "client": "up", "event": "enter"},
                                {"t": 0, "client": "down", "event": "enter"}]
    if error is not None:
        return ev + [{"t": 90, "client": "up", "event": "error", "step": "enterRoom",
                      "code": error, "message": "x"}]
    ev += [{"t": 400, "client": "up", "event": "entered"},
           {"t": 450, "client": "down", "event": "entered"},
           {"t": 900, "client": "up", "event": "publishing"},
           {"t": 1100, "client": "down", "event": "remote_audio"}]
    if video:
        ev += [{"t": 1300, "client": "down", "event": "remote_video"},
               {"t": 1500, "client": "down", "event": "first_video_frame"}]
    for n in range(7):
        ev += [{"t": 2000 * (n + 1), "client": "up", "event": "quality", "uplink": quality,
                "downlink": 0, "uplinkRTT": 40 + n, "uplinkLoss": 0},
               {"t": 2000 * (n + 1), "client": "down", "event": "quality", "uplink": 0,
                "downlink": quality, "downlinkRTT": 44, "downlinkLoss": 1}]
    return ev


def network_verdict(events: list[Any]) -> Any:
    from trtcdetect.trtc.webevents import summarize

    return judge(TrtcWebObservation(browser="/usr/bin/chromium", sdk_version="5.17.1",
                                    schedule=read(Schedule, {"network": events}),
                                    network=summarize(events),
                                    ended_by="done", deadline_s=12))


def test_from_the_docs_the_network_test_figures_and_verdicts() -> None:
    from trtcdetect.trtc.webevents import summarize

    figures = summarize(network_events())
    assert figures.entered_ms == {"up": 400, "down": 450}
    assert figures.first_audio_ms == 200 and figures.first_video_ms == 600
    assert figures.uplink_quality == (1,) * 7 and figures.quality_mean == 1
    assert figures.rtt_median_ms == 44 and figures.loss_median_pct == 0.5
    verdict = network_verdict(network_events())
    assert verdict.status is Status.PASS and verdict.message.id == S.TRTCWEB_NETWORK
    assert "network quality excellent (mean 1.0" in verdict.message.text("en")
    assert network_verdict(network_events(quality=3)).status is Status.WARN
    assert network_verdict(network_events(quality=4)).status is Status.FAIL
    assert network_verdict(network_events(quality=6)).status is Status.FAIL
    assert network_verdict(network_events(video=False)).message.id == S.TRTCWEB_NO_MEDIA
    refused = network_verdict(network_events(error=5400))
    assert refused.status is Status.FAIL and [a.id for a in refused.advice] == [R.TRTC_CREDENTIALS]
    offline = network_verdict(network_events(error=5500))
    assert offline.status is Status.FAIL and offline.message.id == S.TRTCWEB_UNREACHABLE


def test_every_headless_browser_is_asked_and_one_that_says_no_is_named() -> None:
    import msgspec

    from trtcdetect.browser.find import BrowserEntry
    from trtcdetect.browser.tencent import TencentRun
    from trtcdetect.probes.browsers import BrowsersObservation
    from trtcdetect.probes.browsers import judge as browsers_judge

    entries = (BrowserEntry(family="chrome", binary="google-chrome", path="/usr/bin/google-chrome",
                            version_text="Google Chrome 150.0", version="150.0", minimum="56",
                            name="Chrome", verdict="supported"),)
    good = TencentRun(name="Chrome", sdk_version="5.17.1", detect=SUPPORTED)
    old = TencentRun(name="Edge", sdk_version="5.17.1", detect={
        **SUPPORTED, "isTRTCSupported": {"result": False}})
    one_says_no = browsers_judge(BrowsersObservation(entries, tencent=good, tencent_others=(old,)))
    assert one_says_no.status is Status.WARN
    assert "in Edge says no: isTRTCSupported" in one_says_no.message.text("en")
    all_say_no = browsers_judge(BrowsersObservation(entries, tencent=old))
    assert all_say_no.status is Status.FAIL
    both_fine = browsers_judge(BrowsersObservation(entries, tencent=good, tencent_others=(
        msgspec.structs.replace(good, name="Edge"),)))
    assert both_fine.status is Status.PASS and "in Chrome, Edge: supported" in \
        both_fine.message.text("en")


def test_usersigs_never_reach_a_browser_command_line(tmp_path: Path) -> None:
    """The browser here is a stand-in script that records its argv and exits: what matters is
    what trtcdetect passes to a browser, and no real browser is needed to see it."""
    import asyncio

    from trtcdetect.browser.trtcweb import run_trtc_page

    argv_file = tmp_path / "argv"
    stand_in = tmp_path / "browser"
    stand_in.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {argv_file}\n")
    stand_in.chmod(0o755)
    job = {"network": True, "sdkAppId": 1400000000, "roomId": 5, "seconds": 1,
           "users": [{"userId": "a", "userSig": "eJwSECRET-ONE"},
                     {"userId": "b", "userSig": "eJwSECRET-TWO"}]}
    run = asyncio.run(run_trtc_page(str(stand_in), job, 1.0))
    argv = argv_file.read_text()
    assert "--user-data-dir=" in argv and "http://127.0.0.1:" in argv
    assert "SECRET" not in argv
    # the stand-in exits at once: the run says so instead of waiting for an answer
    assert run.ended_by == "page" and run.error is not None and "exited (code 0)" in run.error
