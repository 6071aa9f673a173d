"""The exporter beside Prometheus' blackbox_exporter, and its memory over many scrapes.
Needs root (network namespaces) and Debian's prometheus-blackbox-exporter.

    .venv/bin/python benchmarks/exporter.py [--scrapes 500] [--compare 30]

In the lab: `trtcdetect serve` on the server side; in the client namespace trtcdetect's exporter
(module: TCP 8687 only) and blackbox_exporter (module tcp_connect), both scraped for the same
target and port, one after the other, `--compare` times each. Prints the TCP connect time each
reports (trtcdetect: the kernel's TCP_INFO RTT of the connection; blackbox: its whole probe,
probe_duration_seconds, which includes its own setup) and each scrape's wall time. Then the
exporter's RSS after a warm-up of 50 scrapes and after `--scrapes` more (target: growth under
5 MiB). Bounded loops on loopback and in the lab only. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab import SERVER_ADDRS, Lab, free_port  # noqa: E402

SERVE = SERVER_ADDRS[0]
BLACKBOX = """modules:
  tcp_connect:
    prober: tcp
    timeout: 3s
"""
MODULES = f"""[modules.tcp]
only = ["ports"]
tcp_ports = [8687]
udp_ports = []
timeout = 3
targets = ["{SERVE}"]
"""


def scrape(lab: Lab, url: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(["ip", "netns", "exec", lab.client, "curl", "-s", url],
                         capture_output=True, text=True)
    return time.perf_counter() - started, out.stdout


def value(text: str, pattern: str) -> float | None:
    found = re.search(pattern + r"\s+([0-9.e+-]+)", text)
    return float(found.group(1)) if found else None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=500)
    parser.add_argument("--compare", type=int, default=30)
    args = parser.parse_args()
    scrapes, compare = min(max(args.scrapes, 1), 5000), min(max(args.compare, 1), 500)
    if shutil.which("prometheus-blackbox-exporter") is None:
        raise SystemExit("apt-get install prometheus-blackbox-exporter")
    tmp = Path(tempfile.mkdtemp(prefix="trtcdetect-exporter-bench-"))
    lab = Lab().up()
    try:
        lab.serve(SERVE)
        (tmp / "blackbox.yml").write_text(BLACKBOX)
        (tmp / "exporter.toml").write_text(MODULES)
        mine, theirs = free_port(), free_port()
        exporter = lab.spawn([sys.executable, "-m", "trtcdetect", "exporter", "--listen",
                              f"127.0.0.1:{mine}", "--config", str(tmp / "exporter.toml")],
                             ns=lab.client, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        assert exporter.stdout is not None and b"ready" in exporter.stdout.readline()
        lab.spawn(["prometheus-blackbox-exporter", f"--config.file={tmp / 'blackbox.yml'}",
                   f"--web.listen-address=127.0.0.1:{theirs}"], ns=lab.client,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        ours_url = f"http://127.0.0.1:{mine}/probe?module=tcp&target={SERVE}"
        bb_url = f"http://127.0.0.1:{theirs}/probe?module=tcp_connect&target={SERVE}:8687"
        rows: dict[str, list[float]] = {"trtcdetect rtt": [], "trtcdetect scrape": [],
                                        "blackbox probe": [], "blackbox scrape": []}
        for _ in range(compare):
            wall, text = scrape(lab, ours_url)
            rtt = value(text, r'trtcdetect_port_rtt_seconds\{port="8687",protocol="tcp"[^}]*\}')
            rows["trtcdetect scrape"].append(wall)
            if rtt is not None:
                rows["trtcdetect rtt"].append(rtt)
            wall, text = scrape(lab, bb_url)
            rows["blackbox scrape"].append(wall)
            probe = value(text, r"probe_duration_seconds")
            if probe is not None:
                rows["blackbox probe"].append(probe)
        print(f"TCP 8687 on {SERVE}, {compare} scrapes each (median / p90, ms)")  # noqa: T201
        for name, values in rows.items():
            if values:
                ordered = sorted(values)
                p90 = ordered[int(0.9 * (len(ordered) - 1))]
                print(f"  {name:18} {1000 * statistics.median(values):8.3f} / "  # noqa: T201
                      f"{1000 * p90:8.3f}  (n={len(values)})")
        for _ in range(50):
            scrape(lab, ours_url)
        before = rss_kib(exporter.pid)
        started = time.perf_counter()
        for _ in range(scrapes):
            scrape(lab, ours_url)
        took = time.perf_counter() - started
        after = rss_kib(exporter.pid)
        print(f"exporter RSS after 50 warm-up scrapes {before / 1024:.1f} MiB, after {scrapes} "  # noqa: T201
              f"more {after / 1024:.1f} MiB: growth {(after - before) / 1024:+.2f} MiB "
              f"(target < 5 MiB); {scrapes / took:.1f} scrapes/s")
    finally:
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
