"""Tencent's Web SDK and rtc-detect, vendored, in real headless Chromium -- only inside network
namespaces with no route out (the safety rule: the SDK and Chromium dial public names).

The real page: Tencent's capability checks, the scheduling check with no route, with the
scheduling names resolving to a host that drops everything (the deadline, and no browser
left), through `--trtc-proxy` to a logging listener in the lab, and with credentials offline.
The pure parts (the manifest, the profile against trtc.js, the judges' tables) are
tests/probes/test_tencent_web_tables.py, in the unit part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.lab import SERVER_ADDRS, Lab, built, names_asked, run

# --- real Chromium, in namespaces with no route out -----------------------------------------

def chromium_available() -> str | None:
    from shutil import which

    return None if which("chromium") else "Debian's chromium is not installed"


@pytest.fixture()
def web_lab() -> Any:
    with built(Lab, chromium_available()) as lab:
        yield lab


def trtcdetect(lab: Lab, *args: str, timeout: float = 90) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    proc = subprocess.run(["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect",
                           "--json", "--quiet", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def probe(document: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in document["probes"] if p["id"] == pid)  # type: ignore[no-any-return]


def profiles() -> set[str]:
    """The browsers' temporary profile folders that exist now."""
    return {str(p) for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("trtcdetect-browser-*")}


def chromium_folders() -> set[str]:
    """Chromium's own singleton folders in $TMPDIR (it leaves them when its group is ended)."""
    return {str(p) for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("org.chromium.*")}


def browsers_left() -> list[str]:
    """Chromium processes still running (zombies, already ended, do not count)."""
    out = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if "trtcdetect-browser-" in line and not line.strip().startswith("Z")]


def test_tencents_checks_and_no_route_to_the_scheduling_service(web_lab: Lab,
                                                                 tmp_path: Path) -> None:
    web_lab.dnsmasq({"#": None}, log=tmp_path / "dns.log")  # every name NXDOMAIN; no route out
    before, folders = profiles(), chromium_folders()
    started = time.monotonic()
    _, document, _ = trtcdetect(web_lab, "--only", "browsers,trtcweb", "--trtc-deadline", "6")
    took = time.monotonic() - started
    browsers = probe(document, "browsers")
    tencent = browsers["details"]["tencent"]
    assert "detect" in tencent, tencent  # the page reported (else: why, in "skipped")
    detect = tencent["detect"]
    assert tencent["sdk_version"] == "5.17.1" and detect["sdkVersion"] == "5.17.1", tencent
    flags = {**detect["isSupported"]["detail"], **detect["codec"]}
    assert all(isinstance(v, bool) for v in flags.values())
    for codec in ("H264", "Vp8"):  # what TRTC needs, on Debian's Chromium
        assert flags[f"is{codec}EncodeSupported"] and flags[f"is{codec}DecodeSupported"]
    assert detect["isTRTCSupported"]["result"] is True and detect["api"]["isWebRTCSupported"]
    assert detect["devices"]["cameras"] and detect["system"]["OS"] == "Linux"
    assert "Tencent's Web SDK 5.17.1" in browsers["summary"]
    web_result = probe(document, "trtcweb")
    assert web_result["status"] == "fail", web_result["summary"]
    assert web_result["details"]["schedule"]["error"]["code"] == 5500, web_result["details"]
    # from Chromium's NetLog: the name did not resolve
    assert "schedule.cloud-rtc.com ERR_NAME_NOT_RESOLVED" in web_result["summary"], web_result
    assert took < 40, took
    assert browsers_left() == [], browsers_left()
    assert profiles() == before, profiles() - before  # each browser's temporary profile is gone
    assert chromium_folders() == folders, chromium_folders() - folders  # and its $TMPDIR folder
    # the browser asked for Tencent's names, not for Google's (Chromium 156 asked for
    # accounts.google.com, clients2.google.com, update.googleapis.com before)
    asked = names_asked(tmp_path / "dns.log")
    assert "schedule.cloud-rtc.com" in asked, asked
    assert not [n for n in asked if "google" in n], asked


def test_silently_dropped_scheduling_ends_at_the_deadline_with_no_browser_left(
        web_lab: Lab) -> None:
    run(["ip", "-n", web_lab.client, "route", "add", "default", "via", SERVER_ADDRS[0]])
    web_lab.dnsmasq({"#": SERVER_ADDRS[2]})  # every name -> a lab address that drops
    web_lab.firewall([f"ip daddr {SERVER_ADDRS[2]} drop"])
    before = profiles()
    started = time.monotonic()
    _, document, _ = trtcdetect(web_lab, "--only", "trtcweb,browsers", "--trtc-deadline", "5")
    took = time.monotonic() - started
    result = probe(document, "trtcweb")
    assert result["status"] == "fail"
    assert result["summary"].startswith("no answer from TRTC's scheduling service within 5 s")
    assert result["details"]["ended_by"] == "deadline"
    assert took < 35 and browsers_left() == [] and profiles() == before


def test_a_browser_that_cannot_load_the_local_page_is_not_blamed_on_the_network(
        tmp_path: Path) -> None:
    """A namespace whose loopback is down (unshare --net: no route out either): the browser
    cannot load trtcdetect's page on 127.0.0.1. The browsers probe says so (Tencent's checks
    and --browser-webrtc's call) and trtcweb is an error that says the check did not run.
    Before, each waited its whole deadline (41 s for browsers and trtcweb) and trtcweb failed
    "no answer from TRTC's scheduling service within 12 s: -", --browser-webrtc "failed at
    timeout" with the advice to open the call's ports: the network blamed for this machine."""
    reason = chromium_available()
    if reason is not None or os.geteuid() != 0:
        pytest.skip(reason or "unshare --net needs root")
    env = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    before = profiles()
    started = time.monotonic()
    proc = subprocess.run(["unshare", "--net", "--", sys.executable, "-m", "trtcdetect",
                           "--only", "browsers,trtcweb", "--browser-webrtc", "--echo-url",
                           "http://127.0.0.1:9/call", "--json", "--quiet", "--output",
                           str(tmp_path)], capture_output=True, text=True, timeout=90, env=env)
    took = time.monotonic() - started
    document = json.loads(proc.stdout)
    web = probe(document, "trtcweb")
    assert web["status"] == "error", web["summary"]
    assert "did not load trtcdetect's local page" in web["summary"], web["summary"]
    assert "says nothing about the network" in web["summary"] and web["advice"] == []
    assert web["details"]["ended_by"] == "page"
    browsers = probe(document, "browsers")
    tencent = browsers["details"]["tencent"]
    assert "did not load trtcdetect's local page" in tencent["skipped"], tencent
    # --browser-webrtc: the same page problem, not "the browser's WebRTC failed"
    assert browsers["details"]["webrtc"]["stage"] == "page", browsers["details"]["webrtc"]
    assert browsers["message"]["id"] == "browsers.webrtc-not-run", browsers["summary"]
    assert "call-no-connect" not in [a["id"] for a in browsers["advice_ids"]]
    assert took < 40, took  # the page's 8 s three times and the run around them
    assert browsers_left() == [] and profiles() == before


def test_trtc_proxy_sends_the_sdks_requests_to_the_proxy(web_lab: Lab, tmp_path: Path) -> None:
    log = tmp_path / "connections.txt"
    listener = web_lab.spawn([sys.executable, "-c", LISTENER, SERVER_ADDRS[3], str(log)],
                             stdout=subprocess.PIPE)
    assert listener.stdout is not None and listener.stdout.readline().strip() == b"ready"
    run(["ip", "-n", web_lab.client, "route", "add", "default", "via", SERVER_ADDRS[0]])
    _, document, _ = trtcdetect(web_lab, "--only", "trtcweb,browsers", "--trtc-deadline", "6",
                                "--trtc-proxy", SERVER_ADDRS[3])
    result = probe(document, "trtcweb")
    assert result["details"]["proxy"] == SERVER_ADDRS[3]
    assert f"through TRTC's proxy {SERVER_ADDRS[3]}" in result["summary"]
    assert log.read_text().count("connection from 198.18.0.1") >= 1  # the SDK came here
    assert browsers_left() == []


#: A TCP listener on port 443 that logs who connected and closes (the SDK's HTTPS request to
#: the proxy then fails; that it arrived is what the test needs)
LISTENER = """
import socket, sys
server = socket.create_server((sys.argv[1], 443))
print("ready", flush=True)
with open(sys.argv[2], "a") as log:
    while True:
        conn, peer = server.accept()
        log.write(f"connection from {peer[0]}\\n"); log.flush()
        conn.close()
"""


def test_with_credentials_offline_the_browser_test_fails_and_no_usersig_leaks(
        web_lab: Lab, tmp_path: Path) -> None:
    web_lab.dnsmasq({"#": None})
    made = subprocess.run([sys.executable, "-m", "trtcdetect", "credentials", "--sdk-app-id",
                           "1400000000", "--expire", "1h"], capture_output=True, text=True,
                          env={**os.environ, "TRTC_SECRET_KEY": "k" * 64}, check=True)
    creds = tmp_path / "creds.json"
    creds.write_text(made.stdout)
    sigs = [u["user_sig"] for u in json.loads(made.stdout)["users"]]
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    proc = subprocess.run(["ip", "netns", "exec", web_lab.client, sys.executable, "-m",
                           "trtcdetect", "--only", "trtcweb,browsers", "--credentials",
                           str(creds), "--trtc-deadline", "5", "--trtc-seconds", "2",
                           "--output", str(out)], capture_output=True, text=True, timeout=90,
                          env=env)
    document = json.loads(next(out.glob("*.json")).read_text())
    result = probe(document, "trtcweb")
    assert result["status"] == "fail" and result["details"]["network"] is not None
    assert result["details"]["network"]["errors"][0]["code"] == 5500
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in out.iterdir()]
    assert not any(sig in text for sig in sigs for text in texts)
    assert browsers_left() == []


def test_real_devices_are_what_the_machine_has(web_lab: Lab) -> None:
    """This machine has no camera: with --browser-devices real Tencent's detect finds none (with
    the default fake devices it finds Chromium's fake camera)."""
    _, document, _ = trtcdetect(web_lab, "--only", "browsers", "--browser-devices", "real")
    tencent = probe(document, "browsers")["details"]["tencent"]
    assert tencent["devices"] == "real"
    labels = [c.get("label") for c in tencent["detect"]["devices"]["cameras"]]
    assert "fake_device_0" not in labels
    assert not Path("/dev/video0").exists() or labels  # a machine with a camera lists it
