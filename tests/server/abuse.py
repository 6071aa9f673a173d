"""Forged-source requests at a `trtcdetect serve` in the lab, and what reaches their victim.

An attacker in the client namespace sends UDP datagrams whose source is a victim's address (a
raw socket writes the IPv4 and UDP headers itself); the victim, a socket bound to that address
in the same namespace, counts every byte the server sends it. For each request kind the result
is (datagrams and IP-level bytes the attacker sent, IP-level bytes the victim got). Used by
tests/server/test_abuse_lab.py (which holds the limits) and benchmarks/amplification.py (which
prints the table). Bounded: a fixed number of requests per kind, a fixed wait for answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

VICTIM = "198.18.0.50"

#: runs in the client namespace: python -c SCRIPT SERVER PORT REPEATS
SCRIPT = textwrap.dedent('''
    import json, os, socket, struct, sys, time
    from aioice import stun
    sys.path.insert(0, os.getcwd())
    from trtcdetect.net import capacitywire as wire

    server, port, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    victim_addr = sys.argv[4]
    victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    victim.bind((victim_addr, 0))
    victim.settimeout(0.05)
    vport = victim.getsockname()[1]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)

    def forged(payload):
        udp = struct.pack("!HHHH", vport, port, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP,
                         0, socket.inet_aton(victim_addr), socket.inet_aton(server))
        raw.sendto(ip + udp, (server, 0))
        return 28 + len(payload)

    def drain(seconds):
        got, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                got += 28 + len(victim.recv(4096))
            except socket.timeout:
                pass
        return got

    def cookie_for(sock):
        sock.sendto(wire.hello(b"n" * 8), (server, port))
        sock.settimeout(2)
        return wire.read_welcome(sock.recv(2048))[1]

    results = {}
    # the victim asked once, honestly: its cookie is fresh; a second one, never used, is kept
    # until it is older than the server accepts
    fresh = cookie_for(victim)
    old, old_at = cookie_for(victim), time.monotonic()
    drain(0.2)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((sys.argv[5], 0))
    stolen = cookie_for(other)  # a cookie made for another address
    kinds = {
        "stun binding": lambda n: bytes(stun.Message(stun.Method.BINDING, stun.Class.REQUEST)),
        "capacity hello": lambda n: wire.hello(os.urandom(8)),
        "capacity down, another address's cookie": lambda n: wire.down(wire.DownRequest(
            stolen, b"s" * 8, n, 20000, 1400, 1000)),
        "capacity down, the victim's fresh cookie (no echo)": lambda n: wire.down(
            wire.DownRequest(fresh, b"s" * 8, n, 20000, 1400, 1000)),
    }
    if sys.argv[6] == "old":
        kinds["capacity down, the victim's own cookie, older than 30 s"] = lambda n: wire.down(
            wire.DownRequest(old, b"o" * 8, n, 20000, 1400, 1000))
    for name, make in kinds.items():
        if "older than" in name:
            time.sleep(max(old_at + wire.COOKIE_MAX_AGE_S + 1.5 - time.monotonic(), 0))
        sent = sum(forged(make(n)) for n in range(repeats))
        results[name] = {"requests": repeats, "bytes_in": sent, "bytes_out": drain(3.0)}
    print(json.dumps(results))
''')


def amplification(lab: Any, server: str, port: int, repeats: int = 20,
                  other: str = "198.18.0.51", old: bool = True) -> dict[str, dict[str, int]]:
    """Run SCRIPT in `lab`'s client namespace against `serve` at server:port; with `old`, also
    a cookie replayed once it is older than serve accepts (the run then takes about 35 s)."""
    for address in (VICTIM, other):
        subprocess.run(["ip", "-n", lab.client, "addr", "add", f"{address}/32", "dev",
                        f"{lab.client}v"], check=False, capture_output=True)
    proc = subprocess.run(["ip", "netns", "exec", lab.client, sys.executable, "-c", SCRIPT,
                           server, str(port), str(repeats), VICTIM, other,
                           "old" if old else "-"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found: dict[str, dict[str, int]] = json.loads(proc.stdout)
    return found


def ratio(row: dict[str, int]) -> float:
    return row["bytes_out"] / row["bytes_in"] if row["bytes_in"] else 0.0
