"""A local page in a headless Chromium-family browser, and nothing left behind afterwards.

`open_page` serves a page and its files on 127.0.0.1 (a secure context: getUserMedia and
Tencent's Web SDK work there), starts the browser headless with a temporary profile in its own
process group, and on the way out ends the whole group (TERM, then KILL) and deletes the
profile -- also when the caller is cancelled or the browser never started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .netns import Hold

#: Flags every headless run gets: no first-run UI, no background traffic of Chromium's own
BASE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--use-fake-ui-for-media-stream", "--disable-features=WebRtcHideLocalIpsWithMdns")
#: With these the browser resolves no name at all: a page that needs only 127.0.0.1 cannot
#: reach anything else by name (Tencent's SDK prefetches its scheduling names on load)
SEALED_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",)
#: For a page that must resolve names (Tencent's scheduling): Google's names are not resolved.
#: Chromium 156 asks for accounts.google.com, clients2.google.com and update.googleapis.com
#: despite BASE_FLAGS (seen in a lab DNS server's log); none of them is the check's business
GOOGLE_UNRESOLVED = ("--host-resolver-rules=MAP *.google.com ~NOTFOUND , "
                     "MAP *.googleapis.com ~NOTFOUND",)
#: How long the browser may take to end after TERM before its group is killed, s
BROWSER_EXIT_S = 3.0
#: How long a browser may take to start and load the local page (its first request), s
PAGE_LOAD_S = 8.0

#: The longest $TMPDIR under which the browser's own temporary folder is made: Chromium's
#: singleton socket is <it>/trtcdetect-XXXXXXXX/org.chromium.Chromium.XXXXXX/SingletonSocket,
#: and a socket's path has at most 107 bytes (a longer one and Chromium exits at once: seen
#: with its $TMPDIR inside a profile inside a 28-character $TMPDIR)
SCRATCH_PARENT_MAX = 40

Handler = Callable[[Any], Awaitable[Any]]


def scratch_parent() -> str:
    """$TMPDIR (tempfile's choice) when it leaves room for the browser's socket; else /tmp."""
    chosen = tempfile.gettempdir()
    return chosen if len(chosen) <= SCRATCH_PARENT_MAX else "/tmp"


@dataclass
class Page:
    """A running page: where it is, and the browser's profile folder (for files it writes)."""

    url: str
    profile: Path
    browser: asyncio.subprocess.Process | None = None
    #: set when the browser has fetched the page
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    #: held to -4/-6, --source, --interface (netns.py): its namespace's log
    log: Path | None = None


@contextlib.asynccontextmanager
async def open_page(binary: str, html: str, *, files: Mapping[str, bytes] | None = None,
                    posts: Mapping[str, Handler] | None = None,
                    gets: Mapping[str, Handler] | None = None,
                    flags: tuple[str, ...] = (), hold: Hold | None = None
                    ) -> AsyncIterator[Page]:
    """Serve `html` at / (and `files`, `gets`, `posts` beside it) and open it; "{profile}" in a
    flag becomes the temporary profile folder. With `hold` the browser runs in a network
    namespace of its own (netns.py; netns.NotHeld when it cannot)."""
    from aiohttp import web

    async def index(_: web.Request) -> web.Response:
        if page is not None:
            page.loaded.set()
        return web.Response(text=html, content_type="text/html")

    def serve_file(data: bytes, kind: str) -> Handler:
        async def handler(_: web.Request) -> web.Response:
            return web.Response(body=data, content_type=kind)
        return handler

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_get("/", index)
    for path, data in (files or {}).items():
        kind = "application/javascript" if path.endswith(".js") else "application/octet-stream"
        app.router.add_get(f"/{path}", serve_file(data, kind))
    for path, handler in (gets or {}).items():
        app.router.add_get(f"/{path}", handler)
    for path, handler in (posts or {}).items():
        app.router.add_post(f"/{path}", handler)
    runner = web.AppRunner(app, access_log=None)
    profile = Path(tempfile.mkdtemp(prefix="trtcdetect-browser-"))
    page: Page | None = None
    scratch: Path | None = None
    namespace = contextlib.AsyncExitStack()
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        page = Page(f"http://127.0.0.1:{bound_port(runner)}/", profile)
        # Chromium puts its singleton socket in a folder of its own under $TMPDIR and leaves it
        # there when its group is ended: its $TMPDIR is a folder of trtcdetect's, deleted after
        scratch = Path(tempfile.mkdtemp(prefix="trtcdetect-", dir=scratch_parent()))
        command = [binary, *BASE_FLAGS, *(f.replace("{profile}", str(profile)) for f in flags),
                   f"--user-data-dir={profile}", page.url]
        env = {**os.environ, "TMPDIR": str(scratch)}
        if hold is None:
            page.browser = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True, env=env)
        else:
            from .netns import held_browser

            page.log = profile / "namespace.log"
            page.browser = await namespace.enter_async_context(
                held_browser(hold, command, bound_port(runner), profile, env))
        yield page
    finally:
        if page is not None and page.browser is not None:
            await end_group(page.browser)
        await namespace.aclose()  # slirp4netns, after the browser
        await runner.cleanup()
        shutil.rmtree(profile, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


async def wait_loaded(page: Page, within_s: float = PAGE_LOAD_S) -> str | None:
    """None once the browser has fetched the page; else why not: it exited, or it did not
    load the page in time (loopback down, a browser that cannot start here). Either way
    nothing was asked of the network."""
    waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(page.loaded.wait())}
    if page.browser is not None:
        waiters.add(asyncio.ensure_future(page.browser.wait()))
    try:
        await asyncio.wait(waiters, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    if page.loaded.is_set():
        return None
    if page.browser is not None and page.browser.returncode is not None:
        from .netns import why_exited

        inside = why_exited(page.log) if page.log is not None else None
        return (f"the browser exited (code {page.browser.returncode}) before it loaded "
                f"trtcdetect's local page {page.url}" + (f": {inside}" if inside else ""))
    return f"the browser did not load trtcdetect's local page {page.url} within {within_s:g} s"


async def end_group(proc: asyncio.subprocess.Process) -> None:
    """TERM the browser's process group (it has renderer, GPU and network children), wait,
    then KILL whatever is left of the group; cancelled meanwhile: KILL at once."""
    try:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), BROWSER_EXIT_S)
        except TimeoutError:
            pass
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()


def bound_port(runner: Any) -> int:
    """The port the local page's server got (it asked for port 0), from aiohttp's public
    `AppRunner.addresses`."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise OSError("the local page's server has no TCP address")
