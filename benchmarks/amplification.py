"""What a forged source address gets out of `trtcdetect serve`, per request kind: bytes sent to
the victim per byte the attacker sent, at IP level (root: network namespaces, a raw socket).

    .venv/bin/python benchmarks/amplification.py [--repeats 20]

The attack itself is tests/server/abuse.py; tests/server/test_abuse_lab.py holds the limits
(STUN <= 1.5, HELLO <= 1, no train without a cookie made for the victim's address). Bounded: a
fixed number of forged requests per kind and 3 s of listening after each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import SERVE  # noqa: E402
from tests.lab import Lab, lab_available  # noqa: E402
from tests.server.abuse import amplification, ratio  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    reason = lab_available()
    if reason:
        raise SystemExit(reason)
    lab = Lab().up()
    try:
        lab.serve(SERVE, "--udp-ports", "8000", "--tcp-ports", "", "--https-port", "0")
        rows = amplification(lab, SERVE, 8000, args.repeats)
    finally:
        lab.down()
    print("| request kind (forged source) | requests | bytes in | bytes out | out / in |")  # noqa: T201
    print("|---|---:|---:|---:|---:|")  # noqa: T201
    for name, row in rows.items():
        print(f"| {name} | {row['requests']} | {row['bytes_in']:,} | {row['bytes_out']:,} | "  # noqa: T201
              f"{ratio(row):.2f} |")


if __name__ == "__main__":
    main()
