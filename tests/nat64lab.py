"""An IPv6-only network with NAT64 and DNS64, as mobile operators run them.

    client 2001:db8:64::2 --- 2001:db8:64::1 router 198.18.64.1 --- 198.18.64.2 server
                              tayga (NAT64, prefix 2001:db8:6464::/96, pool 198.18.65.0/24)
                              dnsmasq (the DNS64's answers)

The client has no IPv4 at all. Debian's tayga translates between the prefix and IPv4 in the
router; the server (`trtcdetect serve`, with a certificate for trtc.test from a test CA) is
IPv4 only. The DNS64 is a stand-in: dnsmasq answers the AAAA records a DNS64 would synthesize
(trtc.test -> 2001:db8:6464::c612:4002, ipv4only.arpa -> 2001:db8:6464::c000:aa, RFC 7050)
and nothing for A; what is under test is what the client sees of it.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.lab import run

CLIENT6, ROUTER6 = "2001:db8:64::2", "2001:db8:64::1"
ROUTER4, SERVER4 = "198.18.64.1", "198.18.64.2"
PREFIX = "2001:db8:6464::/96"
SERVER_VIA_NAT64 = "2001:db8:6464::c612:4002"  # SERVER4 under the prefix


def available() -> str | None:
    for tool in ("tayga", "dnsmasq"):
        if shutil.which(tool) is None:
            return f"the NAT64 lab needs Debian's {tool}"
    return None


class Nat64Lab:
    def __init__(self, workdir: Path) -> None:
        tag = secrets.token_hex(3)
        self.client, self.router, self.server = (f"td6{tag}{x}" for x in "crs")
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.etc = Path("/etc/netns") / self.client

    def up(self) -> Nat64Lab:
        c, r, s = self.client, self.router, self.server
        for ns in (c, r, s):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        for left, right in ((c, r), (r, s)):
            run(["ip", "link", "add", f"{left}x", "type", "veth", "peer", "name", f"{right}y"])
            run(["ip", "link", "set", f"{left}x", "netns", left])
            run(["ip", "link", "set", f"{right}y", "netns", right])
        run(["ip", "-n", c, "addr", "add", f"{CLIENT6}/64", "dev", f"{c}x", "nodad"])
        run(["ip", "-n", r, "addr", "add", f"{ROUTER6}/64", "dev", f"{r}y", "nodad"])
        run(["ip", "-n", r, "addr", "add", f"{ROUTER4}/24", "dev", f"{r}x"])
        run(["ip", "-n", s, "addr", "add", f"{SERVER4}/24", "dev", f"{s}y"])
        for ns, device in ((c, f"{c}x"), (r, f"{r}y"), (r, f"{r}x"), (s, f"{s}y")):
            run(["ip", "-n", ns, "link", "set", device, "up"])
        run(["ip", "-n", c, "-6", "route", "add", "default", "via", ROUTER6])
        run(["ip", "-n", s, "route", "add", "default", "via", ROUTER4])
        run(["ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1",
             "net.ipv6.conf.all.forwarding=1"])
        data = self.workdir / "tayga"
        data.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "tayga.conf"
        conf.write_text(f"tun-device nat64\nipv4-addr 198.18.65.1\nprefix {PREFIX}\n"
                        f"dynamic-pool 198.18.65.0/24\ndata-dir {data}\n")
        run(["ip", "netns", "exec", r, "tayga", "-c", str(conf), "--mktun"])
        run(["ip", "-n", r, "link", "set", "nat64", "up"])
        run(["ip", "-n", r, "route", "add", "198.18.65.0/24", "dev", "nat64"])
        run(["ip", "-n", r, "route", "add", PREFIX, "dev", "nat64"])
        self.spawn(r, ["tayga", "-c", str(conf), "--nodetach"])
        self.spawn(r, ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                       "--conf-file=/dev/null", f"--listen-address={ROUTER6}",
                       "--bind-interfaces", "--user=root",
                       f"--pid-file={self.workdir / 'dnsmasq.pid'}",
                       f"--address=/trtc.test/{SERVER_VIA_NAT64}",
                       "--address=/ipv4only.arpa/2001:db8:6464::c000:aa"])
        self.etc.mkdir(parents=True, exist_ok=True)
        (self.etc / "resolv.conf").write_text(f"nameserver {ROUTER6}\n")
        self._wait_udp(r, f"[{ROUTER6}]:53")
        return self

    def spawn(self, ns: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def serve(self, *args: str) -> None:
        proc = self.spawn(self.server, [sys.executable, "-m", "trtcdetect", "serve", "--bind",
                                        SERVER4, "--quiet", *args])
        assert proc.stdout is not None and "ready" in proc.stdout.readline().decode()

    def _wait_udp(self, ns: str, where: str) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = run(["ip", "netns", "exec", ns, "ss", "-Hlun", f"src {where}"])
            if out.stdout.strip():
                return
            time.sleep(0.05)
        raise RuntimeError(f"nothing listens on udp {where}")

    def down(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for ns in (self.client, self.router, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self.etc, ignore_errors=True)
