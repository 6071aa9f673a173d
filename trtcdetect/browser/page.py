"""The browser's own WebRTC stack: a local page (served on 127.0.0.1) in the found Chromium,
headless with fake devices, calls the echo peer of `trtcdetect serve` and posts its getStats.

The page, its server, the browser and its profile are `headless.open_page`'s: nothing is left
behind, also when the browser fails to start.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from typing import Any

from ..config import Config
from .headless import open_page, wait_loaded

#: How long the local page may take to report its call, s
WEBRTC_PAGE_S = 25.0


async def browser_webrtc(config: Config, binary: str) -> dict[str, Any]:
    """Run the local WebRTC page in headless `binary`; return what the page reported."""
    import httpx
    from aiohttp import web

    page = resources.files(__package__).joinpath("static/webrtc.html").read_text("utf-8")
    result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def offer(request: web.Request) -> web.Response:
        try:
            async with httpx.AsyncClient(verify=(await config.tls_context()), timeout=config.timeout_s,
                                         trust_env=False) as client:
                answer = await client.post(str(config.echo_url), json=await request.json(),
                                           headers=config.echo_headers())
            return web.json_response(answer.json(), status=answer.status_code)
        except (httpx.HTTPError, ValueError) as exc:
            return web.json_response({"error": f"echo peer: {exc}"}, status=502)

    async def report(request: web.Request) -> web.Response:
        if not result.done():
            result.set_result(await request.json())
        return web.json_response({})

    try:
        async with open_page(binary, page, posts={"offer": offer, "result": report},
                             flags=("--use-fake-device-for-media-stream",)) as opened:
            started = time.monotonic()
            why = await wait_loaded(opened)
            if why is not None:  # nothing was asked of the network
                return {"stage": "page", "connected": False, "error": why}
            return await asyncio.wait_for(
                result, max(WEBRTC_PAGE_S - (time.monotonic() - started), 0))
    except TimeoutError:
        return {"stage": "timeout", "connected": False,
                "error": f"the page did not report within {WEBRTC_PAGE_S:g} s"}
    except OSError as exc:
        return {"stage": "start", "connected": False,
                "error": f"the browser did not start: {exc}"}
