"""The trtc probe with Tencent's real SDK (liteav), only inside network namespaces with no route
out (the safety rule: the SDK dials public addresses built into it).

The lab: a client namespace joined by veth to a "server" namespace that carries the SDK's two
built-in IPv4 access-server addresses as its own, so its packets end in a namespace this test
made: refused there (nothing listens: TCP reset, ICMP port unreachable), or dropped by nftables.
A dnsmasq there answers NXDOMAIN for every name. Without the route the client has none at all.
What these runs cannot show is an answer from Tencent's real servers: that path is table-tested
from the documentation (tests/probes/test_trtc_judge.py) and README says so.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import CLIENT_ADDR, SERVER_ADDRS, Lab, built, run
from tests.paths import ROOT
from trtcdetect.probes.trtc import unavailable

#: The SDK's built-in IPv4 access servers (liteav 13.2.0: ../shared/TRTC-SDKS.md)
BUILT_IN = ("162.14.22.165", "162.14.6.105")
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
#: A UserSig in text: base64 of zlib data starts eJ (0x78 0x9c / 0x78 0xda)
USER_SIG = re.compile(r"eJ[wy][A-Za-z0-9*_-]{40,}")
DEADLINE = "6"  # by 6 s the SDK has asked on UDP 8000, 8080, 16285 and TCP 443, 13275

pytestmark = pytest.mark.timeout(120)


@pytest.fixture()
def trtc_lab() -> Iterator[Lab]:
    with built(Lab, unavailable()) as lab:
        lab.dnsmasq({"#": None})  # NXDOMAIN for every name
        yield lab


def give_route(lab: Lab) -> None:
    """The client's default route to the server namespace, which owns the SDK's addresses."""
    run(["ip", "-n", lab.client, "route", "add", "default", "via", SERVER_ADDRS[0]])
    for address in BUILT_IN:
        run(["ip", "-n", lab.server, "addr", "add", f"{address}/32", "dev", f"{lab.server}v"])


def trtcdetect(lab: Lab, *args: str, home: Path, env: dict[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    environ.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), **(env or {}))
    return subprocess.run(["ip", "netns", "exec", lab.client, sys.executable, "-m", "trtcdetect",
                           "--only", "trtc", "--trtc-deadline", DEADLINE, *args],
                          capture_output=True, text=True, timeout=timeout, env=environ)


def workers() -> list[str]:
    found = subprocess.run(["pgrep", "-f", "trtcdetect.trtc.worker"], capture_output=True,
                           text=True)
    return found.stdout.split()


def sdk_homes() -> list[str]:
    return sorted(str(p) for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("trtcdetect-sdk-*"))


def probe_of(document: dict[str, Any]) -> dict[str, Any]:
    (found,) = [p for p in document["probes"] if p["id"] == "trtc"]
    return found  # type: ignore[no-any-return]


def test_no_route_fails_within_its_deadline_and_leaves_nothing(trtc_lab: Lab,
                                                               tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    before = sdk_homes()
    started = time.monotonic()
    proc = trtcdetect(trtc_lab, "--output", str(tmp_path / "out"), home=home)
    took = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    (json_file,) = (tmp_path / "out").glob("*.json")
    assert list((tmp_path / "out").glob("*.html"))
    found = probe_of(json.loads(json_file.read_text()))
    assert found["status"] == "fail"
    assert found["summary"].startswith("this computer has no route to TRTC's access servers")
    assert found["advice_ids"][0]["id"] == "trtc-no-route"
    assert took < float(DEADLINE) + 8  # the deadline, the exit, the rest of the run
    details = found["details"]
    assert details["ended_by"] == "deadline" and details["sdk_version"]
    assert {e["transport"] for e in details["endpoints"]} == {"UDP", "TCP"}
    assert list(home.iterdir()) == []  # the SDK had its own home, now gone
    assert sdk_homes() == before and workers() == []


def test_refused_and_dropped_and_nxdomain_are_told_apart(trtc_lab: Lab, tmp_path: Path) -> None:
    give_route(trtc_lab)
    home = tmp_path / "home"
    home.mkdir()
    refused = trtcdetect(trtc_lab, "--json", "--quiet", home=home)
    trtc_lab.firewall([f"ip daddr {{ {', '.join(BUILT_IN)} }} drop"])
    dropped = trtcdetect(trtc_lab, "--json", "--quiet", home=home)
    outcomes, summaries = [], []
    for proc in (refused, dropped):
        assert proc.returncode == 2 and proc.stderr == "", proc.stderr
        found = probe_of(json.loads(proc.stdout))
        assert found["status"] == "fail"
        assert found["summary"].startswith("TRTC's access servers did not answer within 6 s")
        assert "default-query.whyrtc.com did not resolve" in found["summary"]  # NXDOMAIN
        assert found["advice_ids"][0]["id"] == "trtc-whitelist"
        outcomes.append({e["endpoint"]: e["outcome"] for e in found["details"]["endpoints"]})
        summaries.append(found["summary"])
    assert outcomes[0]["162.14.22.165:443"] == "refused"
    assert outcomes[1]["162.14.22.165:443"] == "timeout"
    # what the SDK does not log (a UDP refusal; a reset on TCP 13275 before its own timeout):
    # the probe's own connect and STUN request to the same endpoints tell them apart
    for endpoint in ("162.14.22.165:8000", "162.14.6.105:8080", "162.14.6.105:13275"):
        assert outcomes[0][endpoint] == "refused", (endpoint, outcomes[0])
        assert outcomes[1][endpoint] == "timeout", (endpoint, outcomes[1])
    assert "UDP 8000, 8080; TCP 443, 13275 refused" in summaries[0], summaries[0]
    assert "refused" not in summaries[1]
    assert "refused" in probe_of(json.loads(refused.stdout))["summary"]
    assert "refused" not in probe_of(json.loads(dropped.stdout))["summary"]
    assert list(home.iterdir()) == [] and workers() == []


def test_socks5_carries_the_sdks_traffic(trtc_lab: Lab, tmp_path: Path) -> None:
    log = tmp_path / "socks5.jsonl"
    proxy = trtc_lab.spawn([sys.executable, "-m", "tests.socks5", "--bind", SERVER_ADDRS[1],
                            "--port", "1080", "--log", str(log)], stdout=subprocess.PIPE,
                           cwd=str(ROOT))
    assert proxy.stdout is not None and proxy.stdout.readline().strip() == b"ready"
    home = tmp_path / "home"
    home.mkdir()
    password = "proxy-password-7f3c"
    proc = trtcdetect(trtc_lab, "--json", "--quiet", "--socks5", f"{SERVER_ADDRS[1]}:1080",
                      home=home, env={"TRTCDETECT_SOCKS5_USER": "lab",
                                      "TRTCDETECT_SOCKS5_PASSWORD": password})
    assert proc.returncode == 2, proc.stderr
    found = probe_of(json.loads(proc.stdout))
    assert f"through the SOCKS5 proxy {SERVER_ADDRS[1]}:1080" in found["summary"]
    assert found["advice_ids"][0]["id"] == "trtc-proxy"
    assert found["details"]["socks5"] is True  # the SDK's own log says it used the proxy
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"event": "login", "user": "lab", "password_length": len(password)} in seen
    kinds = {entry["event"] for entry in seen}
    assert "udp_associate" in kinds or "connect" in kinds
    destinations = {(e["host"], e["port"]) for e in seen if e["event"] in ("datagram", "connect")}
    assert destinations & {(BUILT_IN[0], 8000), (BUILT_IN[0], 443), (BUILT_IN[1], 8080)}
    assert password not in proc.stdout + proc.stderr


def test_with_credentials_no_secret_reaches_any_output(trtc_lab: Lab, tmp_path: Path) -> None:
    """Both ways of giving credentials; every file written and every stream captured is
    searched for the SecretKey and for anything shaped like a UserSig."""
    made = subprocess.run([sys.executable, "-m", "trtcdetect", "credentials", "--sdk-app-id",
                           "1400000000", "--expire", "1h"], capture_output=True, text=True,
                          env={**os.environ, "TRTC_SECRET_KEY": KEY}, check=True)
    creds = tmp_path / "creds.json"
    creds.write_text(made.stdout)
    sigs = [u["user_sig"] for u in json.loads(made.stdout)["users"]]
    assert all(USER_SIG.fullmatch(sig) for sig in sigs)  # the search below can find one
    home = tmp_path / "home"
    home.mkdir()
    outputs = []
    for way, args, env in (
            ("file", ["--credentials", str(creds)], {}),
            ("key", ["--sdk-app-id", "1400000000"], {"TRTC_SECRET_KEY": KEY})):
        out = tmp_path / way
        proc = trtcdetect(trtc_lab, "--output", str(out / "reports"), "--openmetrics",
                          str(out / "m.om"), "--textfile", str(out / "m.prom"), "--trtc-logs",
                          str(out / "sdk-logs"), "--trtc-seconds", "2", *args, home=home,
                          env=env)
        assert proc.returncode == 2, proc.stderr
        document = json.loads(next((out / "reports").glob("*.json")).read_text())
        found = probe_of(document)
        assert found["details"]["mode"] == "call" and found["status"] == "fail"
        assert document["config"]["trtc_credentials"]["sdk_app_id"] == 1400000000
        kept = list((out / "sdk-logs").iterdir())
        assert any(p.name.endswith("-console.log") for p in kept)
        assert any("EnterRoom" in p.read_text() for p in kept)  # the SDK's own files, kept
        outputs.append(proc.stdout + proc.stderr)
        outputs += [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
    outputs += [p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()]
    assert outputs
    for text in outputs:
        assert KEY not in text
        assert not any(sig in text for sig in sigs)
        assert not USER_SIG.search(text), USER_SIG.search(text)
    assert list(home.iterdir()) == [] and workers() == []


def test_ctrl_c_ends_the_sdk_and_still_writes_the_report(trtc_lab: Lab, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environ = {k: v for k, v in os.environ.items() if k != "TRTCDETECT_NO_SDK"}
    environ.update(HOME=str(home))
    before = sdk_homes()
    proc = subprocess.Popen(["ip", "netns", "exec", trtc_lab.client, sys.executable, "-m",
                             "trtcdetect", "--only", "trtc", "--output", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
    deadline = time.monotonic() + 10
    while not workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers(), "the SDK's process never started"
    time.sleep(1.0)
    interrupted = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=15)
    assert time.monotonic() - interrupted < 4
    assert b"Traceback" not in stdout + stderr
    (json_file,) = (tmp_path / "out").glob("*.json")
    found = probe_of(json.loads(json_file.read_text()))
    assert found["status"] == "error" and "interrupted" in found["summary"]
    assert workers() == [] and sdk_homes() == before
    assert list(home.iterdir()) == []


def test_source_reaches_the_sdk_through_the_local_relay(trtc_lab: Lab, tmp_path: Path) -> None:
    """liteav has no setting for a local address; with --source its traffic goes through
    trtcdetect's SOCKS5 relay on 127.0.0.1, whose sockets are bound to that address. The
    namespace that owns the SDK's access-server addresses counts what arrives from each of the
    client's two addresses: everything from --source's, nothing from the other."""
    give_route(trtc_lab)
    second = "198.18.0.100"
    run(["ip", "-n", trtc_lab.client, "addr", "add", f"{second}/24", "dev",
         f"{trtc_lab.client}v"])
    servers = ", ".join(BUILT_IN)
    trtc_lab.firewall([f"ip daddr {{ {servers} }} ip saddr {second} counter",
                       f"ip daddr {{ {servers} }} ip saddr {CLIENT_ADDR} counter"])
    home = tmp_path / "home"
    home.mkdir()
    proc = trtcdetect(trtc_lab, "--json", "--quiet", "--source", second, home=home)
    assert proc.stderr == "", proc.stderr
    found = probe_of(json.loads(proc.stdout))
    assert found["status"] == "fail"
    assert f"with --source {second} (trtcdetect relays the SDK's packets for it)" in \
        found["summary"], found["summary"]
    relayed = found["details"]["relayed"]
    assert relayed["which"] == f"--source {second}" and relayed["datagrams_out"] > 0, relayed
    assert found["details"]["socks5"] is True  # the SDK's own log says it used a proxy
    assert "local_options_not_applied" not in found["details"]
    counters = [int(n) for n in re.findall(
        r"counter packets (\d+)",
        run(["ip", "netns", "exec", trtc_lab.server, "nft", "list", "table", "inet", "lab"]).stdout)]
    assert counters[0] > 0 and counters[1] == 0, counters
    assert list(home.iterdir()) == [] and workers() == []


def test_six_without_ipv6_is_the_options_leaving_no_way(trtc_lab: Lab, tmp_path: Path) -> None:
    """-6 on a client with IPv4 only: the relay refuses the SDK's IPv4 destinations and the
    client has no route to its IPv6 ones. The options left the SDK no way, which is said so,
    with their remedy (not "open the firewall")."""
    give_route(trtc_lab)
    home = tmp_path / "home"
    home.mkdir()
    proc = trtcdetect(trtc_lab, "--json", "--quiet", "-6", home=home)
    assert proc.stderr == "", proc.stderr
    found = probe_of(json.loads(proc.stdout))
    assert found["summary"].startswith("this computer has no route to TRTC's access servers"), \
        found["summary"]
    assert "IPv4 left out by -6" in found["summary"] and "IPv6 no route" in found["summary"]
    assert [a["id"] for a in found["advice_ids"]] == ["local-options-left-nothing"]
    assert found["details"]["relayed"]["other_family"] > 0, found["details"]["relayed"]
    assert list(home.iterdir()) == [] and workers() == []
