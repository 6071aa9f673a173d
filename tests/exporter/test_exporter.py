"""`trtcdetect exporter` as Prometheus uses it: real HTTP on loopback for the request rules, and
Debian's Prometheus itself scraping it in the namespace lab, asked through its HTTP API."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Services
from tests.lab import free_port
from tests.paths import ROOT
from trtcdetect.exporter.modules import load_modules, module
from trtcdetect.parse import ConfigError

# --- modules, pure ------------------------------------------------------------------------------

def test_without_a_config_only_the_legacy_host_is_allowed() -> None:
    (default,) = load_modules(None).values()
    assert default.name == "default" and default.probes == ("ports", "domain", "nat", "path")
    assert default.allows("qcloud.rtc.qq.com") and not default.allows("10.0.0.1")


@pytest.mark.parametrize("table, error", [
    ({"only": ["ports"]}, "no targets and no target_pattern"),
    ({"targets": ["a.test"], "colour": "red"}, "unknown key 'colour'"),
    ({"targets": ["a.test"], "only": ["nosuch"]}, "unknown probe 'nosuch'"),
    ({"target_pattern": "("}, "not a regular expression"),
    ({"targets": ["a.test"], "max_seconds": 1000}, "max_seconds"),
    ({"targets": ["a.test"], "udp_ports": "8000"}, "list of port numbers"),
    ({"targets": ["bad host!"]}, "not a valid host name"),
])
def test_bad_modules_are_one_line(table: dict[str, object], error: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(error)) as raised:
        module("m", table)
    assert "\n" not in str(raised.value)


def test_a_pattern_allows_only_whole_matches() -> None:
    found = module("m", {"target_pattern": r"media[0-9]+\.example\.com"})
    assert found.allows("media7.example.com")
    assert not found.allows("media7.example.com.evil.test") and not found.allows("x.test")


# --- the server on loopback ---------------------------------------------------------------------

class Running:
    def __init__(self, proc: subprocess.Popen[str], base: str) -> None:
        self.proc, self.base = proc, base
        self.errors: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line)


@pytest.fixture()
def exporter(tmp_path: Path) -> Iterator[Running]:
    """An exporter on loopback with two modules: `quick` (no ports at all: a run in ms) and
    `slow` (one UDP port that never answers, 1.5 s per step)."""
    silent = __import__("socket").socket(2, 2)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    config = tmp_path / "exporter.toml"
    config.write_text(textwrap.dedent(f"""
        [modules.quick]
        only = ["ports"]
        tcp_ports = []
        udp_ports = []
        targets = ["127.0.0.1"]
        [modules.slow]
        only = ["ports"]
        tcp_ports = []
        udp_ports = [{port}]
        timeout = 1.5
        targets = ["127.0.0.1", "127.0.0.2"]
        """))
    listen = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "trtcdetect", "exporter", "--listen",
                             f"127.0.0.1:{listen}", "--config", str(config), "--limit", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert "ready on http://127.0.0.1:" in proc.stdout.readline()
    try:
        yield Running(proc, f"http://127.0.0.1:{listen}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        silent.close()


@pytest.mark.parametrize("query", [
    "module=quick", "module=quick&target=", "module=quick&target=10.9.9.9",
    "module=nosuch&target=127.0.0.1", "module=quick&target=" + "a" * 10_000,
    "module=quick&target=%ff%fe", "module=quick&target=bad%20host", "module=" + "m" * 300])
def test_bad_requests_get_400_and_the_next_good_scrape_works(exporter: Running,
                                                             query: str) -> None:
    bad = httpx.get(f"{exporter.base}/probe?{query}", timeout=10)
    assert bad.status_code == 400, bad.text
    assert "\n" not in bad.text.rstrip("\n") and "Traceback" not in bad.text  # one line
    good = httpx.get(f"{exporter.base}/probe?module=quick&target=127.0.0.1", timeout=10)
    assert good.status_code == 200
    assert 'trtcdetect_probe_success{target="127.0.0.1"} 1' in good.text
    assert good.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert not any("Traceback" in line for line in exporter.errors)


def test_openmetrics_by_content_negotiation(exporter: Running) -> None:
    answer = httpx.get(f"{exporter.base}/probe?module=quick&target=127.0.0.1", timeout=10,
                       headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n") and "trtcdetect_probe_success" in answer.text


def test_one_run_per_pair_is_shared_and_the_limit_answers_503(exporter: Running) -> None:
    results: list[httpx.Response] = []

    def scrape(target: str) -> None:
        results.append(httpx.get(f"{exporter.base}/probe?module=slow&target={target}",
                                 timeout=20))

    first = [threading.Thread(target=scrape, args=("127.0.0.1",)) for _ in range(2)]
    for thread in first:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    busy = httpx.get(f"{exporter.base}/probe?module=slow&target=127.0.0.2", timeout=20)
    assert busy.status_code == 503 and time.monotonic() - started < 0.5  # at once
    for thread in first:
        thread.join()
    assert [r.status_code for r in results] == [200, 200]
    assert results[0].text == results[1].text  # one run, shared
    runs = [line for line in exporter.errors if "module=slow target=127.0.0.1" in line]
    assert len(runs) == 1, exporter.errors


def test_the_scrape_timeout_header_bounds_the_run(exporter: Running) -> None:
    started = time.monotonic()
    answer = httpx.get(f"{exporter.base}/probe?module=slow&target=127.0.0.1", timeout=20,
                       headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.2"})
    took = time.monotonic() - started
    assert answer.status_code == 200 and took < 1.2 + 2.0  # budget 0.7 s + the interrupt grace
    assert 'trtcdetect_probe_success{target="127.0.0.1"} 0' in answer.text


def test_own_metrics_index_and_sigterm(exporter: Running) -> None:
    httpx.get(f"{exporter.base}/probe?module=quick&target=127.0.0.1", timeout=10)
    own = httpx.get(f"{exporter.base}/metrics", timeout=10).text
    assert 'trtcdetect_exporter_scrapes_total{module="quick",outcome="pass"}' in own
    assert "process_resident_memory_bytes" in own
    page = httpx.get(exporter.base + "/", timeout=10).text
    assert "<td>quick</td>" in page and "127.0.0.1" in page
    exporter.proc.send_signal(signal.SIGTERM)
    assert exporter.proc.wait(6) == 0


# --- Debian's Prometheus scraping it, in the lab -----------------------------------------------

PROMETHEUS_CONFIG = """
global: {{scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s}}
scrape_configs:
  - job_name: trtcdetect
    metrics_path: /probe
    params: {{module: [lab]}}
    static_configs: [{{targets: [trtc.test]}}]
    relabel_configs:
      - {{source_labels: [__address__], target_label: __param_target}}
      - {{source_labels: [__param_target], target_label: instance}}
      - {{target_label: __address__, replacement: "127.0.0.1:{port}"}}
"""


def query(lab_client: str, api: str, expression: str) -> dict[str, float]:
    """Prometheus' HTTP API, asked from inside the client namespace: {port: value}."""
    out = subprocess.run(["ip", "netns", "exec", lab_client, sys.executable, "-c",
                          "import httpx,sys,json; print(json.dumps(httpx.get(sys.argv[1], "
                          "params={'query': sys.argv[2]}, timeout=5).json()))",
                          f"{api}/api/v1/query", expression], capture_output=True, text=True)
    import json

    data = json.loads(out.stdout)["data"]["result"] if out.returncode == 0 else []
    return {r["metric"].get("port", "?"): float(r["value"][1]) for r in data}


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus")
def test_prometheus_sees_a_dropped_port_and_its_return(services: Services,
                                                       tmp_path: Path) -> None:
    lab = services.lab
    config = tmp_path / "exporter.toml"
    config.write_text(textwrap.dedent(f"""
        [modules.lab]
        only = ["ports"]
        timeout = 0.8
        ca_file = "{services.ca_file}"
        targets = ["trtc.test"]
        """))
    exporter_port, prometheus_port = free_port(), free_port()
    exporter = lab.spawn([sys.executable, "-m", "trtcdetect", "exporter", "--listen",
                          f"127.0.0.1:{exporter_port}", "--config", str(config)],
                         ns=lab.client, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         cwd=str(ROOT))
    assert exporter.stdout is not None and b"ready" in exporter.stdout.readline()
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS_CONFIG.format(port=exporter_port))
    check = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    lab.spawn(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
               f"--storage.tsdb.path={tmp_path / 'data'}",
               f"--web.listen-address=127.0.0.1:{prometheus_port}"],
              ns=lab.client, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{prometheus_port}"
    expression = 'trtcdetect_port_verdict{protocol="udp",trtcdetect_port_verdict="open"}'
    lab.firewall(["udp dport 8800 drop"])
    try:
        deadline = time.monotonic() + 40
        seen: dict[str, float] = {}
        while time.monotonic() < deadline:
            seen = query(lab.client, api, expression)
            if seen.get("8800") == 0 and len(seen) == 6:
                break
            time.sleep(1)
        assert seen.get("8800") == 0, seen
        assert {p: v for p, v in seen.items() if p != "8800"} == {
            "8000": 1, "8080": 1, "843": 1, "443": 1, "16285": 1}, seen
        lab.firewall([])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and seen.get("8800") != 1:
            time.sleep(1)
            seen = query(lab.client, api, expression)
        assert seen.get("8800") == 1, seen  # the DROP lifted: the next scrape flips it
        up = query(lab.client, api, 'up{job="trtcdetect"}')
        assert list(up.values()) == [1.0]
    finally:
        lab.firewall([])


def test_sigterm_during_a_run_exits_within_5_s(exporter: Running) -> None:
    thread = threading.Thread(target=lambda: httpx.get(
        f"{exporter.base}/probe?module=slow&target=127.0.0.1", timeout=20), daemon=True)
    thread.start()
    time.sleep(0.5)  # the run has started: its UDP port never answers
    started = time.monotonic()
    exporter.proc.send_signal(signal.SIGTERM)
    assert exporter.proc.wait(8) == 0
    assert time.monotonic() - started < 5.5
    assert not any("Traceback" in line for line in exporter.errors)


def test_one_json_log_line_per_run(caplog: pytest.LogCaptureFixture) -> None:
    """--log-format json: the runner is a stand-in here (a fixture report): what is tested is the
    log line, which needs no network."""
    import asyncio
    import json as json_module

    from tests.fixtures import report_b
    from trtcdetect.exporter.app import Exporter

    async def run(module: object, target: str, budget: float) -> object:
        return report_b()

    modules = load_modules(None)
    exporter = Exporter(modules, run=run, json_logs=True)  # type: ignore[arg-type]
    with caplog.at_level("INFO", logger="trtcdetect.exporter"):
        asyncio.run(exporter._one(modules["default"], "qcloud.rtc.qq.com", 1.0))
    (record,) = [r for r in caplog.records if r.name == "trtcdetect.exporter"]
    entry = json_module.loads(record.getMessage())
    assert entry["module"] == "default" and entry["target"] == "qcloud.rtc.qq.com"
    assert entry["status"] == str(report_b().status) and entry["duration_s"] >= 0
