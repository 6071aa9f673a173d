"""Judge tables for the network probes: observation in, verdict out. Pure functions: no root,
no network, milliseconds."""

from __future__ import annotations

from typing import Any

import pytest

from trtcdetect.evidence import DnsFailure
from trtcdetect.failures import Failure
from trtcdetect.models import Status
from trtcdetect.net.fetch import Hop
from trtcdetect.net.https import Step
from trtcdetect.net.ports import PortVerdict
from trtcdetect.net.trains import Train
from trtcdetect.probes import domain, nat, ports, url
from trtcdetect.probes.ports import PortsObservation


def v(proto: str, port: int, verdict: str, rtt: float | None = None) -> PortVerdict:
    return PortVerdict(proto, port, verdict, rtt_ms=rtt)


OPEN_ALL = (v("tcp", 8687, "open", 1.0), v("udp", 8000, "open", 1.0), v("udp", 8800, "open", 2.0))
TRAIN_OK = Train(port=8000, sent=200, answered=200, loss_pct=0.0, rtt_ms=None, jitter_ms=0.1)
TRAIN_LOSSY = Train(port=8800, sent=200, answered=180, loss_pct=10.0, rtt_ms=None,
                    jitter_ms=0.3)


@pytest.mark.parametrize("observation, status, message, advice", [
    (PortsObservation("h", "1.2.3.4", OPEN_ALL), Status.PASS, "ports.all-open", []),
    # one port: "the one port checked answered", not "all 1 ports"
    (PortsObservation("h", "1.2.3.4", OPEN_ALL[:1]), Status.PASS, "ports.the-one-open", []),
    (PortsObservation("h", "1.2.3.4", (v("tcp", 8687, "open"), v("udp", 8000, "no_answer"),
                                       v("udp", 8080, "open"))),
     Status.WARN, "ports.some-open", ["whitelist-udp"]),
    # not one STUN answer while TCP works: filtered, or no STUN there -- not determined
    (PortsObservation("h", "1.2.3.4", (v("tcp", 8687, "open"), v("udp", 8000, "no_answer"))),
     Status.WARN, "ports.udp-undetermined", ["ports-decisive", "whitelist-udp"]),
    (PortsObservation("qcloud.rtc.qq.com", "1.2.3.4", (v("udp", 8000, "no_answer"),)),
     Status.WARN, "ports.udp-undetermined-alone", ["ports-decisive", "whitelist-udp"]),
    # ... unless Tencent's SDK reached TRTC's cloud over UDP in the same run
    (PortsObservation("qcloud.rtc.qq.com", "1.2.3.4", (v("tcp", 8687, "open"),
                                                       v("udp", 8000, "no_answer")),
                      trtc_udp="UDP 8000"), Status.PASS, "ports.udp-explained", []),
    (PortsObservation("qcloud.rtc.qq.com", "1.2.3.4", (v("tcp", 8687, "closed"),
                                                       v("udp", 8000, "no_answer")),
                      trtc_udp="UDP 8000"), Status.WARN, "ports.some-open", ["whitelist-tcp"]),
    # the SDK's answer is about Tencent's cloud, not another host
    (PortsObservation("media.example.com", "1.2.3.4", (v("tcp", 8687, "open"),
                                                       v("udp", 8000, "no_answer")),
                      trtc_udp="UDP 8000"), Status.WARN, "ports.udp-undetermined",
     ["ports-decisive", "whitelist-udp"]),
    (PortsObservation("h", "1.2.3.4", (v("tcp", 8687, "closed"), v("udp", 8000, "open"))),
     Status.WARN, "ports.some-open", ["whitelist-tcp"]),
    (PortsObservation("h", "1.2.3.4", (v("tcp", 8687, "no_answer"), v("udp", 8000, "closed"))),
     Status.FAIL, "ports.none-open", ["whitelist-udp", "whitelist-tcp", "network-unreachable"]),
    (PortsObservation("h", None, (v("tcp", 8687, "error"),), dns_error="NXDOMAIN"),
     Status.FAIL, "ports.dns", ["dns-failure"]),
    (PortsObservation("h", None, (), dns_error="NXDOMAIN"), Status.SKIP, "ports.dns",
     ["dns-failure"]),
    (PortsObservation("h", "1.2.3.4", ()), Status.SKIP, "ports.none", []),
    # the quality trains downgrade an all-open pass, and only that
    (PortsObservation("h", "1.2.3.4", OPEN_ALL, quality=(TRAIN_OK, TRAIN_LOSSY)),
     Status.WARN, "ports.lossy", ["call-poor"]),
    (PortsObservation("h", "1.2.3.4", OPEN_ALL, quality=(TRAIN_OK,)), Status.PASS,
     "ports.all-open", []),
    (PortsObservation("h", "1.2.3.4", (v("tcp", 8687, "open"), v("udp", 8800, "no_answer")),
                      quality=(TRAIN_LOSSY,)), Status.WARN, "ports.udp-undetermined",
     ["ports-decisive", "whitelist-udp"]),
])
def test_ports_judge(observation: PortsObservation, status: Status, message: str,
                     advice: list[str]) -> None:
    verdict = ports.judge(observation)
    assert (verdict.status, verdict.message.id) == (status, message)
    assert [a.id for a in verdict.advice] == advice


def test_ports_judge_names_the_silent_ports_and_never_calls_them_open() -> None:
    verdict = ports.judge(PortsObservation("h", "1.2.3.4", (
        v("tcp", 8687, "open"), v("udp", 8000, "no_answer"), v("udp", 16285, "closed"))))
    # in the ports table's own words (silence is never "unreachable"), in both languages
    assert verdict.message.text("en") == (
        "1 of 3 ports answered; UDP 16285 closed; UDP 8000 no answer (open or filtered)")
    assert verdict.message.text("zh") == (
        "3 个端口中 1 个有响应；UDP 16285 关闭；UDP 8000 无响应（开放或被过滤）")
    assert verdict.advice[0].params == {"host": "h", "ports": "8000, 16285"}
    metrics = {m.name: m.value for m in verdict.metrics}
    assert metrics["ports_open"] == 1 and metrics["ports_checked"] == 3


def row(socket_: int, dest: str, mapped: str | None, local: str = "10.0.0.2",
        port: int = 40000) -> nat.Binding:
    return nat.Binding(socket=socket_, local_port=port, destination=dest, local_address=local,
                       mapped=mapped)


V4 = [("198.18.0.1", 3478), ("198.18.0.1", 3479)]
V6 = [("2001:db8::1", 3478), ("2001:db8::1", 3479)]
CONE = [row(0, "198.18.0.1:3478", "203.0.113.5:50000"), row(0, "198.18.0.1:3479", "203.0.113.5:50000"),
        row(1, "198.18.0.1:3478", "203.0.113.5:50001", port=40001),
        row(1, "198.18.0.1:3479", "203.0.113.5:50001", port=40001)]
SYMMETRIC = [row(0, "198.18.0.1:3478", "203.0.113.5:50000"), row(0, "198.18.0.1:3479", "203.0.113.5:50002")]
PUBLIC = [row(0, "198.18.0.1:3478", "10.0.0.2:40000"), row(0, "198.18.0.1:3479", "10.0.0.2:40000")]
SILENT4 = [row(0, "198.18.0.1:3478", None), row(0, "198.18.0.1:3479", None)]
V6_PUBLIC = [row(0, "[2001:db8::1]:3478", "[2001:db8::2]:40000", local="2001:db8::2"),
             row(0, "[2001:db8::1]:3479", "[2001:db8::2]:40000", local="2001:db8::2")]


@pytest.mark.parametrize("observation, status, message, advice", [
    (nat.NatObservation([]), Status.SKIP, "nat.no-server", []),
    (nat.NatObservation([], dns_failures={"trtc.test": DnsFailure(
        host="trtc.test", kind="timeout", error=Failure.read("DNS lookup timed out after 1 s"),
        server=None)}),
     Status.WARN, "nat.dns", ["dns-failure"]),
    (nat.NatObservation(V4, rows4=CONE), Status.PASS, "nat.cone", []),
    (nat.NatObservation(V4, rows4=PUBLIC), Status.PASS, "nat.public", []),
    (nat.NatObservation(V4, rows4=SYMMETRIC), Status.WARN, "nat.symmetric", ["nat-relay"]),
    (nat.NatObservation(V4, rows4=SILENT4), Status.WARN, "nat.no-answer", ["nat-relay"]),
    # only IPv6 servers, and they answered: judged as IPv4 would be (not "0 asked")
    (nat.NatObservation(V6, rows6=V6_PUBLIC, ipv6_addresses=["2001:db8::2"]), Status.PASS,
     "nat.public", []),
    # IPv4 silent, IPv6 answered: the IPv4 path drops UDP; no relay advice
    (nat.NatObservation(V4 + V6, rows4=SILENT4, rows6=V6_PUBLIC, ipv6_addresses=["2001:db8::2"]),
     Status.WARN, "nat.ipv6-only", ["nat-ipv4-blocked"]),
])
def test_nat_judge(observation: nat.NatObservation, status: Status, message: str,
                   advice: list[str]) -> None:
    verdict = nat.judge(observation)
    assert (verdict.status, verdict.message.id) == (status, message), verdict.message.text()
    assert [a.id for a in verdict.advice] == advice
    if message == "nat.no-answer":
        assert verdict.message.params["count"] == 2


def steps(**outcome: Any) -> tuple[Step, ...]:
    """Four steps; `failed="tls"` fails that one (later ones not run); `days_left` on TLS."""
    failed = outcome.get("failed")
    result, stopped = [], False
    for name in ("dns", "tcp", "tls", "https"):
        if stopped:
            result.append(Step(name))
        elif name == failed:
            error = outcome.get("error")  # as a document has it: read back into its Failure
            result.append(Step(name, ok=False, ms=5.0,
                               error=Failure.read(error) if error else None))
            stopped = True
        else:
            info = {"days_left": outcome["days_left"]} if name == "tls" and "days_left" in outcome \
                else {}
            result.append(Step(name, ok=True, ms=10.0, info=info))
    return tuple(result)


@pytest.mark.parametrize("hosts, status, message, advice", [
    ([steps(days_left=90)], Status.PASS, "domain.ok", []),
    ([steps(days_left=5)], Status.WARN, "domain.cert-expiring", ["cert-expiring"]),
    ([steps(failed="dns", error="NXDOMAIN")], Status.FAIL, "domain.step-failed", ["dns-failure"]),
    ([steps(failed="tcp", error="refused")], Status.FAIL, "domain.step-failed",
     ["whitelist-domain"]),
    ([steps(failed="tls", error="certificate not trusted")], Status.FAIL, "domain.step-failed",
     ["tls-untrusted"]),
    # an empty error never leaves empty brackets: the remedy still reads
    ([steps(failed="https", error=None)], Status.FAIL, "domain.step-failed",
     ["whitelist-domain"]),
    ([steps(), steps()], Status.PASS, "domain.all-ok", []),
    ([steps(), steps(failed="dns", error="NXDOMAIN")], Status.FAIL, "domain.hosts-bad",
     ["dns-failure"]),
])
def test_domain_judge(hosts: list[tuple[Step, ...]], status: Status, message: str,
                      advice: list[str]) -> None:
    observation = domain.DomainObservation(tuple(
        domain.HostSteps(f"h{i}.test", s) for i, s in enumerate(hosts)))
    verdict = domain.judge(observation)
    assert (verdict.status, verdict.message.id) == (status, message)
    assert [a.id for a in verdict.advice] == advice
    for item in verdict.advice:
        assert "()" not in item.text("en") and "（）" not in item.text("zh")


@pytest.mark.parametrize("page, status, message, cause", [
    (url.Page("http://localhost:8080/"), Status.PASS, "url.localhost", None),
    (url.Page("http://10.1.2.3/call.html"), Status.FAIL, "url.plain-http", "https-required"),
    (url.Page("https://a.test/", steps=list(steps(failed="tls", error="expired"))), Status.FAIL,
     "url.unreachable", "tls-untrusted"),
    (url.Page("https://a.test/", steps=list(steps(days_left=90)),
              redirects=[Hop(url="https://a.test/", status_code=302, ms=3.0),
                         Hop(url="http://a.test/", status_code=None, ms=None)],
              problem=Failure.read("redirects to http://a.test/")), Status.FAIL, "url.redirect-insecure",
     "https-required"),
    (url.Page("https://a.test/", steps=list(steps(days_left=90)),
              redirects=[Hop(url="https://a.test/", status_code=404, ms=3.0)]),
     Status.WARN, "url.http-error", None),
    (url.Page("https://a.test/", steps=list(steps(days_left=90)),
              redirects=[Hop(url="https://a.test/", status_code=200, ms=3.0)]),
     Status.PASS, "url.ok", None),
    (url.Page("https://a.test/", steps=list(steps(days_left=3)),
              redirects=[Hop(url="https://a.test/", status_code=200, ms=3.0)]),
     Status.WARN, "url.ok", None),
    # the page's host itself blocked: allow that host (not "the media domain")
    (url.Page("https://a.test/", steps=list(steps(failed="tcp", error="timed out"))),
     Status.FAIL, "url.unreachable", "whitelist-page-host"),
    # the fetch stopped at a redirect's host: that host is the one to allow
    (url.Page("https://a.test/", steps=list(steps(days_left=90)),
              redirects=[Hop(url="https://a.test/", status_code=302, ms=3.0),
                         Hop(url="https://login.test/", status_code=None, ms=None)],
              problem=Failure.read("https://login.test/: ConnectTimeout")), Status.FAIL, "url.fetch-failed",
     "whitelist-page-host"),
])
def test_url_judge(page: url.Page, status: Status, message: str, cause: str | None) -> None:
    got, said, remedy, _ = url.judge_page(page)
    assert (got, said.id, remedy) == (status, message, cause)
    verdict = url.judge(url.UrlObservation((page,)))
    assert verdict.status is status
    assert [a.id for a in verdict.advice] == ([cause] if cause else [])
    if cause == "whitelist-page-host":
        blocked = "login.test" if page.problem else "a.test"
        assert verdict.advice[0].params["host"] == blocked, verdict.advice[0].text("en")
        assert "media servers" not in verdict.advice[0].text("en")


def test_ports_reads_the_trtc_probes_transport_from_its_result() -> None:
    from trtcdetect.models import ProbeResult

    def trtc(status: Status, transport: str) -> dict[str, ProbeResult]:
        return {"trtc": ProbeResult("trtc", "TRTC", status, details={
            "reached_over": {"endpoint": "162.14.22.165:8000", "transport": transport}})}

    assert ports._trtc_udp(trtc(Status.PASS, "UDP 8000")) == "UDP 8000"
    assert ports._trtc_udp(trtc(Status.PASS, "TCP 443")) is None  # TCP says nothing of UDP
    assert ports._trtc_udp(trtc(Status.FAIL, "UDP 8000")) is None
    assert ports._trtc_udp({}) is None
    assert ports.PROBE.after == ("trtc",)


def hop(code: int | None, where: str = "https://a.test/") -> Hop:
    return Hop(url=where, status_code=code, ms=None if code is None else 3.0)


THROUGH = (Step("proxy", True, 2.0), Step("tls", True, 9.0), Step("https", True, 4.0))
REFUSED = Failure.read("https://b.test/: ProxyError: 403 Filtered")


@pytest.mark.parametrize("page, status, message, finding, advice", [
    # the page and every redirect fetched through the proxy as well: nothing to say
    (url.Page("https://a.test/", list(steps(days_left=90)), [hop(200)],
              via_proxy=("http://p:3128", THROUGH), via_redirects=[hop(200)]),
     Status.PASS, "url.ok", None, []),
    # the host passes through the proxy, a hop it redirects to does not (a proxy that
    # filters by host): the GET through the proxy is the step that fails
    (url.Page("https://a.test/", list(steps(days_left=90)), [hop(302), hop(200, "https://b.test/")],
              via_proxy=("http://p:3128", THROUGH),
              via_redirects=[hop(302), hop(None, "https://b.test/")], via_problem=REFUSED),
     Status.WARN, "url.via-proxy", "domain.proxy-failed", ["whitelist-page-host"]),
    # the proxy answers with a block page where the direct fetch got the page
    (url.Page("https://a.test/", list(steps(days_left=90)), [hop(200)],
              via_proxy=("http://p:3128", THROUGH), via_redirects=[hop(403)]),
     Status.WARN, "url.via-proxy", "domain.proxy-failed", ["whitelist-page-host"]),
    # ... but an error page both ways is the page's own (the direct judgement stands)
    (url.Page("https://a.test/", list(steps(days_left=90)), [hop(404)],
              via_proxy=("http://p:3128", THROUGH), via_redirects=[hop(404)]),
     Status.WARN, "url.http-error", None, []),
    # blocked directly, fetched through the proxy: works for browsers that use it
    (url.Page("https://a.test/", list(steps(failed="tcp", error="timed out")),
              via_proxy=("http://p:3128", THROUGH), via_redirects=[hop(200)]),
     Status.WARN, "url.via-proxy", "domain.only-proxy", ["whitelist-page-host"]),
    # blocked directly, and the fetch through the proxy fails too: both named
    (url.Page("https://a.test/", list(steps(failed="tcp", error="timed out")),
              via_proxy=("http://p:3128", THROUGH), via_redirects=[], via_problem=REFUSED),
     Status.FAIL, "url.via-proxy", "domain.both-failed", ["whitelist-page-host"]),
])
def test_url_judge_through_a_proxy(page: url.Page, status: Status, message: str,
                                   finding: str | None, advice: list[str]) -> None:
    """Written from how an HTTP proxy behaves (CONNECT refused by host, a block page);
    tests/net/test_proxy_lab.py has a real one refuse a redirect's host."""
    got, said, found, _ = url.judge_with_proxy(page)
    assert (got, said.id) == (status, message), said.text("en")
    if finding is not None:
        assert said.params["finding"]["id"] == finding
    assert [a.id for a in found] == advice
    if finding == "domain.proxy-failed":
        assert "the GET step fails" in said.text("en")
        # the remedy names the host that failed: the redirect's where a redirect failed
        blocked = "b.test" if page.via_problem else "a.test"
        assert found[0].params["host"] == blocked, found[0].text("en")
    if finding == "domain.both-failed":  # not "direct: fine" after the direct failure
        assert "fine" not in said.text("en") and "the GET step fails too" in said.text("en")
    entry = url._entry(page)
    assert entry.via_proxy and entry.via_proxy.problem == page.via_problem
    assert len(entry.via_proxy.steps) == 3  # the proxy row's own; the GET is "redirects"
