"""The rules of the diagnosis: each looks for one cause in the probes' results.

A rule is a pure function `(probes, network, explained) -> Finding | None`: `probes` by id,
`network` this computer's network as the run saw it (net.local.NetworkSeen; None when not
known: the check page's documents, a run where reading it failed), `explained` the probes an
earlier (nearer) cause already explains. Rules run in the order of RULES: the nearer the
cause, the earlier (no network before DNS before the firewall).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Mapping

import msgspec

from .. import evidence
from ..evidence import UNSET, DnsFailure
from ..failures import Kind, said
from ..models import Advice, Finding, Message, ProbeResult, Status
from ..net.https import StepSeen
from ..net.local import NetworkSeen
from ..net.ports import PortVerdict
from ..probes.domain import DomainDetails
from ..probes.nat import NatDetails
from ..probes.path import PathDetails
from ..probes.ports import PortsDetails
from ..probes.rtp import RtpDetails
from ..probes.trtc import TrtcDetails
from ..probes.trtcweb import TrtcWebDetails
from ..probes.url import UrlDetails
from ..text.ids import R, S
from .names import public_hosts, same_site, special

# These rules are about particular probes' evidence: each probe is found by its evidence type,
# its id taken from its declaration in the registry, never written here.


def _id_of(kind: type[evidence.Evidence]) -> str:
    """The id of the probe whose evidence is `kind` (the registry's declaration)."""
    from ..probes import REGISTRY

    return next(pid for pid, probe in REGISTRY.items() if probe.evidence is kind)


DOMAIN, NAT, PATH, PORTS = (_id_of(k) for k in (DomainDetails, NatDetails, PathDetails,
                                                PortsDetails))
RTP, TRTC, TRTCWEB, URL = (_id_of(k) for k in (RtpDetails, TrtcDetails, TrtcWebDetails,
                                              UrlDetails))

Probes = Mapping[str, ProbeResult]
Network = NetworkSeen | None
Rule = Callable[[Probes, Network, frozenset[str]], Finding | None]

PROBLEM = (Status.FAIL, Status.WARN, Status.ERROR)


def _problems(probes: Probes, ids: tuple[str, ...] | list[str],
              explained: frozenset[str]) -> list[str]:
    return [i for i in ids if i in probes and i not in explained and probes[i].status in PROBLEM]


def _severity(probes: Probes, ids: list[str], at_least: Status = Status.WARN) -> Status:
    from . import severity_of

    return severity_of(probes, ids, at_least)


def _ports_seen(probes: Probes) -> PortsDetails | None:

    return evidence.of(PortsDetails, probes.get(PORTS))


def _ports(probes: Probes) -> list[PortVerdict]:
    seen = _ports_seen(probes)
    return list(seen.ports) if seen is not None else []


def _domain(probes: Probes) -> DomainDetails | None:

    return evidence.of(DomainDetails, probes.get(DOMAIN))


def _steps(probes: Probes) -> list[StepSeen]:
    """The domain probe's steps, for every host it checked, each with its host."""
    seen = _domain(probes)
    if seen is None:
        return []
    if seen.hosts:
        return [msgspec.structs.replace(s, host=h.host) for h in seen.hosts for s in h.steps]
    return [msgspec.structs.replace(s, host=seen.host) for s in seen.steps]


def _words(entries: list[PortVerdict]) -> str:
    """'UDP 8000, 8080; TCP 8687'"""
    parts = []
    for protocol in ("udp", "tcp"):
        ports = [str(e.port) for e in entries if e.protocol == protocol]
        if ports:
            parts.append(f"{protocol.upper()} {', '.join(ports)}")
    return "; ".join(parts)


def no_network(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """Only loopback; or no default route while every port of the target was "network
    unreachable": every network check fails for that one reason."""
    from ..probes import with_trait

    # the probes whose result depends on the network, in the registry's (the report's) order
    affected = _problems(probes, with_trait("network"), explained)
    if not affected or network is None:
        return None
    if network.no_network:
        headline = Message(S.DX_NO_NETWORK_LOOPBACK)
    elif not network.default_routes and _unreachable(probes):
        headline = Message(S.DX_NO_NETWORK_ROUTE, {"reason": "no default route"})
    else:
        return None
    return Finding("no-network", _severity(probes, affected, Status.FAIL), headline,
                   tuple(affected), (Advice(R.NO_NETWORK),), "user")


def _unreachable(probes: Probes) -> bool:
    """The kernel said "network unreachable" (no route) for every port of the target. (A DNS
    server without a route is the DNS rule's: the network may reach its hosts on-link.)"""
    entries = _ports(probes)
    return bool(entries) and all(f"errno {errno.ENETUNREACH})" in str(e.error)
                                 for e in entries)


def local_firewall(probes: Probes, network: Network,
                   explained: frozenset[str]) -> Finding | None:
    """This computer refused to send (EPERM/EACCES): its own firewall, not the network."""
    blocked = [e for e in _ports(probes) if e.refused_by == "here"]
    if not blocked or PORTS in explained:
        return None
    which = _words(blocked)
    affected = [PORTS] + [i for i in _problems(probes, (NAT, PATH, RTP), explained)
                            if _all_udp_blocked(probes, blocked)]
    return Finding("local-firewall", _severity(probes, affected), Message(
        S.DX_LOCAL_FIREWALL, {"which": which}), tuple(affected),
        (Advice(R.LOCAL_FIREWALL, {"which": which}),), "user")


def _all_udp_blocked(probes: Probes, blocked: list[PortVerdict]) -> bool:
    udp = [e for e in _ports(probes) if e.protocol == "udp"]
    return bool(udp) and all(e in blocked for e in udp)


def dns(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """A name did not resolve: which DNS failure, and who can fix it."""

    failures: list[tuple[str, DnsFailure]] = []
    for step in _steps(probes):
        if step.name == "dns" and step.ok is False:
            failures.append((DOMAIN, DnsFailure(
                host=step.host or "?", error=step.error or said("?"), kind=step.kind or "failed",
                server=step.server or None)))
    nat = evidence.of(NatDetails, probes.get(NAT))
    for probe_id, seen in ((PORTS, _ports_seen(probes)), (NAT, nat)):
        if seen is not None and seen.dns_failure:
            failures.append((probe_id, seen.dns_failure))
    affected = _problems(probes, list(dict.fromkeys(p for p, _ in failures)), explained)
    if not affected:
        return None
    first = next(f for p, f in failures if p in affected)
    host, error = first.host or "?", str(first.error)
    kind, server = first.kind or "failed", first.server
    if server is None and kind not in ("nxdomain", "nodata"):
        kind = "failed"
    servers = list(network.dns_servers) if network is not None else []
    server = str(server) if server else (servers[0] if servers else "?")
    advice: Advice
    if kind == "no-route":
        headline, advice, party = (Message(S.DX_DNS_NO_ROUTE, {"server": server}),
                                   Advice(R.DNS_NO_ROUTE, {"server": server}), "user")
    elif kind == "blocked-here":
        headline, party = Message(S.DX_DNS_BLOCKED_HERE, {"server": server}), "user"
        advice = Advice(R.LOCAL_FIREWALL, {"which": f"DNS (UDP 53) to {server}"})
    elif kind in ("nxdomain", "nodata") and host.lower() in public_hosts():
        # Tencent's own names exist: a DNS server that says otherwise filters them
        headline = Message(S.DX_DNS_FILTERED, {"server": server, "host": host,
                                               "error": kind.upper()})
        advice = Advice(R.DNS_SERVER, {"server": server, "host": host, "error": error})
        party = "network"
    elif kind in ("nxdomain", "nodata"):
        sentence = S.DX_DNS_NXDOMAIN if kind == "nxdomain" else S.DX_DNS_NODATA
        headline, advice, party = (Message(sentence, {"host": host}),
                                   Advice(R.DNS_NAME, {"host": host, "error": error}), "owner")
    elif kind in ("timeout", "refused", "servfail"):
        sentence = {"timeout": S.DX_DNS_TIMEOUT, "refused": S.DX_DNS_REFUSED,
                    "servfail": S.DX_DNS_SERVFAIL}[kind]
        headline = Message(sentence, {"server": server, "host": host})
        advice = Advice(R.DNS_SERVER, {"server": server, "host": host, "error": error})
        party = "network"
    else:
        headline, advice, party = (Message(S.DX_DNS_FAILED, {"host": host, "error": error}),
                                   Advice(R.DNS_FAILURE, {"host": host, "error": error}),
                                   "network")
    return Finding(f"dns-{kind}", _severity(probes, affected), headline, tuple(affected),
                   (advice,), party)


def dns_elsewhere(probes: Probes, network: Network,
                  explained: frozenset[str]) -> Finding | None:
    """One of Tencent's public names resolves only to addresses no public server has (a DNS
    filter's sinkhole, a hosts-file entry, security software): every check of it fails for
    that one reason. A deployment's own name may be private on purpose: not judged here."""
    from ..probes import with_trait
    from ..trtc import is_tencent

    for step in _steps(probes):
        host = step.host or ""
        addresses = [*(step.a or ()), *(step.aaaa or ())]
        if step.name != "dns" or not step.ok or not addresses \
                or not is_tencent(host) or step.source not in ("dns", UNSET):
            continue
        kinds = [special(a) for a in addresses]
        if not all(kinds):
            continue
        affected = _problems(probes, with_trait("network"), explained)
        if not affected:
            return None
        return Finding("dns-elsewhere", _severity(probes, affected, Status.FAIL), Message(
            S.DX_DNS_ELSEWHERE, {"host": host, "addresses": ", ".join(addresses[:4]),
                                 "kind": ", ".join(dict.fromkeys(k for k in kinds if k))}),
            tuple(affected), (Advice(R.DNS_ELSEWHERE, {"host": host}),), "network")
    return None


def captive_portal(probes: Probes, network: Network,
                   explained: frozenset[str]) -> Finding | None:
    """A login page answers in the target's place: plain HTTP to it is redirected to another
    site (or answered with a login form) while its HTTPS does not get through or is answered
    with another certificate. Until the user signs in, nothing else gets out either."""
    from ..probes import with_trait
    from ..trtc import is_tencent

    seen = _domain(probes)
    if DOMAIN in explained or seen is None:
        return None
    hosts = seen.hosts or (seen,)
    for entry in hosts:
        plain, host = entry.plain_http, entry.host
        if not plain or not plain.ok or not host:
            continue
        steps = {s.name: s for s in entry.steps}
        https_blocked = any(name in steps and steps[name].ok is False for name in ("tcp", "tls"))
        where = plain.location_host or ""
        redirected = plain.status_code in (301, 302, 303, 307, 308) and bool(where) \
            and not same_site(where, host) and not is_tencent(where)
        if not https_blocked or not (redirected or plain.login_page):
            continue
        affected = _problems(probes, with_trait("network"), explained)
        if not affected:
            return None
        shown = plain.location or f"a login page at http://{host}/"
        return Finding("captive-portal", _severity(probes, affected, Status.FAIL), Message(
            S.DX_CAPTIVE_PORTAL, {"host": host, "location": shown[:200]}), tuple(affected),
            (Advice(R.CAPTIVE_PORTAL),), "user")
    return None


def _ipv4_usable(network: NetworkSeen) -> bool:
    """This computer has an IPv4 address a call could use and an IPv4 default route."""
    addresses, routes = network.usable_addresses, network.default_routes
    return any(":" not in a for a in addresses) and any(
        ":" not in r.removeprefix("via ").split(" dev ")[0] for r in routes if r.startswith("via"))


def nat64(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """This network is IPv6-only and reaches IPv4 through a NAT64 (its DNS64 gave the target an
    address under the prefix ipv4only.arpa discovers, RFC 7050). Names work through it; servers
    given as IPv4 addresses do not (the native SDK's built-in access servers, a call's IPv4
    ICE candidates) unless this computer translates them itself (CLAT / 464XLAT). The checks
    that failed that way are folded under it; with none failed, nothing is said."""
    if network is None or _ipv4_usable(network):
        return None
    found = next((s.nat64 for s in _steps(probes) if s.name == "dns" and s.nat64), None)
    if not found:
        return None
    affected = _problems(probes, (NAT, TRTC, TRTCWEB, RTP), explained)
    if not affected:
        return None
    return Finding("nat64", _severity(probes, affected), Message(S.DX_NAT64, {
        "prefix": found.prefix or "?", "ipv4": ", ".join(found.ipv4) or "?"}),
        tuple(affected), (Advice(R.NAT64),), "network")


def proxy_only(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """The HTTP proxy gets through to the target while nothing goes there directly: every
    port (TCP and UDP) silent or refused and the direct TCP connection failing. The NAT
    verdict, the failed call and the SDKs' failures then all follow from it: one cause."""
    from ..probes import with_trait

    domain = _domain(probes)
    if DOMAIN in explained or domain is None:
        return None
    via = domain.via_proxy or None
    if not via or not via.steps or not all(s.ok for s in via.steps):
        return None
    direct_tcp = [s for s in _steps(probes) if s.name == "tcp"]
    if not direct_tcp or any(s.ok for s in direct_tcp):
        return None
    entries = [e for e in _ports(probes) if e.refused_by != "here"]
    if not entries or any(e.verdict == "open" for e in entries):
        return None
    affected = _problems(probes, with_trait("network"), explained)
    if not affected:
        return None
    ports = _ports_seen(probes)
    host = (ports.host if ports is not None else "") or domain.host or "?"
    return Finding("proxy-only", _severity(probes, affected, Status.FAIL), Message(
        S.DX_PROXY_ONLY, {"proxy": via.proxy or "?", "host": host,
                          "blocked": _words(entries)}),
        tuple(affected), (Advice(R.PROXY_ONLY),), "network")


def tls(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """The media domain's certificate is not trusted: interception, or a wrong clock."""
    if DOMAIN in explained or DOMAIN not in probes:
        return None
    for step in _steps(probes):
        if step.name == "tls" and step.ok is False and step.error is not None \
                and step.error.kind is Kind.UNTRUSTED:
            host = step.host or "?"
            issuer = step.issuer or None
            error = str(step.error.get("said"))
            shown = f"{error}; issuer {issuer}" if issuer else error
            return Finding("tls-untrusted", _severity(probes, [DOMAIN]), Message(
                S.DX_TLS_UNTRUSTED, {"host": host, "error": shown}), (DOMAIN,),
                (Advice(R.TLS_UNTRUSTED, {"host": host, "error": shown}),), "network")
    return None


def udp(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """UDP does not get through to the target while TCP does (or only on some ports)."""
    seen = _ports_seen(probes)
    if PORTS in explained or seen is None:
        return None
    if seen.udp_explained_by:
        return None  # Tencent's SDK reached TRTC's cloud over UDP in this run
    entries = list(seen.ports)
    udp_entries = [e for e in entries if e.protocol == "udp" and e.refused_by != "here"]
    if not udp_entries:
        return None
    open_udp = [e for e in udp_entries if e.verdict == "open"]
    silent = [e for e in udp_entries if e.verdict != "open"]
    if not silent:
        return None
    host = seen.host or "?"
    ports = ", ".join(str(e.port) for e in silent)
    advice = (Advice(R.WHITELIST_UDP, {"host": host, "ports": ports}),)
    if open_udp:
        return Finding("udp-some", _severity(probes, [PORTS]), Message(S.DX_UDP_SOME, {
            "host": host, "open": "UDP " + ", ".join(str(e.port) for e in open_udp),
            "blocked": "UDP " + ports}), (PORTS,), advice, "network")
    tcp_works = any(e.protocol == "tcp" and e.verdict == "open" for e in entries) \
        or any(s.name == "tcp" and s.ok for s in _steps(probes))
    if not tcp_works:
        return None
    affected = [PORTS] + [i for i in _problems(probes, (NAT, PATH), explained)]
    rtp = probes.get(RTP)
    if rtp is not None and rtp.details.get("mode") == "echo" and RTP not in explained \
            and rtp.status in PROBLEM:
        affected.append(RTP)
    headline = Message(S.DX_UDP_NONE, {"host": host, "ports": "UDP " + ports})
    slower = _fallback_figures(probes, entries)
    if slower is not None:  # how much slower the TCP fallback is, measured (serve --turn)
        headline = Message(S.DX_UDP_NONE_FALLBACK, {"host": host, "ports": "UDP " + ports,
                                                    **slower})
    return Finding("udp-none", _severity(probes, affected), headline, tuple(affected), advice,
                   "network")


def _fallback_figures(probes: Probes, entries: list[PortVerdict]) -> dict[str, float] | None:
    """The test call over serve's TURN relay (TCP) after the direct one failed: its RTT and
    loss, beside the direct TCP connect's RTT to the same host (the ports probe's), or None."""
    from ..probes.rtp import figures

    rtp = evidence.of(RtpDetails, probes.get(RTP))
    fallback = evidence.given(rtp.fallback) if rtp is not None else None
    audio = evidence.given(fallback.audio) if fallback is not None else None
    direct = [e.rtt_ms for e in entries if e.protocol == "tcp" and e.verdict == "open"
              and e.rtt_ms is not None]
    if audio is None or not direct:
        return None
    rtt, _jitter, loss, _score = figures(audio)
    if rtt is None or loss is None:
        return None
    return {"rtt": rtt, "loss": loss, "direct": min(direct)}


def path_mtu(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """Small datagrams answered, one of the size calls send not (Don't Fragment set): a link on
    the way drops large packets (a VPN, a tunnel, PPPoE) without saying so. STUN passes, calls
    lose their video. Said even when every port passed: the ports' verdicts are small ones."""
    ports = _ports_seen(probes)
    if ports is None or PORTS in explained:
        return None
    large = ports.large_datagram
    if not large or large.answered or not large.attempts:
        return None
    affected = [PORTS] + _problems(probes, (RTP,), explained)
    host = ports.host or "?"
    error = large.error or f"no answer to {large.attempts} requests"
    return Finding("path-mtu", _severity(probes, affected), Message(S.DX_PATH_MTU, {
        "host": host, "port": large.port, "size": large.size, "error": error}),
        tuple(affected), (Advice(R.PATH_MTU),), "network")


def path_loss(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """Loss or delay placed on the path: the path probe saw where it starts (this computer's
    link, the middle, the server's end). The quality problems it explains fold under it: the
    quality trains' loss, a test call that crossed the network and was poor."""
    from ..probes.path import PLACE_ADVICE, DelayStart, LossStart, place_message
    from ..text.remedies import PARTY

    path = probes.get(PATH)
    seen = evidence.of(PathDetails, path)
    if path is None or seen is None or PATH in explained or path.status not in PROBLEM:
        return None
    loss, delay = seen.loss_from or None, seen.delay_from or None
    where: LossStart | DelayStart | None = loss if loss is not None and loss.certain else delay
    if where is None:
        return None
    said = {"host": seen.host, "ttl": where.ttl, "address": where.address or "?",
            "place": place_message(where)}
    if isinstance(where, LossStart):
        fid, headline = "path-loss", Message(S.DX_PATH_LOSS, {**said, "loss": where.loss_pct})
    else:
        fid, headline = "path-delay", Message(S.DX_PATH_DELAY, {
            **said, "added": where.added_ms, "rtt": where.rtt_ms})
    advice = Advice(PLACE_ADVICE[where.place])
    affected = [PATH]
    ports = probes.get(PORTS)
    if ports is not None and PORTS not in explained and ports.message is not None \
            and ports.message.id == S.PORTS_LOSSY:
        affected.append(PORTS)
    rtp = probes.get(RTP)
    if rtp is not None and RTP not in explained and rtp.status == Status.WARN \
            and rtp.details.get("mode") != "local":
        affected.append(RTP)
    return Finding(fid, _severity(probes, affected), headline, tuple(affected), (advice,),
                   PARTY[advice.id])


def http_page(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """A deployment page on plain HTTP: browsers refuse it the camera and microphone."""

    pages = evidence.of(UrlDetails, probes.get(URL))
    if pages is None or URL in explained:
        return None
    for entry in pages.urls or ():
        if entry.secure_context is False and entry.url.startswith("http://"):
            page = entry.url
            return Finding("http-page", _severity(probes, [URL]), Message(
                S.DX_HTTP_PAGE, {"url": page}), (URL,),
                (Advice(R.HTTPS_REQUIRED, {"url": page}),), "owner")
    return None


def local_call(probes: Probes, network: Network, explained: frozenset[str]) -> Finding | None:
    """A note: the default test call stays inside this computer, so it is no evidence that the
    network carries calls; said louder when nothing else crossed the network over UDP."""
    rtp = probes.get(RTP)
    if rtp is None or rtp.details.get("mode") != "local" or rtp.status not in (
            Status.PASS, Status.WARN):
        return None
    crossed = any(e.protocol == "udp" and e.verdict == "open" for e in _ports(probes))

    nat = evidence.of(NatDetails, probes.get(NAT))
    if nat is not None and any(b.mapped for b in nat.bindings):
        crossed = True

    path = evidence.of(PathDetails, probes.get(PATH))
    if path is not None and path.reached_at:
        crossed = True  # the target itself answered the path's UDP datagrams
    headline = Message(S.DX_LOCAL_CALL if crossed else S.DX_NO_UDP_EVIDENCE)
    return Finding("local-call" if crossed else "no-udp-evidence", Status.PASS, headline,
                   (RTP,), (), "user")


RULES: tuple[Rule, ...] = (no_network, local_firewall, dns, dns_elsewhere, captive_portal, nat64, tls,
                          proxy_only, udp, path_mtu, path_loss, http_page, local_call)
