"""The path probe's placement against random loss: how often it names the right hop.

    .venv/bin/python benchmarks/path_placement.py [--runs 20] [--loss 10,20,30]
                                                  (root; about 1 minute per 20 runs a row)

Four routers in namespaces (tests/pathlab.py: this computer -- gateway -- provider -- server's
edge -- server). For each place (the link before the gateway, after it, after the provider,
before the server) and each loss rate, nftables drops that share of the datagrams toward the
server at random (`numgen random`, not the per-TTL counter the tests use) and the probe traces
--runs times (net.path.trace, its defaults: 8 datagrams a hop, at most 2.9 s). Printed per row:
how often the probe named the right hop, named another (the wrong party would be blamed), or
named none (loss said without a place); and the time a trace took.
The routers' ICMP limits are off (icmp_ratelimit 0): what is measured is the placement rule's
sampling error, not a router's policy. Bounded: fixed runs, each trace at most 3 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab import lab_available, run  # noqa: E402
from tests.pathlab import SERVER, PathLab  # noqa: E402

#: the router that receives from the lossy link -> the hop where loss starts
PLACES = {"client": 1, "gw": 2, "isp": 3, "edge": 4}
CHAIN = ["client", "gw", "isp", "edge", "server"]
TRACE = ("from trtcdetect.net.path import trace; from trtcdetect.probes.path import loss_start;"
         "import json; t = trace({server!r}, 8000).as_dict();"
         "print(json.dumps([loss_start(t['hops'], t['reached_at']), t['elapsed_s']]))")


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a benchmark prints its tables


def random_loss(lab: PathLab, sender: str, pct: int) -> str:
    receiver = CHAIN[CHAIN.index(sender) + 1]
    script = ("table inet lossy {\n chain pre {\n  type filter hook prerouting priority 0;\n"
              f"  ip daddr {SERVER} meta l4proto udp numgen random mod 100 < {pct} drop\n }}\n}}\n")
    run(["ip", "netns", "exec", lab.ns(receiver), "nft", "-f", "-"], input=script)
    return receiver


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--loss", default="10,20,30")
    args = parser.parse_args()
    reason = lab_available()
    if reason:
        say(f"skipped: {reason}")
        return 0
    rates = [int(x) for x in args.loss.split(",")]
    lab = PathLab().up()
    try:
        lab.serve("--https-port", "0", "--tcp-ports", "", "--udp-ports", "8000")
        lab.icmp_limit(0)
        say(f"{'lossy link before':<18}{'loss %':>7}{'right':>7}{'wrong hop':>10}"
              f"{'no place':>9}{'median s':>10}")
        for sender, hop in PLACES.items():
            for pct in rates:
                receiver = random_loss(lab, sender, pct)
                right = other = none = 0
                took = []
                for _ in range(args.runs):
                    out = subprocess.run(
                        ["ip", "netns", "exec", lab.ns("client"), sys.executable, "-c",
                         TRACE.format(server=SERVER)], capture_output=True, text=True,
                        timeout=30, check=True)
                    found, elapsed = json.loads(out.stdout)
                    took.append(elapsed)
                    if found is None or not found["certain"]:  # said without a place
                        none += 1
                    elif found["ttl"] == hop:
                        right += 1
                    else:
                        other += 1
                run(["ip", "netns", "exec", lab.ns(receiver), "nft", "delete", "table", "inet",
                     "lossy"])
                say(f"{f'hop {hop} ({sender})':<18}{pct:>7}{right:>7}{other:>10}{none:>9}"
                      f"{statistics.median(took):>10.2f}")
    finally:
        lab.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
