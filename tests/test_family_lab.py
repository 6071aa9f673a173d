"""-4 / -6 in the lab: a name with both an A and an AAAA record (dnsmasq), one with only an A;
the server side has an IPv4 and an IPv6 address."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.lab import SERVER_ADDRS, Lab, lab_available, run

V6_CLIENT, V6_SERVER = "fd00:18::1", "fd00:18::2"


@pytest.fixture()
def dual_lab() -> Iterator[Lab]:
    reason = lab_available()
    if reason:
        pytest.skip(reason)
    lab = Lab().up()
    try:
        run(["ip", "-n", lab.client, "addr", "add", f"{V6_CLIENT}/64", "dev", f"{lab.client}v",
             "nodad"])
        run(["ip", "-n", lab.server, "addr", "add", f"{V6_SERVER}/64", "dev", f"{lab.server}v",
             "nodad"])
        lab.spawn(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                   f"--listen-address={SERVER_ADDRS[0]}", "--bind-interfaces", "--user=root",
                   f"--pid-file=/tmp/{lab.server}-dnsmasq.pid",
                   f"--address=/dual.test/{SERVER_ADDRS[0]}", f"--address=/dual.test/{V6_SERVER}",
                   f"--address=/v4only.test/{SERVER_ADDRS[0]}"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lab.wait_udp_listening(SERVER_ADDRS[0], 53, lab._procs[-1])
        time.sleep(0.2)
        yield lab
    finally:
        lab.down()


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
