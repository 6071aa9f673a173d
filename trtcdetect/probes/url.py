"""Probe `url`: will a browser let this deployment page use the camera and microphone?

Browsers grant getUserMedia only in a secure context (the URL table of "TRTCCalling Web
语音通话", docs/sources.md:
HTTPS, or http://localhost / http://127.0.0.1 while developing; http://[machine IP] may play
but not publish). The FAQ's "works on localhost, fails on the server's IP" is this rule.
An https page gets the four HTTPS steps (`net.https`) on its host and port, then a GET with
every redirect followed by hand: a redirect to plain HTTP on another host fails. When a proxy
applies (--proxy, $HTTPS_PROXY), the host's steps and the GET run through it as well.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import urlsplit

import msgspec

from .. import thresholds
from ..config import Config
from ..evidence import UNSET, Evidence, JsonObject, Said, UnsetType, details, given, read
from ..failures import Failure, Kind
from ..models import Advice, Message, Status, unique_advice, worst
from ..net import https
from ..net.fetch import MAX_REDIRECTS, Hop, follow, secure_context
from ..net.https import Step, StepSeen
from ..net.proxy import check_via, proxy_for
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict
from .viaproxy import judge_via


class PageViaProxy(Evidence, frozen=True, kw_only=True):
    proxy: str
    steps: tuple[StepSeen, ...]
    redirects: tuple[Hop, ...] | UnsetType = UNSET
    problem: Failure | None | UnsetType = UNSET


class UrlEntry(Evidence, frozen=True, kw_only=True):
    """One deployment page: is it a secure context, did it load (steps, redirects), through the
    proxy as well, and its verdict."""

    url: str
    secure_context: bool
    steps: tuple[StepSeen, ...] | UnsetType = UNSET
    redirects: tuple[Hop, ...] | UnsetType = UNSET
    via_proxy: PageViaProxy | UnsetType = UNSET
    status: str = ""
    message: Said | None = None
    #: the host to allow, when the page did not load
    host: str | UnsetType = UNSET
    status_code: int | None | UnsetType = UNSET
    ms: float | UnsetType = UNSET
    #: the remedy's id
    cause: str | None | UnsetType = UNSET


class UrlDetails(Evidence, frozen=True, kw_only=True):
    """The url probe's details: each page checked (none: no --url given)."""

    urls: tuple[UrlEntry, ...] | UnsetType = UNSET


@dataclass
class Page:
    """What was seen of one URL: its steps (https only), the redirects, the first problem."""

    url: str
    steps: list[Step] | None = None
    redirects: list[Hop] | None = None
    problem: Failure | None = None
    #: the page's host through the HTTP proxy a browser here would use: (proxy, its steps)
    via_proxy: tuple[str, tuple[Step, ...]] | None = None
    #: the page fetched the way a browser with that proxy fetches it (its steps passed)
    via_redirects: list[Hop] | None = None
    via_problem: Failure | None = None

    @property
    def secure_context(self) -> bool:
        return secure_context(self.url)


@dataclass(frozen=True)
class UrlObservation:
    pages: tuple[Page, ...] = field(default_factory=tuple)

    def evidence(self) -> UrlDetails:
        return UrlDetails(urls=tuple(_entry(p) for p in self.pages) if self.pages else UNSET)

    def details(self) -> JsonObject:
        return details(self.evidence())


class PageFigures(TypedDict, total=False):
    """What a page's verdict adds to its entry: the host to allow (it did not load), or the
    final status code and the fetch's time."""

    host: str
    status_code: int | None
    ms: float


def judge_page(page: Page) -> tuple[Status, Message, str | None, PageFigures]:
    """A page's status, sentence, remedy id and extra evidence (status code and time)."""
    url = page.url
    if page.steps is None:
        if page.secure_context:
            return Status.PASS, Message(S.URL_LOCALHOST, {"url": url}), None, {}
        return Status.FAIL, Message(S.URL_PLAIN_HTTP, {"url": url}), R.HTTPS_REQUIRED, {}
    host = urlsplit(url).hostname or ""
    failed = https.first_failure(page.steps)
    if failed is not None:
        error = Message(S.DOMAIN_STEP_FAILED, {
            "step": failed.name.upper(), "error": failed.error or Failure.of(Kind.NO_REASON)})
        return (Status.FAIL, Message(S.URL_UNREACHABLE, {"url": url, "error": error.as_dict()}),
                https.STEP_CAUSE.get(failed.name, R.WHITELIST_PAGE_HOST), {"host": host})
    if page.problem is not None:
        insecure = page.problem.kind is Kind.REDIRECTS_TO
        return (Status.FAIL, Message(S.URL_REDIRECT_INSECURE if insecure else S.URL_FETCH_FAILED,
                                     {"url": url, "problem": page.problem}),
                R.HTTPS_REQUIRED if insecure else R.WHITELIST_PAGE_HOST, {})
    hops = page.redirects or []
    final = hops[-1]
    extra = PageFigures(status_code=final.status_code,
                        ms=round(sum(h.ms for h in hops if h.ms is not None), 2))
    if final.status_code is not None and final.status_code >= 400:
        return Status.WARN, Message(S.URL_HTTP_ERROR, {"url": url, "code": final.status_code}), \
            None, extra
    days_left = given(https.step(page.steps, "tls").seen().days_left)
    expiring = days_left is not None and days_left < thresholds.CERT_EXPIRY_WARN_DAYS
    return (Status.WARN if expiring else Status.PASS,
            Message(S.URL_OK, {"url": url, "code": final.status_code, "ms": extra["ms"]}),
            None, extra)


def judge_with_proxy(page: Page) -> tuple[Status, Message, tuple[Advice, ...], PageFigures]:
    """judge_page, then the page's host through the proxy (viaproxy.judge_via), as the
    domain probe judges its hosts: a page that works only one way, or through a proxy that
    inspects HTTPS, says so."""
    status, message, cause, extra = judge_page(page)
    host = urlsplit(page.url).hostname or ""
    # a fetch that stopped at a redirect: that hop's host is the one to allow
    stopped = urlsplit(page.redirects[-1].url).hostname if page.problem and page.redirects \
        else None
    advice = ((Advice(cause, {"url": page.url, "host": stopped or host, "error": _why(page)}),)
              if cause else ())
    if page.via_proxy is None or page.steps is None:
        return status, message, advice, extra
    direct = Verdict(status, message, advice)
    via = judge_via(host, direct, given(https.step(page.steps, "tls").seen().issuer),
                    (page.via_proxy[0], via_steps(page)), R.WHITELIST_PAGE_HOST)
    if via is direct:
        return status, message, advice, extra
    return (via.status, Message(S.URL_VIA_PROXY, {"url": page.url,
                                                  "finding": via.message.as_dict()}),
            via.advice, extra)


def via_steps(page: Page) -> tuple[Step, ...]:
    """The proxy row's steps, and the page fetched through the proxy as one step more, "get":
    it fails on the fetch's first problem (a redirect to plain HTTP, a hop the proxy refuses)
    or on an HTTP error the direct fetch did not get (a proxy's block page)."""
    assert page.via_proxy is not None
    steps = page.via_proxy[1]
    if page.via_redirects is None:
        return steps  # not fetched: one of the steps failed
    hops = page.via_redirects
    get = Step("get", ok=True, ms=round(sum(h.ms for h in hops if h.ms is not None), 2))
    code = hops[-1].status_code if hops else None
    direct_code = page.redirects[-1].status_code if page.redirects else None
    if page.via_problem is not None:
        get.ok, get.error = False, page.via_problem
    elif code is not None and code >= 400 and (direct_code is None or direct_code < 400):
        get.ok, get.error = False, Failure.of(Kind.HTTP_ERROR, where=hops[-1].url, code=code)
    failed_host = urlsplit(hops[-1].url).hostname if hops and not get.ok else None
    if failed_host:
        get.info["host"] = failed_host  # the hop that failed
    return (*steps, get)


def _entry(page: Page) -> UrlEntry:
    status, message, advice, extra = judge_with_proxy(page)
    via: PageViaProxy | UnsetType = UNSET
    if page.via_proxy is not None:
        via = PageViaProxy(proxy=page.via_proxy[0],
                           steps=tuple(s.seen() for s in page.via_proxy[1]))
        if page.via_redirects is not None:
            via = msgspec.structs.replace(via, redirects=tuple(page.via_redirects),
                                          problem=page.via_problem)
    return UrlEntry(
        url=page.url, secure_context=page.secure_context,
        steps=UNSET if page.steps is None else tuple(s.seen() for s in page.steps),
        redirects=UNSET if page.redirects is None else tuple(page.redirects),
        via_proxy=via, status=str(status), message=read(Said, message.as_dict()),
        **extra,
        cause=(advice[0].id if advice else None) if advice or page.steps is not None
        else UNSET)


def judge(observation: UrlObservation) -> Verdict:
    if not observation.pages:
        return Verdict(Status.SKIP, Message(S.URL_NONE))
    judged = [judge_with_proxy(p) for p in observation.pages]
    advice = unique_advice(a for _, _, found, _ in judged for a in found)
    if len(judged) == 1:
        message = judged[0][1]
    else:
        bad = [p.url for p, j in zip(observation.pages, judged, strict=True)
               if j[0] is not Status.PASS]
        message = Message(S.URL_SUMMARY, {"ok": len(judged) - len(bad), "count": len(judged),
                                          "which": ", ".join(bad) or "-"})
    return Verdict(worst([j[0] for j in judged]), message, advice)


def _why(page: Page) -> str:
    """What went wrong with a page, for its remedy's text (never empty)."""
    failed = https.first_failure(page.steps) if page.steps is not None else None
    if failed is not None and failed.error:
        return str(failed.error)
    return str(page.problem or Failure.of(Kind.NO_REASON))


async def _look(config: Config, url: str) -> Page:
    parts = urlsplit(url)
    page = Page(url)
    if parts.scheme == "http":
        return page
    host, port = parts.hostname or "", parts.port or 443
    proxy = proxy_for(config, host)
    direct, through = await asyncio.gather(
        https.check(config, host, port),
        check_via(config, proxy, host, port) if proxy is not None else asyncio.sleep(0))
    page.steps = direct
    if proxy is not None and through:
        page.via_proxy = (proxy.shown, tuple(through))

    async def fetch() -> None:
        if https.first_failure(direct) is None:
            page.redirects, page.problem = await follow(config, url)

    async def fetch_via() -> None:
        if page.via_proxy is not None and https.first_failure(page.via_proxy[1]) is None:
            page.via_redirects, page.via_problem = await follow(config, url, through_proxy=True)

    await asyncio.gather(fetch(), fetch_via())
    return page


async def measure(config: Config, prior: Prior = NO_PRIOR) -> UrlObservation:
    return UrlObservation(tuple(await asyncio.gather(*(_look(config, u) for u in config.network.urls))))


def deadline_s(config: Config) -> float:
    return config.network.timeout_s * (4 + MAX_REDIRECTS) + 2


PROBE = MeasuredProbe(
    id="url",
    traits=frozenset({"network"}),
    titles=Text("Deployment page", "部署页面"),
    description="--url pages: HTTPS (or localhost) so browsers allow camera and microphone",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=UrlDetails,
)
