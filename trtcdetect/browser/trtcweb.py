"""Tencent's Web SDK (trtc-sdk-v5) and detect library (rtc-detect) in a headless browser.

The vendored scripts (static/vendor, MANIFEST.json) are served with static/trtc.html on
127.0.0.1: no CDN, works offline. The page runs Tencent's capability checks and posts them
("detect"); with a scheduling job it then enters a room with placeholder credentials and posts
how that ended ("schedule"). The job, which may carry UserSigs, is fetched by the page from its
own server: never in the URL, the browser's command line or its profile.

Without a scheduling job the browser resolves no name at all (headless.SEALED_FLAGS): the
capability checks stay on this computer. With one it writes a NetLog in its temporary profile,
from which each request's URL and Chromium's own net error are read (`net_errors`).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..evidence import Foreign, JsonObject
from .headless import (
    GOOGLE_UNRESOLVED,
    PAGE_LOAD_S,
    SEALED_FLAGS,
    end_group,
    open_page,
    wait_loaded,
)

if TYPE_CHECKING:
    from .netns import Hold

#: A scheduling run records Chromium's NetLog in its temporary profile (deleted afterwards)
NETLOG_FLAGS = ("--log-net-log={profile}/netlog.json", "--net-log-capture-mode=Default")


@dataclass
class WebRun:
    detect: Foreign | None = None
    schedule: Foreign | None = None
    #: "done", "deadline" (no schedule answer in time), "start" (no browser), "page" (the
    #: browser never loaded the local page: nothing was asked of the network) or "hold" (it
    #: could not be held to -4/-6, --source, --interface: it did not run)
    ended_by: str = "done"
    elapsed_s: float = 0.0
    #: (url, Chromium's net error name) for every request of the page that failed
    net_errors: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def vendored() -> dict[str, bytes]:
    folder = resources.files(__package__).joinpath("static/vendor")
    return {f"vendor/{name}": folder.joinpath(name).read_bytes()
            for name in ("trtc.js", "rtc-detect.js")}


def manifest() -> JsonObject:
    text = resources.files(__package__).joinpath("static/vendor/MANIFEST.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def sdk_version() -> str | None:
    """The vendored trtc.js's version, from the manifest."""
    return next((p["version"] for p in manifest()["packages"] if p["file"] == "trtc.js"), None)


async def run_trtc_page(binary: str, job: JsonObject, deadline_s: float,
                        fake_devices: bool = True, hold: Hold | None = None) -> WebRun:
    """Run the page with `job` ({"schedule": False} for the capability checks only), in a
    network namespace of its own with `hold` (netns.py). A browser that has not loaded the page
    within PAGE_LOAD_S, or that exits before, ends the run as "page": what went wrong is on
    this machine."""
    from aiohttp import web

    from .netns import NotHeld

    html = resources.files(__package__).joinpath("static/trtc.html").read_text("utf-8")
    run = WebRun()
    detected = asyncio.Event()
    finished = asyncio.Event()

    async def give_job(_: web.Request) -> web.Response:
        return web.json_response(job)

    async def got_detect(request: web.Request) -> web.Response:
        run.detect = await request.json()
        detected.set()
        return web.json_response({})

    async def got_schedule(request: web.Request) -> web.Response:
        run.schedule = await request.json()
        finished.set()
        return web.json_response({})

    async def got_done(_: web.Request) -> web.Response:
        finished.set()
        return web.json_response({})

    scheduling = bool(job.get("schedule"))
    flags: tuple[str, ...] = ("--use-fake-device-for-media-stream",) if fake_devices else ()
    started = time.monotonic()
    netlog: Path | None = None
    try:
        async with open_page(binary, html, files=vendored(), gets={"job": give_job},
                             posts={"detect": got_detect, "schedule": got_schedule,
                                    "done": got_done},
                             flags=flags + ((*NETLOG_FLAGS, *GOOGLE_UNRESOLVED) if scheduling
                                            else SEALED_FLAGS), hold=hold) as page:
            if scheduling:
                netlog = page.profile / "netlog.json"
            run.error = await wait_loaded(page, min(PAGE_LOAD_S, deadline_s))
            if run.error is not None:
                run.ended_by = "page"
            else:
                try:
                    await asyncio.wait_for(finished.wait(),
                                           max(deadline_s - (time.monotonic() - started), 0))
                except TimeoutError:
                    run.ended_by = "deadline"
            if netlog is not None:
                # the NetLog is complete only once the browser has ended: end it here, while
                # the profile folder still exists
                if page.browser is not None:
                    await end_group(page.browser)
                run.net_errors = net_errors(netlog)
    except NotHeld as exc:
        run.ended_by, run.error = "hold", str(exc)
    except OSError as exc:
        run.ended_by, run.error = "start", f"the browser did not start: {exc}"
    run.elapsed_s = time.monotonic() - started
    return run


def net_errors(path: Path) -> list[tuple[str, str]]:
    """(url, net error) for each URL request in a Chromium NetLog that ended in an error. A
    NetLog cut short (the browser killed) lacks its closing brackets: read what is there."""
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return []
    document: JsonObject | None = None
    for ending in ("", "]}", "}]}", "\n]}"):
        try:
            document = json.loads(text.rstrip().rstrip(",") + ending)
            break
        except ValueError:
            continue
    if not isinstance(document, dict):
        return []
    names = {v: k for k, v in (document.get("constants", {}).get("netError") or {}).items()}
    urls: dict[int, str] = {}
    failed: dict[int, str] = {}
    for event in document.get("events") or ():
        source = (event.get("source") or {}).get("id")
        params = event.get("params") or {}
        if not isinstance(source, int):
            continue
        if isinstance(params.get("url"), str) and source not in urls:
            urls[source] = params["url"]
        error = params.get("net_error")
        if isinstance(error, int) and error < 0:
            failed[source] = names.get(error, str(error))
    found = [(urls[s], e) for s, e in failed.items() if s in urls]
    return list(dict.fromkeys(found))
