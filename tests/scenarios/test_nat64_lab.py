"""The scenario corpus' IPv6-only network with NAT64/DNS64 (tests/nat64lab.py): the target's
name works through the NAT64, a call to the same server does not -- the server's answer offers
IPv4 candidates, which an IPv6-only computer cannot reach without a CLAT -- and the diagnosis
names that one cause, for the network administrator, in both languages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.lab import built
from tests.nat64lab import PREFIX, SERVER4, SERVER_VIA_NAT64, Nat64Lab, available
from tests.scenarios.test_diagnosis_lab import named
from trtcdetect.report.json import validate


@pytest.fixture(scope="module")
def nat64_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Nat64Lab, Path]]:
    workdir = tmp_path_factory.mktemp("nat64")
    ca = trustme.CA()
    cert = ca.issue_cert("trtc.test")
    cert.private_key_and_cert_chain_pem.write_to_path(str(workdir / "server.pem"))
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    with built(lambda: Nat64Lab(workdir), available()) as lab:
        lab.serve("--cert", str(workdir / "server.pem"), "--key", str(workdir / "server.pem"))
        yield lab, workdir / "ca.pem"


def test_ipv6_only_behind_nat64_is_one_cause_for_the_network(
        nat64_lab: tuple[Nat64Lab, Path]) -> None:
    lab, ca = nat64_lab
    proc = subprocess.run(
        ["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect", "--json",
         "--quiet", "--target", "trtc.test", "--ca-file", str(ca), "--timeout", "2",
         "--only", "ports,domain,nat,path,rtp", "--echo-url", "https://trtc.test/call",
         "--call-seconds", "2", "--audio-only"],
        capture_output=True, text=True, timeout=90)
    assert proc.stderr == "", proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    validate(doc)
    probes = {p["id"]: p for p in doc["probes"]}
    dns = probes["domain"]["details"]["steps"][0]
    assert dns["aaaa"] == [SERVER_VIA_NAT64] and dns["a"] == []
    assert dns["nat64"] == {"prefix": PREFIX, "ipv4": [SERVER4]}
    # through the NAT64 the name works: ports, HTTPS, the path to the server
    assert probes["ports"]["status"] == "pass", probes["ports"]["summary"]
    assert probes["domain"]["status"] == "pass", probes["domain"]["summary"]
    assert probes["path"]["details"]["reached_at"] is not None, probes["path"]["details"]
    # the call does not: the server's candidates are IPv4
    assert probes["rtp"]["status"] == "fail", probes["rtp"]["summary"]
    top = named(doc, "nat64", "network", ("rtp",), "NAT64")
    assert PREFIX in top["headline"] and SERVER4 in top["headline"]
    assert proc.returncode == 2
