"""A SOCKS5 relay on 127.0.0.1 that carries -4/-6, --source and --interface to Tencent's SDK.

liteav has no setting for a local address, device or family, but it sends all its UDP (UDP
ASSOCIATE) and TCP (CONNECT) through a SOCKS5 proxy when told (`SetSocks5Proxy`; it still
resolves names itself). While the trtc probe runs with one of those options and no --socks5 of
the user's, the SDK is pointed at this relay: its outgoing sockets come from net/bind.py (as
every network probe's do) and it refuses destinations of the other family. It listens on
127.0.0.1 only, for the probe's length, and asks for a user name and password made for the run
(RFC 1929): no other program on this computer can use it.

RFC 1928: a greeting, the login, one request. CONNECT pipes bytes both ways; UDP ASSOCIATE
relays datagrams (SOCKS UDP header, no fragments) while the request's TCP connection stays
open; BIND is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..config import Local
from ..evidence import JsonObject
from .bind import family_allows, family_of, open_socket, udp_endpoint

OK, FAILURE, NOT_ALLOWED, NET_UNREACHABLE, HOST_UNREACHABLE, REFUSED = 0, 1, 2, 3, 4, 5
COMMAND_NOT_SUPPORTED = 7
#: How long a CONNECT may take before the relay answers "host unreachable", s
CONNECT_S = 10.0


@dataclass
class Tally:
    """What the relay carried, for the probe's details."""

    connects: int = 0
    connects_failed: int = 0
    datagrams_out: int = 0
    datagrams_in: int = 0
    #: destinations refused because -4/-6 excludes their family
    other_family: int = 0
    destinations: set[str] = field(default_factory=set)

    def as_dict(self) -> JsonObject:
        return {"connects": self.connects, "connects_failed": self.connects_failed,
                "datagrams_out": self.datagrams_out, "datagrams_in": self.datagrams_in,
                "other_family": self.other_family, "destinations": sorted(self.destinations)}


def pack_address(host: str, port: int) -> bytes:
    ip = ipaddress.ip_address(host.split("%")[0])
    return bytes([1 if ip.version == 4 else 4]) + ip.packed + struct.pack("!H", port)


def unpack_address(data: bytes, at: int) -> tuple[str, int, int]:
    """(host, port, the offset after them) of a SOCKS address at `at`; ValueError if bad."""
    kind = data[at] if len(data) > at else 0
    if kind == 1:
        host, end = str(ipaddress.IPv4Address(data[at + 1:at + 5])), at + 5
    elif kind == 4:
        host, end = str(ipaddress.IPv6Address(data[at + 1:at + 17])), at + 17
    elif kind == 3 and len(data) > at + 1:
        end = at + 2 + data[at + 1]
        host = data[at + 2:end].decode("idna")
    else:
        raise ValueError(f"SOCKS address type {kind}")
    if len(data) < end + 2:
        raise ValueError("SOCKS address cut short")
    return host, struct.unpack("!H", data[end:end + 2])[0], end + 2


class OtherFamily(Exception):
    pass


class Relay:
    def __init__(self, local: Local | None, family: int | None) -> None:
        self.local = local
        self.family = family
        self.user = "trtcdetect"
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.tally = Tally()
        self.tasks: set[asyncio.Task[Any]] = set()

    async def resolve(self, host: str, port: int) -> tuple[int, str]:
        """(socket family, address) for a destination, held to -4/-6."""
        try:
            found = [str(ipaddress.ip_address(host))]
        except ValueError:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                                 type=socket.SOCK_STREAM)
            found = [str(info[4][0]) for info in infos]
        for address in found:
            if family_allows(self.family, address):
                return family_of(address), address
        self.tally.other_family += 1
        raise OtherFamily(host)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            await self.serve(reader, writer)
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()
            if task is not None:
                self.tasks.discard(task)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5 or 2 not in methods:  # only with the run's user and password
            writer.write(b"\x05\xff")
            return
        writer.write(b"\x05\x02")
        _, user_length = await reader.readexactly(2)
        user = await reader.readexactly(user_length)
        password = await reader.readexactly((await reader.readexactly(1))[0])
        good = secrets.compare_digest(user, self.user.encode()) and \
            secrets.compare_digest(password, self.password.encode())
        writer.write(b"\x01\x00" if good else b"\x01\x01")
        if not good:
            return
        head = await reader.readexactly(4)  # version, command, reserved, address type
        if head[3] == 3:
            name_length = await reader.readexactly(1)
            raw = name_length + await reader.readexactly(name_length[0])
        else:
            raw = await reader.readexactly({1: 4, 4: 16}.get(head[3], 0))
        host, port, _ = unpack_address(head[3:] + raw + await reader.readexactly(2), 0)
        if head[1] == 1:
            await self.connect(reader, writer, host, port)
        elif head[1] == 3:
            await self.associate(reader, writer)
        else:
            writer.write(reply(COMMAND_NOT_SUPPORTED))

    async def connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      host: str, port: int) -> None:
        try:
            family, address = await self.resolve(host, port)
        except OtherFamily:
            writer.write(reply(NOT_ALLOWED))
            return
        except OSError:
            writer.write(reply(HOST_UNREACHABLE))
            return
        sock = open_socket(family, socket.SOCK_STREAM, self.local)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (address, port)),
                                   CONNECT_S)
        except (OSError, TimeoutError) as exc:
            sock.close()
            self.tally.connects_failed += 1
            writer.write(reply(REFUSED if isinstance(exc, ConnectionRefusedError) else
                               NET_UNREACHABLE if getattr(exc, "errno", 0) == 101 else
                               HOST_UNREACHABLE))
            return
        self.tally.connects += 1
        self.tally.destinations.add(f"tcp {address} {port}")
        far_reader, far_writer = await asyncio.open_connection(sock=sock)
        bound = sock.getsockname()
        writer.write(reply(OK, bound[0], bound[1]))
        try:
            await asyncio.gather(pipe(reader, far_writer), pipe(far_reader, writer))
        finally:
            far_writer.close()

    async def associate(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        relay = self
        ways: dict[int, asyncio.DatagramTransport] = {}
        client = _Client()

        class Far(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
                if client.addr is not None and client.near is not None:
                    relay.tally.datagrams_in += 1
                    client.near.sendto(b"\x00\x00\x00" + pack_address(addr[0], addr[1]) + data,
                                       client.addr)

        class Near(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
                if addr[0] != "127.0.0.1" or data[2:3] != b"\x00":
                    return  # not from this computer's SDK, or a fragment
                try:
                    host, port, end = unpack_address(data, 3)
                    ipaddress.ip_address(host)
                except ValueError:
                    return  # liteav resolves names itself: a name here is dropped
                if not family_allows(relay.family, host):
                    relay.tally.other_family += 1
                    return
                client.addr = addr
                family = family_of(host)
                if family not in ways:
                    return  # no socket of that family could be opened here
                relay.tally.datagrams_out += 1
                relay.tally.destinations.add(f"udp {host} {port}")
                ways[family].sendto(data[end:], (host, port))

        near, _ = await loop.create_datagram_endpoint(Near, local_addr=("127.0.0.1", 0))
        client.near = near
        try:
            for family in (socket.AF_INET, socket.AF_INET6):
                if self.family in (None, 6 if family == socket.AF_INET6 else 4):
                    with contextlib.suppress(OSError):  # no address of that family here
                        ways[family], _ = await udp_endpoint(Far, self.local, family=family)
            bound = near.get_extra_info("sockname")
            writer.write(reply(OK, bound[0], bound[1]))
            while await reader.read(4096):  # the association lasts as long as this connection
                pass
        finally:
            near.close()
            for way in ways.values():
                way.close()


@dataclass
class _Client:
    """The SDK's side of a UDP association: its address, once it has sent, and the socket
    that answers it."""

    addr: tuple[Any, ...] | None = None
    near: asyncio.DatagramTransport | None = None


def reply(code: int, host: str = "0.0.0.0", port: int = 0) -> bytes:
    return bytes([5, code, 0]) + pack_address(host, port)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.write_eof()


@contextlib.asynccontextmanager
async def relay_running(local: Local | None, family: int | None) -> AsyncIterator[Relay]:
    """A relay on 127.0.0.1 for as long as the block runs; its connections end with it."""
    relay = Relay(local, family)
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    relay.port = server.sockets[0].getsockname()[1]
    try:
        yield relay
    finally:
        server.close()
        for task in list(relay.tasks):
            task.cancel()
        await asyncio.gather(*relay.tasks, return_exceptions=True)
        await server.wait_closed()
