"""The trtc probe against Tencent's real cloud: what a user with internet (and, for the call,
credentials) runs to see the paths this project could only test offline.

    .venv/bin/python benchmarks/trtc_live.py --runs 3
    .venv/bin/python benchmarks/trtc_live.py --runs 3 --credentials creds.json
    TRTC_SECRET_KEY=... .venv/bin/python benchmarks/trtc_live.py --sdk-app-id 1400000000

Each run is `trtcdetect --only trtc --json` (Tencent's SDK in a child process, as the probe always
runs it); the table is the probe's own figures, one row per run, then the medians. Without
credentials: did TRTC's access servers answer, in how many ms, over which transport. With them:
the two-user call (enter times, first audio and video, Tencent's network quality, RTT and loss of
the custom-message ping). A test call through TRTC is billed to the application like any call
(a few user-minutes).

Where the SDK must not reach the internet (a build machine), run this inside a network namespace
with no route out: every row then shows what the SDK tried and how it ended.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any


def run_once(extra: list[str], deadline: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "trtc", "--json",
                           "--quiet", "--trtc-deadline", deadline, *extra],
                          capture_output=True, text=True, env=env, timeout=120)
    if not proc.stdout.startswith("{"):
        return {"status": "error", "summary": proc.stderr.strip()[:200], "details": {},
                "metrics": []}
    (probe,) = json.loads(proc.stdout)["probes"]
    return probe  # type: ignore[no-any-return]


def metric(probe: dict[str, Any], name: str) -> float | None:
    for m in probe.get("metrics") or ():
        if m["name"] == name:
            return m["value"]  # type: ignore[no-any-return]
    return None


def cell(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--credentials", help="a file from 'trtcdetect credentials'")
    parser.add_argument("--sdk-app-id", help="with $TRTC_SECRET_KEY: UserSigs made per run")
    parser.add_argument("--trtc-deadline", default="12")
    parser.add_argument("--trtc-seconds", default="15")
    args = parser.parse_args()
    extra: list[str] = []
    if args.credentials:
        extra = ["--credentials", args.credentials, "--trtc-seconds", args.trtc_seconds]
    elif args.sdk_app_id:
        extra = ["--sdk-app-id", args.sdk_app_id, "--trtc-seconds", args.trtc_seconds]
    call = bool(extra)
    rows = [run_once(extra, args.trtc_deadline) for _ in range(max(1, min(args.runs, 20)))]
    if call:
        head = ("run", "status", "enter up", "enter down", "1st audio", "1st video", "quality",
                "RTT", "loss", "summary")
        names = ("trtc_enter_up", "trtc_enter_down", "trtc_first_audio", "trtc_first_video",
                 "trtc_quality_mean", "trtc_rtt", "trtc_message_loss")
        units = (" ms", " ms", " ms", " ms", "", " ms", " %")
    else:
        head = ("run", "status", "answer", "over", "endpoints tried", "summary")
        names = ("trtc_answer",)
        units = (" ms",)
    print(" | ".join(head))  # noqa: T201
    for index, probe in enumerate(rows, 1):
        figures = [cell(metric(probe, n), u) for n, u in zip(names, units, strict=True)]
        if not call:
            over = (probe["details"].get("reached_over") or {}).get("transport", "-")
            figures += [over, str(len(probe["details"].get("endpoints") or ()))]
        print(" | ".join([str(index), probe["status"], *figures, probe["summary"]]))  # noqa: T201
    print()  # noqa: T201
    for name, unit in zip(names, units, strict=True):
        values = [v for p in rows if (v := metric(p, name)) is not None]
        if values:
            print(f"median {name}: {statistics.median(values):g}{unit} "  # noqa: T201
                  f"({len(values)} of {len(rows)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
