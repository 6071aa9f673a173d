"""-4 / -6 in the lab: a name with both an A and an AAAA record (dnsmasq), one with only an A;
the server side has an IPv4 and an IPv6 address."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import CLIENT_ADDR, SERVER_ADDRS, Lab, built, names_asked, run

V6_CLIENT, V6_SERVER = "fd00:18::1", "fd00:18::2"


@pytest.fixture()
def dual_lab(tmp_path: Path) -> Iterator[Lab]:
    """The lab with IPv6 on both ends and dnsmasq logging what it is asked (tmp_path/dns.log)."""
    with built(Lab) as lab:
        run(["ip", "-n", lab.client, "addr", "add", f"{V6_CLIENT}/64", "dev", f"{lab.client}v",
             "nodad"])
        run(["ip", "-n", lab.server, "addr", "add", f"{V6_SERVER}/64", "dev", f"{lab.server}v",
             "nodad"])
        lab.spawn(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                   f"--listen-address={SERVER_ADDRS[0]}", "--bind-interfaces", "--user=root",
                   f"--pid-file=/tmp/{lab.server}-dnsmasq.pid",
                   f"--address=/dual.test/{SERVER_ADDRS[0]}", f"--address=/dual.test/{V6_SERVER}",
                   f"--address=/v4only.test/{SERVER_ADDRS[0]}", "--log-queries",
                   f"--log-facility={tmp_path / 'dns.log'}"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lab.wait_udp_listening(SERVER_ADDRS[0], 53, lab._procs[-1])
        time.sleep(0.2)
        yield lab


def ports(lab: Lab, *args: str) -> dict[str, object]:
    proc = subprocess.run(["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect",
                           "--json", "--quiet", "--only", "ports", "--tcp-ports", "9",
                           "--udp-ports", "", *args], capture_output=True, text=True, timeout=60)
    assert proc.stderr == "", proc.stderr
    return json.loads(proc.stdout)["probes"][0]  # type: ignore[no-any-return]


def test_one_address_family_at_a_time(dual_lab: Lab) -> None:
    assert ports(dual_lab, "--target", "dual.test", "-4")["details"]["address"] == SERVER_ADDRS[0]  # type: ignore[index]
    six = ports(dual_lab, "--target", "dual.test", "-6")
    assert six["details"]["address"] == V6_SERVER  # type: ignore[index]
    assert six["details"]["ports"][0]["verdict"] == "closed"  # type: ignore[index]  # RST over IPv6
    missing = ports(dual_lab, "--target", "v4only.test", "-6")
    assert missing["status"] == "fail"
    assert "v4only.test has no IPv6 address" in str(missing["summary"])


def test_source_address_is_what_the_far_end_sees(services: object) -> None:
    """coturn answers STUN with the address it saw: with --source it is the second address of
    the client namespace, without it the first."""
    from tests.conftest import COTURN, Services

    assert isinstance(services, Services)
    lab = services.lab
    run(["ip", "-n", lab.client, "addr", "add", "198.18.0.100/24", "dev", f"{lab.client}v"])
    try:
        def mapped(*args: str) -> set[str]:
            proc = subprocess.run(
                ["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect", "--json",
                 "--quiet", "--only", "nat", "--stun", f"{COTURN}:8000", *args],
                capture_output=True, text=True, timeout=60)
            bindings = json.loads(proc.stdout)["probes"][0]["details"]["bindings"]
            return {b["mapped"].rsplit(":", 1)[0] for b in bindings if b["mapped"]}

        assert mapped("--source", "198.18.0.100") == {"198.18.0.100"}
        assert mapped() == {"198.18.0.1"}
    finally:
        run(["ip", "-n", lab.client, "addr", "del", "198.18.0.100/24", "dev", f"{lab.client}v"])


def test_interface_sends_out_of_that_device(services: object) -> None:
    """A second link between the lab's namespaces (another subnet, a route of lower preference):
    the routing table sends by the first, --interface by the second -- coturn sees the second
    link's address -- and a device with no path to the server is an error, not a quiet fallback
    to the routing table's choice."""
    from tests.conftest import COTURN, SERVE, Services

    assert isinstance(services, Services)
    lab = services.lab
    near, far, dead = f"{lab.client}w", f"{lab.client}x", f"{lab.client}z"
    run(["ip", "link", "add", near, "netns", lab.client, "type", "veth", "peer", "name", far,
         "netns", lab.server])
    run(["ip", "-n", lab.client, "link", "add", dead, "type", "veth", "peer", "name",
         f"{dead}p"])
    try:
        run(["ip", "-n", lab.client, "addr", "add", "10.77.0.1/24", "dev", near])
        run(["ip", "-n", lab.server, "addr", "add", "10.77.0.2/24", "dev", far])
        for ns, dev in ((lab.client, near), (lab.server, far), (lab.client, dead)):
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        # the server's network again, through the second link, at a metric nobody prefers
        run(["ip", "-n", lab.client, "route", "add", "198.18.0.0/24", "dev", near, "metric",
             "500"])

        def nat(*args: str) -> dict[str, object]:
            proc = subprocess.run(
                ["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect", "--json",
                 "--quiet", "--only", "nat,ports", "--stun", f"{COTURN}:8000", "--target", SERVE,
                 "--tcp-ports", "8687", "--udp-ports", "8000", "--timeout", "1", *args],
                capture_output=True, text=True, timeout=60)
            assert proc.stderr == "", proc.stderr
            return {p["id"]: p for p in json.loads(proc.stdout)["probes"]}

        def mapped(probe: dict[str, object]) -> set[str]:
            bindings = probe["details"]["bindings"]  # type: ignore[index]
            return {b["mapped"].rsplit(":", 1)[0] for b in bindings if b["mapped"]}

        assert mapped(nat()["nat"]) == {"198.18.0.1"}
        chosen = nat("--interface", near)
        assert mapped(chosen["nat"]) == {"10.77.0.1"}
        assert chosen["ports"]["status"] == "pass"
        # the sockets' own address is the second link's too: no NAT is made up from it
        assert chosen["nat"]["details"]["ipv4"]["behind_nat"] is False  # type: ignore[index]
        stranded = nat("--interface", dead)
        assert mapped(stranded["nat"]) == set()
        assert stranded["ports"]["status"] == "fail", stranded["ports"]
    finally:
        run(["ip", "-n", lab.client, "link", "del", near])
        run(["ip", "-n", lab.client, "link", "del", dead])


def test_interface_that_does_not_exist_is_one_line_and_exit_3() -> None:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "ports",
                           "--interface", "nosuchif0"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no network interface 'nosuchif0' here" in lines[0], lines


def test_the_test_call_gathers_only_the_chosen_address(services: object) -> None:
    """The call's ICE with --source and -6: a second client address whose UDP this machine's
    own firewall drops. Unrestricted, ICE finds the first address and connects; from the
    second it cannot; -6 on a machine without a global IPv6 address leaves nothing, said so."""
    from tests.conftest import Services

    assert isinstance(services, Services)
    lab = services.lab
    run(["ip", "-n", lab.client, "addr", "add", "198.18.0.100/24", "dev", f"{lab.client}v"])
    run(["ip", "netns", "exec", lab.client, "iptables", "-I", "OUTPUT", "-s", "198.18.0.100",
         "-p", "udp", "-j", "DROP"])
    try:
        def call(*args: str) -> dict[str, object]:
            proc = subprocess.run(
                ["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect", "--json",
                 "--quiet", "--only", "rtp", "--echo-url", "https://trtc.test/call",
                 "--ca-file", str(services.ca_file), "--call-seconds", "1", "--audio-only",
                 "--connect-deadline", "4", *args], capture_output=True, text=True, timeout=90)
            return json.loads(proc.stdout)["probes"][0]  # type: ignore[no-any-return]

        assert call()["status"] == "pass"
        assert call("--source", "198.18.0.1")["status"] == "pass"
        blocked = call("--source", "198.18.0.100")
        assert blocked["status"] == "fail" and "ICE" in str(blocked["summary"]), blocked
        nothing = call("-6")
        assert nothing["status"] == "fail"
        assert nothing["message"]["id"] == "call.no-local-address", nothing  # type: ignore[index]
        assert nothing["message"]["params"] == {"which": "-6"}  # type: ignore[index]
    finally:
        run(["ip", "netns", "exec", lab.client, "iptables", "-D", "OUTPUT", "-s",
             "198.18.0.100", "-p", "udp", "-j", "DROP"])
        run(["ip", "-n", lab.client, "addr", "del", "198.18.0.100/24", "dev",
             f"{lab.client}v"])


def test_the_browser_call_is_held_to_the_family_and_its_address_checked(dual_lab: Lab,
                                                                        tmp_path: Path) -> None:
    """--browser-webrtc in the dual-stack lab: Chromium cannot be told a local address, so the
    page holds its call to the family asked (-4: both ends have IPv6 and IPv4 addresses, and
    left to itself this Chromium calls over IPv6) and says which address it went from. With
    --source on a second address the browser runs in a namespace of its own whose packets
    slirp4netns sends from that address: where this machine's firewall drops that address's UDP
    the call fails (before, Chromium called from the first address and the result was a
    warning naming both); allowed, it connects and the firewall counts its packets.
    The page needs no name and the browser asks none (Chromium 156 asked for three of Google's
    before its resolver was sealed for this page too). -6 against an echo peer without an IPv6
    address fails at the page's stage "family", with the options' remedy, not a firewall's."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    echo = SERVER_ADDRS[7]
    dual_lab.serve(echo, "--http-port", "8089", "--https-port", "0", "--tcp-ports", "",
                   "--udp-ports", "")
    run(["ip", "-n", dual_lab.client, "addr", "add", "198.18.0.100/24", "dev",
         f"{dual_lab.client}v"])
    run(["ip", "netns", "exec", dual_lab.client, "iptables", "-I", "OUTPUT", "-s", "198.18.0.100",
         "-p", "udp", "-j", "DROP"])

    def browsers(*args: str) -> dict[str, Any]:
        _, document = dual_lab.trtcdetect_json("--only", "browsers", "--browser-webrtc",
                                               "--echo-url", f"http://{echo}:8089/call", *args)
        return document["probes"][0]  # type: ignore[index, no-any-return]

    four = browsers("-4")  # left to itself, this Chromium calls over IPv6 here
    webrtc = four["details"]["webrtc"]
    assert webrtc["connected"] and webrtc["family"] == 4, webrtc
    assert webrtc["path"]["local"]["address"] == CLIENT_ADDR, webrtc["path"]
    assert webrtc["path"]["remote"]["address"] in SERVER_ADDRS, webrtc["path"]
    assert four["status"] == "pass" and "local_options_not_applied" not in four["details"]

    # --source: the browser runs in a namespace of its own whose packets leave from
    # 198.18.0.100, whose UDP this machine's firewall drops: the call fails, and says so
    other = browsers("--source", "198.18.0.100")
    webrtc = other["details"]["webrtc"]
    assert webrtc["held"]["v4"] == "198.18.0.100" and not webrtc["connected"], webrtc
    assert other["status"] == "fail", other["summary"]
    assert [a["id"] for a in other["advice_ids"]] == ["call-no-connect"], other["advice_ids"]
    assert "local_options_not_applied" not in other["details"]
    # the drop rule replaced by a counting one: the call connects, from 198.18.0.100
    iptables = ["ip", "netns", "exec", dual_lab.client, "iptables"]
    run([*iptables, "-D", "OUTPUT", "-s", "198.18.0.100", "-p", "udp", "-j", "DROP"])
    run([*iptables, "-I", "OUTPUT", "-s", "198.18.0.100", "-p", "udp", "-j", "ACCEPT"])
    held = browsers("--source", "198.18.0.100")
    webrtc = held["details"]["webrtc"]
    assert webrtc["connected"] and webrtc["family"] == 4, webrtc
    assert held["status"] == "pass", held["summary"]
    assert held["message"]["id"] == "browsers.webrtc-held", held["message"]
    # one pair in the stats, the one the call went over (here Chromium 156 marks several pairs
    # nominated: the report listed eight candidate-pair rows, seven of them with no packets)
    pairs = [s for s in webrtc["stats"] if s["type"] == "candidate-pair"]
    assert len(pairs) == 1 and pairs[0]["packetsSent"] > 100, pairs
    counted = run([*iptables, "-L", "OUTPUT", "-v", "-x", "-n"]).stdout
    packets = int(next(line.split()[0] for line in counted.splitlines()
                       if "198.18.0.100" in line and "ACCEPT" in line))
    assert packets > 100, counted  # the call's media, not only its checks
    assert names_asked(tmp_path / "dns.log") == set()

    # -6 with an echo peer that has no IPv6 address (serve gathers its addresses per call):
    # the options left the call nothing, which is not the network's doing
    run(["ip", "-n", dual_lab.server, "addr", "del", f"{V6_SERVER}/64", "dev",
         f"{dual_lab.server}v"])
    six = browsers("-6")
    assert six["details"]["webrtc"]["stage"] == "family", six["details"]["webrtc"]
    assert six["details"]["webrtc"]["error"] == "the echo peer offered no IPv6 address"
    assert six["status"] == "fail"
    advice = [a["id"] for a in six["advice_ids"]]
    assert advice == ["local-options-left-nothing"], six["advice_ids"]
