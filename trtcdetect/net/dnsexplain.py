"""Why a name did not resolve: resolv.conf's DNS servers asked directly (dnspython).

getaddrinfo says "temporary failure" for a silent server, a REFUSED answer and a server it has
no route to alike; asking the servers directly tells them apart: no route to the server,
blocked on this computer, no answer, SERVFAIL, REFUSED, NXDOMAIN, or no address records.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any

from ..failures import Failure, Kind
from .errors import ResolveError

#: How many of resolv.conf's servers are asked when explaining a failure.
EXPLAIN_SERVERS = 3


async def explain(host: str, timeout_s: float,
                  servers: list[str] | None = None) -> ResolveError | None:
    """Ask each DNS server (default: resolv.conf's) for `host`'s A and AAAA records, all at
    once; the most telling failure, or None when a server answered with an address."""
    try:
        import dns.asyncquery
        import dns.exception
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.resolver
    except ImportError:
        return None
    if servers is None:
        try:
            servers = [str(s) for s in dns.resolver.Resolver(configure=True).nameservers]
        except dns.resolver.NoResolverConfiguration:
            return ResolveError(Failure.of(Kind.NO_DNS_SERVER), "failed")
    servers = [str(s) for s in servers][:EXPLAIN_SERVERS]
    if not servers:
        return ResolveError(Failure.of(Kind.NO_DNS_SERVER), "failed")

    async def ask(server: str, rdtype: Any) -> tuple[str, Any]:
        query = dns.message.make_query(host, rdtype)
        try:
            return server, await dns.asyncquery.udp(query, server, timeout=timeout_s)
        except dns.exception.Timeout:
            return server, "timeout"
        except OSError as exc:
            return server, exc

    answers = await asyncio.gather(*(ask(s, t) for s in servers
                                     for t in (dns.rdatatype.A, dns.rdatatype.AAAA)))
    by_server: dict[str, list[Any]] = {}
    for server, answer in answers:
        by_server.setdefault(server, []).append(answer)
    found: list[ResolveError] = []
    for server, (a, aaaa) in by_server.items():
        error = _classify(host, server, a, aaaa, timeout_s)
        if error is None:
            return None  # this server answers with an address: it is not DNS
        found.append(error)
    order = {kind: i for i, kind in enumerate(("nxdomain", "nodata", "refused", "servfail",
                                               "blocked-here", "no-route", "timeout"))}
    return min(found, key=lambda e: order.get(e.kind, len(order)))


def _classify(host: str, server: str, a: Any, aaaa: Any, timeout_s: float) -> ResolveError | None:
    import dns.rcode

    for answer in (a, aaaa):
        if isinstance(answer, OSError):
            if answer.errno in (errno.EPERM, errno.EACCES):
                return ResolveError(Failure.of(Kind.DNS_BLOCKED_HERE, server=server,
                                               said=answer.strerror),
                                    "blocked-here", server)
            if answer.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
                return ResolveError(Failure.of(Kind.DNS_NO_ROUTE, server=server,
                                               said=answer.strerror),
                                    "no-route", server)
            return ResolveError(Failure.of(Kind.DNS_UNASKABLE, server=server,
                                           said=answer.strerror or answer),
                                "failed", server)
    if a == "timeout" and aaaa == "timeout":
        return ResolveError(Failure.of(Kind.DNS_SILENT, server=server, seconds=timeout_s),
                            "timeout", server)
    responses = [r for r in (a, aaaa) if not isinstance(r, str)]
    for response in responses:
        code = response.rcode()
        if code == dns.rcode.NXDOMAIN:
            return ResolveError(Failure.of(Kind.NXDOMAIN_FROM, host=host, server=server), "nxdomain",
                                server)
        if code == dns.rcode.REFUSED:
            return ResolveError(Failure.of(Kind.REFUSED, server=server), "refused",
                                server)
        if code == dns.rcode.SERVFAIL:
            return ResolveError(Failure.of(Kind.SERVFAIL, server=server), "servfail",
                                server)
    if any(r.answer for r in responses):
        return None
    if len(responses) == 2:
        return ResolveError(Failure.of(Kind.NODATA_FROM, host=host, server=server),
                            "nodata", server)
    return ResolveError(Failure.of(Kind.DNS_SILENT, server=server, seconds=timeout_s),
                        "timeout", server)


