"""Wall and CPU time of trtcdetect runs, median of N, printed as a table. Needs root (netns lab).

    .venv/bin/python benchmarks/speed.py [--runs 5]

Cases: `--version`; the ports probe against `trtcdetect serve` in the lab with every port open;
the same with every packet to the server dropped (target: about one --timeout, not one per port);
the full offline diagnosis (`trtcdetect demo`). Not part of the test suite's pass/fail.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab import SERVER_ADDRS, Lab  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    me = [sys.executable, "-m", "trtcdetect"]
    lab = Lab().up()
    rows = []
    try:
        lab.serve(SERVER_ADDRS[0], "--https-port", "0")
        client = ["ip", "netns", "exec", lab.client, *me]
        ports = ["--only", "ports", "--target", SERVER_ADDRS[0], "--json", "--quiet",
                 "--timeout", "3"]
        cases = [
            ("--version", None, [*me, "--version"]),
            ("ports, all open (lab)", None, [*client, *ports]),
            ("ports, all dropped, --timeout 3 (lab)", [f"ip daddr {SERVER_ADDRS[0]} drop"],
             [*client, *ports]),
            ("demo: full offline diagnosis", None, [*me, "demo", "--output",
                                                    "/tmp/trtcdetect-bench"]),
        ]
        for name, rules, cmd in cases:
            lab.firewall(rules or [])
            samples = [timed(cmd) for _ in range(args.runs)]
            codes = sorted({s[2] for s in samples})
            rows.append((name, statistics.median(s[0] for s in samples),
                         statistics.median(s[1] for s in samples), codes))
    finally:
        lab.down()
    print(f"{'case':<42} {'wall s':>8} {'cpu s':>8}  exit codes   (median of {args.runs})")  # noqa: T201
    for name, wall, cpu, codes in rows:
        print(f"{name:<42} {wall:>8.2f} {cpu:>8.2f}  {codes}")  # noqa: T201


if __name__ == "__main__":
    main()
