"""The check page: its weight, the time from the click to the verdict, and serve with many
checks at once.

    .venv/bin/python benchmarks/check_page.py [--runs 5] [--tabs 1,4,8,16] [--delay-ms 0]
                                              (root, Debian's chromium; about 4 minutes)

serve runs in the lab's server namespace (HTTPS, --check-reports, --max-calls 16); Debian's
Chromium runs in the client namespace (no route out) with fake devices (a moving pattern and
a tone made by ffmpeg).

- Weight: the bytes the page loads before the first check starts (check.html, check.css,
  check.js; Tencent's SDK, ~1 MB, loads after the click while the devices are checked).
- Time: from the click on Start to the preview of what will be sent (the checks), and from the
  click on Send to the verdict on screen (the server's judging and storing); median, min, max of
  --runs runs in a fresh tab each.
- Concurrency: N tabs of one browser click Start at the same moment; each tab's call (every
  call gets a slot: --max-calls 16 and --max-calls-per-address 16, as N end users behind N
  addresses would), connected or not, its RTT and loss, and serve's CPU over the checks
  (/proc/PID/stat). The browser runs on the same two cores: its encoding competes with
  serve's, so the figures are upper bounds for serve alone. Bounded: fixed counts, fixed waits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cdp import Browser, clip  # noqa: E402
from tests.lab import SERVER_ADDRS, Lab, lab_available  # noqa: E402
from trtcdetect.check import invite  # noqa: E402

SERVE = SERVER_ADDRS[0]
HTTPS = 8443
TOKEN = "benchmark-token"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> tuple[int, int]:
    """(busy, all) jiffies of every CPU so far (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def serve_pid() -> int:
    found = subprocess.run(["pgrep", "-f", f"trtcdetect serve --bind {SERVE}"],
                           capture_output=True, text=True).stdout.split()
    return int(found[-1])


def weight() -> int:
    from importlib import resources

    static = resources.files("trtcdetect.check").joinpath("static")
    return sum(len(static.joinpath(n).read_bytes()) for n in ("check.html", "check.css", "check.js"))


def timed_run(browser: Browser, url: str) -> tuple[float, float]:
    browser.open(url)
    browser.wait_for(START, 20)
    start = time.monotonic()
    browser.evaluate("document.getElementById('start').click()")
    browser.wait_for("!!document.getElementById('send')", 60)
    checks = time.monotonic() - start
    start = time.monotonic()
    browser.evaluate("document.getElementById('send').click()")
    browser.wait_for("!!document.getElementById('verdict')", 30)
    return checks, time.monotonic() - start


def concurrent(browser: Browser, url: str, tabs: int, pid: int) -> dict[str, float]:
    sessions = []
    for _ in range(tabs):
        sessions.append(browser.open(url))
    for tab in sessions:
        browser.wait_for(START, 30, tab=tab)
    before = cpu_s(pid)
    busy_before = machine_busy()
    start = time.monotonic()
    for tab in sessions:
        browser.evaluate("setTimeout(() => document.getElementById('start').click(), 0); 1", tab=tab)
    calls = []
    for tab in sessions:
        browser.wait_for("!!document.getElementById('send')", 120, tab=tab)
        calls.append(browser.evaluate("window.trtcdetectCheck.upload.call", tab=tab))
    took = time.monotonic() - start
    cpu = cpu_s(pid) - before
    busy_after = machine_busy()
    machine = 100 * (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    for tab in sessions:
        browser.send("Target.closeTarget", {"targetId": browser.send(
            "Target.getTargetInfo", {}, session=tab)["targetInfo"]["targetId"]}, session=False)
    connected = [c for c in calls if c.get("connected")]
    rtts = [statistics.fmean(c["rtt_ms"]) for c in connected if c.get("rtt_ms")]
    losses = [100 * max(c.get("packets_lost_up", 0), 0) / max(c.get("packets_sent", 1), 1)
              for c in connected]
    return {"tabs": tabs, "connected": len(connected),
            "busy_retries": sum(c.get("busy_retries", 0) for c in calls),
            "rtt_ms": statistics.fmean(rtts) if rtts else float("nan"),
            "rtt_max_ms": max(rtts) if rtts else float("nan"),
            "loss_pct": max(losses) if losses else float("nan"), "took_s": took,
            "serve_cpu_pct": 100 * cpu / took, "machine_pct": machine}


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a benchmark prints its tables


START = "!!document.getElementById('start') && !document.getElementById('start').disabled"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tabs", default="1,4,8,16,20")
    parser.add_argument("--pin", action="store_true",
                        help="serve on CPU 0 and the browser on CPU 1 (taskset): each has a core "
                             "of its own, so serve's figures are not the browser's load")
    parser.add_argument("--serve-arg", action="append", default=[],
                        help="one more argument for serve (repeatable), e.g. --serve-arg=--media-port=0")
    args = parser.parse_args()
    reason = lab_available() or (None if shutil.which("chromium") else "no chromium")
    if reason:
        say(f"skipped: {reason}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="tdcheckbench-"))
    video = clip(tmp / "moving.y4m", "testsrc=s=640x480:r=30", seconds=4)
    audio = clip(tmp / "tone.wav", "sine=frequency=440:sample_rate=48000", seconds=4)
    lab = Lab().up()
    browser = None
    try:
        pin_serve = ["taskset", "-c", "0"] if args.pin else []
        pin_browser = ["taskset", "-c", "1"] if args.pin else []
        lab.spawn([*pin_serve, sys.executable, "-m", "trtcdetect", "serve", "--bind", SERVE, "--quiet",
                   "--tcp-ports", "8687", "--udp-ports", "8000", "--https-port", str(HTTPS),
                   "--check-reports", str(tmp / "reports"), "--check-uploads-per-address", "1000",
                   "--max-calls", "16", "--max-calls-per-address", "16", *args.serve_arg],
                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                  env={**os.environ, "TRTCDETECT_TOKEN": TOKEN}).stdout.readline()  # type: ignore[union-attr]
        url = invite.make(f"https://{SERVE}:{HTTPS}/check", "BENCH", 3600, TOKEN)
        browser = Browser(["ip", "netns", "exec", lab.client, *pin_browser],
                          [f"--use-file-for-fake-video-capture={video}",
                           f"--use-file-for-fake-audio-capture={audio}",
                           "--use-fake-ui-for-media-stream"])
        say(f"page weight before the first check: {weight() / 1024:.1f} kB "
              "(check.html + check.css + check.js; Tencent's SDK loads after the click)\n")
        runs = [timed_run(browser, url) for _ in range(args.runs)]
        checks, verdicts = [r[0] for r in runs], [r[1] for r in runs]
        say("| step | median | min | max |\n|---|---|---|---|")
        for name, values in (("click Start -> what will be sent", checks),
                             ("click Send -> the verdict", verdicts),
                             ("both", [a + b for a, b in runs])):
            say(f"| {name} | {statistics.median(values):.2f} s | {min(values):.2f} s | "
                f"{max(values):.2f} s |")
        pid = serve_pid()
        say("\n| checks at once | calls connected | busy retries | RTT mean | RTT worst | "
            "loss worst | checks took | serve CPU | both cores busy |\n" + "|---" * 9 + "|")
        for tabs in (int(t) for t in args.tabs.split(",")):
            row = concurrent(browser, url, tabs, pid)
            say(f"| {tabs} | {row['connected']:.0f} | {row['busy_retries']:.0f} | "
                f"{row['rtt_ms']:.1f} ms | {row['rtt_max_ms']:.1f} ms | "
                f"{row['loss_pct']:.1f} % | {row['took_s']:.1f} s | "
                f"{row['serve_cpu_pct']:.0f} % of a core | {row['machine_pct']:.0f} % |")
    finally:
        if browser is not None:
            browser.close()
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
