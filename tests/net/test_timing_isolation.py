"""Timings that a busy event loop does not inflate (issue: numbers that do not depend on the
tool's own load). A stand-in holds the event loop for 300 ms exactly while the ports probe's
TCP handshake and STUN reply wait to be read -- as an import of aiortc or a browser start does
in a full run -- against a real `trtcdetect serve` on loopback. The figures stay those of the
kernel (well under 20 ms) and the loop-lag figure shows the stall."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab import free_port
from trtcdetect import runner
from trtcdetect.config import Config
from trtcdetect.net import ports as port_checks
from trtcdetect.net.stun import StunSocket
from trtcdetect.probes.ports import PROBE as PORTS

HOLD_S = 0.3


@pytest.fixture(scope="module")
def local_serve() -> Iterator[tuple[int, int]]:
    tcp, udp = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trtcdetect", "serve", "--bind", "127.0.0.1", "--quiet",
         "--tcp-ports", str(tcp), "--udp-ports", str(udp), "--https-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and "ready" in proc.stdout.readline()
    yield tcp, udp
    proc.terminate()
    proc.wait(10)


def test_a_loop_held_for_300_ms_does_not_inflate_tcp_and_stun_round_trips(
        local_serve: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    tcp, udp = local_serve
    held: list[float] = []

    def hold() -> None:  # the stand-in: a blocking probe's 300 ms on the loop
        start = time.perf_counter()
        time.sleep(HOLD_S)
        held.append(time.perf_counter() - start)

    real_open, real_send = port_checks.tcp_connect, StunSocket.send_stun

    async def open_then_hold(*args: Any, **kwargs: Any) -> Any:
        asyncio.get_running_loop().call_soon(hold)  # runs once the SYN is out
        return await real_open(*args, **kwargs)

    def send_then_hold(self: StunSocket, *args: Any, **kwargs: Any) -> None:
        real_send(self, *args, **kwargs)
        asyncio.get_running_loop().call_soon(hold)  # runs before the reply can be read

    monkeypatch.setattr(port_checks, "tcp_connect", open_then_hold)
    monkeypatch.setattr(StunSocket, "send_stun", send_then_hold)
    config = Config.of(target="127.0.0.1", tcp_ports=(tcp,), udp_ports=(udp,), timeout_s=2.0)
    report = asyncio.run(runner.run(config, [PORTS]))
    (result,) = report.probes
    entries = {e["protocol"]: e for e in result.details["ports"]}
    assert len(held) >= 2 and min(held) >= HOLD_S  # the loop really was held, twice
    for protocol in ("tcp", "udp"):
        entry = entries[protocol]
        assert entry["verdict"] == "open" and entry["timing"] == "kernel", entry
        assert entry["rtt_ms"] < 20, entry  # the wall clock said >= 300 ms
    lag = report.system["loop_lag_ms"]
    assert lag["max"] >= HOLD_S * 1000 * 0.8, lag  # and the run says it was held


def test_the_report_says_when_a_figure_may_be_inflated(tmp_path: Any) -> None:
    """The busy note stands next to the figures a stall touched, in Chromium as a reader sees
    the report; a figure taken while the loop was on time has none."""
    from tests.report.test_html_chromium import run_chromium
    from trtcdetect.models import ProbeResult, RunReport, Status, Target
    from trtcdetect.report import html

    steps = [{"name": "dns", "ok": True, "ms": 2.0, "error": None, "a": ["198.18.0.2"],
              "aaaa": [], "source": "dns"},
             {"name": "tcp", "ok": True, "ms": 0.1, "error": None, "address": "198.18.0.2",
              "port": 443, "timing": "kernel"},
             {"name": "tls", "ok": True, "ms": 180.0, "error": None, "loop_lag_ms": 151.3},
             {"name": "https", "ok": True, "ms": 2.0, "error": None, "status_code": 200,
              "http_version": "HTTP/1.1", "server": None}]

    def page(lag: float) -> str:
        for step in steps:
            if step["name"] == "tls":
                step["loop_lag_ms"] = lag
        domain = ProbeResult("domain", "Media domain", Status.PASS, summary="ok",
                             details={"host": "trtc.test", "steps": steps})
        report = RunReport("t", "2026-12-01T00:00:00Z", 1.0, Target("trtc.test", (), ()),
                           {"os": "x", "python": "3", "hostname": "h",
                            "loop_lag_ms": {"p50": 0.5, "p99": 20.0, "max": lag, "samples": 9},
                            "cpu_busy_pct": 80.0}, {}, (domain,))
        path = tmp_path / f"busy-{lag:g}.html"
        path.write_text(html.render(report, "en"), "utf-8")
        return str(run_chromium("--dump-dom", path.as_uri()).stdout)

    busy = page(151.3)
    assert "timings may be inflated by up to 151 ms" in busy or \
        "their times may be inflated by up to 151 ms" in busy
    assert "scheduling lag p99 20.0 ms, max 151.3 ms" in busy and "CPU busy 80.0 %" in busy
    assert "may be inflated" not in page(2.0)


def test_tls_and_https_steps_run_on_a_loop_of_their_own(tmp_path: Any) -> None:
    """The domain probe's TCP, TLS and HTTPS steps beside a probe that holds the run's loop
    for 300 ms at a time (as imports and a browser start do): the steps read as on an idle
    machine, while the run's own loop lag shows the stalls."""
    https = free_port()
    ca = tmp_path / "ca.pem"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trtcdetect", "serve", "--bind", "127.0.0.1", "--quiet",
         "--tcp-ports", "", "--udp-ports", "", "--https-port", str(https), "--ca-out", str(ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and "ready" in proc.stdout.readline()

        class Hog:  # a stand-in probe: holds the loop 300 ms, ten times over 3 s
            id, title, description, after = "hog", "Hog", "holds the loop", ()

            def deadline_s(self, config: Config) -> float:
                return 10.0

            async def run(self, config: Config, prior: Any = None) -> Any:
                from trtcdetect.models import ProbeResult, Status

                for _ in range(10):
                    await asyncio.sleep(0.001)
                    time.sleep(HOLD_S)
                return ProbeResult("hog", "Hog", Status.PASS, summary="held")

        from trtcdetect.probes.domain import PROBE as DOMAIN

        config = Config.of(target="localhost", https_port=https, ca_file=ca, timeout_s=5.0,
                           resolve={"localhost": ("127.0.0.1",)})
        report = asyncio.run(runner.run(config, [Hog(), DOMAIN]))
    finally:
        proc.terminate()
        proc.wait(10)
    domain = next(p for p in report.probes if p.id == "domain")
    steps = {s["name"]: s for s in domain.details["steps"]}
    assert all(steps[n]["ok"] for n in ("tcp", "tls", "https")), steps
    for name in ("tcp", "tls", "https"):
        assert steps[name]["ms"] < 100, steps[name]  # a held loop would add 300 ms or more
        assert "loop_lag_ms" not in steps[name]  # the run's stalls did not touch them
    assert report.system["loop_lag_ms"]["max"] >= HOLD_S * 1000 * 0.8
