"""`trtcdetect demo`: start `trtcdetect serve` on loopback, diagnose it, stop it.

The whole job offline: the same probes a real run uses, against real sockets on 127.0.0.1.
serve's ready line is waited for at most READY_TIMEOUT_S; after it, both of serve's pipes are
drained in threads, so a chatty endpoint can never block on a full pipe during the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from ..defaults import DEFAULTS
from ..errors import Parser, UsageError
from ..evidence import JsonObject
from .run import cmd_run

READY_TIMEOUT_S = 20.0
#: the demo's test call, s of media (a normal run's default is 5 s)
DEMO_CALL_S = 3
ECHO_PORT = 8089


def build_parser() -> Parser:
    parser = Parser(
        prog="trtcdetect demo",
        description=(
            "Start the reference endpoint ('trtcdetect serve') on 127.0.0.1 with the default "
            "TRTC ports, HTTPS on 443 and its echo peer on HTTP 8089, run every probe against "
            "it (target localhost; the test call through the echo peer), write the reports and "
            "stop the endpoint. Needs no network. As a normal user, the ports below 1024 "
            "(UDP 843 and 443, HTTPS 443) are moved up by 10000 for both ends, and the "
            "report says so."
        ),
        epilog=("Options of a normal run can follow, e.g. "
                "'trtcdetect demo --only ports,domain,nat,rtp --call-seconds 2'."),
    )
    parser.add_argument("--output", metavar="DIR", default="reports",
                        help="folder for the reports (default: %(default)s)")
    parser.add_argument("--json", action="store_true",
                        help="print the JSON document on stdout, as in a normal run")
    return parser


def _ports() -> tuple[list[str], JsonObject]:
    """The ports both ends use (serve's and the run's options) and, for the report, the ports
    a normal user may not listen on and where the demo moved them."""
    from ..server.privileges import demo_ports

    wanted = ([("tcp", p) for p in DEFAULTS.tcp_ports] + [("udp", p) for p in DEFAULTS.udp_ports]
              + [("https", DEFAULTS.https_port)])
    moved = demo_ports(wanted)

    def listed(protocol: str) -> str:
        return ",".join(str(moved.get((proto, p), p)) for proto, p in wanted if proto == protocol)

    options = ["--tcp-ports", listed("tcp"), "--udp-ports", listed("udp"),
               "--https-port", listed("https")]
    note = {"demo_ports_moved": [{"protocol": "tcp" if proto == "https" else proto,
                                  "port": port, "moved_to": to}
                                 for (proto, port), to in moved.items()]} if moved else {}
    return options, note


def cmd_demo(argv: Sequence[str]) -> int:
    args, extra = build_parser().parse_known_args(argv)
    ports, note = _ports()
    with tempfile.TemporaryDirectory(prefix="trtcdetect-demo-") as tmp:
        ca = Path(tmp, "ca.pem")
        server = subprocess.Popen(
            [sys.executable, "-m", "trtcdetect", "serve", "--bind", "127.0.0.1",
             "--ca-out", str(ca), "--http-port", str(ECHO_PORT), "--quiet", *ports],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            # the run's own imports (the probes, aiortc: ~0.3 s) while serve starts up
            from .. import probes, runner  # noqa: F401

            wait_ready(server, READY_TIMEOUT_S)
            # Tencent's SDKs (native, and the Web SDK in the browser) dial Tencent's names: the
            # demo is offline by design, so it switches them off for its run
            os.environ["TRTCDETECT_NO_SDK"] = "1"
            # never the trtc probes: Tencent's SDKs check Tencent's cloud on the internet, and the
            # demo is offline by design
            run_args = ["--target", "localhost", "--ca-file", str(ca), "--output", args.output,
                        *ports,
                        "--echo-url", f"http://127.0.0.1:{ECHO_PORT}/call", "--skip", "trtc,trtcweb",
                        # loopback has no bottleneck: the ramp would only run to its ceiling;
                        # 2 Mbit/s shows room for 720p (1.6 Mbit/s) in about 3 s a direction
                        "--capacity-max", "2000",
                        # a first impression should not wait on a long call: 3 s of media holds
                        # 2-6 RTCP reports (the RTT); a user's own --call-seconds comes later and wins
                        "--call-seconds", str(DEMO_CALL_S)]
            return cmd_run([*run_args, *(["--json"] if args.json else []), *extra],
                           notes=note)
        finally:
            stop(server)


def _drain(stream: IO[str], keep: list[str] | None = None) -> threading.Thread:
    """Read `stream` to its end in a daemon thread (keeping the lines in `keep`, if given)."""
    def read() -> None:
        try:
            for line in stream:
                if keep is not None:
                    keep.append(line)
        except (OSError, ValueError):  # closed under us: done
            pass

    thread = threading.Thread(target=read, name="trtcdetect-demo-drain", daemon=True)
    thread.start()
    return thread


def wait_ready(server: subprocess.Popen[str], timeout_s: float) -> None:
    """Wait for serve's ready line, at most `timeout_s`; then keep both pipes drained."""
    assert server.stdout is not None and server.stderr is not None
    errors: list[str] = []
    stderr = _drain(server.stderr, errors)
    ready = threading.Event()
    lines: list[str] = []

    def read_stdout() -> None:
        assert server.stdout is not None
        try:
            for line in server.stdout:
                if not ready.is_set():
                    lines.append(line)
                    if "ready" in line:
                        ready.set()
        except (OSError, ValueError):
            pass
        ready.set()  # serve ended (or closed its output): stop waiting

    threading.Thread(target=read_stdout, name="trtcdetect-demo-ready", daemon=True).start()
    if ready.wait(timeout_s) and any("ready" in line for line in lines):
        return
    if server.poll() is None:
        stop(server)
        raise UsageError(f"the reference endpoint did not say it was ready within "
                         f"{timeout_s:g} s")
    server.wait(5)
    stderr.join(1.0)
    reason = "".join(errors).strip().splitlines()
    raise UsageError(
        "the reference endpoint did not start: " + (reason[-1] if reason else "no output"))


def stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    for stream in (server.stdout, server.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
