"""The HTML report in real headless Chromium: it loads, shows hostile text as text, runs nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.paths import REPORTS
from trtcdetect.models import Advice, Metric, ProbeResult, RunReport, Status, Target
from trtcdetect.report import html

HOSTILE = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"


def sample_report() -> RunReport:
    ports = ProbeResult(
        id="ports", title="Firewall ports", status=Status.WARN,
        summary="6 of 7 ports answered; not reachable: UDP 8000",
        metrics=(Metric("ports_open", 6, "count"), Metric("udp_443_rtt", 12.5, "ms")),
        details={"host": "media.example", "address": "198.18.0.2", "ports": [
            {"protocol": "tcp", "port": 8687, "verdict": "open", "rtt_ms": 10.0, "error": None},
            {"protocol": "udp", "port": 8000, "verdict": "no_answer", "rtt_ms": None,
             "error": "no answer to 4 STUN requests in 1.1 s"},
            {"protocol": "udp", "port": 443, "verdict": "open", "rtt_ms": 12.5, "error": HOSTILE},
        ]},
        advice=(Advice("whitelist-udp", {"host": "media.example", "ports": "8000"}),),
    )
    domain = ProbeResult(
        id="domain", title="Media domain", status=Status.PASS, summary="all steps work",
        details={"host": "media.example", "steps": [
            {"name": "dns", "ok": True, "ms": 1.0, "error": None, "a": ["198.18.0.2"], "aaaa": [],
             "source": "dns"},
            {"name": "tcp", "ok": True, "ms": 1.0, "error": None, "address": "198.18.0.2",
             "port": 443},
            {"name": "tls", "ok": True, "ms": 5.0, "error": None, "verified": True,
             "version": "TLSv1.3", "subject": "CN=media.example", "issuer": "CN=CA",
             "not_after": "2030-01-01T00:00:00+00:00", "days_left": 1000},
            {"name": "https", "ok": True, "ms": 3.0, "error": None, "status_code": 200,
             "http_version": "HTTP/1.1", "server": HOSTILE},
        ]},
    )
    return RunReport(
        tool_version="0.0.test", started_at="2026-01-01T00:00:00Z", duration_s=1.5,
        target=Target("media.example", (8687,), (8000, 443)),
        system={"os": "Linux", "python": "3.11", "hostname": HOSTILE},
        config={}, probes=(ports, domain),
    )


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed")
    return path


def no_route_out() -> list[str]:
    """A command prefix that runs Chromium in a new network namespace of its own (only a
    loopback, down): it dials Google's hosts on its own, and the report is a file:// page that
    needs no network. Root and util-linux's unshare are what the test suite has."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("Chromium runs only in a network namespace with no route out (needs root)")
    return ["unshare", "--net", "--"]


def run_chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [*no_route_out(), chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=90)


def test_report_is_self_contained_and_escapes_outside_strings(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    text = html.render(sample_report())
    page.write_text(text, encoding="utf-8")
    # Self-contained: no reference to anything outside the file.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<script" not in text and "@import" not in text and "url(" not in text

    dom = run_chromium("--dump-dom", page.as_uri()).stdout
    assert "Firewall ports" in dom and "no answer (open or filtered)" in dom
    assert "<img" not in dom  # the hostile name is text, not an element ...
    assert dom.count("&lt;img src=x onerror=") >= 3  # ... shown as typed, where it came from
    assert "data-pwned=\"1\"" not in dom  # ... and its handler never ran

    REPORTS.mkdir(exist_ok=True)
    shot = REPORTS / "screenshot-report-en.png"
    shot.unlink(missing_ok=True)
    run_chromium(f"--screenshot={shot}", "--window-size=1100,1600", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000


def test_real_camera_run_shows_the_snapshot_and_escapes_the_file_name(tmp_path: Path) -> None:
    import subprocess as sp
    import sys

    from tests.media import write_video

    hostile_name = "<img src=x onerror=alert(1)>.avi"
    video = write_video(tmp_path / hostile_name, "moving", seconds=1)
    out = tmp_path / "out"
    proc = sp.run([sys.executable, "-m", "trtcdetect", "--only", "camera,rtp", "--camera",
                   str(video), "--camera-seconds", "1", "--call-seconds", "3", "--output",
                   str(out), "--quiet"],
                  capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (page,) = out.glob("*.html")
    dom = run_chromium("--dump-dom", page.as_uri()).stdout
    images = re.findall(r"<img[^>]*>", dom)
    assert len(images) == 1 and 'src="data:image/jpeg;base64,' in images[0]  # only the snapshot
    assert "&lt;img src=x onerror=alert(1)&gt;.avi" in dom
    assert dom.count("<polyline") == 4  # the test call's RTT, jitter, loss and bitrate charts
    assert "set-up timeline" in dom
    shot = REPORTS / "screenshot-report-camera.png"
    shot.unlink(missing_ok=True)
    run_chromium(f"--screenshot={shot}", "--window-size=1100,3000", page.as_uri())
    assert shot.exists()
