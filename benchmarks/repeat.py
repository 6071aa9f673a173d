"""--repeat's memory: the peak RSS of a run of 100 rounds beside one of 1,000, on loopback.

    .venv/bin/python benchmarks/repeat.py

Each run checks one TCP port of a listener on 127.0.0.1 (--only ports, --interval 0: back to
back). Each round keeps only its figures, so the peak should not grow with the rounds (the
target: under 5 MiB more for 900 more rounds). Bounded, loopback only; not part of the tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time


def peak_rss_mib(rounds: int, port: int) -> tuple[float, float]:
    env = {**os.environ, "TRTCDETECT_NO_SDK": "1"}
    started = time.perf_counter()
    # a fresh interpreter that runs the child and reports the child's peak (RUSAGE_CHILDREN)
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "trtcdetect",
                          "--only", "ports", "--target", "127.0.0.1", "--tcp-ports", str(port),
                          "--udp-ports", "", "--repeat", str(rounds), "--interval", "0",
                          "--json", "--quiet"], capture_output=True, text=True, env=env,
                         check=True)
    return int(out.stdout.strip()) / 1024, time.perf_counter() - started


def serve(listener: socket.socket) -> None:
    """Accept and close: a listener that never accepts fills its queue and then drops SYNs."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        connection.close()


def main() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=1024) as listener:
        threading.Thread(target=serve, args=(listener,), daemon=True).start()
        port = listener.getsockname()[1]
        small, t_small = peak_rss_mib(100, port)
        large, t_large = peak_rss_mib(1000, port)
    print(f"peak RSS: 100 rounds {small:.1f} MiB ({t_small:.1f} s), "  # noqa: T201
          f"1000 rounds {large:.1f} MiB ({t_large:.1f} s): {large - small:+.2f} MiB "
          f"(target < 5 MiB)")


if __name__ == "__main__":
    main()
