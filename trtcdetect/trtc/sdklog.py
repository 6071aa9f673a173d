"""What Tencent's native SDK tried, read from its log: the only place it says so.

The SDK's Python callbacks say little (offline: one `OnError(-1)` after 21 s); its log says
which names it resolved, which access-server endpoints it asked over which transport, how each
attempt ended, and the room-entry code. The line shapes below were recorded from liteav
13.2.0.24212 in network namespaces (tests/data/trtc/*.log); `parse` is pure and ignores any
line it does not know, so a later SDK that words things differently yields fewer facts, never
a crash.

What the log can and cannot tell, as measured: a TCP connection that is refused, or has no
route, is named (`net::ERR_CONNECTION_REFUSED`, `net::ERR_ADDRESS_UNREACHABLE`); a TCP or UDP
attempt that nobody answers ends in `TIMEOUT.`; a UDP datagram refused by the far host (ICMP
port unreachable) is not logged at all, so for UDP "refused" and "dropped" both read as
"no answer"; a datagram with no route is logged without its endpoint (counted in `unsent`; the
probe finds routes itself). A name that did not resolve has an empty address list and the resolver's reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_LINE = re.compile(r"^\[(?P<level>[A-Z])\]\[\d\d-\d\d/(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d\.\d+)"
                   r"[^\]]*\]\[[^\]]*\]\[(?P<where>[^\]]*)\](?P<text>.*)$")
_EP = r"(?P<endpoint>\[[0-9a-fA-F:.]+\]:\d+|[0-9.]+:\d+|[^\s\[\]]+:\d+) \[(?P<transport>UDP|TCP)\]"
_ASK = re.compile(r"QueryAccessServerInfo from server: " + _EP)
_SEND = re.compile(r"C2SRequest: .*Dst:" + _EP + r"(?P<rest>.*)$")
_TRANSPORT_ERROR = re.compile(r"TransportEndPoint: " + _EP + r" has error occurred")
_CONNECT_ERROR = re.compile(r"Error from connecting socket, result=net::(?P<error>ERR_[A-Z_]+)")
_SENDTO_ERROR = re.compile(r"sendto\(\) has failed .*net::(?P<error>ERR_[A-Z_]+)")
_DO_RESOLVE = re.compile(r"DoResolve: \[(?P<name>[^\]]+)\]")
_RESOLVED = re.compile(r"Resolve \[(?P<name>[^\]]+)\] cost (?P<ms>\d+) ms, IPs: ?(?P<ips>.*)$")
_RESOLVER_ERROR = re.compile(r"error in AddressResolver: (?P<error>.+)$")
_ENTER = re.compile(r"OnEnterRoom , code: \[(?P<code>-?\d+)\](?P<message>[^,]*)"
                    r"(?:, cost_time: (?P<cost>\d+)ms)?")
_SOCKS5 = re.compile(r"enable_socks5_=(?P<on>[01])")
_VERSION = re.compile(r"SDK Version:(?P<version>[0-9.]+)")
_NO_MORE = re.compile(r"QueryAccessServerInfo End\. No more available server candidate")

#: How an attempt ended, from the SDK's words
OUTCOMES = {
    "ERR_CONNECTION_REFUSED": "refused",
    "ERR_ADDRESS_UNREACHABLE": "unreachable",
    "ERR_NETWORK_UNREACHABLE": "unreachable",
    "ERR_CONNECTION_TIMED_OUT": "timeout",
    "ERR_NAME_NOT_RESOLVED": "dns",
    "ERR_PROXY_CONNECTION_FAILED": "proxy",
    "ERR_SOCKS_CONNECTION_FAILED": "proxy",
}


@dataclass
class Attempt:
    """One access-server endpoint and how the SDK's tries on it ended."""

    endpoint: str
    transport: str
    first_s: float
    sends: int = 0
    #: "timeout" (no answer), "refused", "unreachable" (no route), another net:: error in
    #: lower case, or None while still waiting when the log ended
    outcome: str | None = None
    ended_s: float | None = None

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    @property
    def host(self) -> str:
        return self.endpoint.rsplit(":", 1)[0].strip("[]")


@dataclass
class Name:
    name: str
    addresses: list[str] = field(default_factory=list)
    error: str | None = None
    ms: int | None = None


@dataclass
class SdkLog:
    """Everything `parse` understood, with times in seconds from the log's first line."""

    version: str | None = None
    names: dict[str, Name] = field(default_factory=dict)
    attempts: dict[tuple[str, str], Attempt] = field(default_factory=dict)
    #: room-entry code and message from `OnEnterRoom , code: [N]...`, its cost in ms
    enter_code: int | None = None
    enter_message: str = ""
    enter_cost_ms: int | None = None
    enter_s: float | None = None
    #: the SDK said it had no endpoint left to ask
    exhausted_s: float | None = None
    socks5: bool = False
    #: "sendto() has failed" lines: datagrams the kernel would not send (no route)
    unsent: int = 0
    lines: int = 0

    def tried(self) -> list[Attempt]:
        return sorted(self.attempts.values(), key=lambda a: a.first_s)


def _seconds(found: re.Match[str]) -> float:
    return int(found["h"]) * 3600 + int(found["m"]) * 60 + float(found["s"])


def parse(lines: Iterable[str]) -> SdkLog:
    log = SdkLog()
    start: float | None = None
    last_connect_error: str | None = None
    last_resolver_error: str | None = None
    for raw in lines:
        found = _LINE.match(raw.rstrip("\n"))
        if not found:
            continue
        log.lines += 1
        now = _seconds(found)
        if start is None:
            start = now
        t = now - start
        if t < 0:  # the log crossed midnight
            t += 86400
        text = found["text"]
        if (m := _VERSION.search(text)) and log.version is None:
            log.version = m["version"]
        elif m := _ASK.search(text):
            key = (m["endpoint"], m["transport"])
            log.attempts.setdefault(key, Attempt(m["endpoint"], m["transport"], t))
        elif m := _SEND.search(text):
            key = (m["endpoint"], m["transport"])
            attempt = log.attempts.setdefault(key, Attempt(m["endpoint"], m["transport"], t))
            if "TIMEOUT" in m["rest"]:
                if attempt.outcome is None:
                    attempt.outcome, attempt.ended_s = "timeout", t
            else:
                attempt.sends += 1
        elif m := _CONNECT_ERROR.search(text):
            last_connect_error = m["error"]
        elif m := _TRANSPORT_ERROR.search(text):
            key = (m["endpoint"], m["transport"])
            attempt = log.attempts.setdefault(key, Attempt(m["endpoint"], m["transport"], t))
            if last_connect_error is not None and attempt.outcome in (None, "timeout"):
                attempt.outcome = OUTCOMES.get(last_connect_error, last_connect_error.lower())
                attempt.ended_s = t
            last_connect_error = None
        elif _SENDTO_ERROR.search(text):
            # batched by the SDK ("failed twice") and logged from another thread: which
            # endpoint it was is not known, so it is counted, not attributed
            log.unsent += 1
        elif m := _DO_RESOLVE.search(text):
            log.names.setdefault(m["name"], Name(m["name"]))
        elif m := _RESOLVER_ERROR.search(text):
            last_resolver_error = m["error"].strip()
        elif m := _RESOLVED.search(text):
            name = log.names.setdefault(m["name"], Name(m["name"]))
            addresses = [a for a in re.split(r"[;,\s]+", m["ips"].strip()) if a]
            name.ms = int(m["ms"])
            if addresses:
                name.addresses, name.error = addresses, None
            elif not name.addresses:
                name.error = last_resolver_error or "no address"
        elif m := _ENTER.search(text):
            if log.enter_code is None:
                log.enter_code = int(m["code"])
                log.enter_message = m["message"].strip()
                log.enter_cost_ms = int(m["cost"]) if m["cost"] else None
                log.enter_s = t
        elif _NO_MORE.search(text):
            if log.exhausted_s is None:
                log.exhausted_s = t
        elif m := _SOCKS5.search(text):
            log.socks5 = log.socks5 or m["on"] == "1"
    return log
