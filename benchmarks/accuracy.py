"""Accuracy: injected vs measured RTT, loss and jitter on the user-space impaired link, for the
test call (`rtp` against `trtcdetect serve`'s echo peer) and the per-port STUN trains, with
iperf3 -u beside them where Debian's iperf3 is installed. Needs root.

    .venv/bin/python benchmarks/accuracy.py [--quick]

Expected values: the link adds `delay` + uniform(0, jitter) each way, so RTT = 2 x delay +
jitter (mean); RFC 3550 jitter of one direction = jitter / 3; the test call's audio loss is
the one-way loss; a STUN train request is lost if either way drops it: 1 - (1 - loss)^2.
Random loss over a 4 s call (200 audio packets) spreads around the injected rate (binomial:
+-2 pp at 10 %), so the call's loss is also compared with what the link really dropped of the
call's audio packets ("link"): that difference is the measurement's own error.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.impair import SERVER_ADDR, ImpairedLink, Impairment  # noqa: E402

ECHO = f"http://{SERVER_ADDR}:8089/call"


def run_json(link: ImpairedLink, *args: str) -> dict[str, Any]:
    proc = link.client_run(*args, "--json", "--quiet", timeout=120)
    probe: dict[str, Any] = json.loads(proc.stdout)["probes"][0]
    return probe


def iperf(link: ImpairedLink) -> tuple[float, float] | None:
    if shutil.which("iperf3") is None:
        return None
    server = link.spawn(link.server, ["iperf3", "-s", "-1", "-B", SERVER_ADDR],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["sleep", "0.5"])
    try:
        proc = subprocess.run(["ip", "netns", "exec", link.client, "iperf3", "-u", "-c",
                               SERVER_ADDR, "-b", "500K", "-l", "200", "-t", "3", "--json",
                               "--connect-timeout", "5000"],
                              capture_output=True, text=True, timeout=30)
        end = json.loads(proc.stdout)["end"]["sum"]
        return float(end["lost_percent"]), float(end["jitter_ms"])
    except (ValueError, KeyError, subprocess.TimeoutExpired):
        return None
    finally:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 4-cell grid instead of 24")
    args = parser.parse_args()
    delays, losses, jitters = ([0, 25, 100], [0, 1, 5, 10], [0, 10])
    if args.quick:
        delays, losses, jitters = [25], [0, 5], [0, 10]
    print(f"machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}")  # noqa: T201
    print("| delay ms | loss % | jitter ms | RTT exp | call RTT | train RTT | loss exp (call / train) | "  # noqa: T201
          "call loss | link | train loss | jitter exp | call jitter | iperf3 loss | iperf3 jitter | "
          "error in this cell (absolute) |")
    print("|" + "---:|" * 14 + "---|")  # noqa: T201
    errors: dict[str, list[float]] = {}
    with ImpairedLink() as link:
        link.serve_echo()
        for delay, loss, jitter in itertools.product(delays, losses, jitters):
            way = Impairment(delay_ms=delay, loss_pct=loss, jitter_ms=jitter)
            link.set(way, way)
            call = run_json(link, "--only", "rtp", "--echo-url", ECHO, "--audio-only",
                            "--call-seconds", "4", "--connect-deadline", "15")
            payload = (call["details"].get("codecs") or {}).get("audio", {}).get("payload_type")
            link_loss = link.counts.window_loss_pct("up", f"rtp-{payload}")  # the call's only
            trains = run_json(link, "--only", "ports", "--target", SERVER_ADDR, "--tcp-ports", "",
                              "--udp-ports", "8000,8800", "--port-quality", "--timeout", "2")
            perf = iperf(link)
            rtt_exp, jitter_exp = 2 * delay + jitter, jitter / 3
            train_loss_exp = 100 * (1 - (1 - loss / 100) ** 2)
            audio = call["details"].get("audio", {})
            call_rtt = (audio.get("rtt_ms") or {}).get("avg")
            call_jitter = (audio.get("jitter_ms") or {}).get("avg")
            call_loss = audio.get("uplink_loss_pct")
            quality = trains["details"].get("quality", [])
            answered = [q for q in quality if q["rtt_ms"]]
            train_rtt = (sum(q["rtt_ms"]["avg"] for q in answered) / len(answered)
                         if answered else None)
            train_loss = (sum(q["sent"] - q["answered"] for q in quality)
                          / max(1, sum(q["sent"] for q in quality)) * 100)
            cell: list[str] = []
            for key, measured, expected in (("call RTT ms", call_rtt, rtt_exp),
                                            ("train RTT ms", train_rtt, rtt_exp),
                                            ("call loss pp", call_loss, loss),
                                            ("call loss vs link pp", call_loss, link_loss),
                                            ("train loss pp", train_loss, train_loss_exp),
                                            ("call jitter ms", call_jitter, jitter_exp),
                                            ("iperf3 loss pp", perf[0] if perf else None, loss),
                                            ("iperf3 jitter ms", perf[1] if perf else None,
                                             jitter_exp)):
                if measured is not None:
                    errors.setdefault(key, []).append(abs(measured - expected))
                    cell.append(f"{key.rsplit(' ', 1)[0]} {abs(measured - expected):.1f}")

            def fmt(value: float | None) -> str:
                return "—" if value is None else f"{value:.1f}"

            print(f"| {delay} | {loss} | {jitter} | {rtt_exp:.0f} | {fmt(call_rtt)} | "  # noqa: T201
                  f"{fmt(train_rtt)} | {loss} / {train_loss_exp:.1f} | {fmt(call_loss)} | "
                  f"{fmt(link_loss)} | "
                  f"{fmt(train_loss)} | {jitter_exp:.1f} | {fmt(call_jitter)} | "
                  f"{fmt(perf[0] if perf else None)} | {fmt(perf[1] if perf else None)} | "
                  f"{'; '.join(cell)} |")
    print("\n| |measured - expected| | median | max |")  # noqa: T201
    print("|---|---:|---:|")  # noqa: T201
    for key, values in errors.items():
        values.sort()
        print(f"| {key} | {values[len(values) // 2]:.2f} | {values[-1]:.2f} |")  # noqa: T201


if __name__ == "__main__":
    main()
