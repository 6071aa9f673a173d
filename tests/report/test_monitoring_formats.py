"""What monitoring reads, checked by the real consumers: a Nagios plugin line against the
monitoring-plugins output grammar, Prometheus' own linter (promtool check metrics) on the text
format, Debian's Pushgateway accepting a push, and the OpenMetrics details (# UNIT, skip)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fixtures import report_a, report_b
from trtcdetect.models import RunReport
from trtcdetect.report import metrics, nagios
from trtcdetect.report.json import to_dict

#: monitoring-plugins guidelines: "SERVICE STATUS - text | 'label'=value[UOM];[warn];[crit];[min];[max]"
PERF = (r"'[^'=]+'=-?[0-9.]+(?:e[+-]?[0-9]+)?(?:us|ms|s|%|B|KB|MB|TB|c)?"
        r";[0-9.:e+-]*;[0-9.:e+-]*;[0-9.e+-]*;[0-9.e+-]*")
LINE = re.compile(rf"^TRTCDETECT (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+(?: \| {PERF}(?: {PERF})*)?\n$")


@pytest.mark.parametrize("make", [report_a, report_b])
def test_the_nagios_line_follows_the_plugin_grammar(make: Callable[[], RunReport]) -> None:
    report = make()
    line = nagios.render(report)
    found = LINE.match(line)
    assert found, line
    assert found.group(1) == {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[report.exit_code]
    assert "'rtp.rtt'=101ms;400;;;" in line or "'microphone.rms'=-9;-50:;-60:;;" in line


def test_nagios_from_the_command_line_is_one_line_with_the_exit_code(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "url", "--format",
                           "nagios", "--quiet"], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1, proc.stdout
    assert LINE.match(proc.stdout) and proc.stdout.startswith("TRTCDETECT OK - 0 checks passed")
    assert list(tmp_path.iterdir()) == []  # stdout formats write no files unless --output


def test_openmetrics_units_and_skipped_probes() -> None:
    text = metrics.render(to_dict(report_b())).decode()
    assert "# UNIT trtcdetect_run_duration_seconds seconds" in text
    assert "# UNIT trtcdetect_port_rtt_seconds seconds" in text
    assert re.search(r'trtcdetect_probe_skipped\{probe="url",target="[^"]+"\} 1\.0', text)
    assert re.search(r'trtcdetect_probe_skipped\{probe="ports",target="[^"]+"\} 0\.0', text)
    assert not re.search(r"\d\.\d{10,}", text)  # no binary float noise


@pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian's prometheus (promtool)")
@pytest.mark.parametrize("make", [report_a, report_b])
def test_promtool_accepts_the_text_format(make: Callable[[], RunReport]) -> None:
    """promtool 2.42 lints Prometheus' text format only (it stops at OpenMetrics' stateset):
    the OpenMetrics flavour is checked by Prometheus scraping it (test_exporter)."""
    text = metrics.render(to_dict(make()), flavour="prometheus")
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(shutil.which("prometheus-pushgateway") is None,
                    reason="Debian's prometheus-pushgateway")
def test_pushgateway_takes_a_push(tmp_path: Path) -> None:
    port = free_port()
    gateway = subprocess.Popen(["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/-/ready", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        body = metrics.render(to_dict(report_a()), flavour="prometheus")
        pushed = httpx.put(f"{base}/metrics/job/trtcdetect/instance/office-1", content=body,
                           headers={"content-type": "text/plain; version=0.0.4"}, timeout=5)
        assert pushed.status_code in (200, 202), pushed.text
        scraped = httpx.get(base + "/metrics", timeout=5).text
        assert re.search(r'trtcdetect_probe_status_code\{instance="office-1",job="trtcdetect",'
                         r'probe="domain",target="qcloud.rtc.qq.com"\} 2', scraped), scraped[:500]
    finally:
        gateway.terminate()
        gateway.wait(5)
