"""A page fetched as a browser fetches it: GET, every redirect followed by hand, straight to
the host (--resolve pinned as curl pins it) or through the HTTP proxy that applies to each hop;
headers only, never the body. What counts as a secure context is here too: a redirect out of
one ends the fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from ..config import Config
from ..evidence import Evidence, Foreign
from ..failures import Failure, Kind, said
from ..parse import Proxy
from .bind import socket_options
from .proxy import proxy_for

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_REDIRECTS = 10


def secure_context(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" or (
        parts.scheme == "http" and (host in LOCAL_HOSTS or host.endswith(".localhost")))


def pinned(config: Config, url: str) -> tuple[str, dict[str, str], Foreign]:
    """`url` as --resolve has it: the pinned address in the URL, the name in the Host header
    and in TLS (SNI and certificate check) — what curl --resolve does. Unpinned: unchanged."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    addresses = config.network.resolve.get(host)
    if not addresses:
        return url, {}, {}
    address = sorted(addresses, key=lambda a: ":" in a)[0]  # IPv4 first, as resolve() does
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return target, {"Host": parts.netloc.rpartition("@")[2]}, {"sni_hostname": parts.hostname}


async def _transport(config: Config, proxy: Proxy | None) -> httpx.AsyncHTTPTransport:
    """Straight to the host, or through `proxy` (CONNECT); from --source / --interface."""
    local = config.network.local
    through = None
    if proxy is not None:
        user, _, password = (proxy.auth or "").partition(":")
        through = httpx.Proxy(proxy.shown, auth=(user, password) if proxy.auth else None)
    return httpx.AsyncHTTPTransport(
        verify=await config.network.tls_context(), proxy=through,
        local_address=local.source if local else None,
        socket_options=socket_options(local))


class Hop(Evidence, frozen=True, kw_only=True):
    """One request of a fetch with its redirects: the URL, its status (None: stopped there)."""

    url: str
    status_code: int | None
    ms: float | None


async def follow(config: Config, url: str, through_proxy: bool = False
                  ) -> tuple[list[Hop], Failure | None]:
    """GET with redirects followed one by one; returns the hops and the first problem (the last
    hop is where the fetch stopped: its status None when it got no answer or was not asked).
    `through_proxy`: each hop as a browser with the proxy takes it -- through the proxy that
    applies to its host (proxy_for: --proxy, or $HTTPS_PROXY unless $NO_PROXY exempts it),
    straight to the host otherwise."""
    hops: list[Hop] = []
    clients: dict[Proxy | None, httpx.AsyncClient] = {}
    async with contextlib.AsyncExitStack() as stack:
        async def client_for(host: str) -> tuple[httpx.AsyncClient, bool]:
            proxy = proxy_for(config, host) if through_proxy else None
            if proxy not in clients:
                clients[proxy] = await stack.enter_async_context(httpx.AsyncClient(
                    transport=await _transport(config, proxy), timeout=config.network.timeout_s,
                    trust_env=False, follow_redirects=False))
            return clients[proxy], proxy is not None

        current = url
        for _ in range(MAX_REDIRECTS + 1):
            client, proxied = await client_for(urlsplit(current).hostname or "")
            start = time.perf_counter()
            # through a proxy the proxy resolves the name: --resolve pins direct hops only
            target, headers, extensions = (current, {}, {}) if proxied else \
                pinned(config, current)
            try:
                async with asyncio.timeout(config.network.timeout_s), client.stream(
                        "GET", target, headers=headers, extensions=extensions) as r:
                    response = r  # headers are enough: the body is not read
            except httpx.HTTPError as exc:
                hops.append(Hop(url=current, status_code=None, ms=None))  # stopped here
                words = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                return hops, Failure.of(Kind.AT, where=current, cause=said(words))
            except TimeoutError:
                hops.append(Hop(url=current, status_code=None, ms=None))
                return hops, Failure.of(Kind.AT, where=current, cause=Failure.of(
                    Kind.NO_RESPONSE, seconds=config.network.timeout_s))
            hops.append(Hop(url=current, status_code=response.status_code,
                            ms=round((time.perf_counter() - start) * 1000, 2)))
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                return hops, None
            current = urljoin(current, location)
            if not secure_context(current):
                hops.append(Hop(url=current, status_code=None, ms=None))
                return hops, Failure.of(Kind.REDIRECTS_TO, where=current)
        return hops, Failure.of(Kind.TOO_MANY_REDIRECTS, count=MAX_REDIRECTS)
