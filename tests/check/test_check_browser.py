"""The check page in real headless Chromium, as the end user's browser, in the lab.

serve runs in the lab's server namespace with the check page on HTTPS, a token, and
--check-reports; Chromium runs in the client namespace (no route out) with fake devices of
known content (ffmpeg clips) and a granted or a denied permission, opens an invitation link,
clicks "Start", then "Send", as a user would. The stored report's verdicts must match the
content: black -> camera fail, a still picture -> frozen, silence -> microphone warning,
refused -> the browser's permission remedy; UDP dropped -> the call's cause; only the TRTC
media port open -> the call passes over it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cdp import Browser, clip
from tests.lab import SERVER_ADDRS, Lab, built
from trtcdetect.check import invite
from trtcdetect.report.json import validate
from trtcdetect.text.ids import R, S

TOKEN = "lab-check-token"
SERVE = SERVER_ADDRS[0]
HTTPS = 8443
MEDIA = 8000
PAGE_S = 40.0


@dataclass(frozen=True)
class Site:
    lab: Lab
    reports: Path
    clips: dict[str, Path]
    shots: Path


@pytest.fixture(scope="module")
def check_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if shutil.which("chromium") is None or shutil.which("ffmpeg") is None:
        pytest.skip("needs Debian's chromium and ffmpeg")
    tmp = tmp_path_factory.mktemp("check")
    clips = {
        "moving": clip(tmp / "moving.y4m", "testsrc=s=640x480:r=30"),
        "black": clip(tmp / "black.y4m", "color=c=black:s=640x480:r=30"),
        "still": clip(tmp / "still.y4m", "color=c=gray:s=640x480:r=30"),
        "tone": clip(tmp / "tone.wav", "sine=frequency=440:sample_rate=48000"),
        "silence": clip(tmp / "silence.wav", "anullsrc=r=48000:cl=mono"),
    }
    with built(Lab) as lab:
        reports = tmp / "reports"
        proc = lab.spawn(
            [sys.executable, "-m", "trtcdetect", "serve", "--bind", SERVE, "--quiet",
             "--tcp-ports", "8687", "--udp-ports", str(MEDIA), "--https-port", str(HTTPS),
             "--check-reports", str(reports), "--check-uploads-per-address", "100",
             # Tencent's scheduling service cannot answer in the lab: the page would wait its
             # 10 s for it in every test; test_tencents_scheduling_... asks it once
             "--check-no-schedule"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "TRTCDETECT_TOKEN": TOKEN})
        assert proc.stdout is not None
        assert "ready" in proc.stdout.readline().decode()
        shots = Path(os.environ.get("TRTCDETECT_SHOTS", str(tmp / "shots")))
        shots.mkdir(parents=True, exist_ok=True)
        yield Site(lab, reports, clips, shots)


def link(ref: str = "TICKET-7") -> str:
    return invite.make(f"https://{SERVE}:{HTTPS}/check", ref, 3600, TOKEN)


def browser(site: Site, video: str = "moving", audio: str = "tone",
            granted: bool = True) -> Browser:
    flags = [f"--use-file-for-fake-video-capture={site.clips[video]}",
             f"--use-file-for-fake-audio-capture={site.clips[audio]}",
             "--use-fake-ui-for-media-stream" if granted else "--deny-permission-prompts"]
    return Browser(["ip", "netns", "exec", site.lab.client], flags)


def check(site: Site, page: Browser,
          url: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the invitation, click Start, then Send: the page's answer and the stored report."""
    page.open(url or link())
    page.wait_for("!!document.getElementById('start') && !document.getElementById('start').disabled", 20)
    page.evaluate("document.getElementById('start').click()")
    page.wait_for("!!document.getElementById('send')", PAGE_S)
    page.evaluate("document.getElementById('send').click()")
    page.wait_for("!!window.trtcdetectCheck.answer", 20)
    answer: dict[str, Any] = page.evaluate("window.trtcdetectCheck.answer")
    document = json.loads((site.reports / f"{answer['id']}.json").read_text())
    validate(document)
    return answer, document


def one_check(site: Site, url: str | None = None, video: str = "moving", audio: str = "tone",
              granted: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh browser, one check, the browser gone again: the page's answer and the report."""
    page = browser(site, video, audio, granted)
    try:
        return check(site, page, url)
    finally:
        page.close()


def another_serve(site: Site, address: str, port: int, reports: Path, *extra: str,
                  env: dict[str, str] | None = None, stderr: Any = subprocess.DEVNULL) -> Any:
    """A serve of its own on `address`:`port` (HTTPS, the media port 8000, checks kept in
    `reports`), started and ready; the lab ends it, or the test with site.lab.stop."""
    proc = site.lab.spawn(
        [sys.executable, "-m", "trtcdetect", "serve", "--bind", address, "--tcp-ports", "",
         "--udp-ports", "8000", "--https-port", str(port), "--check-reports", str(reports),
         *extra], stdout=subprocess.PIPE, stderr=stderr,
        env={**os.environ, "TRTCDETECT_TOKEN": TOKEN, **(env or {})})
    assert proc.stdout is not None and "ready" in proc.stdout.readline().decode()
    return proc


def results(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in document["probes"]}


def test_a_working_browser_passes_and_support_reads_the_same_report(check_site: Site) -> None:
    page = browser(check_site)
    try:
        answer, document = check(check_site, page)
        page.screenshot(check_site.shots / "check-verdict-desktop-en.png")
        # the user's own report, from the link on the page
        own = page.evaluate("fetch(document.getElementById('download').href)"
                            ".then(async r => [r.status, r.headers.get('content-disposition'), "
                            "(await r.text()).includes('ran-in-browser')])")
    finally:
        page.close()
    probes = results(document)
    assert {k: v["status"] for k, v in probes.items()} == {
        "browsers": "pass", "camera": "pass", "microphone": "pass", "speaker": "skip",
        "rtp": "pass"}, {k: v["summary"] for k, v in probes.items()}
    assert answer["status"] == "pass" and document["config"]["reference"] == "TICKET-7"
    assert own[0] == 200 and "attachment" in own[1] and own[2], own
    camera = probes["camera"]["details"]["capture"]
    assert camera["width"] == 640 and camera["height"] == 480 and 20 <= camera["fps"] <= 31
    mic = probes["microphone"]["details"]["capture"]
    assert -36 <= mic["rms_dbfs"] <= -26  # a 440 Hz sine at 0.125 full scale: -21 dBFS peak
    call = probes["rtp"]["details"]
    assert call["mode"] == "browser" and call["audio"]["rtt_ms"]["avg"] < 20
    assert call["path"]["remote"]["address"] == SERVE
    assert document["system"]["ran_in"] == "browser"
    assert "Chrome 156" in document["system"]["browser"] or "Chrome" in document["system"]["browser"]


@pytest.mark.parametrize(("video", "audio", "pid", "status", "sentence"), [
    ("black", "tone", "camera", "fail", S.CAMERA_BLACK),
    ("still", "tone", "camera", "fail", S.CAMERA_FROZEN),
    ("moving", "silence", "microphone", "warn", S.CHECK_MIC_SILENT),
])
def test_the_verdicts_match_the_devices_content(check_site: Site, video: str, audio: str,
                                                pid: str,
                                                status: str, sentence: str) -> None:
    _, document = one_check(check_site, video=video, audio=audio)
    found = results(document)[pid]
    assert (found["status"], found["message"]["id"]) == (status, sentence), found["summary"]


def test_a_refused_permission_gets_the_browsers_remedy(check_site: Site) -> None:
    page = browser(check_site, granted=False)
    try:
        answer, document = check(check_site, page)
        page.screenshot(check_site.shots / "check-verdict-denied-en.png")
    finally:
        page.close()
    probes = results(document)
    for pid, sentence in (("camera", S.CHECK_CAMERA_DENIED), ("microphone", S.CHECK_MIC_DENIED)):
        assert probes[pid]["status"] == "fail"
        assert probes[pid]["message"]["id"] == sentence
        assert probes[pid]["details"]["media_error"]["name"] == "NotAllowedError"
        assert probes[pid]["advice_ids"][0]["id"] == R.BROWSER_PERMISSION_CHROME
    assert answer["status"] == "fail"
    # without the devices the call still measured the network, with a generated tone
    assert probes["rtp"]["status"] == "pass", probes["rtp"]["summary"]
    assert any("chrome://settings/content/camera" in a for c in answer["causes"]
               for a in c["advice"])


def test_udp_dropped_fails_the_call_and_only_the_media_port_open_passes(check_site: Site) -> None:
    # the server's firewall filters what comes from outside (its own relay to the echo is local)
    check_site.lab.firewall(['iifname != "lo" meta l4proto udp drop'])
    try:
        answer, document = one_check(check_site)
        call = results(document)["rtp"]
        assert call["status"] == "fail" and call["details"]["failed_stage"] == "ICE"
        assert R.CALL_NO_CONNECT in [a["id"] for a in call["advice_ids"]]
        assert answer["status"] == "fail"
        check_site.lab.firewall([f'iifname != "lo" udp dport != {MEDIA} drop'])
        _, document = one_check(check_site)
        call = results(document)["rtp"]
        assert call["status"] == "pass", call["summary"]
        assert call["details"]["path"]["remote"]["port"] == MEDIA
    finally:
        check_site.lab.firewall([])


def test_the_page_on_a_phone_in_both_languages(check_site: Site) -> None:
    """Screenshots to look at: the start, the preview and the verdict at a phone's size."""
    page = browser(check_site)
    try:
        page.open(link("PHONE-1"), phone=(390, 844))
        page.wait_for("!!document.getElementById('start')", 20)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        page.screenshot(check_site.shots / "check-start-phone-en.png")
        page.evaluate("document.getElementById('lang').click()")
        assert "开始检测" in page.evaluate("document.body.innerText")
        page.evaluate("document.getElementById('start').click()")
        page.wait_for("!!document.getElementById('send')", PAGE_S)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # the optional speaker check: the tone plays, the user says they heard it
        page.evaluate("document.getElementById('tone').click(); "
                      "document.getElementById('heard').click(); 1")
        page.screenshot(check_site.shots / "check-preview-phone-zh.png")
        page.evaluate("document.getElementById('send').click()")
        page.wait_for("!!document.getElementById('verdict')", 20)
        time.sleep(0.2)
        page.screenshot(check_site.shots / "check-verdict-phone-zh.png")
        assert "您的检测编号" in page.evaluate("document.body.innerText")
        answer = page.evaluate("window.trtcdetectCheck.answer")
    finally:
        page.close()
    document = json.loads((check_site.reports / f"{answer['id']}.json").read_text())
    speaker = results(document)["speaker"]
    assert (speaker["status"], speaker["message"]["id"]) == ("pass", S.CHECK_SPEAKER_HEARD)
    assert document["config"]["lang"] == "zh"


def test_check_js_runs_in_the_deployments_own_page(check_site: Site, tmp_path: Path) -> None:
    """docs/check.md's example: a page of another origin (http://127.0.0.1:8765 in the user's
    namespace) imports check.js from serve and mounts it; the check runs and reaches serve."""
    url = link("OWN-PAGE-1")
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
    own = tmp_path / "own"
    own.mkdir()
    (own / "index.html").write_text(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>A deployment's own page</title></head><body>
<div id="check"></div>
<script type="module">
  import {{mount}} from "https://{SERVE}:{HTTPS}/check/check.js";
  window.trtcdetectCheck = mount(document.getElementById("check"), {{
    invitation: {{ref: "{query['ref']}", exp: {query['exp']}, sig: "{query['sig']}"}},
  }});
</script></body></html>
""")
    server = check_site.lab.spawn(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(own),
         "8765"], ns=check_site.lab.client, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        page = browser(check_site)
        try:
            answer, document = check(check_site, page, "http://127.0.0.1:8765/index.html")
        finally:
            page.close()
    finally:
        check_site.lab.stop(server)
    assert document["config"]["reference"] == "OWN-PAGE-1"
    probes = results(document)
    assert probes["camera"]["status"] == "pass" and probes["rtp"]["status"] == "pass"
    assert answer["report"].startswith(f"https://{SERVE}:{HTTPS}/check/report/")


def test_beyond_the_calls_an_address_may_hold_the_page_says_busy_and_retries(
        check_site: Site) -> None:
    """serve lets one address hold 2 calls at once (--max-calls-per-address): three checks
    from one browser at the same moment, the third hears 503 Retry-After, says "busy,
    retrying in N s" and gets its call when one ends."""
    page = browser(check_site)
    start = "!!document.getElementById('start') && !document.getElementById('start').disabled"
    try:
        tabs = [page.open(link("BUSY-1")) for _ in range(3)]
        for tab in tabs:
            page.wait_for(start, 20, tab=tab)
        for tab in tabs:
            page.evaluate("setTimeout(() => document.getElementById('start').click(), 0); 1",
                          tab=tab)
        said_busy = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stages = [page.evaluate("(document.getElementById('stage') || {}).textContent || ''",
                                    tab=tab) for tab in tabs]
            said_busy = said_busy or any("busy, retrying in" in text for text in stages)
            if all(page.evaluate("!!document.getElementById('send')", tab=tab) for tab in tabs):
                break
            time.sleep(0.2)
        calls = [page.evaluate("window.trtcdetectCheck.upload.call", tab=tab) for tab in tabs]
    finally:
        page.close()
    assert said_busy
    assert all(c["connected"] for c in calls), calls
    assert sorted(c["busy_retries"] > 0 for c in calls) == [False, False, True], calls


def test_with_credentials_the_page_runs_tencents_network_test_and_no_secret_leaks(
        check_site: Site, tmp_path: Path) -> None:
    """serve --sdk-app-id with $TRTC_SECRET_KEY: the page asks serve for UserSigs and runs
    Tencent's two-client test. The lab has no route to Tencent: enterRoom cannot succeed, and
    the verdict says so; neither the SecretKey nor a UserSig is in anything stored or logged."""
    secret = "lab-secret-key-0123456789abcdef0123456789"
    address, port = SERVER_ADDRS[1], 9443
    reports = tmp_path / "reports"
    log = tmp_path / "serve.log"
    with log.open("w") as errors:
        proc = another_serve(check_site, address, port, reports, "--sdk-app-id", "1400000000",
                             "--log-requests", env={"TRTC_SECRET_KEY": secret}, stderr=errors)
        page = browser(check_site)
        try:
            url = invite.make(f"https://{address}:{port}/check", "NET-1", 3600, TOKEN)
            answer, document = check(Site(check_site.lab, reports, check_site.clips,
                                          check_site.shots), page, url)
            sent = json.dumps(page.evaluate("window.trtcdetectCheck.upload"))
        finally:
            page.close()
            check_site.lab.stop(proc)
    network = results(document)["trtcweb"]
    assert network["status"] == "fail", network["summary"]
    events = json.loads(sent)["network"]["events"]
    assert [e["event"] for e in events[:2]] == ["enter", "enter"]
    stored = "\n".join(p.read_text() for p in reports.iterdir())
    for text in (sent, stored, log.read_text()):
        assert secret not in text
        assert "eJw" not in text  # a UserSig's zlib stream starts so, base64ed


def test_tencents_scheduling_service_is_asked_from_the_browser(check_site: Site,
                                                               tmp_path: Path) -> None:
    """serve without --check-no-schedule: the page asks TRTC's scheduling service through
    Tencent's Web SDK. The lab has no route out: no answer within the page's 10 s, said so,
    with the domains to allow; the rest of the check is unchanged."""
    address, port = SERVER_ADDRS[2], 9445
    reports = tmp_path / "reports"
    proc = another_serve(check_site, address, port, reports, "--quiet")
    try:
        url = invite.make(f"https://{address}:{port}/check", "SCHEDULE-1", 3600, TOKEN)
        _, document = one_check(Site(check_site.lab, reports, check_site.clips,
                                     check_site.shots), url)
    finally:
        check_site.lab.stop(proc)
    probes = results(document)
    schedule = probes["trtcweb"]
    assert schedule["status"] == "fail", schedule["summary"]
    assert schedule["message"]["id"] in (S.TRTCWEB_UNREACHABLE, S.TRTCWEB_NO_ANSWER), schedule
    assert R.WHITELIST_DOMAIN in [a["id"] for a in schedule["advice_ids"]]
    assert probes["rtp"]["status"] == "pass" and probes["camera"]["status"] == "pass"
