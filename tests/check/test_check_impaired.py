"""The check page's call against injected ground truth: serve behind the user-space impairment
link (delay, loss), real Chromium on the other side. The page's RTT and loss must be within the
command line's tolerances of what the link did (tests/call/test_rtp.py: RTT within 10 %, loss
within 1.5 points of the packets the forwarder really dropped, each way; here counted in
packets, from the moment the loss starts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cdp import Browser, clip
from tests.impair import SERVER_ADDR, ImpairedLink, Impairment
from tests.lab import lab_available

HTTPS = 8443
OPUS = "rtp-111"  # Chromium's Opus payload type, which the echo answers with
#: after the click on Start, the page is in its call's 5 s of measurement (2 s of devices, the
#: call's set-up well under a second on the link)
MEASURING_AFTER_S = 4.0


@pytest.fixture(scope="module")
def check_link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ImpairedLink, dict[str, Path]]]:
    reason = lab_available() or (None if shutil.which("chromium") and shutil.which("ffmpeg")
                                 else "needs Debian's chromium and ffmpeg")
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("impaired-check")
    files = {"video": clip(tmp / "moving.y4m", "testsrc=s=640x480:r=30"),
             "audio": clip(tmp / "tone.wav", "sine=frequency=440:sample_rate=48000"),
             "reports": tmp / "reports"}
    with ImpairedLink() as link:
        proc = link.spawn(link.server, [
            sys.executable, "-m", "trtcdetect", "serve", "--bind", SERVER_ADDR, "--quiet",
            "--tcp-ports", "", "--udp-ports", "8000", "--https-port", str(HTTPS),
            "--check-reports", str(files["reports"]), "--check-open",
            "--check-uploads-per-address", "100", "--check-no-schedule"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and "ready" in proc.stdout.readline().decode()
        yield link, files


def page_call(link: ImpairedLink, files: dict[str, Path],
              once_measuring: Callable[[], None] | None = None) -> dict[str, Any]:
    """One check in Chromium (fake camera and microphone) through the link: the stored test
    call's details. `once_measuring` runs MEASURING_AFTER_S after the click: the devices'
    2 s are over and the call is connected, in its 5 s of measurement."""
    page = Browser(["ip", "netns", "exec", link.client],
                   [f"--use-file-for-fake-video-capture={files['video']}",
                    f"--use-file-for-fake-audio-capture={files['audio']}",
                    "--use-fake-ui-for-media-stream"])
    try:
        page.open(f"https://{SERVER_ADDR}:{HTTPS}/check")
        page.wait_for("!!document.getElementById('start') && "
                      "!document.getElementById('start').disabled", 30)
        page.evaluate("document.getElementById('start').click()")
        if once_measuring is not None:
            time.sleep(MEASURING_AFTER_S)
            once_measuring()
        page.wait_for("!!document.getElementById('send')", 60)
        page.evaluate("document.getElementById('send').click()")
        page.wait_for("!!window.trtcdetectCheck.answer", 30)
        answer = page.evaluate("window.trtcdetectCheck.answer")
    finally:
        page.close()
    document = json.loads((files["reports"] / f"{answer['id']}.json").read_text())
    call: dict[str, Any] = next(p for p in document["probes"] if p["id"] == "rtp")
    return call


def test_the_pages_rtt_is_the_links_delay(check_link: tuple[ImpairedLink, dict[str, Path]]) -> None:
    link, files = check_link
    link.set(Impairment(delay_ms=50), Impairment(delay_ms=50))
    call = page_call(link, files)
    rtt = call["details"]["audio"]["rtt_ms"]["avg"]
    assert rtt == pytest.approx(100, rel=0.10), call["details"]["audio"]
    assert call["status"] == "pass"


def test_the_pages_loss_is_what_the_link_dropped(check_link: tuple[ImpairedLink, dict[str, Path]]) -> None:
    """The loss starts once the call is connected (the link's counts start there too): a
    packet lost in the DTLS handshake would delay the echo's first count while the link
    counts it delivered, and the two would count different windows."""
    link, files = check_link
    link.set(Impairment(delay_ms=10), Impairment(delay_ms=10))
    call = page_call(link, files, lambda: link.set(Impairment(delay_ms=10, loss_pct=5),
                                                   Impairment(delay_ms=10, loss_pct=5)))
    audio = call["details"]["audio"]
    dropped_up = link.counts.dropped[("up", OPUS)]
    dropped_down = link.counts.dropped[("down", OPUS)]
    assert dropped_up >= 2 and dropped_down >= 2, link.counts  # the link did drop some
    # each way within 1.5 points of the ~250 packets (and within 3 packets: those sent after
    # the page's last count, before the call closed, are dropped too but counted by no one)
    base = audio["packets_sent"]
    for page_lost, truth in ((audio["uplink_packets_lost"], dropped_up),
                             (audio["downlink_packets_lost"], dropped_down)):
        assert abs(page_lost - truth) <= 3 and 100 * abs(page_lost - truth) / base <= 1.5, (
            audio, dropped_up, dropped_down)
    assert audio["uplink_counted_by"] == "far end"  # the echo's own count, asked at the end
    assert call["status"] in ("warn", "fail") and "loss" in call["summary"]
