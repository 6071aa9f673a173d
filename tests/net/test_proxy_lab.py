"""The media domain through a real HTTP proxy (Debian's tinyproxy) in the lab: the direct row and
the through-the-proxy row, a proxy that refuses CONNECT, $HTTPS_PROXY and $NO_PROXY, a proxy
password that shows nowhere, the url probe through the proxy, and TLS interception by a real
inspecting proxy (Debian's squid-openssl with ssl-bump) named with its issuer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
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


def start(lab: object, tmp: Path, port: int, connect_port: int, auth: str | None = None,
          *extra: str) -> None:
    conf = tmp / f"tinyproxy-{port}.conf"
    conf.write_text("\n".join([
        f"Port {port}", f"Listen {PROXY}", "Timeout 10", "Allow 198.18.0.1",
        f"ConnectPort {connect_port}", "MaxClients 10", "LogLevel Info",
        f"PidFile \"{tmp}/tinyproxy-{port}.pid\"", *(["BasicAuth " + auth] if auth else []),
        *extra]))
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


def run(services: Services, *args: str, env: dict[str, str] | None = None,
        ca: Path | None = None) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items()
               if k.lower() not in ("https_proxy", "no_proxy", "http_proxy")}
    proc = subprocess.run(["ip", "netns", "exec", services.lab.client, sys.executable, "-m",
                           "trtcdetect", "--json", "--quiet", "--only", "domain", "--target",
                           "trtc.test", "--ca-file", str(ca or services.ca_file), *args],
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


def test_the_url_probe_goes_through_the_proxy_too(tinyproxy: tuple[Services, Path]) -> None:
    """A deployment page behind the same proxy: its host directly and through the tunnel, the
    second row in the page's entry; a proxy that refuses CONNECT makes the page a warning that
    names the proxy step (the page itself still works directly)."""
    services, tmp = tinyproxy
    start(services.lab, tmp, 8890, 443)
    start(services.lab, tmp, 8891, 8443)  # refuses CONNECT to 443

    def page(proxy_port: int) -> dict[str, object]:
        document = run(services, "--only", "url", "--url", "https://trtc.test/",
                       env={"HTTPS_PROXY": f"http://{PROXY}:{proxy_port}"})
        probes = {p["id"]: p for p in document["probes"]}  # type: ignore[attr-defined]
        return probes["url"]  # type: ignore[no-any-return]  # (run() asks for domain too)

    fine = page(8890)
    assert fine["status"] == "pass", fine["summary"]
    (entry,) = fine["details"]["urls"]  # type: ignore[index]
    assert entry["via_proxy"]["proxy"] == f"http://{PROXY}:8890"
    assert [s["ok"] for s in entry["via_proxy"]["steps"]] == [True, True, True]
    refused = page(8891)
    assert refused["status"] == "warn"
    assert refused["message"]["id"] == "url.via-proxy"  # type: ignore[index]
    assert "the PROXY step fails: the proxy refused CONNECT" in str(refused["summary"])
    assert [a["id"] for a in refused["advice_ids"]] == ["whitelist-page-host"]  # type: ignore[index]


def test_a_redirect_to_a_host_the_proxy_filters(tinyproxy: tuple[Services, Path],
                                                redirector: Path) -> None:
    """The page's host passes through the proxy; the page redirects to a host the proxy
    filters (tinyproxy's Filter, as a corporate proxy's category block): directly the page
    works, through the proxy the GET fails at the redirect, and the remedy names that host."""
    services, tmp = tinyproxy
    (tmp / "filter").write_text("^trtc\\.test$\n")
    start(services.lab, tmp, 8892, 443, None, f'Filter "{tmp}/filter"')
    document = run(services, "--only", "url", "--url", "https://redirect.test/elsewhere",
                   env={"HTTPS_PROXY": f"http://{PROXY}:8892"}, ca=redirector)
    probe = {p["id"]: p for p in document["probes"]}["url"]  # type: ignore[attr-defined]
    (entry,) = probe["details"]["urls"]
    assert [h["url"] for h in entry["redirects"]] == ["https://redirect.test/elsewhere",
                                                      "https://trtc.test/"]
    assert entry["redirects"][-1]["status_code"] == 200  # directly: the page works
    via = entry["via_proxy"]
    assert [s["ok"] for s in via["steps"]] == [True, True, True]  # redirect.test passes
    assert [h["url"] for h in via["redirects"]] == ["https://redirect.test/elsewhere",
                                                    "https://trtc.test/"]
    assert via["redirects"][-1]["status_code"] is None
    assert via["problem"].startswith("https://trtc.test/: ProxyError"), via["problem"]
    assert probe["status"] == "warn", probe["summary"]
    assert "through the proxy" in probe["summary"] and "the GET step fails" in probe["summary"]
    (advice,) = probe["advice"]
    assert "trtc.test" in advice and "redirect.test" not in advice, advice
    # without the proxy the same page passes: the warning is the proxy's
    plain = {p["id"]: p for p in run(services, "--only", "url", "--url",
                                     "https://redirect.test/elsewhere", ca=redirector)[
        "probes"]}["url"]  # type: ignore[index]
    assert plain["status"] == "pass", plain["summary"]


SQUID = "/usr/sbin/squid"
CERTGEN = "/usr/lib/squid/security_file_certgen"


def test_an_inspecting_proxy_is_named_with_its_issuer(tinyproxy: tuple[Services, Path]) -> None:
    """Debian's squid (squid-openssl) with ssl-bump: it answers the TLS handshake through its
    tunnel with a certificate of its own CA, as a corporate HTTPS inspector does. The client
    trusts that CA too (as a managed machine does), so everything "works": the direct row and
    the proxy row differ only in the issuer, and the verdict names it."""
    if not (Path(SQUID).exists() and Path(CERTGEN).exists()):
        pytest.skip("Debian's squid-openssl (ssl-bump)")
    services, tmp = tinyproxy
    # squid refuses to run as root and drops to Debian's `proxy` user, who cannot enter
    # pytest's private temporary folder: a folder of its own, removed at the end
    work = Path(tempfile.mkdtemp(prefix="trtcdetect-squid-"))
    work.chmod(0o755)
    shutil.copy(services.ca_file, work / "upstream.pem")
    name = f"tdsq{os.getpid()}"  # squid's service name: its shared-memory segments carry it
    try:
        _inspecting_proxy(services, tmp, work, name)
    finally:
        subprocess.run(["ip", "netns", "exec", services.lab.server, SQUID, "-n", name, "-f",
                        str(work / "squid.conf"), "-k", "shutdown"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        for segment in Path("/dev/shm").glob(f"{name}-*"):
            segment.unlink(missing_ok=True)


def _inspecting_proxy(services: Services, tmp: Path, work: Path, name: str) -> None:
    import trustme

    inspector = trustme.CA(organization_name="Inspecting Proxy Lab")
    inspector.cert_pem.write_to_path(str(work / "ca.pem"))
    inspector.private_key_pem.write_to_path(str(work / "ca.key"))
    subprocess.run([CERTGEN, "-c", "-s", str(work / "ssl_db"), "-M", "4MB"], check=True,
                   capture_output=True)
    conf = work / "squid.conf"
    conf.write_text("\n".join([
        f"http_port {PROXY}:3129 ssl-bump generate-host-certificates=on "
        f"dynamic_cert_mem_cache_size=4MB tls-cert={work}/ca.pem tls-key={work}/ca.key",
        f"sslcrtd_program {CERTGEN} -s {work}/ssl_db -M 4MB", "sslcrtd_children 2",
        "acl step1 at_step SslBump1", "ssl_bump peek step1", "ssl_bump bump all",
        f"tls_outgoing_options cafile={work}/upstream.pem", "http_access allow all",
        f"pid_filename {work}/squid.pid", f"cache_log {work}/cache.log", "access_log none",
        "cache deny all", f"coredump_dir {work}", "cache_effective_user proxy",
        "shutdown_lifetime 0 seconds", "dns_nameservers 198.18.0.2"]) + "\n")
    subprocess.run(["chmod", "-R", "a+rwX", str(work)], check=True)
    services.lab.spawn([SQUID, "-N", "-n", name, "-f", str(conf)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = subprocess.run(["ip", "netns", "exec", services.lab.server, "ss", "-Hltn",
                              f"src {PROXY}:3129"], capture_output=True, text=True).stdout
        if out.strip():
            break
        time.sleep(0.1)
    else:
        raise RuntimeError("squid did not start: " + (work / "cache.log").read_text()[-2000:])
    trusted = tmp / "trusted.pem"  # the lab's CA and the inspector's: a managed machine's store
    trusted.write_bytes(services.ca_file.read_bytes() + (work / "ca.pem").read_bytes())
    environ = {k: v for k, v in os.environ.items()
               if k.lower() not in ("https_proxy", "no_proxy", "http_proxy")}
    proc = subprocess.run(["ip", "netns", "exec", services.lab.client, sys.executable, "-m",
                           "trtcdetect", "--json", "--quiet", "--only", "domain", "--target",
                           "trtc.test", "--ca-file", str(trusted), "--proxy",
                           f"http://{PROXY}:3129"], capture_output=True, text=True, timeout=60,
                          env=environ)
    result = json.loads(proc.stdout)["probes"][0]
    via = result["details"]["via_proxy"]
    assert all(s["ok"] for s in via["steps"]), via
    assert "Inspecting Proxy Lab" in via["steps"][1]["issuer"]
    assert "Inspecting Proxy Lab" not in result["details"]["steps"][2]["issuer"]
    assert result["status"] == "warn"
    assert result["message"]["id"] == "domain.proxy-intercepts"
    assert "Inspecting Proxy Lab" in result["summary"]
    assert [a["id"] for a in result["advice_ids"]] == ["proxy-intercepts"]


def step(name: str, ok: bool = True, **info: object) -> Step:
    return Step(name, ok, 1.0, None if ok else "x", dict(info))


def test_interception_is_named() -> None:
    """Table: written from how an inspecting proxy behaves (it signs with its own CA); the squid
    test above has a real one do it."""
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
