"""Signalling with an echo peer over HTTP(S), and asking the far end what it received.

Uplink loss is what the far end counted of every packet it got. When media stops, the far end
is asked directly (in this process for the local call; GET the `received` URL the echo peer
gave with its answer for an echo call): no waiting for its next receiver report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..config import Config
from ..evidence import JsonObject
from ..models import Message
from ..text.ids import S
from .stats import KindStats

if TYPE_CHECKING:
    import httpx


class CallFailed(Exception):
    def __init__(self, stage: str, message: Message) -> None:
        super().__init__(message.text())
        self.stage, self.message = stage, message


async def signal(client: httpx.AsyncClient, config: Config, sdp: str,
                 type_: str) -> tuple[str, str, str | None]:
    """POST the offer to the echo peer: its answer, and the URL where it tells what it received
    (None from an echo peer that has none)."""
    import httpx

    assert config.call.echo_url is not None
    try:
        response = await client.post(config.call.echo_url, json={"sdp": sdp, "type": type_},
                                     headers=config.call.echo_headers())
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise CallFailed("signalling", Message(S.CALL_SIGNAL_UNREACHABLE, {"error": error})) \
            from None
    if response.status_code != 200:
        raise CallFailed("signalling", Message(S.CALL_SIGNAL_HTTP, {
            "code": response.status_code, "body": response.text[:200]}))
    try:
        body = response.json()
        received = body.get("received")
        return (str(body["sdp"]), str(body["type"]),
                str(response.url.join(received)) if isinstance(received, str) else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CallFailed("signalling", Message(S.CALL_SIGNAL_NO_SDP)) from None


async def far_received(client: httpx.AsyncClient, config: Config, url: str) -> list[JsonObject] | None:
    """What the echo peer says it received, or None when it cannot say (the caller then waits
    for receiver reports instead)."""
    import httpx

    try:
        response = await client.get(url, headers=config.call.echo_headers())
        streams = response.json()["streams"] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return streams if isinstance(streams, list) else None


async def ask_until_stable(ask: Callable[[], Awaitable[list[JsonObject] | None]],
                           settle: float, limit: float) -> list[JsonObject] | None:
    """Ask the far end what it received, `settle` s apart, until two answers agree (a busy far
    end may not have read every packet yet), it cannot say (None), or `limit` s have passed."""
    started = time.monotonic()
    streams: list[JsonObject] | None = None
    while True:
        await asyncio.sleep(settle)
        before, streams = streams, await ask()
        if streams is None or streams == before or time.monotonic() - started >= limit:
            return streams


def apply_far(stats: dict[str, KindStats], streams: list[JsonObject] | None) -> None:
    """Take the far end's counts for the streams this side sent (matched by SSRC)."""
    for entry in streams or ():
        if not isinstance(entry, dict):
            continue
        k = stats.get(str(entry.get("kind")))
        received, lost = entry.get("packets_received"), entry.get("packets_lost")
        if k is not None and k.sender_ssrc is not None and entry.get("ssrc") == k.sender_ssrc \
                and isinstance(received, int) and isinstance(lost, int):
            k.far_received, k.far_lost = received, lost




async def turn_offer(config: Config) -> JsonObject | None:
    """The TURN relay the echo peer's serve fronts it with (serve --turn: GET /call/turn next
    to the echo URL), or None: no relay there, or no answer. Its credentials are short-lived
    and stay in memory: never in the report."""
    import httpx

    assert config.call.echo_url is not None
    url = config.call.echo_url.rstrip("/") + "/turn"
    tls = url.lower().startswith("https:")
    try:
        async with httpx.AsyncClient(verify=(await config.network.tls_context()) if tls else False,
                                     timeout=config.network.timeout_s, trust_env=False) as client:
            response = await client.get(url, headers=config.call.echo_headers())
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("urls"), list) \
            or not all(isinstance(body.get(k), str) for k in ("username", "credential")):
        return None
    urls = [u for u in body["urls"] if isinstance(u, str) and u.startswith(("turn:", "turns:"))]
    return {"urls": urls, "username": body["username"], "credential": body["credential"]} \
        if urls else None
