"""The SOCKS5 relay that carries -4/-6, --source and --interface to Tencent's native SDK, on
loopback (no root): a real TCP and UDP echo server, and the client side written out byte by
byte from RFC 1928/1929 (test code; the lab test in test_trtc_lab.py runs it under the SDK)."""

from __future__ import annotations

import asyncio
import socket
import struct

from trtcdetect.config import Local
from trtcdetect.net.socksrelay import Relay, relay_running


async def tcp_echo() -> tuple[asyncio.Server, list[str]]:
    peers: list[str] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[0])
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0), peers


async def login(relay: Relay, password: str | None = None
                ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    writer.write(b"\x05\x01\x02")
    assert await reader.readexactly(2) == b"\x05\x02"
    user, secret = relay.user.encode(), (password or relay.password).encode()
    writer.write(bytes([1, len(user)]) + user + bytes([len(secret)]) + secret)
    return reader, writer, await reader.readexactly(2)


def ipv4(host: str, port: int) -> bytes:
    return b"\x01" + socket.inet_aton(host) + struct.pack("!H", port)


async def connect(relay: Relay, host: str, port: int) -> tuple[int, bytes]:
    reader, writer, status = await login(relay)
    assert status == b"\x01\x00"
    writer.write(b"\x05\x01\x00" + ipv4(host, port))
    answer = await reader.readexactly(10)
    if answer[1] != 0:
        writer.close()
        return answer[1], b""
    writer.write(b"hello")
    echoed = await reader.read(100)
    writer.close()
    return 0, echoed


def test_connect_is_relayed_from_the_source_address_asked() -> None:
    async def main() -> None:
        server, peers = await tcp_echo()
        port = server.sockets[0].getsockname()[1]
        async with relay_running(Local(source="127.0.0.2"), None) as relay:
            assert await connect(relay, "127.0.0.1", port) == (0, b"hello")
            assert relay.tally.connects == 1
            assert relay.tally.destinations == {f"tcp 127.0.0.1 {port}"}
        async with relay_running(None, 6) as relay:  # -6: an IPv4 destination is refused
            assert await connect(relay, "127.0.0.1", port) == (2, b"")
            assert relay.tally.other_family == 1
        server.close()
        assert peers == ["127.0.0.2"]  # the echo server saw --source's address

    asyncio.run(main())


def test_only_the_runs_own_login_is_let_in() -> None:
    async def main() -> None:
        async with relay_running(None, None) as relay:
            _, writer, status = await login(relay, password="guessed")
            assert status == b"\x01\x01"
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
            writer.write(b"\x05\x01\x00")  # no authentication offered
            assert await reader.readexactly(2) == b"\x05\xff"
            writer.close()

    asyncio.run(main())


def test_udp_associate_relays_datagrams_both_ways() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        seen: list[tuple[str, int]] = []

        class Echo(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                seen.append(addr)
                self.transport.sendto(b"back:" + data, addr)  # type: ignore[attr-defined]

        echo, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        echo_port = echo.get_extra_info("sockname")[1]
        async with relay_running(Local(source="127.0.0.3"), None) as relay:
            reader, writer, _ = await login(relay)
            writer.write(b"\x05\x03\x00" + ipv4("0.0.0.0", 0))
            answer = await reader.readexactly(10)
            assert answer[1] == 0
            relay_at = (socket.inet_ntoa(answer[4:8]), struct.unpack("!H", answer[8:10])[0])
            client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            client.settimeout(2)
            client.sendto(b"\x00\x00\x00" + ipv4("127.0.0.1", echo_port) + b"ping", relay_at)
            reply = await loop.run_in_executor(None, client.recv, 100)
            client.close()
            writer.close()
            assert reply == b"\x00\x00\x00" + ipv4("127.0.0.1", echo_port) + b"back:ping"
            assert relay.tally.datagrams_out == 1 and relay.tally.datagrams_in == 1
        echo.close()
        assert seen[0][0] == "127.0.0.3"

    asyncio.run(main())
