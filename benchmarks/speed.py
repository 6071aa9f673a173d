"""Speed: wall and CPU time of trtcdetect runs (median of N) beside nmap on the same lab ports.
Needs root (network namespaces) and, for the side-by-side, Debian's nmap (apt-get install nmap).

    .venv/bin/python benchmarks/speed.py [--runs 5] [--match TEXT]

Prints one table. Targets (issue "Prove it"): --version <= 0.3 s; the all-dropped case about one
--timeout, not one per port; the full offline diagnosis <= 6 s: the ports, domain, nat and rtp
(local call, default 5 s) probes from the lab's client against `serve` at trtc.test, writing
the HTML and JSON reports. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab import SERVER_ADDRS, Lab  # noqa: E402
from trtcdetect.defaults import DEFAULTS  # noqa: E402

SERVE = SERVER_ADDRS[0]
FULL = "full offline diagnosis: ports, domain, nat, rtp (local call, 5 s), reports written"


def timed(cmd: list[str]) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout


def nmap_verdicts(xml: str) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    found = {}
    for port in ET.fromstring(xml).iter("port"):
        state = port.find("state")
        found[f"{port.get('protocol')}/{port.get('portid')}"] = (
            state.get("state", "?") if state is not None else "?")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--match", default="", help="only the cases whose name contains this")
    args = parser.parse_args()
    me = [sys.executable, "-m", "trtcdetect"]
    udp = ",".join(map(str, DEFAULTS.udp_ports))
    lab = Lab().up()
    rows: list[tuple[str, float, float, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="trtcdetect-bench-"))
    try:
        lab.dnsmasq({"trtc.test": SERVE})
        lab.serve(SERVE, "--name", "trtc.test", "--ca-out", str(tmp / "ca.pem"),
                  "--http-port", "8089")
        client = ["ip", "netns", "exec", lab.client]
        ports = [*client, *me, "--only", "ports", "--target", SERVE, "--json", "--quiet",
                 "--timeout", "3"]
        full = [*client, *me, "--only", "ports,domain,nat,rtp", "--target", "trtc.test",
                "--ca-file", str(tmp / "ca.pem"), "--output", str(tmp), "--json", "--quiet"]
        cases: list[tuple[str, list[str] | None, list[str]]] = [
            ("trtcdetect --version", None, [*me, "--version"]),
            ("ports, all 7 open (lab)", None, ports),
            ("ports, all UDP dropped, --timeout 3", [f"ip daddr {SERVE} udp dport != 53 drop"],
             ports),
            ("ports, everything dropped, --timeout 3", [f"ip daddr {SERVE} drop"], ports),
            (FULL, None, full),
            ("the same with --echo-url: the call through serve's echo peer", None,
             [*full, "--echo-url", f"http://{SERVE}:8089/call"]),
            ("demo (every probe, loopback, echo call)", None,
             [*me, "demo", "--output", str(tmp), "--json", "--quiet"]),
        ]
        if shutil.which("nmap"):
            nmap = [*client, "nmap", "-n", "-Pn", "-oX", "-", SERVE]
            cases += [
                ("nmap -sU on the 6 UDP ports (lab)", None, [*nmap[:-1], "-sU", "-p", udp, SERVE]),
                ("nmap -sT on TCP 8687 (lab)", None,
                 [*nmap[:-1], "-sT", "-p", ",".join(map(str, DEFAULTS.tcp_ports)), SERVE]),
                ("nmap -sU, all UDP dropped", [f"ip daddr {SERVE} udp dport != 53 drop"],
                 [*nmap[:-1], "-sU", "-p", udp, SERVE]),
            ]
        for name, rules, cmd in [case for case in cases if args.match in case[0]]:
            lab.firewall(rules or [])
            samples = [timed(cmd) for _ in range(args.runs)]
            note = f"exit {sorted({s[2] for s in samples})}"
            last = samples[-1][3]
            if name.startswith("nmap"):
                note = ", ".join(f"{k} {v}" for k, v in nmap_verdicts(last).items())
            elif last.startswith("{"):
                doc = json.loads(last)
                if name.startswith("ports"):
                    verdicts = [p["verdict"] for p in doc["probes"][0]["details"]["ports"]]
                    note += "; " + ", ".join(f"{verdicts.count(v)} {v}"
                                             for v in dict.fromkeys(verdicts))
                else:
                    note += "; " + ", ".join(f"{p['id']} {p['status']}" for p in doc["probes"])
                    note += f"; every run {sorted(round(sample[0], 2) for sample in samples)}"
            rows.append((name, statistics.median(s[0] for s in samples),
                         statistics.median(s[1] for s in samples), note))
    finally:
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"| case (median of {args.runs}) | wall s | CPU s | result |")  # noqa: T201
    print("|---|---:|---:|---|")  # noqa: T201
    for name, wall, cpu, note in rows:
        note = note.replace("|", "\\|")  # nmap's "open|filtered" inside a Markdown table
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {note} |")  # noqa: T201
    by = {name: wall for name, wall, _, _ in rows}
    if {"nmap -sU on the 6 UDP ports (lab)", "ports, all 7 open (lab)"} <= set(by):  # --match
        ratio = by["ports, all 7 open (lab)"] / by["nmap -sU on the 6 UDP ports (lab)"]
        dropped = by["ports, all UDP dropped, --timeout 3"] / by["nmap -sU, all UDP dropped"]
        print(f"\ntrtcdetect / nmap wall time: all open {ratio:.2f}, "  # noqa: T201
              f"all UDP dropped {dropped:.2f}")
    for name, target in (("trtcdetect --version", 0.3), (FULL, 6.0)):
        if name in by:
            verdict = "met" if by[name] <= target else "MISSED"
            print(f"target {name}: <= {target} s, median {by[name]:.2f} s: {verdict}")  # noqa: T201


if __name__ == "__main__":
    main()
