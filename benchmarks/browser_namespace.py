"""What the browser's own network namespace (browser/netns.py: slirp4netns copying every packet
in user space) adds to the figures of a browser check. Needs root, Debian's chromium and
slirp4netns; everything runs in the namespace lab (no route out).

    .venv/bin/python benchmarks/browser_namespace.py [--runs N]

Two rows per check, on the same lab link: the browser as it runs without options (-4: the page
holds its call to IPv4, no namespace) and held to a second client address (--source: in its own
namespace). `--browser-webrtc` against `trtcdetect serve`'s echo peer: the candidate
pair's current RTT (Chromium's latest STUN check on the transport's selected pair), the
largest RTT of its receiver reports, the packets lost and the probe's duration. `trtcweb`: the
time Tencent's Web SDK took to give up on a scheduling name whose server (a lab listener on 443)
closes each connection, and the probe's duration.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab import SERVER_ADDRS, Lab, built, run  # noqa: E402
from tests.scenarios.test_browser_netns import LISTENER, SECOND  # noqa: E402

ECHO = SERVER_ADDRS[7]


def probe(lab: Lab, pid: str, *args: str) -> dict[str, Any]:
    proc = lab.trtcdetect("--json", "--quiet", *args, timeout=120)
    return next(p for p in json.loads(proc.stdout)["probes"] if p["id"] == pid)


def webrtc_row(result: dict[str, Any]) -> tuple[float | None, float | None, int, float]:
    webrtc = result["details"]["webrtc"]
    stats = webrtc.get("stats") or []
    pair = [s["currentRoundTripTime"] * 1000 for s in stats
            if s["type"] == "candidate-pair" and s.get("currentRoundTripTime") is not None]
    reports = [s["roundTripTime"] * 1000 for s in stats
               if s["type"] == "remote-inbound-rtp" and s.get("roundTripTime") is not None]
    lost = sum(s.get("packetsLost") or 0 for s in stats if s["type"] == "remote-inbound-rtp")
    if not webrtc.get("connected"):
        raise SystemExit(f"the browser's call did not connect: {result['summary']}")
    return (max(pair) if pair else None, max(reports) if reports else None, lost,
            result["duration_s"])


def median(values: list[float | None]) -> str:
    """The median and, in brackets, the lowest and highest."""
    found = [v for v in values if v is not None]
    if not found:
        return f"{'-':>18}"
    return f"{statistics.median(found):6.2f} ({min(found):.1f}-{max(found):.1f})".rjust(18)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = max(1, min(parser.parse_args().runs, 20))
    with built(Lab) as lab:
        run(["ip", "-n", lab.client, "addr", "add", f"{SECOND}/24", "dev", f"{lab.client}v"])
        lab.serve(ECHO, "--http-port", "8089", "--https-port", "0", "--tcp-ports", "",
                  "--udp-ports", "")
        lab.dnsmasq({"#": SERVER_ADDRS[3]})
        listener = lab.spawn([sys.executable, "-c", LISTENER, "/dev/null", SERVER_ADDRS[3]],
                             stdout=subprocess.PIPE)
        assert listener.stdout is not None and listener.stdout.readline().strip() == b"ready"
        echo = ("--only", "browsers", "--browser-webrtc", "--echo-url",
                f"http://{ECHO}:8089/call")
        version = subprocess.run(["chromium", "--version"], capture_output=True, text=True)
        say(f"{runs} runs each, median (lowest-highest); {version.stdout.strip()}")
        say(f"{'check':<16} {'how':<23} {'pair RTT ms':>18} {'RR RTT ms':>18} {'lost':>4} "
            f"{'probe s':>18}")
        for how, options in (("-4 (no namespace)", ("-4",)),
                             (f"--source {SECOND}", ("--source", SECOND))):
            rows = [webrtc_row(probe(lab, "browsers", *echo, *options)) for _ in range(runs)]
            say(f"--browser-webrtc {how:<23} {median([r[0] for r in rows])} "
                f"{median([r[1] for r in rows])} {max(r[2] for r in rows):4d} "
                f"{median([r[3] for r in rows])}")
        say(f"{'check':<16} {'how':<23} {'SDK gave up ms':>18} {'probe s':>18}")
        for how, options in (("no options", ()), (f"--source {SECOND}", ("--source", SECOND))):
            results = [probe(lab, "trtcweb", "--only", "trtcweb,browsers", "--trtc-deadline",
                             "6", *options) for _ in range(runs)]
            ms = [float((r["details"].get("schedule") or {}).get("ms") or 0) or None
                  for r in results]
            say(f"trtcweb          {how:<23} {median(ms)} "
                f"{median([r['duration_s'] for r in results])}")


if __name__ == "__main__":
    main()
