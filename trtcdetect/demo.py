"""`trtcdetect demo`: start `trtcdetect serve` on loopback, diagnose it, stop it.

The whole job offline: the same probes a real run uses, against real sockets on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

READY_TIMEOUT_S = 20.0
ECHO_PORT = 8089


def run_demo(
    argv: Sequence[str],
    cmd_run: Callable[[Sequence[str]], int],
    parser_class: type[argparse.ArgumentParser],
) -> int:
    parser = parser_class(
        prog="trtcdetect demo",
        description=(
            "Start the reference endpoint ('trtcdetect serve') on 127.0.0.1 with the default "
            "TRTC ports, HTTPS on 443 and its echo peer on HTTP 8089, run every probe against "
            "it (target localhost; the test call through the echo peer), write the reports and "
            "stop the endpoint. Needs no network; as root (ports below 1024)."
        ),
    )
    parser.add_argument("--output", metavar="DIR", default="reports")
    parser.add_argument("--json", action="store_true", help="as in a normal run")
    parser.epilog = ("Options of a normal run can follow, e.g. "
                     "'trtcdetect demo --only ports,domain,nat,rtp --call-seconds 2'.")
    args, extra = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="trtcdetect-demo-") as tmp:
        ca = Path(tmp, "ca.pem")
        server = subprocess.Popen(
            [sys.executable, "-m", "trtcdetect", "serve", "--bind", "127.0.0.1",
             "--ca-out", str(ca), "--http-port", str(ECHO_PORT), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            _wait_ready(server)
            run_args = ["--target", "localhost", "--ca-file", str(ca), "--output", args.output,
                        "--echo-url", f"http://127.0.0.1:{ECHO_PORT}/call"]
            return cmd_run([*run_args, *(["--json"] if args.json else []), *extra])
        finally:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            for stream in (server.stdout, server.stderr):
                if stream is not None:
                    stream.close()


def _wait_ready(server: subprocess.Popen[str]) -> None:
    from .cli import UsageError

    assert server.stdout is not None and server.stderr is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    line = server.stdout.readline()  # the ready line, or "" when serve exits
    if "ready" in line and time.monotonic() < deadline:
        return
    server.wait(5)
    reason = server.stderr.read().strip().splitlines()
    raise UsageError(
        "the reference endpoint did not start: " + (reason[-1] if reason else "no output"))
