"""Probe `browsers`: which browsers are installed, and will they run the TRTC Web SDK?

Found without opening a window: on Linux by running each known binary with --version (verified
here); on macOS from the app bundles' Info.plist and on Windows from the registry's App Paths
(the same seam, not verified on those systems). Each version is compared with the minimums of
the TRTC Web platform table; Chrome is the SDK's best-supported browser, so the advice is the
latest Chrome.

--browser-webrtc starts the found Chromium/Chrome headless with fake media devices on a local
page (served here, on 127.0.0.1) that calls getUserMedia and makes a call to the echo peer of
`trtcdetect serve` (--echo-url): the browser's own WebRTC stack, measured from outside it.
With -4/-6 (or --source's family) the page holds that call to the family; with --source or
--interface, which Chromium cannot be told, the browser runs in a network namespace of its own
whose packets slirp4netns sends from the chosen address (browser/netns.py). Without slirp4netns
the address its call went from is checked: from another one, the result is a warning that says
it is not for the address asked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ..browser import netns
from ..browser.find import BrowserEntry, Installed, find
from ..browser.page import LocalAsked, browser_webrtc, local_asked
from ..browser.tencent import TENCENT_DETECT_S, TencentRun, tencent_all
from ..call.local import same_address
from ..config import Config
from ..evidence import UNSET, Evidence, Foreign, Held, JsonObject, Number, UnsetType, details, faithful, given
from ..models import Advice, Message, Metric, Status, worst
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict


@dataclass(frozen=True)
class Minimum:
    name: str
    version: tuple[int, ...]


#: Source: TRTCCalling Web 语音通话, 平台支持 (docs/sources.md; the full table: https://web.sdk.qcloud.com/trtc/webrtc/doc/zh-cn/tutorial-05-info-browser.html):
#: desktop Chrome 56+, Firefox 56+, Edge 80+, Safari 11+, QQ Browser (极速内核) 10.4+.
MINIMUMS: dict[str, Minimum] = {
    "chrome": Minimum("Chrome", (56,)),
    "firefox": Minimum("Firefox", (56,)),
    "edge": Minimum("Edge", (80,)),
    "safari": Minimum("Safari", (11,)),
    "qqbrowser": Minimum("QQ Browser", (10, 4)),
}
MINIMUMS_SOURCE = "TRTCCalling Web platform table (平台支持), desktop browsers"
_VERSION = re.compile(r"(\d+(?:\.\d+)+)")


def parse_version(text: str) -> tuple[int, ...] | None:
    match = _VERSION.search(text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def judge_one(found: Installed) -> BrowserEntry:
    """A found browser's version against TRTC Web's minimum for its family."""
    minimum = MINIMUMS[found.family]
    version = parse_version(found.version_text)
    return BrowserEntry(
        family=found.family, binary=found.binary, path=found.path,
        version_text=found.version_text,
        version=".".join(map(str, version)) if version else None,
        minimum=".".join(map(str, minimum.version)),
        name="Chromium" if "chromium" in found.binary.lower() else minimum.name,
        verdict="unknown" if version is None else (
            "supported" if version >= minimum.version else "too_old"))


def webrtc_metrics(stats: Sequence[Mapping[str, Any]]) -> list[Metric]:
    """RTT and loss from the browser's own getStats objects."""
    rtts = [s["roundTripTime"] * 1000 for s in stats
            if s["type"] == "remote-inbound-rtp" and s.get("roundTripTime") is not None]
    pair = [s["currentRoundTripTime"] * 1000 for s in stats
            if s["type"] == "candidate-pair" and s.get("currentRoundTripTime") is not None]
    lost = sum(s.get("packetsLost") or 0 for s in stats if s["type"] == "remote-inbound-rtp")
    metrics = [Metric("browser_packets_lost", lost, "count", better="lower")]
    if rtts or pair:
        metrics.append(Metric("browser_rtt", round(max(rtts or pair), 2), "ms", better="lower"))
    return metrics


class Viewport(Evidence, frozen=True, kw_only=True):
    width: Number | None = None
    height: Number | None = None
    touch: bool | None = None


class CallEnd(Evidence, frozen=True, kw_only=True):
    """One end of the pair the browser's call went over, as getStats named it."""

    address: str | None = None
    port: int | UnsetType = UNSET
    protocol: str | UnsetType = UNSET
    type: str | UnsetType = UNSET
    network: str | UnsetType = UNSET


class CallPath(Evidence, frozen=True, kw_only=True):
    local: CallEnd
    remote: CallEnd


class WebrtcCall(Evidence, frozen=True, kw_only=True):
    """The --browser-webrtc call as browser/static/webrtc.html reported it (the stage it got
    to, connected or why not, the pair it went over), with the browser that ran it, what the
    options asked of it and the namespace it ran in; only `error` when it did not run."""

    browser: str | UnsetType = UNSET
    stage: str | UnsetType = UNSET
    connected: bool | UnsetType = UNSET
    family: int | None | UnsetType = UNSET
    tracks: tuple[str, ...] | UnsetType = UNSET
    #: the browser's own getStats objects (the kept types): its words, an open set of keys
    #: (an edge: a mapping each)
    stats: tuple[Foreign, ...] | UnsetType = UNSET
    path: CallPath | UnsetType = UNSET
    error: str | None | UnsetType = UNSET
    local_asked: LocalAsked | UnsetType = UNSET
    held: Held | UnsetType = UNSET


class BrowsersDetails(Evidence, frozen=True, kw_only=True):
    """The browsers probe's details. The command line's: the browsers found, the minimums, the
    found Chromium's own WebRTC call and Tencent's checks in each. The check page's: the end
    user's browser as its user agent and TRTC Web's platform table say, and Tencent's checks."""

    ran_in: str | UnsetType = UNSET
    browsers: tuple[BrowserEntry, ...] | UnsetType = UNSET
    minimums_source: str | UnsetType = UNSET
    minimums: dict[str, str] | UnsetType = UNSET
    webrtc: WebrtcCall | None | UnsetType = UNSET
    tencent: TencentRun | UnsetType = UNSET
    tencent_others: tuple[TencentRun, ...] | UnsetType = UNSET
    # the check page
    user_agent: str | UnsetType = UNSET
    family: str | None | UnsetType = UNSET
    version: str | None | UnsetType = UNSET
    os: str | None | UnsetType = UNSET
    mobile: bool | None | UnsetType = UNSET
    minimum: str | None | UnsetType = UNSET
    verdict: str | UnsetType = UNSET
    platform_source: str | UnsetType = UNSET
    secure_context: bool | UnsetType = UNSET
    page: str | UnsetType = UNSET
    language: str | UnsetType = UNSET
    viewport: Viewport | UnsetType = UNSET


@dataclass(frozen=True)
class BrowsersObservation:
    entries: tuple[BrowserEntry, ...]
    #: the --browser-webrtc call: what the page reported, with the browser, what the options
    #: asked and the namespace added, or why it did not run (None: not asked)
    webrtc: WebrtcCall | None = None
    webrtc_asked: bool = False
    #: Tencent's own checks (trtc.js isSupported, rtc-detect) in the found Chromium/Chrome/Edge,
    #: headless and resolving no name: {"browser", "sdk_version", "detect"} or {"skipped": why}
    tencent: TencentRun | None = None
    #: the same in every other headless-capable browser found
    tencent_others: tuple[TencentRun, ...] = ()

    def evidence(self) -> BrowsersDetails:
        return BrowsersDetails(
            browsers=self.entries, minimums_source=MINIMUMS_SOURCE,
            minimums={k: ".".join(map(str, m.version)) for k, m in MINIMUMS.items()},
            webrtc=self.webrtc if self.webrtc_asked else UNSET,
            tencent=UNSET if self.tencent is None else self.tencent,
            tencent_others=self.tencent_others or UNSET)

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge(observation: BrowsersObservation) -> Verdict:
    """What the typed evidence says (observation.evidence()): the browsers against TRTC Web's
    minimums, the found Chromium's own call, and Tencent's checks in each browser."""
    seen = observation.evidence()
    entries = given(seen.browsers) or ()
    metrics: list[Metric] = [Metric("browsers_found", len(entries), "count")]
    statuses: list[Status] = []
    advice: list[Advice] = []
    if not entries:
        message = Message(S.BROWSERS_NONE)
        statuses.append(Status.SKIP)
        advice.append(Advice(R.BROWSER_INSTALL))
    else:
        old = [e for e in entries if e.verdict == "too_old"]
        unknown = [e for e in entries if e.verdict == "unknown"]
        good = [e for e in entries if e.verdict == "supported"]
        listing = ", ".join(f"{e.name} {e.version or '?'}" for e in entries)
        if not good:
            statuses.append(Status.FAIL)
            message = Message(S.BROWSERS_NONE_SUPPORTED, {"list": listing})
        elif old or unknown:
            statuses.append(Status.WARN)
            message = Message(S.BROWSERS_SOME_OLD, {"list": listing})
        else:
            statuses.append(Status.PASS)
            message = Message(S.BROWSERS_OK, {"list": listing})
        if old or not good or not any(e.family == "chrome" for e in good):
            advice.append(Advice(R.BROWSER_UPGRADE))
    webrtc = given(seen.webrtc)
    if webrtc is not None:
        message = _webrtc(webrtc, message, statuses, advice, metrics)
    ran = [t for t in ([given(seen.tencent)] + list(given(seen.tencent_others) or ()))
           if t is not None and given(t.detect) is not None]
    if ran:
        said = [(t, tencent_failures(given(t.detect) or {})) for t in ran]
        bad = [(t, failed) for t, failed in said if failed]
        first = bad[0][0] if bad else ran[0]
        words = {"before": message.as_dict(), "browser": str(given(first.name) or "?"),
                 "version": str(given(first.sdk_version) or "?")}
        if bad:  # every browser said no: fail; another one can: warn
            statuses.append(Status.FAIL if len(bad) == len(ran) else Status.WARN)
            message = Message(S.BROWSERS_TENCENT_FAILED, {**words, "which": ", ".join(bad[0][1])})
            advice.append(Advice(R.BROWSER_UPGRADE))
        else:
            statuses.append(Status.PASS)
            message = Message(S.BROWSERS_TENCENT_OK, {
                **words, "browser": ", ".join(str(given(t.name) or "?") for t in ran)})
    status = Status.SKIP if statuses == [Status.SKIP] else worst(statuses)
    return Verdict(status, message, tuple(advice), tuple(unique_metrics(metrics)))


def _webrtc(webrtc: WebrtcCall, message: Message, statuses: list[Status],
            advice: list[Advice], metrics: list[Metric]) -> Message:
    """The found Chromium's own call, said after what came `before` (message)."""
    browser = given(webrtc.browser)
    if browser is None:  # not run: no browser to run it in, or no echo peer
        statuses.append(Status.WARN)
        return message
    metrics += webrtc_metrics(given(webrtc.stats) or ())
    name = "Chromium" if "chromium" in browser.lower() else "Chrome"
    stage, error = given(webrtc.stage), given(webrtc.error) or ""
    asked, held = given(webrtc.local_asked), given(webrtc.held)
    connected = bool(given(webrtc.connected))
    other = other_address(webrtc)
    if connected and other:
        statuses.append(Status.WARN)
        return Message(S.BROWSERS_WEBRTC_OTHER_ADDRESS, {
            "before": message.as_dict(), "browser": name, "local": other[0], "asked": other[1]})
    if connected and held is not None:
        return Message(S.BROWSERS_WEBRTC_HELD, {"before": message.as_dict(), "browser": name,
                                                "which": held.which})
    if connected:
        return Message(S.BROWSERS_WEBRTC_OK, {"before": message.as_dict(), "browser": name})
    if stage in ("start", "page", "hold"):  # it did not start here
        statuses.append(Status.WARN)
        if stage == "hold":
            advice.append(Advice(R.BROWSER_NAMESPACE, {
                "which": (given(asked.which) if asked is not None else None) or "?"}))
        return Message(S.BROWSERS_WEBRTC_NOT_RUN, {"before": message.as_dict(), "error": error})
    statuses.append(Status.FAIL)
    advice.append(  # "family": the family held to left an end no address
        Advice(R.LOCAL_OPTIONS_LEFT_NOTHING, {
            "which": (given(asked.which) if asked is not None else None) or "-4/-6"})
        if stage == "family" else Advice(R.CALL_NO_CONNECT, {"stage": str(stage)}))
    return Message(S.BROWSERS_WEBRTC_FAILED, {"before": message.as_dict(),
                                              "stage": stage or "?", "error": error})


def other_address(webrtc: WebrtcCall) -> tuple[str, str] | None:
    """(the local address the browser's call went from, the option it is not) when --source
    or --interface asked for another one; None when it went from it, nothing was asked, or the
    browser ran in a namespace whose packets are sent from it."""
    asked = given(webrtc.local_asked)
    if asked is None or given(webrtc.held) is not None:
        return None
    path = given(webrtc.path)
    local = str((path.local.address if path is not None else None) or "?")
    source, interface = given(asked.source), given(asked.interface)
    if source and not same_address(local, source):
        return local, f"--source {source}"
    if interface and not any(same_address(local, a)
                             for a in given(asked.interface_addresses) or ()):
        return local, f"--interface {interface}"
    return None


def unique_metrics(metrics: list[Metric]) -> list[Metric]:
    return list({m.name: m for m in metrics}.values())


def tencent_failures(detect: Foreign) -> list[str]:
    """The checks of Tencent's Web SDK and rtc-detect that said no, by their own names; TRTC
    needs H.264 or VP8, each both ways."""
    failed = [f"script: {e}" for e in detect.get("errors") or () if "did not load" in str(e)]
    supported = detect.get("isSupported") or {}
    if supported and supported.get("result") is False:
        failed += [f"isSupported.{k}" for k, v in (supported.get("detail") or {}).items()
                   if v is False and "H265" not in k and "ScreenShare" not in k] \
            or ["isSupported"]
    if (detect.get("isTRTCSupported") or {}).get("result") is False:
        failed.append("isTRTCSupported")
    codec = detect.get("codec") or supported.get("detail") or {}
    if codec and not any(codec.get(f"is{c}EncodeSupported") and codec.get(f"is{c}DecodeSupported")
                         for c in ("H264", "Vp8")):
        failed.append("H.264/VP8 encode and decode")
    return list(dict.fromkeys(failed))


async def measure(config: Config, prior: Prior = NO_PRIOR) -> BrowsersObservation:
    entries = tuple(judge_one(e) for e in await asyncio.to_thread(find))
    tencent, others = await tencent_all(entries, config.devices.browser_devices)
    if not config.call.browser_webrtc:
        return BrowsersObservation(entries, tencent=tencent, tencent_others=others)
    chromium = next((e for e in entries if e.family == "chrome" and e.verdict == "supported"),
                    None)
    if chromium is None:
        webrtc = WebrtcCall(error="no supported Chrome or Chromium to run")
    elif not config.call.echo_url:
        webrtc = WebrtcCall(error="--browser-webrtc needs --echo-url (trtcdetect serve)")
    else:
        asked = local_asked(config)
        hold, why = None, None
        if (config.network.source or config.network.interface) and netns.missing() is None:
            try:
                hold = netns.hold_for(config, given(asked.interface_addresses)
                                      if asked is not None else None)
            except netns.NotHeld as exc:
                why = str(exc)
        if why is not None:
            webrtc = WebrtcCall(browser=chromium.path, stage="hold", connected=False, error=why)
        else:  # the page's report: its own words, each kept (faithful) or the probe's error
            page = await browser_webrtc(config, chromium.path,
                                        given(asked.family) if asked is not None else None, hold)
            webrtc = faithful(WebrtcCall, {"browser": chromium.path, **page}, "browser webrtc")
        webrtc = msgspec.structs.replace(
            webrtc, local_asked=UNSET if asked is None else asked,
            held=UNSET if hold is None else hold.seen())
    return BrowsersObservation(entries, webrtc, True, tencent, others)


def deadline_s(config: Config) -> float:
    # Tencent's checks run in each headless-capable browser: three families at the most
    return (60.0 if config.call.browser_webrtc else 30.0) + 3 * TENCENT_DETECT_S


def unbound(config: Config) -> str | None:
    """What -4/-6, --source, --interface do not reach (MeasuredProbe.unbound): the version
    checks and Tencent's checks send nothing, -4/-6 reach the page's call, and --source and
    --interface reach it through the browser's own namespace where slirp4netns is installed."""
    absent = netns.missing()
    network = config.network
    if not (config.call.browser_webrtc and (network.source or network.interface)) \
            or absent is None:
        return None
    return (f"{absent}: Chromium chooses its own local address, so --source and --interface do "
            "not reach its WebRTC call (the page holds the call to their address family; "
            "details.webrtc.path says which address the call went from)")


PROBE = MeasuredProbe(
    id="browsers",
    traits=frozenset({"network", "browser"}),
    titles=Text("Browsers", "浏览器"),
    description="installed browsers and their versions against the TRTC Web SDK minimums",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=BrowsersDetails,
    unbound=unbound,
)
