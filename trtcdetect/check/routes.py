"""serve's check page, its upload and the support side (/reports/, /metrics).

GET  /check                 the page (check.html + check.js + check.css), for anyone
GET  /check.js              the page's logic as one module, for a deployment's own page (CORS)
GET  /check/vendor/NAME     Tencent's vendored Web SDK and rtc-detect (never a CDN)
GET  /check/settings        what this server accepts (uploads on, invitation needed)
POST /check/upload          the page's result: validated, judged, stored; the verdict back
GET  /check/report/ID       the uploader's own HTML report (the id is the capability)
GET  /reports/              support's list, newest first (serve's token)
GET  /reports/ID[.json]     one report, as HTML (?lang=zh) or JSON (serve's token)
GET  /metrics               checks by verdict and cause, the users' call RTT and loss

Everything from a browser is data: escaped wherever shown; pages and reports carry a
Content-Security-Policy that admits scripts from this server only (the reports: none at all).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import hmac
import html
import ipaddress
import logging
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from .. import __version__, thresholds
from ..credentials import Secret
from ..models import RunReport
from ..probes import with_trait
from ..report.html import render_document
from ..server.limits import UPLOADS_PER_ADDRESS
from ..trtc.reading import PLACEHOLDER_SDK_APP_ID, PLACEHOLDER_SIG
from . import invite
from .convert import to_report
from .store import Entry, Store, StoreFull, code
from .upload import MAX_UPLOAD_BYTES, UploadError, clean, decode

log = logging.getLogger("trtcdetect.serve")

#: Uploads all client addresses together may make in UPLOAD_WINDOW_S (one address: limits.py)
UPLOADS_TOTAL = 120
UPLOAD_WINDOW_S = 600.0
#: How long the UserSigs minted for one check's network test live, s
CHECK_SIG_EXPIRE_S = 300
#: How long the page waits for TRTC's scheduling service to answer, s
SCHEDULE_DEADLINE_S = 10.0
#: Tracked addresses for the upload limit (the oldest forgotten first)
UPLOAD_ADDRESSES = 4096

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; media-src 'self' blob: data:; "
            "connect-src 'self' https: wss:; worker-src 'self' blob:; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'none'")
#: A stored report is inline CSS and images only: no script runs in it at all
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
STATIC = "trtcdetect.check"
VENDOR = {"trtc.js", "rtc-detect.js"}


@dataclass(frozen=True)
class CheckConfig:
    #: where uploads are stored; None: the page runs, but no upload is accepted
    reports: Path | None = None
    keep_days: float = 30.0
    quota_bytes: int = 500 * 1024 * 1024
    #: accept uploads without an invitation
    open: bool = False
    max_call_seconds: float = 30.0
    #: uploads one client address may make in UPLOAD_WINDOW_S (an office behind one NAT
    #: address is many users)
    uploads_per_address: int = UPLOADS_PER_ADDRESS
    #: ask TRTC's scheduling service from the user's browser (Tencent's Web SDK, enterRoom
    #: with a placeholder application)
    schedule: bool = True
    #: the application's SDKAppID and SecretKey (serve --sdk-app-id, $TRTC_SECRET_KEY): the
    #: page then runs Tencent's two-client network test with UserSigs minted for that check
    #: (the key itself never leaves the server)
    credentials: tuple[int, Secret] | None = None
    #: how long the page's network test publishes, s (Tencent's docs: about 15 s)
    network_seconds: float = 15.0


class UploadLimit:
    """At most `per_address` uploads per address and `total` in all within `window` s."""

    def __init__(self, per_address: int = UPLOADS_PER_ADDRESS, total: int = UPLOADS_TOTAL,
                 window: float = UPLOAD_WINDOW_S, clock: Any = time.monotonic) -> None:
        self.per_address, self.total, self.window, self.clock = per_address, total, window, clock
        self.seen: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self.everyone: collections.deque[float] = collections.deque()

    def allow(self, address: str) -> bool:
        now = self.clock()
        times = self.seen.pop(address, collections.deque())
        for queue in (times, self.everyone):
            while queue and now - queue[0] > self.window:
                queue.popleft()
        self.seen[address] = times
        while len(self.seen) > UPLOAD_ADDRESSES:
            self.seen.popitem(last=False)
        if len(times) >= self.per_address or len(self.everyone) >= self.total:
            return False
        times.append(now)
        self.everyone.append(now)
        return True


class CheckMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.checks = Counter("trtcdetect_checks", "Checks received from the check page, by "
                              "verdict and first cause", ["status", "cause"],
                              registry=self.registry)
        self.refused = Counter("trtcdetect_check_uploads_refused", "Uploads refused, by reason",
                               ["reason"], registry=self.registry)
        self.rtt = Histogram("trtcdetect_check_call_rtt_seconds", "End users' test-call RTT",
                             buckets=(.01, .025, .05, .1, .15, .2, .3, .5, 1, 2),
                             registry=self.registry)
        self.loss = Histogram("trtcdetect_check_call_loss_ratio", "End users' test-call loss, "
                              "the worse direction", buckets=(0, .005, .01, .02, .05, .1, .2, .5, 1),
                              registry=self.registry)

    def observe(self, report: RunReport) -> None:
        first = next((f for f in report.diagnosis if not f.note), None)
        self.checks.labels(str(report.status), first.headline.id if first else "none").inc()
        call = next((p for p in report.probes if p.id in with_trait("call")), None)
        if call is None:
            return
        figures = {m.name: m.value for m in call.metrics}
        if isinstance(figures.get("rtt"), int | float):
            self.rtt.observe(float(figures["rtt"]) / 1000)  # type: ignore[arg-type]
        if isinstance(figures.get("loss"), int | float):
            self.loss.observe(float(figures["loss"]) / 100)  # type: ignore[arg-type]


def authorized(request: web.Request, token: str | None) -> bool:
    """serve's token as a bearer token (scripts, Prometheus) or as the password of Basic
    authentication (a support person's browser asks for it); compared in constant time."""
    if token is None:
        return True
    given = request.headers.get("Authorization", "")
    wanted = token.encode()
    if given.startswith("Basic "):
        try:
            _, _, password = base64.b64decode(given[6:], validate=True).partition(b":")
        except ValueError:
            return False
        return hmac.compare_digest(password, wanted)
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), b"Bearer " + wanted)


def _ask_for_token() -> web.Response:
    return web.Response(status=401, text="serve's token is needed (any user name, the token as "
                        "the password)\n", headers={"WWW-Authenticate": 'Basic realm="trtcdetect"'})


def _static(name: str) -> bytes:
    return resources.files(STATIC).joinpath("static", name).read_bytes()


def _vendor(name: str) -> bytes:
    return resources.files("trtcdetect.browser").joinpath("static", "vendor", name).read_bytes()


def _loopback(request: web.Request) -> bool:
    arrived = request.transport.get_extra_info("sockname") if request.transport else None
    try:
        return arrived is not None and ipaddress.ip_address(arrived[0]).is_loopback
    except ValueError:
        return False


def _secure(request: web.Request) -> bool:
    return request.secure or _loopback(request)


def _refuse(metrics: CheckMetrics, reason: str, status: int, text: str,
            headers: dict[str, str] | None = None) -> web.Response:
    metrics.refused.labels(reason).inc()
    return web.json_response({"error": text}, status=status,
                             headers={**CORS, **(headers or {})})


CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {**CORS, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
             "Access-Control-Allow-Headers": "content-type, x-trtcdetect-invitation",
             "Access-Control-Max-Age": "600"}


def invitation_header(request: web.Request, token: str | None) -> bool:
    """A call from the check page carries its invitation (X-Trtcdetect-Invitation: ref exp
    sig): valid, it stands for serve's token on /call."""
    parts = request.headers.get("X-Trtcdetect-Invitation", "").split(" ")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
        return False
    try:
        invite.verify(token, parts[0], int(parts[1]), parts[2])
    except invite.InvitationError:
        return False
    return True


def setup(app: web.Application, config: CheckConfig, token: str | None) -> None:
    store = Store(config.reports, config.keep_days, config.quota_bytes) \
        if config.reports is not None else None
    metrics = CheckMetrics()
    limit = UploadLimit(config.uploads_per_address, max(UPLOADS_TOTAL, config.uploads_per_address))

    def page(name: str, content_type: str, cors: bool = False) -> Any:
        body = _static(name)

        async def handler(request: web.Request) -> web.Response:
            if name == "check.html" and not _secure(request):
                return web.Response(status=403, text="the check page needs HTTPS (plain HTTP "
                                    "only on localhost, where browsers allow the camera)\n")
            headers = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                       "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}
            if cors:
                headers.update(CORS)
            return web.Response(body=body, content_type=content_type, charset="utf-8",
                                headers=headers)

        return handler

    async def vendor(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in VENDOR:
            raise web.HTTPNotFound()
        return web.Response(body=_vendor(name), content_type="text/javascript", charset="utf-8",
                            headers={**CORS, "X-Content-Type-Options": "nosniff",
                                     "Cache-Control": "max-age=86400"})

    async def settings(request: web.Request) -> web.Response:
        return web.json_response({
            "version": __version__, "uploads": store is not None,
            "invitation_required": not config.open, "max_call_seconds": config.max_call_seconds,
            # the page measures with the command line's limits (thresholds.py)
            "black_luma_max": thresholds.BLACK_LUMA_MAX, "clip_level": thresholds.CLIP_LEVEL,
            # TRTC's scheduling service from the user's browser, as the trtcweb probe asks it
            "schedule": config.schedule, "schedule_deadline_s": SCHEDULE_DEADLINE_S,
            "placeholder_sdk_app_id": PLACEHOLDER_SDK_APP_ID, "placeholder_sig": PLACEHOLDER_SIG,
            "network_test": config.credentials is not None,
            "network_seconds": config.network_seconds,
        }, headers=CORS)

    minted = UploadLimit()

    async def credentials(request: web.Request) -> web.Response:
        """POST /check/credentials: two users and a room for this check's network test,
        UserSigs valid for CHECK_SIG_EXPIRE_S; the invitation stands for the token."""
        address = request.remote or "?"
        if config.credentials is None:
            return _refuse(metrics, "credentials-off", 404, "this server runs no network test "
                           "(serve --sdk-app-id)")
        if not (config.open or authorized(request, token) or invitation_header(request, token)):
            return _refuse(metrics, "invitation", 403, "open the link support sent you")
        if not minted.allow(address):
            return _refuse(metrics, "rate", 429, "too many network tests from this address: "
                           "try again in a few minutes", {"Retry-After": "120"})
        from ..credentials import generate

        sdk_app_id, key = config.credentials
        found = generate(sdk_app_id, key, CHECK_SIG_EXPIRE_S)
        log.info("check %s: UserSigs minted for room %d", address, found.room_id)
        return web.json_response(
            {"sdkAppId": found.sdk_app_id, "roomId": found.room_id,
             "seconds": config.network_seconds, "expires_at": found.expires_at,
             "users": [{"userId": u.user_id, "userSig": u.user_sig.reveal()}
                       for u in found.users]},
            headers={**CORS, "Cache-Control": "no-store"})

    async def preflight(request: web.Request) -> web.Response:
        return web.Response(status=204, headers=PREFLIGHT)

    async def upload(request: web.Request) -> web.Response:
        address = request.remote or "?"
        if store is None:
            return _refuse(metrics, "off", 403, "this server keeps no check reports (serve "
                           "--check-reports DIR)")
        if request.content_type != "application/json":
            return _refuse(metrics, "type", 415, "the upload must be application/json")
        if (request.content_length or 0) > MAX_UPLOAD_BYTES:
            return _refuse(metrics, "size", 413, f"the upload is larger than {MAX_UPLOAD_BYTES} "
                           "bytes")
        if not limit.allow(address):
            return _refuse(metrics, "rate", 429, "too many uploads from this address: try again "
                           "in a few minutes", {"Retry-After": "120"})
        body = await request.content.read(MAX_UPLOAD_BYTES + 1)
        try:
            checked = decode(body)
        except UploadError as exc:
            log.info("check upload from %s refused: %s", address, exc)
            return _refuse(metrics, "invalid", 400, str(exc))
        ref: str | None = None
        if checked.invitation is not None:
            inv = checked.invitation
            try:
                invite.verify(token, inv.ref, inv.exp, inv.sig)
            except invite.InvitationError as exc:
                return _refuse(metrics, "invitation", 403, str(exc))
            ref = inv.ref
        elif not config.open:
            return _refuse(metrics, "invitation", 403, "this server accepts checks by "
                           "invitation only: open the link support sent you")
        server = request.host if len(request.host) <= 255 else "?"
        report = to_report(checked, server=clean(server), echo=clean(f"{request.scheme}://"
                                                                      f"{server}/call"),
                           ref=ref, received_at=dt.datetime.now(dt.UTC), address=address)
        try:  # rendering and disk work off the loop: calls' media is relayed on it
            entry = await asyncio.to_thread(store.save, report, checked.lang)
        except StoreFull as exc:
            log.warning("check upload from %s refused: %s", address, exc)
            return _refuse(metrics, "quota", 429, str(exc), {"Retry-After": "3600"})
        except OSError as exc:
            log.warning("check upload from %s not stored: %s", address, exc.strerror)
            return _refuse(metrics, "disk", 507, "the server could not store the report")
        metrics.observe(report)
        log.warning("check %s received from %s: %s%s", entry.code, address, report.status,
                    f" (ref {ref})" if ref else "")
        lang = checked.lang
        causes = [{"headline": f.headline.text(lang), "severity": str(f.severity),
                   "party": f.party, "advice": [a.text(lang) for a in f.advice]}
                  for f in report.diagnosis if not f.note][:3]
        return web.json_response({"id": entry.id, "code": entry.code,
                                  "status": str(report.status), "causes": causes,
                                  # relative to the upload's URL (/check/upload)
                                  "report": f"report/{entry.id}"}, headers=CORS)

    async def report_response(report_id: str, lang: str, download: bool) -> web.Response:
        assert store is not None
        try:
            document = await asyncio.to_thread(store.load, report_id)
        except (KeyError, OSError, ValueError):
            raise web.HTTPNotFound(text="no such report\n") from None
        headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="trtcdetect-check-{code(report_id)}.html"'
        page = await asyncio.to_thread(render_document, document, "zh" if lang == "zh" else "en")
        return web.Response(text=page, content_type="text/html", headers=headers)

    async def own_report(request: web.Request) -> web.Response:
        if store is None:
            raise web.HTTPNotFound()
        return await report_response(request.match_info["id"], request.query.get("lang", "en"),
                                     request.query.get("download") == "1")

    async def reports(request: web.Request) -> web.Response:
        if not authorized(request, token):
            return _ask_for_token()
        if store is None:
            return web.Response(status=404, text="serve keeps no check reports (--check-reports)\n")
        wanted = request.query.get("code", "").strip().upper()[:9]
        rows = [e for e in await asyncio.to_thread(store.entries)
                if not wanted or e.code == wanted]
        return web.Response(text=list_page(rows), content_type="text/html",
                            headers={"Content-Security-Policy": REPORT_CSP,
                                     "X-Content-Type-Options": "nosniff",
                                     "Cache-Control": "no-store"})

    async def one_report(request: web.Request) -> web.Response:
        if not authorized(request, token):
            return _ask_for_token()
        if store is None:
            raise web.HTTPNotFound()
        name = request.match_info["name"]
        if name.endswith(".json"):
            try:
                return web.json_response(await asyncio.to_thread(store.load, name[:-5]),
                                         headers={"Cache-Control": "no-store"})
            except (KeyError, OSError, ValueError):
                raise web.HTTPNotFound(text="no such report\n") from None
        return await report_response(name, request.query.get("lang", "en"), False)

    async def metrics_page(request: web.Request) -> web.Response:
        if not authorized(request, token):
            return _ask_for_token()
        return web.Response(body=generate_latest(metrics.registry),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.router.add_get("/check", page("check.html", "text/html"))
    app.router.add_get("/check.js", page("check.js", "text/javascript", cors=True))
    app.router.add_get("/check/check.js", page("check.js", "text/javascript", cors=True))
    app.router.add_get("/check/check.css", page("check.css", "text/css", cors=True))
    app.router.add_get("/check/vendor/{name}", vendor)
    app.router.add_get("/check/settings", settings)
    app.router.add_post("/check/upload", upload)
    app.router.add_route("OPTIONS", "/check/upload", preflight)
    app.router.add_post("/check/credentials", credentials)
    app.router.add_route("OPTIONS", "/check/credentials", preflight)
    app.router.add_route("OPTIONS", "/call", preflight)
    app.router.add_route("OPTIONS", "/call/{call_id}/received", preflight)
    app.router.add_get("/check/report/{id}", own_report)
    app.router.add_get("/reports/", reports)
    app.router.add_get("/reports/{name}", one_report)
    app.router.add_get("/metrics", metrics_page)


def list_page(rows: list[Entry]) -> str:
    """Support's list of received checks: every value escaped, no script."""
    from ..text import sentence

    def cause(entry: Entry) -> str:
        if not entry.cause:
            return "-"
        try:
            return sentence(entry.cause, entry.cause_params, "en")
        except (KeyError, ValueError, TypeError, IndexError):
            return entry.cause

    e = html.escape
    lines = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>trtcdetect: received checks"
        "</title><style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:"
        "collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}"
        ".fail,.error{color:#b00020}.warn{color:#8a5a00}.pass{color:#0a7a2f}</style></head><body>",
        f"<h1>Received checks ({len(rows)})</h1>",
        "<form method='get'><label>Code <input name='code' size='10'></label></form>",
        "<table><tr><th>Received (UTC)</th><th>Code</th><th>Reference</th><th>Verdict</th>"
        "<th>Top cause</th><th>Browser</th><th>From</th></tr>",
    ]
    for entry in rows:
        when = dt.datetime.fromtimestamp(entry.received_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"<tr><td>{e(when)}</td><td><a href='{e(entry.id)}'>{e(entry.code)}</a> "
            f"(<a href='{e(entry.id)}?lang=zh'>中文</a>, <a href='{e(entry.id)}.json'>JSON</a>)"
            f"</td><td>{e(entry.reference or '-')}</td>"
            f"<td class='{e(entry.status)}'>{e(entry.status)}</td><td>{e(cause(entry))}</td>"
            f"<td>{e(entry.browser)}</td><td>{e(entry.address)}</td></tr>")
    lines.append("</table></body></html>")
    return "\n".join(lines)
