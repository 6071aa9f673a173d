"""Where the network probes' packets leave from: `--source ADDR` (the local address they are
sent from) and `--interface NAME` (SO_BINDTODEVICE: out of that device whatever the routing
table prefers -- "it works on Wi-Fi, not on the VPN"). Every socket the network probes open
comes from here, so both options reach every one of them.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ..config import Local

#: Linux's SO_BINDTODEVICE (25); Python names it on Linux only
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def socket_options(local: Local | None) -> list[tuple[int, int, bytes]] | None:
    """For httpx/httpcore's `socket_options`: SO_BINDTODEVICE for --interface."""
    if local is None or not local.interface:
        return None
    return [(socket.SOL_SOCKET, SO_BINDTODEVICE, local.interface.encode())]


def check_interface(name: str) -> str:
    """The name of a network interface of this machine, or ValueError saying which exist."""
    try:
        socket.if_nametoindex(name)
    except OSError:
        names = ", ".join(n for _, n in socket.if_nameindex())
        raise ValueError(f"no network interface {name!r} here (there are: {names})") from None
    return name


def open_socket(family: int, kind: int, local: Local | None) -> socket.socket:
    """A non-blocking socket on `local`'s device and address (OSError if it cannot be)."""
    sock = socket.socket(family, kind)
    try:
        sock.setblocking(False)
        if local is not None and local.interface:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, local.interface.encode())
        if local is not None and local.source:
            sock.bind((local.source, 0))
    except OSError:
        sock.close()
        raise
    return sock


def family_of(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def ip_version(address: str) -> int:
    """4 or 6, for an IP address."""
    return 6 if ":" in address else 4


def family_allows(family: int | None, address: str) -> bool:
    """Whether -4/-6 (`family`; None: either) keeps the IP address `address`."""
    return family is None or ip_version(address) == family


async def tcp_connect(address: str, port: int, local: Local | None) -> socket.socket:
    """A connected TCP socket to address:port from `local` (no timeout: the caller's)."""
    sock = open_socket(family_of(address), socket.SOCK_STREAM, local)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return sock


async def udp_endpoint(factory: Any, local: Local | None, remote: tuple[str, int] | None = None,
                       family: int = 0) -> tuple[asyncio.DatagramTransport, Any]:
    """asyncio's datagram endpoint on `local`: connected to `remote` (so ICMP errors come
    back) or not."""
    if family == 0:
        family = family_of(remote[0]) if remote else (
            family_of(local.source) if local and local.source else socket.AF_INET)
    sock = open_socket(family, socket.SOCK_DGRAM, local)
    try:
        if local is None or not local.source:
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        if remote is not None:
            sock.connect(remote)
        transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
            factory, sock=sock)
    except BaseException:
        sock.close()
        raise
    return transport, protocol
