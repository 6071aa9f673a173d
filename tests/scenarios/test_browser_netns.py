"""-4/-6, --source and --interface for Tencent's Web SDK in Chromium (browser/netns.py): the
browser runs in a network namespace of its own whose packets slirp4netns sends from the chosen
address. The lab tests run real Chromium with the vendored SDK inside the lab's client namespace
(no route out): a TCP listener on port 443 at a lab address, to which every name resolves, writes
down where each of the SDK's connections came from, and dnsmasq where each query came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import CLIENT_ADDR, SERVER_ADDRS, Lab, built, run
from tests.probes.test_trtc_web import browsers_left, chromium_available, probe, profiles, trtcdetect
from tests.scenarios.test_family_lab import V6_CLIENT, V6_SERVER
from trtcdetect.browser import netns
from trtcdetect.config import Config

SECOND = "198.18.0.100"


def config(**options: Any) -> Config:
    return Config.of(**options)


# --- real Chromium and slirp4netns in the lab -------------------------------------------------

def lab_ready() -> str | None:
    tun = None if Path("/dev/net/tun").exists() else "no /dev/net/tun for slirp4netns here"
    return chromium_available() or netns.missing() or tun


LISTENER = """
import socket, sys, threading
def serve(address, family):
    server = socket.create_server((address, 443), family=family)
    while True:
        conn, peer = server.accept()
        with open(sys.argv[1], "a") as log:
            log.write(peer[0] + "\\n")
        conn.close()
for address in sys.argv[2:]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    threading.Thread(target=serve, args=(address, family), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""


@pytest.fixture()
def held_lab(tmp_path: Path) -> Iterator[Lab]:
    """The lab with a second IPv4 address and IPv6 on both ends; every name resolves to
    SERVER_ADDRS[3] and V6_SERVER, where LISTENER writes each connection's source address to
    tmp_path/peers.txt; dnsmasq logs its queries to tmp_path/dns.log."""
    with built(Lab, lab_ready()) as lab:
        device = f"{lab.client}v"
        run(["ip", "-n", lab.client, "addr", "add", f"{SECOND}/24", "dev", device])
        run(["ip", "-n", lab.client, "addr", "add", f"{V6_CLIENT}/64", "dev", device, "nodad"])
        run(["ip", "-n", lab.server, "addr", "add", f"{V6_SERVER}/64", "dev", f"{lab.server}v",
             "nodad"])
        dns = lab.spawn(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts",
                         "--conf-file=/dev/null", f"--listen-address={SERVER_ADDRS[0]}",
                         "--bind-interfaces", "--user=root",
                         f"--pid-file=/tmp/{lab.server}-dnsmasq.pid",
                         f"--address=/#/{SERVER_ADDRS[3]}", f"--address=/#/{V6_SERVER}",
                         "--log-queries", f"--log-facility={tmp_path / 'dns.log'}"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lab.wait_udp_listening(SERVER_ADDRS[0], 53, dns)
        listener = lab.spawn([sys.executable, "-c", LISTENER, str(tmp_path / "peers.txt"),
                              SERVER_ADDRS[3], V6_SERVER], stdout=subprocess.PIPE)
        assert listener.stdout is not None and listener.stdout.readline().strip() == b"ready"
        yield lab


def peers(tmp_path: Path) -> set[str]:
    """Where the SDK's connections to port 443 came from (and the file emptied for the next)."""
    path = tmp_path / "peers.txt"
    found = set(path.read_text().split()) if path.exists() else set()
    path.write_text("")
    return found


def asked_from(tmp_path: Path) -> set[str]:
    """The addresses dnsmasq was asked from ("query[A] name from ADDRESS")."""
    lines = (tmp_path / "dns.log").read_text().splitlines()
    return {line.rsplit(" from ", 1)[1] for line in lines if "query[" in line and " from " in line}


def slirps_left() -> list[str]:
    out = subprocess.run(["pgrep", "-a", "slirp4netns"], capture_output=True, text=True).stdout
    return out.splitlines()


def scheduling(lab: Lab, *options: str) -> dict[str, Any]:
    _, document, _ = trtcdetect(lab, "--only", "trtcweb,browsers", "--trtc-deadline", "6",
                                *options)
    return probe(document, "trtcweb")


def test_source_reaches_the_web_sdk_through_its_own_namespace(held_lab: Lab,
                                                              tmp_path: Path) -> None:
    before = profiles()
    plain = scheduling(held_lab)  # the control: without --source, the client's first address
    assert plain["details"]["held"] is None
    assert peers(tmp_path) == {CLIENT_ADDR}, "the SDK did not come to the listener"
    result = scheduling(held_lab, "--source", SECOND)
    assert peers(tmp_path) == {SECOND}, result["summary"]
    assert asked_from(tmp_path) >= {SECOND}  # the names too (UDP, through slirp4netns)
    held = result["details"]["held"]
    assert held["v4"] == SECOND and held["ipv6"] is False and held["through"] == "slirp4netns"
    assert f"with --source {SECOND} (trtcdetect ran the browser in a network namespace" in \
        result["summary"], result["summary"]
    assert "local_options_not_applied" not in result["details"]
    assert browsers_left() == [] and slirps_left() == [] and profiles() == before


def test_one_address_family_for_the_web_sdk(held_lab: Lab, tmp_path: Path) -> None:
    """Left to itself this Chromium connects over IPv6 where both work, and over IPv4 where
    IPv6 connections are refused: each option is checked where the browser would otherwise use
    the other family."""
    six = scheduling(held_lab, "-6")
    assert peers(tmp_path) == {V6_CLIENT}, six["summary"]
    assert six["details"]["held"]["ipv4"] is False
    four = scheduling(held_lab, "-4")  # IPv6 works, and is not used
    assert peers(tmp_path) == {CLIENT_ADDR}, four["summary"]
    assert four["details"]["held"]["ipv6"] is False
    held_lab.firewall(["meta nfproto ipv6 tcp dport 443 reject with tcp reset"])
    scheduling(held_lab)  # the control: IPv6 refused, the browser falls back to IPv4
    assert CLIENT_ADDR in peers(tmp_path)
    refused = scheduling(held_lab, "-6")  # IPv6 refused, and IPv4 not tried
    assert peers(tmp_path) == set(), refused["summary"]
    assert refused["status"] == "fail", refused["summary"]
    assert browsers_left() == [] and slirps_left() == []


def test_interface_sends_from_the_devices_address(held_lab: Lab, tmp_path: Path) -> None:
    """A second link between the namespaces (another subnet; the server's network reached
    through it at a metric nobody prefers): with --interface on it the SDK's connections come
    from that link's address (slirp4netns binds to the device's address, not to the device); a
    device without an address holds nothing, and says so."""
    lab = held_lab
    near, far, bare = f"{lab.client}w", f"{lab.client}x", f"{lab.client}z"
    run(["ip", "link", "add", near, "netns", lab.client, "type", "veth", "peer", "name", far,
         "netns", lab.server])
    run(["ip", "-n", lab.client, "link", "add", bare, "type", "veth", "peer", "name",
         f"{bare}p"])
    run(["ip", "-n", lab.client, "addr", "add", "10.77.0.1/24", "dev", near])
    run(["ip", "-n", lab.server, "addr", "add", "10.77.0.2/24", "dev", far])
    for ns, dev in ((lab.client, near), (lab.server, far), (lab.client, bare)):
        run(["ip", "-n", ns, "link", "set", dev, "up"])
    run(["ip", "-n", lab.client, "route", "add", "198.18.0.0/24", "dev", near, "metric", "500"])
    chosen = scheduling(lab, "-4", "--interface", near)
    assert peers(tmp_path) == {"10.77.0.1"}, chosen["summary"]
    assert chosen["details"]["held"]["v4"] == "10.77.0.1"
    stranded = scheduling(lab, "-4", "--interface", bare)
    assert stranded["status"] == "error", stranded["summary"]
    assert "the device has no address to send from" in stranded["summary"]
    assert [a["id"] for a in stranded["advice_ids"]] == ["browser-namespace"]
    assert peers(tmp_path) == set()



def python_for_nobody() -> tuple[str, str] | None:
    """(a Python `nobody` may run, the PYTHONPATH that finds trtcdetect and its dependencies):
    the system's, when it is this one's version (this venv's own may sit under /root)."""
    import site

    import trtcdetect

    system = Path("/usr/bin/python3")
    if not system.exists():
        return None
    version = subprocess.run([str(system), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    if version != str(tuple(sys.version_info[:2])):
        return None
    here = str(Path(trtcdetect.__file__).resolve().parent.parent)
    return str(system), ":".join([here, *site.getsitepackages()])


def test_not_root_the_browser_gets_a_user_namespace_of_its_own(held_lab: Lab,
                                                                tmp_path: Path) -> None:
    """As nobody, unshare adds --user --map-root-user, and slirp4netns opens /dev/net/tun in
    that user namespace: Debian makes it 0666; a container may make it 0600. The test sets each
    mode in turn (and puts the machine's back): with 0600 the browser cannot be held, an error
    that names why and blames no network; with 0666 the SDK's connections come from --source."""
    import shutil
    import tempfile

    found = python_for_nobody()
    if found is None or os.geteuid() != 0:
        pytest.skip("needs root, and a system Python of this version for nobody to run")
    python, path = found
    home = Path(tempfile.mkdtemp(prefix="trtcdetect-nobody-"))
    home.chmod(0o777)
    tun = Path("/dev/net/tun")
    mode = tun.stat().st_mode & 0o777
    env = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    env.update(HOME=str(home), TMPDIR=str(home), PYTHONPATH=path)

    def as_nobody() -> dict[str, Any]:
        proc = subprocess.run(["ip", "netns", "exec", held_lab.client, "setpriv",
                               "--reuid=65534", "--regid=65534", "--clear-groups", python, "-m",
                               "trtcdetect", "--json", "--quiet", "--only", "trtcweb,browsers",
                               "--trtc-deadline", "6", "--source", SECOND, "--output",
                               str(home / "out")], capture_output=True, text=True, env=env,
                              timeout=120, cwd=home)
        assert "Traceback" not in proc.stderr, proc.stderr
        return probe(json.loads(proc.stdout), "trtcweb")

    try:
        tun.chmod(0o600)
        refused = as_nobody()
        assert refused["status"] == "error", refused["summary"]
        assert "/dev/net/tun" in refused["summary"], refused["summary"]
        assert [a["id"] for a in refused["advice_ids"]] == ["browser-namespace"]
        assert "let the user open /dev/net/tun" in refused["advice"][0], refused["advice"]
        assert peers(tmp_path) == set()  # nothing was sent
        tun.chmod(0o666)
        held = as_nobody()
        assert held["details"]["held"]["v4"] == SECOND, held["summary"]
        assert peers(tmp_path) == {SECOND}, held["summary"]
    finally:
        tun.chmod(mode)
        shutil.rmtree(home, ignore_errors=True)
    assert browsers_left() == [] and slirps_left() == []
