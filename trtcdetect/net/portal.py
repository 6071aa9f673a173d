"""A plain-HTTP look at the target: does something answer it in the target's place?

A network with a login page (a captive portal: hotels, airports, guest Wi-Fi) answers every
plain-HTTP request itself, with a redirect to its login page or the page itself, and lets
nothing else out until the user signs in. `look` sends one GET for http://HOST/ to the address
HOST resolves to (port 80), reads the response's headers and at most BODY_BYTES of its body, and
follows no redirect. It measures only; the diagnosis decides what the answer means.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass

import h11

from ..config import Config
from ..evidence import UNSET, Evidence, UnsetType
from ..failures import Failure, Kind, said
from .bind import family_of, open_socket
from .errors import ResolveError, os_error_text
from .resolve import resolve

#: How long the look may take at most, s (it runs beside the HTTPS steps)
PORTAL_S = 2.0
#: How much of a page's body is read to see whether it asks for a login
BODY_BYTES = 16 * 1024
#: Words of a login page (a form that asks for a password, or says so), in en and zh
_LOGIN = re.compile(rb"<form|type=[\"']?password|log ?in|sign ?in|\xe7\x99\xbb\xe5\xbd\x95|"
                    rb"\xe8\xae\xa4\xe8\xaf\x81", re.I)  # 登录, 认证


class PlainHttp(Evidence, frozen=True, kw_only=True):
    """http://HOST/ on port 80, once, no redirect followed (net/portal.py): does something (a
    login page) answer in the host's place?"""

    ok: bool
    status_code: int | None
    location: str | None
    location_host: str | None
    login_page: bool
    address: str | None
    error: Failure | None
    ms: float | UnsetType = UNSET


async def look(config: Config, host: str, port: int = 80) -> PlainHttp:
    """GET http://host/ once: what answered, or what went wrong and where."""
    started = time.perf_counter()
    address: str | None = None
    got: _Answer | Failure | None = None
    try:
        async with asyncio.timeout(min(PORTAL_S, config.network.timeout_s)):
            resolution = await resolve(config, host, port)
            address = resolution.addresses[0]
            # from --source / --interface, when given, as the other steps
            sock = open_socket(family_of(address), socket.SOCK_STREAM, config.network.local)
            try:
                await asyncio.get_running_loop().sock_connect(sock, (address, port))
            except BaseException:
                sock.close()
                raise
            reader, writer = await asyncio.open_connection(sock=sock)
            try:
                got = await _get(host, reader, writer)
            finally:
                writer.close()
    except TimeoutError:
        got = Failure.of(Kind.NO_RESPONSE, seconds=min(PORTAL_S, config.network.timeout_s))
    except ResolveError as exc:
        got = exc.why
    except OSError as exc:
        got = said(os_error_text(exc))
    except h11.RemoteProtocolError as exc:
        got = Failure.of(Kind.NOT_HTTP, said=exc)
    ms = round((time.perf_counter() - started) * 1000, 2)
    if not isinstance(got, _Answer):
        return PlainHttp(ok=False, status_code=None, location=None, location_host=None,
                         login_page=False, address=address, error=got, ms=ms)
    location = got.headers.get("location")
    return PlainHttp(
        ok=True, status_code=got.status_code, location=location,
        location_host=urllib.parse.urlsplit(location).hostname if location else None,
        login_page=bool(_LOGIN.search(got.body[:BODY_BYTES])), address=address, error=None,
        ms=ms)


@dataclass(frozen=True)
class _Answer:
    status_code: int
    headers: dict[str, str]  # names in lower case
    body: bytes  # at most BODY_BYTES and a read more


async def _get(host: str, reader: asyncio.StreamReader,
               writer: asyncio.StreamWriter) -> _Answer | Failure | None:
    """The response's status, headers and the start of its body; a Failure when the
    connection closed before any response; None when it ended in the middle of one."""
    connection = h11.Connection(our_role=h11.CLIENT)
    writer.write(connection.send(h11.Request(method="GET", target="/", headers=[
        ("Host", host), ("User-Agent", "trtcdetect"), ("Accept", "*/*"),
        ("Connection", "close")])))
    writer.write(connection.send(h11.EndOfMessage()))
    await writer.drain()
    body = b""
    response: h11.Response | None = None
    while len(body) < BODY_BYTES:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(8192)
            connection.receive_data(data)
            if not data and response is None:
                return Failure.of(Kind.CLOSED_SILENT)
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if response is None:
        return None
    return _Answer(response.status_code,
                   {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers},
                   body)
