"""The browser's own WebRTC stack: a local page (served on 127.0.0.1) in the found Chromium,
headless with fake devices, calls the echo peer of `trtcdetect serve` and posts its getStats
and the candidate pair the call went over.

-4/-6, --source and --interface: Chromium has no way to be told which local address or device
its WebRTC uses (its IP-handling policies only narrow to the default route's interface). The
page holds the call to the chosen address family by withholding the other family's candidates
(`held_family`). For --source and --interface the browser runs in a network namespace of its own
(`hold`, netns.py) whose packets leave from the chosen address; which local address the call
went from is reported beside what was asked (`local_asked`), for the judge to compare.

The page, its server, the browser and its profile are `headless.open_page`'s: nothing is left
behind, also when the browser fails to start.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from typing import TYPE_CHECKING

from ..call.local import interface_addresses, local_choice
from ..config import Config
from ..evidence import UNSET, Evidence, Foreign, UnsetType
from ..net.bind import ip_version
from .headless import SEALED_FLAGS, open_page, wait_loaded

if TYPE_CHECKING:
    from .netns import Hold

#: How long the local page may take to report its call, s
WEBRTC_PAGE_S = 25.0


def held_family(config: Config, mine: list[str]) -> int | None:
    """The address family the browser's call is held to: -4/-6; else --source's; else the
    --interface device's (its addresses: `mine`), when they are all of one family."""
    if config.network.family:
        return config.network.family
    families = {ip_version(a) for a in ([str(config.network.source)] if config.network.source else mine)}
    return families.pop() if len(families) == 1 else None


class LocalAsked(Evidence, frozen=True, kw_only=True):
    """What -4/-6, --source, --interface asked of the call's local end (browser/page.py)."""

    which: str | UnsetType = UNSET
    family: int | None | UnsetType = UNSET
    source: str | None | UnsetType = UNSET
    interface: str | None | UnsetType = UNSET
    interface_addresses: tuple[str, ...] | UnsetType = UNSET



def local_asked(config: Config) -> LocalAsked | None:
    """What the run's options asked of the call's local end, for the page (its family) and
    the judge; None: nothing."""
    if not config.network.local_chosen:
        return None
    mine = interface_addresses(config.network.interface) if config.network.interface else []
    return LocalAsked(which=local_choice(config), family=held_family(config, mine),
                      source=str(config.network.source) if config.network.source else None,
                      interface=config.network.interface, interface_addresses=tuple(mine))


async def browser_webrtc(config: Config, binary: str, family: int | None = None,
                         hold: Hold | None = None) -> Foreign:
    """Run the local WebRTC page in headless `binary`, its call held to `family` (4, 6, or
    None: either), in a namespace of its own with `hold`; return what the page reported."""
    import httpx
    from aiohttp import web

    from .netns import NotHeld

    page = resources.files(__package__).joinpath("static/webrtc.html").read_text("utf-8")
    result: asyncio.Future[Foreign] = asyncio.get_running_loop().create_future()

    async def offer(request: web.Request) -> web.Response:
        try:
            async with httpx.AsyncClient(verify=(await config.network.tls_context()),
                                         timeout=config.network.timeout_s,
                                         trust_env=False) as client:
                answer = await client.post(str(config.call.echo_url), json=await request.json(),
                                           headers=config.call.echo_headers())
            return web.json_response(answer.json(), status=answer.status_code)
        except (httpx.HTTPError, ValueError) as exc:
            return web.json_response({"error": f"echo peer: {exc}"}, status=502)

    async def job(_: web.Request) -> web.Response:
        return web.json_response({"family": family})

    async def report(request: web.Request) -> web.Response:
        if not result.done():
            result.set_result(await request.json())
        return web.json_response({})

    try:
        async with open_page(binary, page, gets={"job": job},
                             posts={"offer": offer, "result": report},
                             # the page needs no name: its echo peer is reached through
                             # this page's server, its media at the addresses in the answer
                             flags=("--use-fake-device-for-media-stream", *SEALED_FLAGS),
                             hold=hold) as opened:
            started = time.monotonic()
            why = await wait_loaded(opened)
            if why is not None:  # nothing was asked of the network
                return {"stage": "page", "connected": False, "error": why}
            return await asyncio.wait_for(
                result, max(WEBRTC_PAGE_S - (time.monotonic() - started), 0))
    except TimeoutError:
        return {"stage": "timeout", "connected": False,
                "error": f"the page did not report within {WEBRTC_PAGE_S:g} s"}
    except NotHeld as exc:
        return {"stage": "hold", "connected": False, "error": str(exc)}
    except OSError as exc:
        return {"stage": "start", "connected": False,
                "error": f"the browser did not start: {exc}"}
