"""serve behind a 1:1 NAT, as on a cloud machine, called from behind a NAT, as from an office:
neither end's own addresses can be reached by the other. serve listens on a private address
(10.99.0.2) that the public one (198.19.0.2) is translated to both ways; the caller's private
address (10.98.0.1) leaves as 198.19.0.1 (nft in each namespace). The echo call's media port is
offered at the address the caller dialled, so the call connects with no STUN server asked;
offered only at serve's private address, ICE cannot connect."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.impair import CLIENT_ADDR, SERVER_ADDR, ImpairedLink
from tests.lab import lab_available, run

SERVE_PRIVATE, CLIENT_PRIVATE = "10.99.0.2", "10.98.0.1"


def nat(ns: str, pre: str = "", post: str = "") -> None:
    """nftables NAT in namespace `ns`: `pre` rules (DNAT) and `post` rules (SNAT)."""
    run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=(
        "table ip nat {\n chain pre {\n  type nat hook prerouting priority dstnat;\n"
        f"  {pre}\n }}\n chain post {{\n  type nat hook postrouting priority srcnat;\n"
        f"  {post}\n }}\n}}\n"))


def renumber(ns: str, public: str, private: str, peer: str) -> None:
    device = f"{ns}t"
    run(["ip", "-n", ns, "addr", "del", public, "peer", peer, "dev", device])
    run(["ip", "-n", ns, "addr", "add", private, "peer", peer, "dev", device])


def test_an_echo_call_between_two_nats() -> None:
    reason = lab_available()
    if reason:
        pytest.skip(reason)
    with ImpairedLink() as link:
        renumber(link.server, SERVER_ADDR, SERVE_PRIVATE, CLIENT_ADDR)
        # the NAT is on the way out of the machine, as a cloud's is: not on its own loopback
        nat(link.server, pre=f"ip daddr {SERVER_ADDR} dnat to {SERVE_PRIVATE}",
            post=f"oifname {link.server}t ip saddr {SERVE_PRIVATE} snat to {SERVER_ADDR}")
        renumber(link.client, CLIENT_ADDR, CLIENT_PRIVATE, SERVER_ADDR)
        nat(link.client, post=f"oifname {link.client}t ip saddr {CLIENT_PRIVATE} snat to {CLIENT_ADDR}")
        with link.dns_heard(link.server) as heard:  # serve asks no STUN server by default
            serve = link.spawn(link.server, [
                sys.executable, "-m", "trtcdetect", "serve", "--bind", SERVE_PRIVATE,
                "--http-port", "8089", "--https-port", "0", "--tcp-ports", ""],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert serve.stdout is not None and "ready" in serve.stdout.readline().decode()
            proc = link.client_run(
                "--only", "rtp", "--echo-url", f"http://{SERVER_ADDR}:8089/call",
                "--audio-only", "--call-seconds", "1", "--connect-deadline", "5", "--json",
                "--quiet")
        assert heard == [], heard
        probe = json.loads(proc.stdout)["probes"][0]
        assert probe["status"] == "pass", (probe["summary"], probe["details"].get("failed_stage"))
        assert probe["details"]["audio"]["packets_received"] > 20
