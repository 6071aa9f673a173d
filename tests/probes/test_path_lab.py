"""The path probe over real routers (tests/pathlab.py): a lossy link made with nftables at a
known place, and the probe must say where the loss starts -- this computer's link, the middle,
the server's end -- and the diagnosis must name that place and address the right party.

The loss is a counter per TTL (`numgen inc mod 5 < 2`), so every hop past the lossy link loses
exactly four of its eight datagrams (two in every five) and none before it loses any. The
routers' ICMP limit is off (icmp_ratelimit 0) except in the test that keeps Linux's default and
runs twice in a row, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab import built
from tests.pathlab import ROUTERS, SERVER, PathLab
from tests.scenarios.test_diagnosis_lab import in_chinese, named
from trtcdetect.report.json import validate

ARGS = ("--target", SERVER, "--tcp-ports", "", "--udp-ports", "8000", "--timeout", "1",
        "--only", "ports,path")


@pytest.fixture(scope="module")
def pathlab() -> Iterator[PathLab]:
    with built(PathLab) as lab:
        lab.serve("--https-port", "0", "--tcp-ports", "", "--udp-ports", "8000")
        lab.icmp_limit(0)
        yield lab


def run(lab: PathLab, *extra: str) -> dict[str, Any]:
    proc = subprocess.run(["ip", "netns", "exec", lab.ns("client"), sys.executable, "-m",
                           "trtcdetect", "--json", "--quiet", *ARGS, *extra],
                          capture_output=True, text=True, timeout=60)
    assert proc.stderr == "", proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    validate(doc)
    return doc


def path(doc: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in doc["probes"] if p["id"] == "path")


def test_a_clean_path_lists_every_router_and_the_server(pathlab: PathLab) -> None:
    probe = path(run(pathlab))
    d = probe["details"]
    assert [h["address"] for h in d["hops"]] == [
        ROUTERS["gw"][0], ROUTERS["isp"][0], ROUTERS["edge"][0], SERVER]
    assert d["reached_at"] == 4 and d["loss_from"] is None and d["hidden"] == []
    assert all(h["answered"] == h["sent"] == 8 for h in d["hops"])
    assert probe["status"] == "pass" and "4 hops" in probe["summary"]
    assert d["elapsed_s"] <= 3.0 and d["datagrams"] <= 30 + 7 * 4


@pytest.mark.parametrize(("sender", "ttl", "place", "party", "words", "zh"), [
    ("client", 1, "here", "user", "this computer's own link", "本机自己的链路"),
    ("gw", 2, "middle", "network", "in the middle of the path", "路径中段"),
    ("isp", 3, "middle", "network", "in the middle of the path", "路径中段"),
    ("edge", 4, "server", "owner", "at the server's end", "服务器一端"),
])
def test_a_lossy_link_is_placed_where_it_is(pathlab: PathLab, sender: str, ttl: int,
                                            place: str, party: str, words: str,
                                            zh: str) -> None:
    with pathlab.lossy(sender):
        doc = run(pathlab)
    d = path(doc)["details"]
    assert d["loss_from"] is not None, (d["hops"], d["reached_at"], d["error"])
    assert d["loss_from"]["ttl"] == ttl and d["loss_from"]["place"] == place, d
    assert all(h["answered"] == h["sent"] for h in d["hops"] if h["ttl"] < ttl), d["hops"]
    # two in five by each TTL's counter: values 0, 1, 5 and 6 of eight dropped
    assert all(h["answered"] == 4 for h in d["hops"] if h["ttl"] >= ttl), d["hops"]
    assert d["loss_from"]["loss_pct"] == 50.0
    top = named(doc, "path-loss", party, ("path",), f"第 {ttl} 跳")
    assert zh in in_chinese(top)
    assert words in top["headline"] and f"hop {ttl}" in top["headline"]


def test_a_router_that_hides_itself_is_said_and_the_path_goes_on(pathlab: PathLab) -> None:
    with pathlab.silent("isp"):
        probe = path(run(pathlab))
    d = probe["details"]
    assert d["hidden"] == [2] and d["hops"][1]["address"] is None
    assert d["reached_at"] == 4 and d["loss_from"] is None
    assert probe["status"] == "pass"


def test_linux_icmp_limits_do_not_read_as_loss_in_two_runs_back_to_back(
        pathlab: PathLab) -> None:
    """Routers as Linux leaves them (6 answers at once, then one a second toward one address):
    the second of two runs in a row must not blame a router for answers it held back."""
    pathlab.icmp_limit(1000)
    try:
        docs = [run(pathlab), run(pathlab)]
    finally:
        pathlab.icmp_limit(0)
    for doc in docs:
        probe = path(doc)
        assert probe["details"]["loss_from"] is None, probe["details"]["hops"]
        assert probe["status"] == "pass"


def test_delay_on_a_link_is_placed_at_the_hop_after_it() -> None:
    """The impairment link (40 ms each way) behind a router: this computer -- router -- delayed
    link -- server. The delay starts at hop 2, the server's own hop, by the link's 80 ms
    within 10 %; hop 1 stays fast. (The TUN forwarder carries any IP packet, so the router's
    network crosses it as the link's own addresses do.)"""
    from tests.impair import Impairment, serving_link
    from tests.lab import run as ip_run

    links = serving_link("--udp-ports", "8000", "--tcp-ports", "", "--https-port", "0")
    link = next(links)
    pc = f"{link.client}p"
    try:
        ip_run(["ip", "netns", "add", pc])
        ip_run(["ip", "link", "add", f"{pc}a", "type", "veth", "peer", "name", f"{pc}b"])
        ip_run(["ip", "link", "set", f"{pc}a", "netns", pc])
        ip_run(["ip", "link", "set", f"{pc}b", "netns", link.client])
        ip_run(["ip", "-n", pc, "addr", "add", "198.18.70.2/24", "dev", f"{pc}a"])
        ip_run(["ip", "-n", link.client, "addr", "add", "198.18.70.1/24", "dev", f"{pc}b"])
        for ns, device in ((pc, f"{pc}a"), (pc, "lo"), (link.client, f"{pc}b")):
            ip_run(["ip", "-n", ns, "link", "set", device, "up"])
        ip_run(["ip", "-n", pc, "route", "add", "default", "via", "198.18.70.1"])
        ip_run(["ip", "-n", link.server, "route", "add", "198.18.70.0/24", "dev",
                f"{link.server}t"])
        ip_run(["ip", "netns", "exec", link.client, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        link.set(Impairment(delay_ms=40), Impairment(delay_ms=40))
        target = "198.19.0.2"
        proc = subprocess.run(["ip", "netns", "exec", pc, sys.executable, "-m", "trtcdetect",
                               "--json", "--quiet", "--target", target, "--tcp-ports", "",
                               "--udp-ports", "8000", "--timeout", "1", "--only", "path"],
                              capture_output=True, text=True, timeout=60)
        doc = json.loads(proc.stdout)
        validate(doc)
    finally:
        subprocess.run(["ip", "netns", "del", pc], capture_output=True)
        next(links, None)
    d = path(doc)["details"]
    hops = d["hops"]
    assert [h["address"] for h in hops] == ["198.18.70.1", target], hops
    assert hops[0]["rtt_ms"] < 5 and d["reached_at"] == 2
    delay = d["delay_from"]
    assert delay is not None and delay["ttl"] == 2 and delay["place"] == "server", d
    assert 72 <= delay["added_ms"] <= 88, delay
