"""Which ports this process may listen on, and what to say when it may not.

On Linux a port below `net.ipv4.ip_unprivileged_port_start` (1024 unless changed) needs root or
the CAP_NET_BIND_SERVICE capability; three of TRTC's ports are below it (UDP 843 and 443, and
HTTPS on TCP 443). `serve` says so in one line before it binds anything; `demo` moves such ports
above it for its own run (DEMO_PORT_SHIFT), since both of its ends are this machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: the kernel's own default for ip_unprivileged_port_start (and every other system's rule)
DEFAULT_UNPRIVILEGED_START = 1024
#: `demo` as a normal user: a privileged port P is served and checked as P + this
DEMO_PORT_SHIFT = 10_000
_CAP_NET_BIND_SERVICE = 10


def unprivileged_start(proc: Path = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")) -> int:
    """The lowest port a normal user may listen on here."""
    try:
        return int(proc.read_text().strip())
    except (OSError, ValueError):
        return DEFAULT_UNPRIVILEGED_START


def may_bind_any_port(status: Path = Path("/proc/self/status")) -> bool:
    """Root, or a process holding CAP_NET_BIND_SERVICE (setcap on the interpreter, systemd's
    AmbientCapabilities): it may listen below the unprivileged start."""
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return True
    try:
        for line in status.read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> _CAP_NET_BIND_SERVICE & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def privileged(ports: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Those of (protocol, port) this process may not listen on (in the order given)."""
    if may_bind_any_port():
        return []
    start = unprivileged_start()
    return [(protocol, port) for protocol, port in ports if 0 < port < start]


def words(ports: Iterable[tuple[str, int]]) -> str:
    """'UDP 843, 443; TCP 443'"""
    listed = list(ports)
    parts = []
    for protocol in ("udp", "tcp"):
        numbers = [str(p) for proto, p in listed if proto == protocol]
        if numbers:
            parts.append(f"{protocol.upper()} {', '.join(numbers)}")
    return "; ".join(parts)


def refusal(ports: Iterable[tuple[str, int]]) -> str:
    """The one line `serve` says when it may not listen on some of its ports."""
    listed = list(ports)
    start = unprivileged_start()
    return (f"{words(listed)} {'is' if len(listed) == 1 else 'are'} below {start} and need "
            "privileges this user does not have: run as root, or give the interpreter the "
            "capability (sudo setcap cap_net_bind_service=+ep \"$(readlink -f "
            "\"$(command -v python3)\")\"), or start it from a systemd unit with "
            "AmbientCapabilities=CAP_NET_BIND_SERVICE (contrib/systemd/trtcdetect-serve.service), "
            f"or choose ports from {start} up (e.g. --udp-ports 8000,8080,8800,16285 "
            "--https-port 8443)")


def demo_ports(ports: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """`demo` as a normal user: each port it may not listen on, moved to port + DEMO_PORT_SHIFT."""
    return {(protocol, port): port + DEMO_PORT_SHIFT for protocol, port in privileged(ports)}
