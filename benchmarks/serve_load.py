"""serve under load from strangers: the echo's CPU per call by the caller's video size, and serve's
memory under the capacity-tally flood and held connections, before, at the peak and after.

    .venv/bin/python benchmarks/serve_load.py [--cpu-only | --memory-only]   (root; 3 min)

Echo CPU: `trtcdetect serve` in the lab's server namespace; from the client namespace, a 4 s
test call sending a generated video file of each size as its camera (`--camera FILE`); serve's
CPU seconds (/proc/PID/stat) over the whole client run, per second of the call's media (serve
is otherwise idle: the figure is the call's, slightly high by its set-up). Memory: one address floods
UP datagrams over 300 steps (300,000 datagrams), then 400 connections are opened to the HTTPS
port and held; serve's RSS before, after each, and once the tallies' keep time (60 s) and the
header deadline (10 s) have passed. Bounded: fixed counts, fixed waits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab import SERVER_ADDRS, Lab, lab_available  # noqa: E402
from tests.media import write_video  # noqa: E402
from trtcdetect.server import capacity as capacity_server  # noqa: E402

SERVE = SERVER_ADDRS[0]
CALL_S = 4
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve_pid(lab: Lab) -> int:
    found = subprocess.run(["pgrep", "-f", f"trtcdetect serve --bind {SERVE}"],
                           capture_output=True, text=True).stdout.split()
    return int(found[-1])


def echo_cpu(lab: Lab, tmp: Path) -> list[tuple[str, float, str]]:
    rows = []
    for width, height in ((320, 240), (640, 480), (1280, 720), (1920, 1080)):
        video = write_video(tmp / f"v{width}.avi", "moving", fps=30, seconds=8.0,
                            size=(width, height))
        pid = serve_pid(lab)
        before = cpu_s(pid)
        proc = lab.trtcdetect("--only", "camera,rtp", "--camera", str(video), "--camera-size",
                              f"{width}x{height}", "--camera-seconds", "1", "--echo-url",
                              f"http://{SERVE}:8089/call", "--call-seconds", str(CALL_S), "--json",
                              "--quiet", timeout=90)
        used = cpu_s(pid) - before
        status = "?"
        if proc.stdout:
            import json

            probes = {p["id"]: p for p in json.loads(proc.stdout)["probes"]}
            rtp = probes.get("rtp", {})
            status = f"{rtp.get('status')}: {rtp.get('summary', '')[:60]}"
        rows.append((f"{width}x{height}", used / CALL_S, status))
    return rows


def memory(lab: Lab) -> list[tuple[str, float]]:
    pid = serve_pid(lab)
    rows = [("baseline", rss_mib(pid))]
    flood = f"""
import socket, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from trtcdetect.net import capacitywire as wire
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(wire.hello(b"n" * 8), ({SERVE!r}, 8000))
cookie = wire.read_welcome(s.recv(2048))[1]
for step in range(300):
    for seq in range(1000):
        s.sendto(wire.up(cookie, b"s" * 8, step, seq, 0, 64), ({SERVE!r}, 8000))
"""
    subprocess.run(["ip", "netns", "exec", lab.client, sys.executable, "-c", flood], check=True,
                   timeout=300)
    time.sleep(1)
    rows.append(("after 300,000 UP datagrams over 300 steps, one address", rss_mib(pid)))
    holder = subprocess.Popen(["ip", "netns", "exec", lab.client, sys.executable, "-c", f"""
import socket, time
held = []
for _ in range(400):
    try:
        held.append(socket.create_connection(({SERVE!r}, 443), timeout=2))
    except OSError:
        pass
print(len(held), flush=True)
time.sleep(15)
"""], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    holder.stdout.readline()
    rows.append(("400 connections opened to HTTPS and held, one address", rss_mib(pid)))
    holder.wait(30)
    time.sleep(capacity_server.TALLY_KEEP_S + 2 * 5)  # the keep time, and serve's 5 s timer
    rows.append(("70 s later (tallies aged out, connections gone)", rss_mib(pid)))
    return rows


def main() -> None:
    reason = lab_available()
    if reason:
        raise SystemExit(reason)
    lab = Lab().up()
    try:
        lab.serve(SERVE, "--udp-ports", "8000", "--tcp-ports", "", "--http-port", "8089",
                  "--name", SERVE)
        with tempfile.TemporaryDirectory() as tmp:
            cpu = echo_cpu(lab, Path(tmp)) if "--memory-only" not in sys.argv else []
        mem = memory(lab) if "--cpu-only" not in sys.argv else []
    finally:
        lab.down()
    print("| caller's video (30 fps) | serve CPU, share of one core | the call |")  # noqa: T201
    print("|---|---:|---|")  # noqa: T201
    for size, share, status in cpu:
        print(f"| {size} | {share * 100:.0f} % | {status} |")  # noqa: T201
    print()  # noqa: T201
    print("| serve's memory | RSS MiB |")  # noqa: T201
    print("|---|---:|")  # noqa: T201
    for label, mib in mem:
        print(f"| {label} | {mib:.1f} |")  # noqa: T201


if __name__ == "__main__":
    main()
