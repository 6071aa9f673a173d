"""The browser's own WebRTC stack: a local page (served on 127.0.0.1) in the found Chromium,
headless with fake devices, calls the echo peer of `trtcdetect serve` and posts its getStats.

Everything it starts — the page's web server, a temporary browser profile, the browser — is set
up inside one `try`, so a browser that fails to start leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from importlib import resources
from typing import Any

from ..config import Config

#: How long the local page may take to report its call, s
WEBRTC_PAGE_S = 25.0


async def browser_webrtc(config: Config, binary: str) -> dict[str, Any]:
    """Run the local WebRTC page in headless `binary`; return what the page reported."""
    import httpx
    from aiohttp import web

    page = resources.files(__package__).joinpath("static/webrtc.html").read_text("utf-8")
    result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

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

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_post("/offer", offer)
    app.router.add_post("/result", report)
    runner = web.AppRunner(app, access_log=None)
    profile: str | None = None
    browser: asyncio.subprocess.Process | None = None
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = _bound_port(runner)
        profile = tempfile.mkdtemp(prefix="trtcdetect-browser-")
        browser = await asyncio.create_subprocess_exec(
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={profile}",
            f"http://127.0.0.1:{port}/",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(result, WEBRTC_PAGE_S)
    except TimeoutError:
        return {"stage": "timeout", "connected": False,
                "error": f"the page did not report within {WEBRTC_PAGE_S:g} s"}
    except OSError as exc:
        return {"stage": "start", "connected": False,
                "error": f"the browser did not start: {exc}"}
    finally:
        if browser is not None and browser.returncode is None:
            browser.terminate()
            try:
                await asyncio.wait_for(browser.wait(), 5)
            except TimeoutError:
                browser.kill()
                await browser.wait()
        await runner.cleanup()
        if profile is not None:
            shutil.rmtree(profile, ignore_errors=True)


def _bound_port(runner: Any) -> int:
    """The port the local page's server got (it asked for port 0), from aiohttp's public
    `AppRunner.addresses`."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise OSError("the local page's server has no TCP address")
