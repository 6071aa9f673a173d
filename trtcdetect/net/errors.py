"""The kernel's words for a socket error, whatever wrapped it."""

from __future__ import annotations

import errno
import os
from typing import Literal

from ..evidence import DnsFailure
from ..failures import Failure

#: who said no to a packet: this computer, the far host, or a router on the path
Refuser = Literal["here", "host", "path"]

#: Errors that mean "something on the path said no": a refusal or an ICMP unreachable.
REFUSALS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES,
                      errno.EPERM})


#: Errors that this computer itself raised before a packet left: its firewall (an OUTPUT rule)
#: or security software said no. The fix is on this computer, not on the network.
BLOCKED_HERE = frozenset({errno.EPERM, errno.EACCES})


def refused_by(exc: OSError) -> Refuser | None:
    """Who said no: "here" (this computer), "host" (the far host: port unreachable / RST),
    "path" (a router: host or network unreachable, administratively prohibited), or None."""
    if exc.errno in BLOCKED_HERE:
        return "here"
    if exc.errno == errno.ECONNREFUSED:
        return "host"
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "path"
    return None


def os_error_text(exc: OSError) -> str:
    """'Connection refused (errno 111)': the kernel's words, whatever wrapped them."""
    if exc.errno is not None:
        return f"{os.strerror(exc.errno)} (errno {exc.errno})"
    return str(exc) or type(exc).__name__


class ResolveError(Exception):
    """The name did not resolve; `why` says why (its text is the message), `kind` classifies
    it (KINDS) and `server` names the DNS server that showed it, when one did."""

    def __init__(self, why: Failure, kind: str = "failed", server: str | None = None) -> None:
        super().__init__(str(why))
        self.why = why
        self.kind = kind
        self.server = server
        self.ms: float | None = None  # how long the failed lookup took

    def failure(self, host: str) -> DnsFailure:
        """As typed evidence (a probe's `dns_failure`), for the diagnosis."""
        return DnsFailure(host=host, kind=self.kind, error=self.why, server=self.server)
