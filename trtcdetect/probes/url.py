"""Probe `url`: will a browser let this deployment page use the camera and microphone?

Browsers grant getUserMedia only in a secure context (the URL table in ../shared/seeds:
HTTPS, or http://localhost / http://127.0.0.1 while developing; http://[machine IP] may play
but not publish). The FAQ's "works on localhost, fails on the server's IP" is this rule.
An https page is fetched with httpx, its certificate checked as the domain probe does, and every
redirect followed by hand: a redirect to plain HTTP on another host fails.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ..config import Config
from ..models import Advice, Message, ProbeResult, Status, unique_advice, worst
from .domain import PROBE as DOMAIN

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_REDIRECTS = 10


def secure_context(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" or (
        parts.scheme == "http" and (host in LOCAL_HOSTS or host.endswith(".localhost")))


async def _follow(config: Config, url: str) -> tuple[list[dict[str, Any]], str | None]:
    """GET with redirects followed one by one; returns the hops and the first problem."""
    hops: list[dict[str, Any]] = []
    async with httpx.AsyncClient(verify=config.ssl_context(), timeout=config.timeout_s,
                                 trust_env=False, follow_redirects=False) as client:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            start = time.perf_counter()
            try:
                async with asyncio.timeout(config.timeout_s), client.stream("GET", current) as r:
                    response = r  # headers are enough: the body is not read
            except httpx.HTTPError as exc:
                return hops, f"{current}: {type(exc).__name__}: {exc}" if str(exc) else \
                    f"{current}: {type(exc).__name__}"
            except TimeoutError:
                return hops, f"{current}: no response within {config.timeout_s:g} s"
            hops.append({"url": current, "status_code": response.status_code,
                         "ms": round((time.perf_counter() - start) * 1000, 2)})
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                return hops, None
            current = urljoin(current, location)
            if not secure_context(current):
                hops.append({"url": current, "status_code": None, "ms": None})
                return hops, f"redirects to {current}"
        return hops, f"more than {MAX_REDIRECTS} redirects"


async def check(config: Config, url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    entry: dict[str, Any] = {"url": url, "secure_context": secure_context(url)}
    if parts.scheme == "http":
        if entry["secure_context"]:
            entry.update(status="pass", message=Message("url.localhost", {"url": url}).as_dict())
        else:
            entry.update(status="fail", cause="https-required",
                         message=Message("url.plain-http", {"url": url}).as_dict())
        return entry
    port = parts.port or 443
    tls = await DOMAIN.check(replace(config, https_port=port), host)
    entry["steps"] = tls.details["steps"]
    if tls.status is Status.FAIL:
        entry.update(status="fail", cause=tls.advice[0].id if tls.advice else "tls-untrusted",
                     message=Message("url.unreachable", {"url": url, "error": tls.summary}).as_dict())
        return entry
    hops, problem = await _follow(config, url)
    entry["redirects"] = hops
    if problem is not None:
        insecure = problem.startswith("redirects to")
        entry.update(status="fail", cause="https-required" if insecure else "whitelist-domain",
                     message=Message("url.redirect-insecure" if insecure else "url.fetch-failed",
                                     {"url": url, "problem": problem}).as_dict())
        return entry
    final = hops[-1]
    entry.update(status_code=final["status_code"],
                 ms=round(sum(h["ms"] for h in hops if h["ms"] is not None), 2))
    if final["status_code"] >= 400:
        entry.update(status="warn", cause=None, message=Message(
            "url.http-error", {"url": url, "code": final["status_code"]}).as_dict())
    else:
        entry.update(status="warn" if tls.status is Status.WARN else "pass", message=Message(
            "url.ok", {"url": url, "code": final["status_code"], "ms": entry["ms"]}).as_dict())
    return entry


class UrlProbe:
    id = "url"
    title = "Deployment page"
    description = "--url pages: HTTPS (or localhost) so browsers allow camera and microphone"

    def deadline_s(self, config: Config) -> float:
        return config.timeout_s * (4 + MAX_REDIRECTS) + 2

    async def run(self, config: Config) -> ProbeResult:
        if not config.urls:
            return ProbeResult(self.id, self.title, Status.SKIP, message=Message("url.none"))
        entries = list(await asyncio.gather(*(check(config, url) for url in config.urls)))
        statuses = [Status(e["status"]) for e in entries]
        advice = unique_advice(
            Advice(e["cause"], {"url": e["url"], "host": urlsplit(e["url"]).hostname or "",
                                "error": ""})
            for e in entries if e.get("cause"))
        if len(entries) == 1:
            message = Message(entries[0]["message"]["id"], entries[0]["message"]["params"])
        else:
            bad = [e["url"] for e in entries if e["status"] != "pass"]
            message = Message("url.summary", {"ok": len(entries) - len(bad),
                                              "count": len(entries),
                                              "which": ", ".join(bad) or "-"})
        return ProbeResult(self.id, self.title, worst(statuses), message=message,
                           details={"urls": entries}, advice=advice)


PROBE = UrlProbe()
