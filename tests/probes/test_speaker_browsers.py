"""Speaker through real PortAudio on a PulseAudio null sink (its monitor hears what is played),
and browsers: fake binaries with known version strings, Debian's chromium, and the browser's own
WebRTC stack against `trtcdetect serve` in the namespace lab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVER_ADDRS, Services
from tests.probes.test_microphone import pulse  # noqa: F401 - the fixture
from trtcdetect.browser.find import BrowserEntry
from trtcdetect.report.json import validate


def probe(env: dict[str, str] | None, *args: str) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--json", "--quiet", *args],
                          capture_output=True, text=True, timeout=120, env=env)
    # libasound writes some notes straight to stderr from C ("ALSA lib ... underrun
    # occurred"); nothing else may appear there in --json --quiet mode.
    noise = [line for line in proc.stderr.splitlines() if not line.startswith("ALSA lib ")]
    assert noise == [], proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc)
    return proc.returncode, doc["probes"][0]


def play_sweep(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    """The speaker probe, run a second time when the first run saw an underrun. Full test runs
    on the 2-core machine have now and then had one underrun flagged on a working null sink,
    even through a 200 ms buffer (cause not found; `underruns_at_s` says where in the sound); a
    glitch does not come twice in a row, a broken output does. Every check applies as before."""
    code, result = probe(env, "--only", "speaker", *args)
    if result["details"].get("playback", {}).get("underruns"):
        code, result = probe(env, "--only", "speaker", *args)
    return code, result


def test_speaker_is_heard_back_through_the_sink_monitor(pulse: dict[str, str]) -> None:  # noqa: F811
    code, result = play_sweep(pulse)
    playback = result["details"]["playback"]
    loop = playback["loopback"]
    assert code == 0 and result["status"] == "pass", (result["summary"], playback)
    assert playback["played"] is True and playback["underruns"] == 0
    assert playback["output_latency_ms"] > 0
    # the sweep is played at -20 dBFS RMS; a null sink's monitor returns it unchanged
    assert loop["heard"] is True and loop["level_dbfs"] == pytest.approx(-20.0, abs=1.5)
    # handed to the output, back from the input: at least most of the output's own buffer
    # (the delay once came out as 0 when measured by sample counts of two separate streams)
    assert 0.5 * playback["output_latency_ms"] <= loop["delay_ms"] < 1000, playback
    assert playback["input_overflows"] == 0
    assert {d["name"] for d in result["details"]["devices"]} >= {"pulse", "default"}


def test_speaker_without_a_loopback_is_played_not_verified(pulse: dict[str, str]) -> None:  # noqa: F811
    code, result = play_sweep(pulse, "--speaker-loopback", "none")
    assert code == 1 and result["summary"] == "played, not verified: no input heard the sound"
    assert "loopback" not in result["details"]["playback"]


def test_speaker_no_sound_skips_and_no_server_fails(tmp_path: Path) -> None:
    code, result = probe(None, "--only", "speaker", "--no-sound")
    assert code == 0 and result["status"] == "skip"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path),
           "PULSE_SERVER": f"unix:{tmp_path}/none"}
    code, result = probe(env, "--only", "speaker")  # a server: skipped, as camera and mic
    assert code == 0 and result["status"] == "skip"
    code, result = probe(env, "--only", "speaker", "--require-devices")
    assert code == 2 and result["summary"] == "no speaker (output device) found"
    assert result["advice_ids"][0]["id"] == "speaker-missing"


def fake_browsers(folder: Path, versions: dict[str, str]) -> str:
    folder.mkdir(exist_ok=True)
    for name, output in versions.items():
        script = folder / name
        script.write_text(f"#!/bin/sh\necho '{output}'\n")
        script.chmod(0o755)
    return str(folder)


def test_versions_against_the_trtc_minimums(tmp_path: Path) -> None:
    fakes = fake_browsers(tmp_path / "bin", {
        "google-chrome": "Google Chrome 55.0.2883.87",  # below Chrome 56
        "firefox": "Mozilla Firefox 120.0",
        "microsoft-edge": "something went wrong",  # no version in it
    })
    env = {**os.environ, "PATH": f"{fakes}:/usr/bin:/bin"}
    code, result = probe(env, "--only", "browsers")
    found = {b["binary"]: b for b in result["details"]["browsers"]}
    assert found["google-chrome"]["verdict"] == "too_old" and found["google-chrome"]["minimum"] == "56"
    assert found["firefox"]["verdict"] == "supported" and found["firefox"]["version"] == "120.0"
    assert found["microsoft-edge"]["verdict"] == "unknown"
    assert code == 1 and result["status"] == "warn"
    assert result["advice_ids"][0]["id"] == "browser-upgrade"


def test_only_too_old_browsers_fail(tmp_path: Path) -> None:
    fakes = fake_browsers(tmp_path / "bin", {"google-chrome": "Google Chrome 55.0.2883.87"})
    code, result = probe({**os.environ, "PATH": fakes}, "--only", "browsers")
    assert code == 2 and "no browser here runs the TRTC Web SDK" in result["summary"]


def test_debian_chromium_is_found_and_supported() -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    code, result = probe(env, "--only", "browsers")
    (chromium,) = [b for b in result["details"]["browsers"] if b["binary"] == "chromium"]
    assert chromium["verdict"] == "supported" and int(chromium["version"].split(".")[0]) >= 56
    assert code == 0 and result["status"] == "pass"


def test_no_browser_is_skipped(tmp_path: Path) -> None:
    code, result = probe({**os.environ, "PATH": str(tmp_path)}, "--only", "browsers")
    assert code == 0 and result["status"] == "skip"


def test_browser_webrtc_reaches_the_echo_peer_in_the_lab(services: Services) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    echo = SERVER_ADDRS[7]
    services.lab.serve(echo, "--http-port", "8089", "--https-port", "0", "--tcp-ports", "",
                       "--udp-ports", "")
    code, doc = services.lab.trtcdetect_json(
        "--only", "browsers", "--browser-webrtc", "--echo-url", f"http://{echo}:8089/call")
    result = doc["probes"][0]
    webrtc = result["details"]["webrtc"]
    assert webrtc["connected"] is True, webrtc
    assert webrtc["stage"] == "done" and webrtc["tracks"]
    kinds = {(s["type"], s.get("kind")) for s in webrtc["stats"]}
    assert ("remote-inbound-rtp", "audio") in kinds and ("inbound-rtp", "video") in kinds
    received = [s["packetsReceived"] for s in webrtc["stats"] if s["type"] == "inbound-rtp"]
    assert all(n > 0 for n in received)  # the echo came back into the browser
    assert any(m["name"] == "browser_rtt" for m in result["metrics"])
    assert code == 0


CHROMIUM = (BrowserEntry(family="chrome", binary="chromium", path="/usr/bin/chromium",
                         version_text="Chromium 150.0", version="150.0", minimum="56",
                         name="Chromium", verdict="supported"),)


def path_from(local: str) -> dict[str, Any]:
    return {"local": {"address": local, "port": 50000, "protocol": "udp", "type": "host"},
            "remote": {"address": "198.18.0.9", "port": 40000, "protocol": "udp", "type": "host"}}


@pytest.mark.parametrize(("webrtc", "status", "message"), [
    ({"connected": True, "path": path_from("198.18.0.1")}, "pass", "browsers.webrtc-ok"),
    # -4/-6 alone: the page held the call to the family, nothing to compare
    ({"connected": True, "path": path_from("198.18.0.1"),
      "local_asked": {"family": 4, "source": None, "interface": None}}, "pass",
     "browsers.webrtc-ok"),
    ({"connected": True, "path": path_from("198.18.0.1"),
      "local_asked": {"family": 4, "source": "198.18.0.1"}}, "pass", "browsers.webrtc-ok"),
    ({"connected": True, "path": path_from("fd00:18::1"),
      "local_asked": {"family": 6, "source": "fd00:18:0::1"}}, "pass", "browsers.webrtc-ok"),
    ({"connected": True, "path": path_from("198.18.0.1"),
      "local_asked": {"family": 4, "source": "198.18.0.100"}}, "warn",
     "browsers.webrtc-other-address"),
    ({"connected": True, "path": path_from("192.168.1.5"),
      "local_asked": {"interface": "tun0", "interface_addresses": ["10.8.0.2"]}}, "warn",
     "browsers.webrtc-other-address"),
    ({"connected": True, "path": path_from("10.8.0.2"),
      "local_asked": {"interface": "tun0", "interface_addresses": ["10.8.0.2", "fe80::1"]}},
     "pass", "browsers.webrtc-ok"),
    # connected, but the page could not say over which pair: not taken for the address asked
    ({"connected": True, "local_asked": {"source": "198.18.0.100"}}, "warn",
     "browsers.webrtc-other-address"),
    ({"connected": False, "stage": "signalling", "error": "the echo peer offered no IPv6 address",
      "local_asked": {"family": 6}}, "fail", "browsers.webrtc-failed"),
])
def test_the_browser_call_is_judged_against_the_local_address_asked(
        webrtc: dict[str, Any], status: str, message: str) -> None:
    """Table (written from the page's report format; no browser): --source/--interface reach
    Chromium only as a check of the address its call went from."""
    from trtcdetect.evidence import read
    from trtcdetect.probes.browsers import BrowsersObservation, WebrtcCall, judge

    verdict = judge(BrowsersObservation(CHROMIUM, read(WebrtcCall, {
        "browser": "/usr/bin/chromium", **webrtc}), True))
    assert (verdict.status.value, verdict.message.id) == (status, message)
    if message == "browsers.webrtc-other-address":
        text = verdict.message.text("en")
        asked = webrtc["local_asked"]
        assert (f"--source {asked['source']}" if asked.get("source")
                else f"--interface {asked['interface']}") in text, text
        assert "Chromium chooses its own local address" in text


def test_a_family_the_call_cannot_have_is_not_blamed_on_the_network() -> None:
    """The page's stage "family" (written from the page's code: -6 and an echo peer without an
    IPv6 address): a failure whose remedy is the options, addressed to the user."""
    from trtcdetect.evidence import read
    from trtcdetect.probes.browsers import BrowsersObservation, WebrtcCall, judge

    verdict = judge(BrowsersObservation(CHROMIUM, read(WebrtcCall, {
        "browser": "/usr/bin/chromium", "connected": False, "stage": "family",
        "error": "the echo peer offered no IPv6 address",
        "local_asked": {"which": "-6", "family": 6}}), True))
    assert verdict.status.value == "fail"
    assert [(a.id, dict(a.params)) for a in verdict.advice] == [
        ("local-options-left-nothing", {"which": "-6"})]
