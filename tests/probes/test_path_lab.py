"""The path probe over real routers (tests/pathlab.py): a lossy link made with nftables at a
known place, and the probe must say where the loss starts -- this computer's link, the middle,
the server's end -- and the diagnosis must name that place and address the right party.

The loss is a counter per TTL (`numgen inc mod 5 < 2`), so every hop past the lossy link loses
exactly two of its five datagrams and none before it loses any. The routers' ICMP limit is off
(icmp_ratelimit 0) except in the test that keeps Linux's default and runs twice in a row, as a
user would.
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
    assert all(h["answered"] == h["sent"] == 5 for h in d["hops"])
    assert probe["status"] == "pass" and "4 hops" in probe["summary"]
    assert d["elapsed_s"] <= 3.0 and d["datagrams"] <= 30 + 4 * 4


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
    assert all(h["answered"] == 3 for h in d["hops"] if h["ttl"] >= ttl), d["hops"]
    assert d["loss_from"]["loss_pct"] == 40.0
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
