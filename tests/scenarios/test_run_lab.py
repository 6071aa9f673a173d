"""Whole runs in the lab: exit codes, --json streams, Ctrl-C, and the offline demo."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import SERVE, Services, load_valid
from tests.lab import Lab


def test_full_run_writes_both_reports_and_exits_0(services: Services, tmp_path: Path) -> None:
    proc = services.lab.trtcdetect("--target", "trtc.test", "--ca-file", str(services.ca_file),
                                   "--output", str(tmp_path), "--skip", "camera,microphone",
                                   "--capacity-max", "2000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (html,) = tmp_path.glob("trtcdetect-trtc.test-*Z.html")
    (doc_file,) = tmp_path.glob("trtcdetect-trtc.test-*Z.json")
    doc = load_valid(doc_file)
    ids = [p["id"] for p in doc["probes"]]  # type: ignore[union-attr]
    assert ids == ["ports", "domain", "nat", "path", "trtc", "url", "speaker", "browsers",
                   "trtcweb", "rtp", "capacity"]
    assert doc["status"] == "pass" and doc["exit_code"] == 0
    trtc = doc["probes"][4]  # type: ignore[index]
    assert trtc["status"] == "skip"  # trtc.test is not Tencent's cloud
    assert f"report: {html}" in proc.stdout  # the summary says where the reports are
    assert "ports" in proc.stdout and "domain" in proc.stdout  # summary table
    assert "pass Firewall ports" in proc.stderr  # progress while it runs


def test_json_keeps_stdout_clean_and_progress_on_stderr(services: Services) -> None:
    proc = services.lab.trtcdetect("--json", "--only", "ports", "--target", SERVE)
    assert proc.returncode == 0
    json.loads(proc.stdout)  # nothing else on stdout
    assert "Firewall ports" in proc.stderr


def test_ctrl_c_ends_within_a_second_and_still_writes_the_report(
    firewall: Lab, tmp_path: Path
) -> None:
    firewall.firewall([f"ip daddr {SERVE} udp dport != 53 drop"])
    proc = subprocess.Popen(
        ["ip", "netns", "exec", firewall.client, sys.executable, "-m", "trtcdetect",
         "--target", SERVE, "--timeout", "20", "--output", str(tmp_path),
         "--skip", "nat,path,trtc,url,camera,microphone,speaker,browsers,trtcweb,rtp,capacity"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    # The domain probe finishes first (TLS fails: the certificate names trtc.test); the ports
    # probe is still waiting on seven dropped UDP ports when Ctrl-C comes.
    line = proc.stderr.readline()
    assert "Media domain" in line, line
    time.sleep(0.3)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, elapsed
    assert proc.returncode == 2  # the domain failure outranks the interrupted probe's error
    (doc_file,) = tmp_path.glob("*.json")
    doc = load_valid(doc_file)
    assert doc["interrupted"] is True
    ports, domain = doc["probes"]  # type: ignore[misc]
    assert ports["status"] == "error" and ports["error"] == "interrupted"
    assert domain["status"] == "fail"
    assert list(tmp_path.glob("*.html"))
    assert "Traceback" not in err


def test_demo_command_runs_offline_against_its_own_endpoint(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "demo", "--output", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (doc_file,) = tmp_path.glob("trtcdetect-localhost-*.json")
    doc = load_valid(doc_file)
    assert doc["status"] == "pass"
    statuses = {p["id"]: p["status"] for p in doc["probes"]}  # type: ignore[union-attr]
    assert statuses["ports"] == statuses["domain"] == statuses["rtp"] == statuses["nat"] == "pass"
    assert statuses["url"] == "skip"  # no --url given
    assert "trtc" not in statuses  # Tencent's SDK dials the internet: never part of the demo
    rtp = next(p for p in doc["probes"] if p["id"] == "rtp")  # type: ignore[union-attr]
    assert rtp["details"]["mode"] == "echo"  # the test call went through serve's echo peer
    # This machine has no camera and no sound server: those probes skip, by the documented rule.
    for device in ("camera", "microphone", "speaker"):
        assert statuses[device] in ("pass", "skip"), statuses
    ports = doc["probes"][0]["details"]["ports"]  # type: ignore[index]
    assert len(ports) == 7 and {p["verdict"] for p in ports} == {"open"}
    # nothing left running
    left = subprocess.run(["pgrep", "-f", "trtcdetect serve --bind 127.0.0.1"],
                          capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_echo_call_over_https_checks_the_certificate(services: Services) -> None:
    """Signalling over HTTPS (serve answers POST /call on its HTTPS port): with the lab's CA the
    call works and the far end's counts are fetched over the same TLS; without it the call fails
    at signalling on the certificate, not quietly unverified."""
    args = ("--only", "rtp", "--echo-url", "https://trtc.test/call", "--json", "--quiet",
            "--call-seconds", "2", "--audio-only")
    proc = services.lab.trtcdetect(*args, "--ca-file", str(services.ca_file))
    call = json.loads(proc.stdout)["probes"][0]
    assert call["status"] == "pass", call["summary"]
    assert call["details"]["audio"]["uplink_counted_by"] == "far end"
    proc = services.lab.trtcdetect(*args)
    call = json.loads(proc.stdout)["probes"][0]
    assert proc.returncode == 2 and call["details"]["failed_stage"] == "signalling"
    assert "CERTIFICATE_VERIFY_FAILED" in call["summary"], call["summary"]
