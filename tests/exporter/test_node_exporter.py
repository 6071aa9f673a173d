"""The textfile for node_exporter, read by the real thing: Debian's prometheus-node-exporter with
only its textfile collector, scraped over HTTP in a namespace of its own. The OpenMetrics file
(the README's recipe until now) is rejected there; --textfile is read, with every series."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab import lab_available, run
from trtcdetect.main import main

EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
PORT = 19100


@pytest.fixture()
def exporter(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    reason = lab_available()
    if reason:
        pytest.skip(reason)
    if not Path(EXPORTER).exists():
        pytest.skip("Debian's prometheus-node-exporter is not installed")
    folder = tmp_path / "textfile"
    folder.mkdir()
    ns = "tdcnodeexp"
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    run(["ip", "netns", "add", ns])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, EXPORTER, "--collector.disable-defaults",
         "--collector.textfile", f"--collector.textfile.directory={folder}",
         f"--web.listen-address=127.0.0.1:{PORT}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield folder, ns
    finally:
        proc.terminate()
        proc.wait(10)
        run(["ip", "netns", "del", ns])


def scrape(ns: str) -> str:
    """GET /metrics inside the exporter's namespace (it listens on that namespace's lo)."""
    deadline = time.monotonic() + 10
    code = ("import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("
            f"'http://127.0.0.1:{PORT}/metrics', timeout=5).read().decode())")
    while True:
        proc = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", code],
                              capture_output=True, text=True)
        if proc.returncode == 0 or time.monotonic() > deadline:
            return proc.stdout
        time.sleep(0.2)


def test_node_exporter_reads_the_textfile_and_rejects_openmetrics(
        exporter: tuple[Path, str]) -> None:
    folder, ns = exporter
    assert main(["--only", "url", "--quiet", "--format", "json",
                 "--openmetrics", str(folder / "openmetrics.prom")]) == 0
    text = scrape(ns)
    assert "node_textfile_scrape_error 1" in text  # what the README recipe used to give
    (folder / "openmetrics.prom").unlink()
    assert main(["--only", "url", "--quiet", "--format", "json",
                 "--textfile", str(folder / "trtcdetect.prom")]) == 0
    text = scrape(ns)
    assert "node_textfile_scrape_error 0" in text, text[-2000:]
    assert 'trtcdetect_probe_status{probe="url",target="qcloud.rtc.qq.com",' \
        'trtcdetect_probe_status="skip"} 1' in text
    assert 'trtcdetect_run_status_code{target="qcloud.rtc.qq.com"} 0' in text
