"""A path of real routers: namespaces in a chain, each forwarding, so TTLs run out on the way.

    client .40.2 -- .40.1 gw .41.1 -- .41.2 isp .42.1 -- .42.2 edge .43.1 -- .43.2 server
                (198.18.40-43.0/24)

Hop 1 is this computer's gateway (its LAN / Wi-Fi), hop 2 the provider (the middle), hop 3 the
server's own edge router, hop 4 the server: `trtcdetect serve` answering STUN. A link is made
lossy with nftables where it ends (prerouting of the next one along): `numgen inc mod 5 < 2
drop` per TTL, exactly two datagrams in every five of each hop past it (a counter, not chance: the
ground truth is known). Routers answer ICMP as Linux does by default (6 at once, then one a
second toward one address) unless a test sets icmp_limit(0).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.lab import run

CLIENT, SERVER = "198.18.40.2", "198.18.43.2"
#: router -> (its address toward the client, toward the server)
ROUTERS = {"gw": ("198.18.40.1", "198.18.41.1"), "isp": ("198.18.41.2", "198.18.42.1"),
           "edge": ("198.18.42.2", "198.18.43.1")}
#: the link each router sends toward the server on -> where a loss there is: its name
PLACES = {"client": "this computer's link", "gw": "the middle", "isp": "the middle",
          "edge": "near the server"}


class PathLab:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.names = {n: f"tdp{tag}{n[0]}" for n in ("client", "gw", "isp", "edge", "server")}
        self.procs: list[subprocess.Popen[bytes]] = []

    def ns(self, name: str) -> str:
        return self.names[name]

    def up(self) -> PathLab:
        chain = ["client", "gw", "isp", "edge", "server"]
        for name in chain:
            run(["ip", "netns", "add", self.ns(name)])
            run(["ip", "-n", self.ns(name), "link", "set", "lo", "up"])
        for i, (left, right) in enumerate(zip(chain, chain[1:], strict=False)):
            a, b = f"{self.ns(left)}r{i}", f"{self.ns(right)}l{i}"
            run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
            run(["ip", "link", "set", a, "netns", self.ns(left)])
            run(["ip", "link", "set", b, "netns", self.ns(right)])
            mine, theirs = (2, 1) if left == "client" else (1, 2)
            run(["ip", "-n", self.ns(left), "addr", "add", f"198.18.{40 + i}.{mine}/24", "dev", a])
            run(["ip", "-n", self.ns(right), "addr", "add", f"198.18.{40 + i}.{theirs}/24",
                 "dev", b])
            run(["ip", "-n", self.ns(left), "link", "set", a, "up"])
            run(["ip", "-n", self.ns(right), "link", "set", b, "up"])
        for name in ("gw", "isp", "edge"):
            run(["ip", "netns", "exec", self.ns(name), "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        run(["ip", "-n", self.ns("client"), "route", "add", "default", "via", "198.18.40.1"])
        run(["ip", "-n", self.ns("gw"), "route", "add", "default", "via", "198.18.41.2"])
        run(["ip", "-n", self.ns("isp"), "route", "add", "198.18.40.0/24", "via", "198.18.41.1"])
        run(["ip", "-n", self.ns("isp"), "route", "add", "198.18.43.0/24", "via", "198.18.42.2"])
        run(["ip", "-n", self.ns("edge"), "route", "add", "default", "via", "198.18.42.1"])
        run(["ip", "-n", self.ns("server"), "route", "add", "default", "via", "198.18.43.1"])
        return self

    def icmp_limit(self, ms: int) -> None:
        """Each router's net.ipv4.icmp_ratelimit: Linux's 1000, or 0 for no limit."""
        for name in ROUTERS:
            run(["ip", "netns", "exec", self.ns(name), "sysctl", "-qw",
                 f"net.ipv4.icmp_ratelimit={ms}"])

    def serve(self, *args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("server"), sys.executable, "-m", "trtcdetect",
             "serve", "--bind", SERVER, "--quiet", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert "ready" in line, (line, proc.stderr.read().decode() if proc.stderr else "")
        return proc

    @contextmanager
    def lossy(self, sender: str) -> Iterator[None]:
        """Drop the first two of every five datagrams of each TTL that `sender` sends toward
        the server, as the next one along receives them (prerouting: before a router looks at
        the TTL). One counter per TTL (a rule each), so every hop past the link loses exactly
        two in every five, whatever else crosses the link meanwhile."""
        chain = ["client", "gw", "isp", "edge", "server"]
        receiver = chain[chain.index(sender) + 1]
        rules = "".join(f"  ip ttl {ttl} ip daddr {SERVER} meta l4proto udp "
                        "numgen inc mod 5 < 2 drop\n" for ttl in range(1, 41))
        script = ("table inet lossy {\n chain pre {\n  type filter hook prerouting priority 0;\n"
                  f"{rules} }}\n}}\n")
        run(["ip", "netns", "exec", self.ns(receiver), "nft", "-f", "-"], input=script)
        try:
            yield
        finally:
            run(["ip", "netns", "exec", self.ns(receiver), "nft", "delete", "table", "inet",
                 "lossy"])

    @contextmanager
    def silent(self, router: str) -> Iterator[None]:
        """`router` forwards but never says "time exceeded": a hop that hides itself."""
        script = ("table inet quiet {\n chain output {\n  type filter hook output priority 0;\n"
                  "  icmp type time-exceeded drop\n }\n}\n")
        run(["ip", "netns", "exec", self.ns(router), "nft", "-f", "-"], input=script)
        try:
            yield
        finally:
            run(["ip", "netns", "exec", self.ns(router), "nft", "delete", "table", "inet",
                 "quiet"])

    def down(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        for ns in self.names.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
