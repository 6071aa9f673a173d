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
from trtcdetect.models import ProbeResult, RunReport, Status, Target
from trtcdetect.repeat import Round, board, line, round_of, summarize, worst_window


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
    assert result.message.text("en") == ("4 rounds every 10 s: UDP 8000 stopped working for "
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
    assert err.count("round ") == 9 and "warn: UDP 8000 no answer" in err  # dropped: silence
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


def test_a_round_says_how_each_check_failed() -> None:
    """A refused port is not "no answer": the line and the table say which it was."""
    ports = ProbeResult("ports", "Firewall ports", Status.WARN, details={"ports": [
        {"protocol": "tcp", "port": 8687, "verdict": "closed"},
        {"protocol": "udp", "port": 8000, "verdict": "no_answer"},
        {"protocol": "udp", "port": 8080, "verdict": "error"},
        {"protocol": "udp", "port": 8800, "verdict": "open"}]})
    # steps as the domain probe writes them (its evidence type, the schema's domain_details)
    domain = ProbeResult("domain", "Media domain", Status.FAIL, details={"steps": [
        {"name": "dns", "ok": True, "ms": 1.0, "error": None},
        {"name": "tls", "ok": False, "ms": 2.0, "error": "handshake timed out"},
        {"name": "https", "ok": None, "ms": None, "error": None}]})
    report = RunReport("t", "2026-12-01T00:00:00Z", 1.0, Target("h", (), ()), {}, {},
                       (ports, domain))
    one = round_of(3, 1_700_000_000, report)
    assert line(one, 10) == ("round 3/10 22:13:20 fail: DOMAIN TLS failed, TCP 8687 refused, "
                             "UDP 8000 no answer, UDP 8080 error")
    rows = {r["check"]: r for r in board([one])}
    assert (rows["TCP 8687"]["last"], rows["TCP 8687"]["why"]) == (False, "refused")
    assert (rows["UDP 8800"]["last"], rows["UDP 8800"]["why"]) == (True, None)
    assert "DOMAIN HTTPS" not in rows  # not run: neither worked nor failed


def test_board_is_mtrs_table() -> None:
    rows = {r["check"]: r for r in board(rounds(True, False, True))}
    udp = rows["UDP 8000"]
    assert (udp["last"], udp["worked"], udp["seen"]) == (True, 2, 3)
    assert udp["ms"] == (3.0, 1.0, 3.0)  # last, best, worst of the rounds' RTT figures
    assert rows["TCP 8687"]["ms"] is None  # no figure recorded for it in these rounds


def test_for_ends_by_itself_and_a_terminal_sees_the_live_table(services: Services,
                                                               tmp_path: Path) -> None:
    """--for 3s --interval 1 in a pseudo-terminal (script(1)): rounds stop by themselves once
    the time is up, one coloured line per round and mtr's table above them."""
    typescript = tmp_path / "typescript"
    command = " ".join([
        "ip", "netns", "exec", services.lab.client, sys.executable, "-m", "trtcdetect",
        "--only", "ports", "--target", SERVE, "--tcp-ports", "8687", "--udp-ports", "8000",
        "--timeout", "0.5", "--for", "3s", "--interval", "1", "--output", str(tmp_path)])
    started = time.monotonic()
    subprocess.run(["script", "-qec", command, str(typescript)], env={
        "TERM": "xterm", "COLUMNS": "100", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        stdout=subprocess.DEVNULL, timeout=60, check=True)
    took = time.monotonic() - started
    screen = typescript.read_text(errors="replace")
    assert "ms last / best / worst" in screen and "worked" in screen
    assert "round 3 " in screen and "round 4 " not in screen, screen[-2000:]
    assert "\x1b[" in screen  # coloured: rich drew it for a terminal
    assert took < 3 + 8, took  # three rounds (0, 1, 2 s) and the process around them
    (document,) = tmp_path.glob("*.json")
    repeat = json.loads(document.read_text())["probes"][-1]
    assert repeat["id"] == "repeat" and repeat["details"]["rounds"] == 3


def test_call_needs_repeat() -> None:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "ports", "--call"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3 and "--call is for --repeat/--for" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "trtcdetect", "--for", "ten minutes"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 3 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
