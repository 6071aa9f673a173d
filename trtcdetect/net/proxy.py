"""The media domain through an HTTP proxy, as a browser configured with one reaches it.

Corporate networks often let HTTPS out only through a proxy (`HTTPS_PROXY`, `--proxy URL`):
the browser opens a TCP connection to the proxy, asks it to `CONNECT host:443`, and runs TLS and
HTTP through that tunnel. These are the same steps, timed: "proxy" (TCP to the proxy and its
answer to CONNECT), then TLS and HTTPS over the tunnel (net/https.py). A proxy that inspects
HTTPS answers the TLS handshake with a certificate of its own issuer: comparing it with the
direct path's issuer names the interception.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import urllib.request

from ..config import Config
from ..failures import Failure, Kind
from ..parse import ConfigError, Proxy, parse_proxy
from .errors import os_error_text
from .https import Step, Timer, tcp, tls_then_https
from .isolated import in_own_loop

#: The most a proxy's answer to CONNECT may be before the tunnel is called broken, bytes
MAX_CONNECT_REPLY = 16384


def proxy_for(config: Config, host: str) -> Proxy | None:
    """--proxy, else $HTTPS_PROXY / $https_proxy unless $NO_PROXY exempts `host`."""
    if config.network.proxy is not None:
        return parse_proxy(config.network.proxy)
    found = urllib.request.getproxies_environment().get("https")
    bypass = urllib.request.proxy_bypass_environment(host)  # type: ignore[attr-defined]
    if not found or bypass:
        return None
    try:
        return parse_proxy(found)
    except ConfigError:
        return None


async def check_via(config: Config, proxy: Proxy, host: str, port: int) -> list[Step]:
    """TCP to the proxy + CONNECT, then TLS and HTTPS through the tunnel, each timed."""
    steps = {name: Step(name) for name in ("proxy", "tls", "https")}
    await in_own_loop(lambda: _through(config, proxy, host, port, steps))
    return list(steps.values())


async def _through(config: Config, proxy: Proxy, host: str, port: int,
                   steps: dict[str, Step]) -> None:
    context = await config.network.tls_context()
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(proxy.host, proxy.port,
                                                        type=socket.SOCK_STREAM),
                                       config.network.timeout_s)
    except (OSError, TimeoutError) as exc:
        step = steps["proxy"]
        step.ok, step.error = False, Failure.of(Kind.PROXY_UNRESOLVED, host=proxy.host,
                                                    said=exc)
        return
    addresses = tuple(dict.fromkeys(str(i[4][0]) for i in infos))
    sock = await tcp(config, addresses, proxy.port, steps["proxy"])
    if sock is None:
        steps["proxy"].error = Failure.of(Kind.PROXY_SILENT, cause=steps["proxy"].error
                                          or Failure.of(Kind.NO_ADDRESS))
        return
    if not await _connect(config, proxy, host, port, sock, steps["proxy"]):
        sock.close()
        return
    await tls_then_https(config, context, host, proxy.host, port, sock, steps,
                         fetch_unverified=False)


async def _connect(config: Config, proxy: Proxy, host: str, port: int, sock: socket.socket,
                   step: Step) -> bool:
    """CONNECT host:port; True when the proxy answered 2xx (the tunnel is open)."""
    loop = asyncio.get_running_loop()
    request = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    if proxy.auth is not None:
        token = base64.b64encode(proxy.auth.encode()).decode()
        request += f"Proxy-Authorization: Basic {token}\r\n"
    reply = b""
    tcp_ms = step.ms or 0.0
    with Timer() as t:
        try:
            async with asyncio.timeout(config.network.timeout_s):
                await loop.sock_sendall(sock, (request + "\r\n").encode())
                while b"\r\n\r\n" not in reply and len(reply) < MAX_CONNECT_REPLY:
                    chunk = await loop.sock_recv(sock, 1)  # byte by byte: not one past it
                    if not chunk:
                        break
                    reply += chunk
        except TimeoutError:
            step.ok, step.error = False, Failure.of(Kind.CONNECT_SILENT,
                                                    seconds=config.network.timeout_s)
        except OSError as exc:
            step.ok, step.error = False, Failure.of(Kind.CONNECT_FAILED,
                                                    said=os_error_text(exc))
    step.ms = tcp_ms + t.ms
    if step.ok is False:  # no reply to read
        return False
    status_line = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    fields = status_line.split(" ", 2)
    step.info["proxy"], step.info["connect_status"] = proxy.shown, status_line
    if len(fields) >= 2 and fields[1].startswith("2"):
        step.ok = True
        return True
    step.ok = False
    step.error = Failure.of(Kind.CONNECT_REFUSED, target=f"{host}:{port}", said=status_line) \
        if status_line else Failure.of(Kind.CONNECT_UNANSWERED, target=f"{host}:{port}")
    return False


