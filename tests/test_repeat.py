"""--repeat: the worst window from the rounds (pure tables), and a port dropped for a while in
the lab, found with its length; Ctrl-C in the middle still writes the report."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import SERVE, Services
from trtcdetect.models import Status
from trtcdetect.repeat import Round, summarize, worst_window


def rounds(*states: bool, name: str = "UDP 8000", step: float = 10.0) -> list[Round]:
    return [Round(i + 1, 1_700_000_000 + i * step, Status.PASS if ok else Status.WARN,
                  {name: ok, "TCP 8687": True}, {"ports.udp_8000_rtt": 1.0 + i})
            for i, ok in enumerate(states)]


def test_the_longest_outage_is_the_worst_window() -> None:
    window = worst_window(rounds(True, False, True, False, False, False, True))
    assert window is not None
    # failing from the 4th round (30 s) until the 7th worked again (60 s): 30 s
    assert (window["check"], window["seconds"], window["recovered"]) == ("UDP 8000", 30.0, True)
    assert window["at"] == "22:13:50"  # the round that first failed, UTC


def test_steady_failure_or_success_is_no_window() -> None:
    assert worst_window(rounds(True, True, True)) is None
    assert worst_window(rounds(False, False)) is None  # never worked: not intermittent
    open_ended = worst_window(rounds(True, True, False, False))
    assert open_ended is not None and open_ended["recovered"] is False
    assert open_ended["seconds"] == 10.0


def test_summary_keeps_series_and_says_the_window() -> None:
    result = summarize(rounds(True, False, False, True), 10.0)
    assert result.status is Status.WARN
    assert result.message is not None
    assert result.message.text("en") == ("4 rounds every 10 s: UDP 8000 stopped answering for "
                                         "20 s at 22:13:30 (UTC)")
    assert result.details["series"]["ports.udp_8000_rtt"] == [1.0, 2.0, 3.0, 4.0]
    assert result.details["checks"]["UDP 8000"] == [True, False, False, True]


def repeat_run(services: Services, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", services.lab.client, sys.executable, "-m", "trtcdetect",
         "--only", "ports", "--target", SERVE, "--tcp-ports", "", "--udp-ports", "8000",
         "--timeout", "0.5", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_port_dropped_for_a_while_is_found_with_its_length(services: Services,
                                                              tmp_path: Path) -> None:
    lab = services.lab

    def outage() -> None:
        time.sleep(2.2)
        lab.firewall(["udp dport 8000 drop"])
        time.sleep(3.0)
        lab.firewall([])

    threading.Thread(target=outage, daemon=True).start()
    try:
        proc = repeat_run(services, "--repeat", "9", "--interval", "1", "--output", str(tmp_path))
        _, err = proc.communicate(timeout=60)
    finally:
        lab.firewall([])
    assert err.count("round ") == 9 and "UDP 8000 not answering" in err
    document = json.loads(next(tmp_path.glob("*.json")).read_text())
    result = next(p for p in document["probes"] if p["id"] == "repeat")
    window = result["details"]["worst_window"]
    assert window["check"] == "UDP 8000" and window["recovered"] is True
    assert 2.0 <= window["seconds"] <= 4.5, window  # dropped for 3 s, seen on 1 s rounds
    assert result["status"] == "warn"
    assert (tmp_path / next(tmp_path.glob("*.html")).name).read_text().count("<polyline") >= 1


def test_ctrl_c_between_rounds_still_writes_the_report(services: Services,
                                                       tmp_path: Path) -> None:
    proc = repeat_run(services, "--repeat", "50", "--interval", "1", "--output", str(tmp_path))
    time.sleep(3.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
    document = json.loads(next(tmp_path.glob("*.json")).read_text())
    result = next(p for p in document["probes"] if p["id"] == "repeat")
    assert 2 <= result["details"]["rounds"] <= 5
