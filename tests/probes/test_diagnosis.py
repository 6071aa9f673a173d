"""The diagnosis' rules as tables: probe results in, causes out (no network, no root).

The results are written here in the shape the probes give them (their `details`); the lab tests
(tests/scenarios/test_diagnosis_lab.py) make the same faults for real and check the same headlines.
"""

from __future__ import annotations

from typing import Any

import pytest

from trtcdetect.diagnosis import contradictions, diagnose
from trtcdetect.models import Advice, Message, ProbeResult, RunReport, Status, Target
from trtcdetect.text import REMEDIES
from trtcdetect.text.remedies import PARTIES, PARTY

ONLINE = {"usable_addresses": ["192.0.2.2"], "no_network": False, "dns_servers": ["10.0.0.53"],
          "default_routes": ["via 192.0.2.1 dev eth0"],
          "routes": {"192.0.2.1": "192.0.2.2"}}
LOOPBACK_ONLY = {"usable_addresses": [], "no_network": True, "dns_servers": ["10.0.0.53"],
                 "routes": {"192.0.2.1": "no route: Network is unreachable"}}
#: IPv6 only: an IPv6 address and route, no IPv4 at all
IPV6_ONLY = {"usable_addresses": ["2001:db8:64::2"], "no_network": False,
             "dns_servers": ["2001:db8:64::1"], "default_routes": ["via 2001:db8:64::1 dev eth0"]}
#: an address, but no default route: a private network or a lab reaches its hosts on-link
NO_DEFAULT_ROUTE = {"usable_addresses": ["198.18.0.1"], "no_network": False,
                    "default_routes": [], "dns_servers": ["10.255.255.53"]}


def probe(pid: str, status: str, details: dict[str, Any] | None = None,
          message: Message | None = None, advice: tuple[Advice, ...] = ()) -> ProbeResult:
    return ProbeResult(pid, pid.title(), Status(status), summary=f"{pid} {status}",
                       details=details or {}, message=message, advice=advice)


def port(protocol: str, number: int, verdict: str, refused_by: str | None = None) -> dict[str, Any]:
    return {"protocol": protocol, "port": number, "verdict": verdict, "rtt_ms": None,
            "error": None, "refused_by": refused_by}


def ports(status: str, *entries: dict[str, Any], host: str = "media.example.com",
          **extra: Any) -> ProbeResult:
    return probe("ports", status, {"host": host, "address": "192.0.2.9", "ports": list(entries),
                                   **extra})


def domain(status: str, *steps: dict[str, Any], host: str = "media.example.com") -> ProbeResult:
    return probe("domain", status, {"host": host, "steps": list(steps)})


def step(name: str, ok: bool | None, error: str | None = None, **info: Any) -> dict[str, Any]:
    return {"name": name, "ok": ok, "ms": 1.0, "error": error, **info}


LOCAL_CALL = probe("rtp", "pass", {"mode": "local"})
#: a login page's answer to http://media.example.com/
PORTAL_REDIRECT = {"ok": True, "status_code": 302, "location": "http://login.hotel-wifi.example/?r=x",
                   "location_host": "login.hotel-wifi.example", "login_page": False,
                   "address": "192.0.2.9", "error": None, "ms": 3.1}
#: the direct path times out, the proxy's path works to the end
PROXY_DOMAIN = probe("domain", "warn", {
    "host": "trtc.test", "steps": [step("dns", True, a=["198.18.0.2"], aaaa=[], source="dns"),
                                   step("tcp", False, "timed out after 2 s")],
    "via_proxy": {"proxy": "http://198.18.0.9:8888",
                  "steps": [step("proxy", True), step("tls", True), step("https", True)]}})
ECHO_CALL_FAILED = probe("rtp", "fail", {"mode": "echo", "failed_stage": "ice"})
NO_ANSWER_UDP = [port("udp", p, "no_answer") for p in (8000, 8080, 16285)]
TCP_OPEN = port("tcp", 8687, "open")


def path(*answered: int, rtts: tuple[float, ...] = (), reached: bool = True) -> ProbeResult:
    """The path probe's result, judged by its own judge, for hops answering `answered` of 5
    (the last one the target itself when `reached`)."""
    from tests.fixtures import hop, traced
    from trtcdetect.probes.base import result
    from trtcdetect.probes.path import PROBE, PathObservation

    rtts = rtts or tuple(5.0 * (i + 1) for i in range(len(answered)))
    hops = [hop(i + 1, f"192.0.2.{i + 1}" if a else None, a, rtts[i] if a else None)
            for i, a in enumerate(answered)]
    seen = PathObservation("media.example.com", "192.0.2.9", 8000,
                           traced(*hops, reached_at=len(hops) if reached else None))
    return result(PROBE, seen, PROBE.judge(seen))


PORTS_LOSSY = probe("ports", "warn", {"host": "media.example.com", "address": "192.0.2.9",
                                      "ports": [TCP_OPEN, port("udp", 8000, "open")]},
                    message=Message("ports.lossy", {"which": "UDP 8000 20 %"}))
ECHO_CALL_POOR = probe("rtp", "warn", {"mode": "echo"})


def ids(findings: tuple[Any, ...]) -> list[tuple[str, str, tuple[str, ...], str]]:
    return [(f.id, str(f.severity), f.explains, f.party) for f in findings]


def status_of(probes: list[ProbeResult], findings: tuple[Any, ...]) -> Status:
    return RunReport("t", "2026-01-01T00:00:00Z", 1.0, Target("h", (), ()), {}, {},
                     tuple(probes), diagnosis=findings).status


@pytest.mark.parametrize("name, probes, network, expected, status", [
    ("all UDP dropped, default run (case 1): one network cause, and the local call is no "
     "evidence", [ports("warn", TCP_OPEN, *NO_ANSWER_UDP), LOCAL_CALL], ONLINE,
     [("udp-none", "warn", ("ports",), "network"),
      ("no-udp-evidence", "pass", ("rtp",), "user")], Status.WARN),
    ("TRTC's servers silent to STUN, but Tencent's SDK reached them over UDP: no UDP cause",
     [ports("pass", TCP_OPEN, *NO_ANSWER_UDP, host="qcloud.rtc.qq.com",
            udp_explained_by="trtc: UDP 8000"),
      probe("trtc", "pass", {"reached_over": {"endpoint": "162.14.22.165:8000",
                                              "transport": "UDP 8000"}})], ONLINE,
     [], Status.PASS),
    ("UDP dropped also fails the echo call: one cause explains both",
     [ports("warn", TCP_OPEN, *NO_ANSWER_UDP), ECHO_CALL_FAILED], ONLINE,
     [("udp-none", "fail", ("ports", "rtp"), "network")], Status.FAIL),
    ("some UDP ports pass, others not",
     [ports("warn", TCP_OPEN, port("udp", 8000, "open"), port("udp", 8080, "closed", "host"))],
     ONLINE, [("udp-some", "warn", ("ports",), "network")], Status.WARN),
    ("no network (case 3): one cause, the errors it explains count as its failure",
     [ports("fail", port("tcp", 8687, "error")), domain("fail", step("dns", False, "x")),
      probe("nat", "error"), probe("rtp", "fail", {"mode": "local", "failed_stage": "network"})],
     # explained in the report's order (the network probes' declarations, not a list of ids)
     LOOPBACK_ONLY, [("no-network", "fail", ("ports", "domain", "nat", "rtp"), "user")],
     Status.FAIL),
    ("no network: Tencent's SDKs failing too are explained by the one cause",
     [ports("fail", port("tcp", 8687, "error")), probe("trtc", "fail"), probe("trtcweb", "fail")],
     LOOPBACK_ONLY, [("no-network", "fail", ("ports", "trtc", "trtcweb"), "user")], Status.FAIL),
    ("no default route, and every port of the target unreachable: no network",
     [domain("fail", step("dns", True), step("tcp", False, "Network is unreachable (errno 101)")),
      ports("fail", dict(port("tcp", 8687, "closed", "path"),
                         error="Network is unreachable (errno 101)"))], NO_DEFAULT_ROUTE,
     [("no-network", "fail", ("ports", "domain"), "user")], Status.FAIL),
    ("no default route, but only the DNS server is out of reach: a DNS cause, not no network",
     [domain("fail", step("dns", False, "no route to the DNS server 10.255.255.53",
                          kind="no-route", server="10.255.255.53"))], NO_DEFAULT_ROUTE,
     [("dns-no-route", "fail", ("domain",), "user")], Status.FAIL),
    ("no default route, but the target answers on-link: not a network problem",
     [domain("warn", step("dns", True), step("tcp", True), step("tls", True))],
     NO_DEFAULT_ROUTE, [("probe.domain", "warn", ("domain",), "user")], Status.WARN),
    ("this computer's own firewall (case 4): the user's fix, not the network's",
     [ports("fail", port("tcp", 8687, "open"), *[port("udp", p, "error", "here")
                                                 for p in (8000, 8080)]),
      probe("nat", "warn")], ONLINE,
     [("local-firewall", "fail", ("ports", "nat"), "user")], Status.FAIL),
    ("a deployment page on plain HTTP: the deployment's owner",
     [probe("url", "fail", {"urls": [{"url": "http://app.example.com/", "secure_context": False}]})],
     ONLINE, [("http-page", "fail", ("url",), "owner")], Status.FAIL),
    ("an HTTPS certificate that is not trusted: named with its issuer",
     [domain("fail", step("dns", True), step("tcp", True),
             step("tls", False, "certificate not trusted: self-signed certificate in certificate "
                  "chain", issuer="CN=Corp Inspect CA"))], ONLINE,
     [("tls-untrusted", "fail", ("domain",), "network")], Status.FAIL),
    ("a device problem no rule explains keeps its own finding and its party",
     [probe("camera", "fail", message=Message("camera.cannot-open"),
            advice=(Advice("camera-busy"),)), ports("pass", TCP_OPEN, port("udp", 8000, "open"))],
     ONLINE, [("probe.camera", "fail", ("camera",), "user")], Status.FAIL),
    ("all pass with UDP answered: the local call is noted, not counted as network evidence",
     [ports("pass", TCP_OPEN, port("udp", 8000, "open")), LOCAL_CALL], ONLINE,
     [("local-call", "pass", ("rtp",), "user")], Status.PASS),
    ("all pass, echo call: nothing to say", [ports("pass", TCP_OPEN, port("udp", 8000, "open")),
                                             probe("rtp", "pass", {"mode": "echo"})], ONLINE,
     [], Status.PASS),
    ("an unexplained error stays an error (exit 3)", [probe("speaker", "error")], ONLINE,
     [("probe.speaker", "error", ("speaker",), "user")], Status.ERROR),
    ("only the HTTP proxy gets out (issue 30's example): one cause, the NAT verdict and the "
     "failed call folded under it, nothing that contradicts it",
     [ports("fail", port("tcp", 8687, "no_answer"), *NO_ANSWER_UDP, host="trtc.test"),
      PROXY_DOMAIN, probe("nat", "warn", message=Message("nat.symmetric",
                                                         {"address": "203.0.113.7"})),
      ECHO_CALL_FAILED],
     ONLINE, [("proxy-only", "fail", ("ports", "domain", "nat", "rtp"), "network")],
     Status.FAIL),
    ("the proxy works but so does UDP: not a proxy-only network",
     [ports("warn", port("tcp", 8687, "no_answer"), port("udp", 8000, "open"), host="trtc.test"),
      PROXY_DOMAIN], ONLINE, [("probe.ports", "warn", ("ports",), "user"),
                              ("probe.domain", "warn", ("domain",), "user"),
                              ("no-single-cause", "pass", ("ports", "domain"), "support")],
     Status.WARN),
    ("a proxy that fails too is no way out: no proxy-only cause",
     [ports("fail", port("tcp", 8687, "no_answer"), *NO_ANSWER_UDP, host="trtc.test"),
      domain("fail", step("dns", True), step("tcp", False, "timed out"), host="trtc.test")
      ], ONLINE, [("probe.ports", "fail", ("ports",), "user"),
                  ("probe.domain", "fail", ("domain",), "user"),
                  ("no-single-cause", "pass", ("ports", "domain"), "support")], Status.FAIL),
    ("Tencent's name resolves to loopback here: DNS pointed elsewhere, one cause",
     [domain("fail", step("dns", True, a=["127.0.0.1"], aaaa=[], source="dns"),
             step("tcp", False, "connection refused"), host="qcloud.rtc.qq.com"),
      ports("fail", port("tcp", 8687, "closed"), host="qcloud.rtc.qq.com")], ONLINE,
     [("dns-elsewhere", "fail", ("ports", "domain"), "network")], Status.FAIL),
    ("Tencent's name resolves to a private address: DNS pointed elsewhere",
     [domain("fail", step("dns", True, a=["10.20.30.40"], aaaa=[], source="dns"),
             step("tcp", False, "timed out"), host="qcloud.rtc.qq.com")], ONLINE,
     [("dns-elsewhere", "fail", ("domain",), "network")], Status.FAIL),
    ("a deployment's own name on a private address is not judged so (it may be on purpose)",
     [domain("fail", step("dns", True, a=["10.20.30.40"], aaaa=[], source="dns"),
             step("tcp", False, "timed out"), host="media.corp.example")], ONLINE,
     [("probe.domain", "fail", ("domain",), "user")], Status.FAIL),
    ("a login page answers plain HTTP and HTTPS does not get through: sign in first, one cause",
     [probe("domain", "fail", {"host": "media.example.com", "steps": [
         step("dns", True, a=["192.0.2.9"], aaaa=[], source="dns"),
         step("tcp", True), step("tls", False, "certificate verify failed: Hostname mismatch")],
         "plain_http": PORTAL_REDIRECT}),
      ports("fail", port("tcp", 8687, "no_answer"), *NO_ANSWER_UDP), ECHO_CALL_FAILED], ONLINE,
     [("captive-portal", "fail", ("ports", "domain", "rtp"), "user")], Status.FAIL),
    ("plain HTTP redirected elsewhere while HTTPS works: a site's own redirect, no portal",
     [probe("domain", "pass", {"host": "media.example.com", "steps": [
         step("dns", True, a=["192.0.2.9"], aaaa=[], source="dns"), step("tcp", True),
         step("tls", True), step("https", True)], "plain_http": PORTAL_REDIRECT}),
      ports("warn", TCP_OPEN, *NO_ANSWER_UDP)], ONLINE,
     [("udp-none", "warn", ("ports",), "network")], Status.WARN),
    ("every port answers, but a datagram of the size calls send does not: path MTU, a warning",
     [ports("pass", TCP_OPEN, port("udp", 8000, "open"), large_datagram={
         "port": 8000, "size": 1200, "answered": False, "attempts": 3, "rtt_ms": None,
         "error": None, "dont_fragment": True})], ONLINE,
     [("path-mtu", "warn", ("ports",), "network")], Status.WARN),
    ("... and the echo call that failed with it is folded under it",
     [ports("pass", TCP_OPEN, port("udp", 8000, "open"), large_datagram={
         "port": 8000, "size": 1200, "answered": False, "attempts": 3, "rtt_ms": None,
         "error": None, "dont_fragment": True}), ECHO_CALL_FAILED], ONLINE,
     [("path-mtu", "fail", ("ports", "rtp"), "network")], Status.FAIL),
    ("the large datagram answered too: nothing to say",
     [ports("pass", TCP_OPEN, port("udp", 8000, "open"), large_datagram={
         "port": 8000, "size": 1200, "answered": True, "attempts": 1, "rtt_ms": 0.4,
         "error": None, "dont_fragment": True})], ONLINE, [], Status.PASS),
    ("loss placed in the middle of the path: one cause, the quality findings folded under it",
     [PORTS_LOSSY, path(5, 3, 3, 3), ECHO_CALL_POOR], ONLINE,
     [("path-loss", "warn", ("path", "ports", "rtp"), "network")], Status.WARN),
    ("loss from this computer's own link: the user's to fix",
     [path(3, 3, 3)], ONLINE, [("path-loss", "warn", ("path",), "user")], Status.WARN),
    ("loss only at the server's end: the deployment's owner's",
     [path(5, 5, 3)], ONLINE, [("path-loss", "warn", ("path",), "owner")], Status.WARN),
    ("delay added at hop 2 and kept: placed, the network's",
     [path(5, 5, 5, rtts=(1.0, 240.0, 250.0))], ONLINE,
     [("path-delay", "warn", ("path",), "network")], Status.WARN),
    ("every router limits its answers: where the loss starts is not said, the probe's own line",
     [path(1, 1, 4)], ONLINE, [("probe.path", "warn", ("path",), "network")], Status.WARN),
    ("no UDP gets out: the silent path is UDP's evidence, not a path cause of its own",
     [ports("warn", TCP_OPEN, *NO_ANSWER_UDP), path(0, 0, 0, reached=False)], ONLINE,
     [("udp-none", "warn", ("ports", "path"), "network")], Status.WARN),
    ("a local call beside a path the target answered: UDP crossed the network, the plain note",
     [path(5, 5), LOCAL_CALL], ONLINE, [("local-call", "pass", ("rtp",), "user")],
     Status.PASS),
    ("... and beside a path the target did not answer: no UDP evidence",
     [path(5, 5, 0, reached=False), LOCAL_CALL], ONLINE,
     [("no-udp-evidence", "pass", ("rtp",), "user")], Status.PASS),
    ("IPv6 only behind NAT64 (the DNS64's answer carries the prefix): the failed echo call is it",
     [domain("pass", step("dns", True, a=[], aaaa=["64:ff9b::c000:209"], source="dns",
                          nat64={"prefix": "64:ff9b::/96", "ipv4": ["192.0.2.9"]}),
             step("tcp", True), step("tls", True), step("https", True)), ECHO_CALL_FAILED],
     IPV6_ONLY, [("nat64", "fail", ("rtp",), "network")], Status.FAIL),
    ("... the same with an IPv4 address and route: NAT64 is not the cause",
     [domain("pass", step("dns", True, a=[], aaaa=["64:ff9b::c000:209"], source="dns",
                          nat64={"prefix": "64:ff9b::/96", "ipv4": ["192.0.2.9"]}),
             step("tcp", True), step("tls", True), step("https", True)), ECHO_CALL_FAILED],
     ONLINE, [("probe.rtp", "fail", ("rtp",), "user")], Status.FAIL),
    ("... and with nothing failed, nothing is said",
     [domain("pass", step("dns", True, a=[], aaaa=["64:ff9b::c000:209"], source="dns",
                          nat64={"prefix": "64:ff9b::/96", "ipv4": ["192.0.2.9"]}),
             step("tcp", True), step("tls", True), step("https", True))],
     IPV6_ONLY, [], Status.PASS),
    ("UDP dropped, the test call over serve's TURN relay (TCP) worked: how much slower, said",
     [ports("warn", port("tcp", 8687, "open") | {"rtt_ms": 20.0}, *NO_ANSWER_UDP),
      probe("rtp", "warn", {"mode": "echo", "failed_stage": "ICE", "fallback": {
          "via": "TURN over TCP", "server": "192.0.2.9:3478", "audio": {
              "packets_sent": 250, "uplink_loss_pct": 0.0, "downlink_loss_pct": 0.5,
              "rtt_ms": {"min": 61.0, "avg": 61.0, "max": 61.0},
              "jitter_ms": {"min": 2.0, "avg": 2.0, "max": 2.0}, "bitrate_kbps": None}}})], ONLINE,
     [("udp-none", "warn", ("ports", "rtp"), "network")], Status.WARN),
    ("Tencent's name pinned by --resolve to a lab address: the user's choice, not a filter",
     [domain("fail", step("dns", True, a=["198.18.0.2"], aaaa=[], source="pinned"),
             step("tcp", False, "timed out"), host="qcloud.rtc.qq.com")], ONLINE,
     [("probe.domain", "fail", ("domain",), "user")], Status.FAIL),
])
def test_rules(name: str, probes: list[ProbeResult], network: dict[str, Any],
               expected: list[tuple[str, str, tuple[str, ...], str]], status: Status) -> None:
    findings = diagnose(probes, network)
    assert ids(findings) == expected, name
    assert status_of(probes, findings) == status, name
    assert contradictions(findings) == [], name


def test_the_udp_cause_says_how_much_slower_the_relayed_call_was() -> None:
    rtp = probe("rtp", "warn", {"mode": "echo", "failed_stage": "ICE", "fallback": {
        "via": "TURN over TCP", "server": "192.0.2.9:3478", "audio": {
            "packets_sent": 250, "uplink_loss_pct": 0.0, "downlink_loss_pct": 0.5,
            "rtt_ms": {"min": 61.0, "avg": 61.0, "max": 61.0},
            "jitter_ms": {"min": 2.0, "avg": 2.0, "max": 2.0}, "bitrate_kbps": None}}})
    (finding,) = diagnose([ports("warn", port("tcp", 8687, "open") | {"rtt_ms": 20.0},
                                 *NO_ANSWER_UDP), rtp], ONLINE)
    assert "the test call over it had 61 ms RTT and 0.5 % loss, against 20 ms for a direct " \
           "TCP connect" in finding.headline.text("en")
    assert "经中继的测试通话往返时延 61 毫秒" in finding.headline.text("zh")


def test_a_finding_that_contradicts_the_cause_is_folded_under_it() -> None:
    """The explicit rule, as a pure function: a NAT verdict (it rests on UDP answers) after
    "no UDP gets out" is folded under it and the cause keeps the worse severity; a note that
    says UDP crossed is dropped; findings that assert nothing about it stay."""
    from trtcdetect.diagnosis import fold_contradictions
    from trtcdetect.models import Finding

    cause = Finding("udp-none", Status.WARN, Message("dx.udp-none", {
        "host": "h", "ports": "UDP 8000"}), ("ports",))
    nat = Finding("probe.nat", Status.FAIL, Message("nat.symmetric", {"address": "192.0.2.7"}),
                  ("nat",))
    note = Finding("local-call", Status.PASS, Message("dx.local-call"), ("rtp",))
    camera = Finding("probe.camera", Status.FAIL, Message("error", {"reason": "x"}), ("camera",))
    assert contradictions([cause, nat, note, camera]) == [("udp-none", "probe.nat"),
                                                          ("udp-none", "local-call")]
    folded = fold_contradictions([cause, nat, note, camera])
    assert [f.id for f in folded] == ["udp-none", "probe.camera"]
    assert folded[0].explains == ("ports", "nat") and folded[0].severity is Status.FAIL
    assert contradictions(folded) == []
    # a cause's own evidence asserts the same, not the opposite
    assert contradictions([nat, Finding("udp-some", Status.WARN, Message("error", {
        "reason": "x"}))]) == []


DNS_HOST = "media.example.com"


@pytest.mark.parametrize("kind, server, host, finding, sentence, party", [
    ("no-route", "10.255.255.53", DNS_HOST, "dns-no-route", "dx.dns-no-route", "user"),
    ("blocked-here", "10.0.0.53", DNS_HOST, "dns-blocked-here", "dx.dns-blocked-here", "user"),
    ("timeout", "10.0.0.53", DNS_HOST, "dns-timeout", "dx.dns-timeout", "network"),
    ("refused", "10.0.0.53", DNS_HOST, "dns-refused", "dx.dns-refused", "network"),
    ("servfail", "10.0.0.53", DNS_HOST, "dns-servfail", "dx.dns-servfail", "network"),
    ("nxdomain", "10.0.0.53", DNS_HOST, "dns-nxdomain", "dx.dns-nxdomain", "owner"),
    ("nodata", "10.0.0.53", DNS_HOST, "dns-nodata", "dx.dns-nodata", "owner"),
    # Tencent's own names exist: a server that denies them filters them
    ("nxdomain", "10.0.0.53", "qcloud.rtc.qq.com", "dns-nxdomain", "dx.dns-filtered", "network"),
    # a failure no server could be asked about: said as the resolver said it
    ("timeout", None, DNS_HOST, "dns-failed", "dx.dns-failed", "network"),
])
def test_dns_failures_are_named_by_kind(kind: str, server: str | None, host: str, finding: str,
                                        sentence: str, party: str) -> None:
    failure = {"host": host, "kind": kind, "error": f"{kind} error", "server": server}
    probes = [domain("fail", step("dns", False, f"{kind} error", kind=kind, server=server),
                     host=host),
              ports("fail", *[port("udp", 8000, "error")], host=host, dns_failure=failure),
              probe("nat", "warn", {"dns_failure": failure})]
    (found,) = diagnose(probes, ONLINE)
    assert (found.id, found.headline.id, found.party) == (finding, sentence, party)
    assert found.explains == ("domain", "ports", "nat")  # one cause, three probes
    assert len(found.advice) == 1
    if server is not None and kind not in ("nxdomain", "nodata"):
        assert server in found.headline.text("en")


def test_findings_are_ordered_worst_first_and_notes_last() -> None:
    probes = [probe("microphone", "warn", message=Message("mic.low", {"level": -55.0}),
                    advice=(Advice("mic-low"),)),
              probe("camera", "fail", message=Message("camera.cannot-open"),
                    advice=(Advice("camera-busy"),)),
              ports("pass", TCP_OPEN), LOCAL_CALL]
    found = diagnose(probes, ONLINE)
    assert [f.id for f in found] == ["probe.camera", "probe.microphone", "no-udp-evidence"]


def test_every_remedy_names_who_can_act_on_it() -> None:
    assert set(PARTY) == set(REMEDIES)
    assert set(PARTY.values()) <= set(PARTIES)


def test_every_finding_renders_in_both_languages() -> None:
    probes = [ports("warn", TCP_OPEN, *NO_ANSWER_UDP), LOCAL_CALL]
    for finding in diagnose(probes, ONLINE) + diagnose(
            [domain("fail", step("dns", False, "x", kind="refused", server="10.0.0.53"))], ONLINE):
        for lang in ("en", "zh"):
            assert finding.headline.text(lang)
            assert all(a.text(lang) for a in finding.advice)
