"""The media domain through a real HTTP proxy (Debian's tinyproxy) in the lab: the direct row and
the through-the-proxy row, a proxy that refuses CONNECT, $HTTPS_PROXY and $NO_PROXY, and a
proxy password that shows nowhere. TLS interception is table-tested (no intercepting proxy in
the lab: see test_interception_is_named)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Services
from tests.lab import SERVER_ADDRS
from trtcdetect.models import Status
from trtcdetect.net.https import Step
from trtcdetect.probes.domain import HostSteps, judge_host

PROXY = SERVER_ADDRS[7]


@pytest.fixture()
def tinyproxy(services: Services, tmp_path: Path) -> Iterator[tuple[Services, Path]]:
    if shutil.which("tinyproxy") is None:
        pytest.skip("Debian's tinyproxy")
    lab = services.lab
    etc = Path("/etc/netns") / lab.server
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text(f"nameserver {SERVER_ADDRS[0]}\n")  # the lab's dnsmasq
    yield services, tmp_path
    shutil.rmtree(etc, ignore_errors=True)


def start(lab: object, tmp: Path, port: int, connect_port: int, auth: str | None = None) -> None:
    conf = tmp / f"tinyproxy-{port}.conf"
    conf.write_text("\n".join([
        f"Port {port}", f"Listen {PROXY}", "Timeout 10", "Allow 198.18.0.1",
        f"ConnectPort {connect_port}", "MaxClients 10", "LogLevel Info",
        f"PidFile \"{tmp}/tinyproxy-{port}.pid\"", *(["BasicAuth " + auth] if auth else [])]))
    lab.spawn(["tinyproxy", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,  # type: ignore[attr-defined]
              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run(["ip", "netns", "exec", lab.server, "ss", "-Hltn",  # type: ignore[attr-defined]
                              f"src {PROXY}:{port}"], capture_output=True, text=True).stdout
        if out.strip():
            return
        time.sleep(0.05)
    raise RuntimeError("tinyproxy did not start")


def run(services: Services, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items()
               if k.lower() not in ("https_proxy", "no_proxy", "http_proxy")}
    proc = subprocess.run(["ip", "netns", "exec", services.lab.client, sys.executable, "-m",
                           "trtcdetect", "--json", "--quiet", "--only", "domain", "--target",
                           "trtc.test", "--ca-file", str(services.ca_file), *args],
                          capture_output=True, text=True, timeout=60, env={**environ, **(env or {})})
    assert proc.stderr == "", proc.stderr
    document: dict[str, object] = json.loads(proc.stdout)
    document["_stdout"] = proc.stdout
    return document


def domain(document: dict[str, object]) -> dict[str, object]:
    return document["probes"][0]  # type: ignore[index,no-any-return]


def test_through_a_real_proxy_both_rows(tinyproxy: tuple[Services, Path]) -> None:
    services, tmp = tinyproxy
    start(services.lab, tmp, 8888, 443, auth="lab s3cret-proxy-pw")
    document = run(services, "--proxy", f"http://lab:s3cret-proxy-pw@{PROXY}:8888")
    result = domain(document)
    assert result["status"] == "pass", result["summary"]
    via = result["details"]["via_proxy"]  # type: ignore[index]
    assert via["proxy"] == f"http://{PROXY}:8888"
    assert [s["name"] for s in via["steps"]] == ["proxy", "tls", "https"]
    assert all(s["ok"] for s in via["steps"]), via
    assert via["steps"][0]["connect_status"].startswith("HTTP/1.")
    assert via["steps"][1]["subject"] == result["details"]["steps"][2]["subject"]  # type: ignore[index]
    assert "s3cret-proxy-pw" not in str(document["_stdout"])
    assert document["config"]["proxy"] == f"http://{PROXY}:8888"  # type: ignore[index]


def test_a_proxy_that_refuses_connect_and_the_environment(tinyproxy: tuple[Services, Path]) -> None:
    services, tmp = tinyproxy
    start(services.lab, tmp, 8889, 8443)  # CONNECT only to 8443: 443 is refused
    result = domain(run(services, env={"HTTPS_PROXY": f"http://{PROXY}:8889"}))
    assert result["status"] == "warn"
    assert result["summary"].startswith(f"direct: fine; through the proxy http://{PROXY}:8889 "
                                        "the PROXY step fails: the proxy refused CONNECT")
    exempt = domain(run(services, env={"HTTPS_PROXY": f"http://{PROXY}:8889",
                                       "NO_PROXY": "trtc.test"}))
    assert exempt["status"] == "pass" and "via_proxy" not in exempt["details"]  # type: ignore[operator]


def step(name: str, ok: bool = True, **info: object) -> Step:
    return Step(name, ok, 1.0, None if ok else "x", dict(info))


def test_interception_is_named() -> None:
    """Table: written from how an inspecting proxy behaves (it signs with its own CA); no such
    proxy runs in the lab."""
    direct = (step("dns"), step("tcp"), step("tls", issuer="CN=Public CA"), step("https"))
    inspected = (step("proxy"), step("tls", issuer="CN=Corp Inspection CA"), step("https"))
    verdict = judge_host(HostSteps("media.test", direct, ("http://10.0.0.1:3128", inspected)))
    assert verdict.status is Status.WARN
    assert "issued by CN=Corp Inspection CA" in verdict.message.text("en")
    same = (step("proxy"), step("tls", issuer="CN=Public CA"), step("https"))
    assert judge_host(HostSteps("media.test", direct, ("http://p:1", same))).status is Status.PASS
    blocked = (step("dns"), step("tcp", ok=False), Step("tls"), Step("https"))
    only = judge_host(HostSteps("media.test", blocked, ("http://p:1", same)))
    assert only.status is Status.WARN and "through the proxy http://p:1 it works" in \
        only.message.text("en")
