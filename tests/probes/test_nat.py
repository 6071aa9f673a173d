"""The nat probe behind a real NAT: three namespaces, nftables masquerade in the middle.

    client 198.18.10.2 --- 198.18.10.1 router 198.18.20.1 --- 198.18.20.2/.3 server

The server runs `trtcdetect serve` (STUN) on two ports of two addresses. Plain `masquerade`
keeps the client's source port where it can, so one socket keeps one mapping whatever the
destination (endpoint-independent); `masquerade random` draws a new port for each connection
(each destination), which is the dependent ("symmetric") mapping.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab import built, run
from trtcdetect.report.json import validate

OUTSIDE = "198.18.20.1"
SERVERS = ("198.18.20.2", "198.18.20.3")
SERVER6 = "2001:db8:20::2"


class NatLab:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.client, self.router, self.server = (f"tdn{tag}{x}" for x in "crs")
        self.procs: list[subprocess.Popen[bytes]] = []

    def up(self) -> NatLab:
        for ns in (self.client, self.router, self.server):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        links = ((self.client, f"{self.client}a", self.router, f"{self.router}a"),
                 (self.router, f"{self.router}b", self.server, f"{self.server}b"))
        for left_ns, left, right_ns, right in links:
            run(["ip", "link", "add", left, "type", "veth", "peer", "name", right])
            run(["ip", "link", "set", left, "netns", left_ns])
            run(["ip", "link", "set", right, "netns", right_ns])
            run(["ip", "-n", left_ns, "link", "set", left, "up"])
            run(["ip", "-n", right_ns, "link", "set", right, "up"])
        run(["ip", "-n", self.client, "addr", "add", "198.18.10.2/24", "dev", f"{self.client}a"])
        run(["ip", "-n", self.router, "addr", "add", "198.18.10.1/24", "dev", f"{self.router}a"])
        run(["ip", "-n", self.router, "addr", "add", f"{OUTSIDE}/24", "dev", f"{self.router}b"])
        for address in SERVERS:
            run(["ip", "-n", self.server, "addr", "add", f"{address}/24", "dev", f"{self.server}b"])
        run(["ip", "-n", self.client, "route", "add", "default", "via", "198.18.10.1"])
        # IPv6 on the outside link only (documentation prefix, no duplicate detection wait)
        run(["ip", "-n", self.router, "addr", "add", "2001:db8:20::1/64", "dev", f"{self.router}b",
             "nodad"])
        run(["ip", "-n", self.server, "addr", "add", f"{SERVER6}/64", "dev", f"{self.server}b",
             "nodad"])
        run(["ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for address in (*SERVERS, SERVER6):
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.server, sys.executable, "-m", "trtcdetect", "serve",
                 "--bind", address, "--quiet", "--https-port", "0", "--tcp-ports", "",
                 "--udp-ports", "3478,3479"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.procs.append(proc)
            assert proc.stdout is not None and "ready" in proc.stdout.readline().decode()
        return self

    def nat(self, rule: str | None) -> None:
        run(["ip", "netns", "exec", self.router, "nft", "flush", "ruleset"])
        if rule:
            script = ("table ip nat {\n chain post {\n  type nat hook postrouting priority 100;\n"
                      f"  oifname \"{self.router}b\" {rule}\n }}\n}}\n")
            run(["ip", "netns", "exec", self.router, "nft", "-f", "-"], input=script)

    def down(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.communicate(timeout=5)
        for ns in (self.client, self.router, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def nat_probe(self, ns: str | None = None, *extra: str) -> dict[str, Any]:
        stun = [arg for address in SERVERS for port in (3478, 3479)
                for arg in ("--stun", f"{address}:{port}")] + list(extra)
        proc = subprocess.run(
            ["ip", "netns", "exec", ns or self.client, sys.executable, "-m", "trtcdetect",
             "--only", "nat", "--json", "--quiet", "--timeout", "2", *stun],
            capture_output=True, text=True, timeout=60)
        assert proc.stderr == "", proc.stderr
        doc = json.loads(proc.stdout)
        validate(doc)
        probe: dict[str, Any] = doc["probes"][0]
        return probe


@pytest.fixture(scope="module")
def natlab() -> Iterator[NatLab]:
    with built(NatLab) as lab:
        yield lab


def test_behind_masquerade_the_public_address_is_the_nats(natlab: NatLab) -> None:
    natlab.nat("masquerade")
    probe = natlab.nat_probe()
    nat = probe["details"]["ipv4"]
    assert nat["behind_nat"] is True
    assert nat["public_addresses"] == [OUTSIDE]
    assert nat["mapping"] == "endpoint-independent"
    assert nat["compared"] == "destinations differing in address and port"
    assert probe["status"] == "pass" and OUTSIDE in probe["summary"]


def test_random_port_masquerade_is_detected_as_dependent_mapping(natlab: NatLab) -> None:
    natlab.nat("masquerade random")
    probe = natlab.nat_probe()
    nat = probe["details"]["ipv4"]
    assert nat["behind_nat"] is True and nat["mapping"] == "dependent"
    assert probe["status"] == "warn" and "relay" in probe["summary"]
    assert probe["advice_ids"][0]["id"] == "nat-relay"


def test_without_nat_the_address_is_its_own(natlab: NatLab) -> None:
    natlab.nat(None)
    probe = natlab.nat_probe(natlab.router)  # the router's outside address faces the servers
    nat = probe["details"]["ipv4"]
    assert nat["behind_nat"] is False and nat["public_addresses"] == [OUTSIDE]
    assert probe["status"] == "pass" and "no NAT" in probe["summary"]


def test_ipv6_address_and_ipv6_stun(natlab: NatLab) -> None:
    natlab.nat(None)
    probe = natlab.nat_probe(natlab.router, "--stun", f"[{SERVER6}]:3478")
    assert "2001:db8:20::1" in probe["details"]["ipv6_addresses"]
    assert probe["details"]["ipv6_stun"] is True
    v6 = [b for b in probe["details"]["bindings"] if b["destination"].startswith("[2001:")]
    assert v6 and all(b["mapped"].startswith("[2001:db8:20::1]:") for b in v6)
    # the client namespace has no IPv6 address: no host address, and IPv6 STUN not tried
    probe = natlab.nat_probe(natlab.client, "--stun", f"[{SERVER6}]:3478")
    assert probe["details"]["ipv6_addresses"] == [] and probe["details"]["ipv6_stun"] is None


def test_a_symmetric_nat_is_the_first_cause_with_the_path_beside_it(natlab: NatLab) -> None:
    """The scenario corpus' symmetric NAT: a whole network run behind `masquerade random`. The
    ports answer and the path reaches the server through the router, so UDP gets out; the one
    thing to say is the mapping -- calls will likely need a relay -- for the network
    administrator, in both languages, and nothing shown contradicts it."""
    from tests.scenarios.test_diagnosis_lab import named

    natlab.nat("masquerade random")
    stun = [arg for address in SERVERS for port in (3478, 3479)
            for arg in ("--stun", f"{address}:{port}")]
    proc = subprocess.run(
        ["ip", "netns", "exec", natlab.client, sys.executable, "-m", "trtcdetect", "--json",
         "--quiet", "--only", "ports,nat,path", "--target", SERVERS[0], "--tcp-ports", "",
         "--udp-ports", "3478,3479", "--timeout", "2", *stun],
        capture_output=True, text=True, timeout=60)
    doc = json.loads(proc.stdout)
    validate(doc)
    top = named(doc, "probe.nat", "network", ("nat",), "对称型")
    assert "relay" in top["headline"]
    path = next(p for p in doc["probes"] if p["id"] == "path")
    assert path["status"] == "pass" and path["details"]["reached_at"] == 2
    assert [h["address"] for h in path["details"]["hops"]] == ["198.18.10.1", SERVERS[0]]
    assert proc.returncode == 1
