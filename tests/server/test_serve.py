"""`trtcdetect serve`: answers STUN, survives junk, stops cleanly, refuses a busy port in one line."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

from aioice import stun

from tests.lab import free_port
from trtcdetect.config import Config
from trtcdetect.net.ports import PathClock, probe_udp


def _start(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trtcdetect", "serve", "--https-port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert "ready" in proc.stdout.readline()
    return proc


def test_answers_stun_survives_junk_and_stops_on_sigterm() -> None:
    port = free_port()
    proc = _start("--udp-ports", str(port), "--tcp-ports", "")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
            for blob in (b"", b"\x00", os.urandom(19), os.urandom(20), os.urandom(1500),
                         b"\x00\x01\x00\x08" + b"\x21\x12\xa4\x42" + os.urandom(12)):  # truncated
                junk.sendto(blob, ("127.0.0.1", port))
            # A STUN *response* is not a request: ignored too.
            response = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE)
            junk.sendto(bytes(response), ("127.0.0.1", port))
        verdict = asyncio.run(probe_udp("127.0.0.1", port, 2.0, PathClock()))
        assert verdict.verdict == "open" and verdict.rtt_ms is not None
    finally:
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert time.monotonic() - start < 2
    _, err = proc.communicate()
    assert "Traceback" not in err
    # seven junk datagrams, one line: junk is logged once an interval, not once a datagram
    assert err.count("ignored") == 1 and "STUN Binding answered" in err


def test_mapped_address_is_the_clients() -> None:
    port = free_port()
    proc = _start("--udp-ports", str(port), "--tcp-ports", "", "--quiet")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(2)
            request = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
            sock.sendto(bytes(request), ("127.0.0.1", port))
            answer = stun.parse_message(sock.recv(2048))
            local = sock.getsockname()
        assert answer.transaction_id == request.transaction_id
        assert answer.attributes["XOR-MAPPED-ADDRESS"] == local
    finally:
        proc.terminate()
        proc.communicate(timeout=5)


def test_busy_port_is_one_line_and_exit_3() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "trtcdetect", "serve", "--udp-ports", str(port),
             "--tcp-ports", "", "--https-port", "0"],
            capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3
    assert proc.stderr == (
        f"trtcdetect: error: cannot listen on UDP 127.0.0.1:{port}: Address already in use\n")


def test_config_defaults_are_the_trtc_list() -> None:
    config = Config()
    assert config.network.target == "qcloud.rtc.qq.com"
    assert config.network.tcp_ports == (8687,)
    assert config.network.udp_ports == (8000, 8080, 8800, 843, 443, 16285)
