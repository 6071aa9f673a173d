"""A small logging SOCKS5 server (RFC 1928, RFC 1929 user/password) for the trtc lab tests.

`python -m tests.socks5 --bind ADDR --port N --log FILE` writes one JSON line per thing a client
did: its greeting, its login, each CONNECT and UDP ASSOCIATE request, each datagram it sent
through an association (with the destination from the SOCKS UDP header). It relays nothing: a
CONNECT is answered "network unreachable" and datagrams are dropped -- the lab has no route out,
and the test needs to know only that the SDK's traffic came here. It stands in for a user's
proxy (--socks5); the relay the product itself runs for -4/-6, --source and --interface is
trtcdetect/net/socksrelay.py.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import socket
from typing import Any, TextIO


def address(data: bytes, at: int) -> tuple[str, int, int]:
    """(host, port, next offset) from a SOCKS address field starting at `at`."""
    kind = data[at]
    if kind == 1:
        host, end = str(ipaddress.IPv4Address(data[at + 1:at + 5])), at + 5
    elif kind == 4:
        host, end = str(ipaddress.IPv6Address(data[at + 1:at + 17])), at + 17
    else:
        length = data[at + 1]
        host, end = data[at + 2:at + 2 + length].decode(), at + 2 + length
    return host, int.from_bytes(data[end:end + 2], "big"), end + 2


class Server:
    def __init__(self, bind: str, log: TextIO) -> None:
        self.bind = bind
        self.out = log

    def log(self, **entry: Any) -> None:
        self.out.write(json.dumps(entry) + "\n")
        self.out.flush()

    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._client(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = list(await reader.readexactly(count))
        self.log(event="greeting", methods=methods)
        if 2 in methods:
            writer.write(b"\x05\x02")
            await writer.drain()
            _, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode()
            self.log(event="login", user=user, password_length=len(password))
            writer.write(b"\x01\x00")
        else:
            writer.write(b"\x05\x00")
        await writer.drain()
        head = await reader.readexactly(4)
        rest = await reader.read(262)
        host, port, _ = address(head + rest, 3)
        command = head[1]
        if command == 1:
            self.log(event="connect", host=host, port=port)
            writer.write(b"\x05\x03\x00\x01" + bytes(4) + bytes(2))  # network unreachable
            await writer.drain()
            return
        if command == 3:
            relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            relay.bind((self.bind, 0))
            relay.setblocking(False)
            bound = relay.getsockname()
            self.log(event="udp_associate", relay_port=bound[1])
            writer.write(b"\x05\x00\x00\x01" + socket.inet_aton(bound[0])
                         + bound[1].to_bytes(2, "big"))
            await writer.drain()
            loop = asyncio.get_running_loop()
            reading = asyncio.ensure_future(reader.read())  # the association lives as long
            while not reading.done():
                receive = asyncio.ensure_future(loop.sock_recv(relay, 65535))
                await asyncio.wait({receive, reading}, return_when=asyncio.FIRST_COMPLETED)
                if receive.done():
                    data = receive.result()
                    dest, dport, _ = address(data, 3)
                    self.log(event="datagram", host=dest, port=dport, bytes=len(data))
                else:
                    receive.cancel()
            relay.close()
            return
        self.log(event="command", command=command)
        writer.write(b"\x05\x07\x00\x01" + bytes(6))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, default=1080)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    with open(args.log, "a", encoding="utf-8") as out:
        server = Server(args.bind, out)
        listener = await asyncio.start_server(server.client, args.bind, args.port)
        print("ready", flush=True)  # noqa: T201 - the test waits for this line
        async with listener:
            await listener.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
