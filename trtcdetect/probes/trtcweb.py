"""Probe `trtcweb`: can Tencent's Web SDK reach TRTC's scheduling service from this browser?

A TRTCCalling Web call starts with the Web SDK's `enterRoom`, which first asks Tencent's
scheduling service over HTTPS (schedule.cloud-rtc.com and .net, schedule.rtc-web.com and .io,
intl-schedule.cloud-rtc.com). The probe runs the vendored SDK (browser/static/vendor) in the found
Chromium/Chrome/Edge, headless, and enters a room with a placeholder application: a rejection
from the scheduling service proves it reachable from this browser; a network failure names, from
Chromium's own NetLog, which scheduling names failed how. The SDK has no deadline of its own
when packets are silently dropped (it hung for minutes in the lab: docs/tencent-sdks.md): the probe stops
at --trtc-deadline, ends the browser's whole process group and says "no answer within N s".
`--trtc-proxy HOST` passes TRTC's enterprise-proxy setting (proxy.unifiedProxy). -4/-6, --source
and --interface: the browser runs in a network namespace of its own whose packets slirp4netns
sends from the chosen address (browser/netns.py); without slirp4netns the result says the options
did not reach it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .. import thresholds
from ..browser import netns
from ..browser.find import BrowserEntry, runs_headless
from ..browser.headless import PAGE_LOAD_S
from ..browser.trtcweb import run_trtc_page, sdk_version
from ..call.local import local_choice
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..evidence import (
    UNSET,
    Evidence,
    Foreign,
    Held,
    JsonObject,
    Number,
    UnsetType,
    details,
    faithful,
    given,
    read,
)
from ..models import Advice, Message, Metric, Status
from ..text.base import Text
from ..text.ids import R, S
from ..trtc import DISABLE_ENV, is_tencent, switched_off
from ..trtc.reading import PLACEHOLDER_SDK_APP_ID, PLACEHOLDER_SIG, quality_status, quality_words
from ..trtc.webevents import NetworkTest, summarize
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict

#: Tencent's error codes (TRTC.ERROR_CODE): SERVER_ERROR is the service's own refusal
SERVER_ERROR = 5400
OPERATION_FAILED = 5500
#: The scheduling names in trtc.js 5.17.1 (profiles.CURRENT_WEB_HOSTS holds the whole list)
SCHEDULE_HOSTS = ("schedule.cloud-rtc.com", "schedule.cloud-rtc.net", "schedule.rtc-web.com",
                  "schedule.rtc-web.io", "intl-schedule.cloud-rtc.com")


class Schedule(Evidence, frozen=True, kw_only=True):
    """What enterRoom with a placeholder application came to: entered, or the SDK's error (any
    answer from TRTC's scheduling service means it was reached), and how long it took."""

    entered: bool | None | UnsetType = UNSET
    ms: Number | None | UnsetType = UNSET
    #: the error the SDK threw (Tencent's RtcError: code, extraCode, functionName, message ...;
    #: Tencent's shape, an edge: a mapping)
    error: Foreign | None | UnsetType = UNSET
    #: with credentials: the SDK's events as the page recorded them (Tencent's event shapes:
    #: an edge, a mapping each)
    network: tuple[Foreign, ...] | UnsetType = UNSET


class NetError(Evidence, frozen=True, kw_only=True):
    host: str
    error: str


class TrtcWebDetails(Evidence, frozen=True, kw_only=True):
    """The trtcweb probe's details: Tencent's Web SDK in the browser found here (or the end
    user's): its version, what the scheduling service answered, the network test with
    credentials, the page's failed requests to Tencent's names; or why it was skipped."""

    ran_in: str | UnsetType = UNSET
    skipped: str | UnsetType = UNSET
    browser: str | None | UnsetType = UNSET
    sdk_version: str | None | UnsetType = UNSET
    schedule: Schedule | None | UnsetType = UNSET
    network: NetworkTest | None | UnsetType = UNSET
    ended_by: str | UnsetType = UNSET
    deadline_s: Number | UnsetType = UNSET
    elapsed_s: Number | UnsetType = UNSET
    net_errors: tuple[NetError, ...] | UnsetType = UNSET
    proxy: str | None | UnsetType = UNSET
    error: str | None | UnsetType = UNSET
    held: Held | None | UnsetType = UNSET


@dataclass(frozen=True)
class TrtcWebObservation:
    skipped: str | None = None
    browser: str | None = None
    sdk_version: str | None = None
    #: what the scheduling service answered (the page's report, read into its type)
    schedule: Schedule | None = None
    ended_by: str = ""
    deadline_s: float = 0.0
    elapsed_s: float = 0.0
    #: (host, Chromium's net error) for the page's failed requests to Tencent's names
    net_errors: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    proxy: str | None = None
    error: str | None = None
    #: with credentials: Tencent's two-client network test, summarized (trtc/webevents.py)
    network: NetworkTest | None = None
    #: -4/-6, --source, --interface: the browser's namespace (netns.Hold.as_dict)
    held: Held | None = None
    #: skipped because no Chrome, Chromium or Edge was found here
    no_browser: bool = False

    def evidence(self) -> TrtcWebDetails:
        if self.skipped is not None:
            return TrtcWebDetails(skipped=self.skipped)
        return TrtcWebDetails(
            browser=self.browser, sdk_version=self.sdk_version, schedule=self.schedule,
            network=self.network, ended_by=self.ended_by, deadline_s=self.deadline_s,
            elapsed_s=round(self.elapsed_s, 3),
            net_errors=tuple(NetError(host=h, error=e) for h, e in self.net_errors),
            proxy=self.proxy, error=self.error, held=self.held)

    def details(self) -> JsonObject:
        return details(self.evidence())


def _failed_names(seen: TrtcWebDetails) -> str:
    return "; ".join(f"{e.host} {e.error}" for e in given(seen.net_errors) or ()) or "-"


def judge(observation: TrtcWebObservation) -> Verdict:
    """What the typed evidence says (observation.evidence()): the scheduling service's answer,
    or Tencent's two-client test; why not, when it did not run."""
    seen = observation.evidence()
    skipped = given(seen.skipped)
    if skipped is not None:
        return Verdict(Status.SKIP, Message(S.TRTCWEB_SKIPPED, {"reason": skipped}),
                       (Advice(R.BROWSER_INSTALL),) if observation.no_browser else ())
    proxy, held = given(seen.proxy), given(seen.held)
    via: str | JsonObject = "" if proxy is None else \
        Message(S.TRTC_VIA_PROXY_WEB, {"proxy": proxy}).as_dict()
    if held is not None:
        via = Message(S.TRTCWEB_HELD, {"which": held.which, "proxy": via}).as_dict()
    network = given(seen.network)
    if network is not None:
        return judge_network(seen, network, via)
    schedule = given(seen.schedule)
    advice = (Advice(R.WHITELIST_DOMAIN, {"host": ", ".join(SCHEDULE_HOSTS)}),
              Advice(R.TRTC_WEB_PROXY))
    ended_by, error = given(seen.ended_by), given(seen.error) or "?"
    if schedule is None:
        if ended_by == "start":
            return Verdict(Status.ERROR, Message(S.TRTCWEB_NO_BROWSER, {"error": error}))
        if ended_by == "hold":  # it did not run
            which = held.which if held is not None else "?"
            return Verdict(Status.ERROR, Message(S.TRTCWEB_NOT_HELD, {
                "which": which, "error": error}), (Advice(R.BROWSER_NAMESPACE, {"which": which}),))
        if ended_by == "page":  # nothing was asked of the network
            return Verdict(Status.ERROR, Message(S.TRTCWEB_NO_PAGE, {"error": error}))
        return Verdict(Status.FAIL, Message(S.TRTCWEB_NO_ANSWER, {
            "seconds": given(seen.deadline_s) or 0.0, "which": _failed_names(seen),
            "via": via}), advice)
    took: Number | None = given(schedule.ms)
    ms = float(took or 0)
    metric = (Metric("trtcweb_schedule", ms, "ms", better="lower"),)
    thrown = given(schedule.error) or {}  # Tencent's RtcError, as the SDK shaped it
    if given(schedule.entered) or thrown.get("code") == SERVER_ERROR:
        return Verdict(Status.PASS, Message(S.TRTCWEB_ANSWERED, {"ms": ms, "via": via}), (),
                       metric)
    if thrown.get("code") == OPERATION_FAILED and "schedule failed" in str(thrown.get("message")):
        # the SDK's own words are in the details; the summary names hosts and net errors
        which = _failed_names(seen) if given(seen.net_errors) else f"enterRoom {OPERATION_FAILED}"
        return Verdict(Status.FAIL, Message(S.TRTCWEB_UNREACHABLE, {"which": which, "via": via}),
                       advice, metric)
    return Verdict(Status.WARN, Message(S.TRTCWEB_UNKNOWN, {
        "code": str(thrown.get("code")),
        "error": str(thrown.get("message", "")).split("\n")[0]}), (), metric)


def judge_network(seen: TrtcWebDetails, net: NetworkTest, via: str | JsonObject) -> Verdict:
    """Tencent's two-client test, on Tencent's scale (the same limits as the trtc probe's)."""
    refused = next((e for e in net.errors if e.code == SERVER_ERROR), None)
    if refused is not None:
        return Verdict(Status.FAIL, Message(S.TRTCWEB_REFUSED, {"code": SERVER_ERROR}),
                       (Advice(R.TRTC_CREDENTIALS, {"code": str(SERVER_ERROR)}),))
    if net.entered_ms.get("up") is None or net.entered_ms.get("down") is None:
        return Verdict(Status.FAIL, Message(S.TRTCWEB_UNREACHABLE, {
            "which": _failed_names(seen) if given(seen.net_errors)
            else f"enterRoom {net.errors[0].code if net.errors else '?'}", "via": via}),
            (Advice(R.WHITELIST_DOMAIN, {"host": ", ".join(SCHEDULE_HOSTS)}),
             Advice(R.TRTC_WEB_PROXY)))
    metrics = (
        Metric("trtcweb_quality_mean", net.quality_mean, "level",
               warn=thresholds.TRTC_QUALITY_WARN, fail=thresholds.TRTC_QUALITY_FAIL,
               better="lower"),
        Metric("trtcweb_rtt", net.rtt_median_ms, "ms", better="lower"),
        Metric("trtcweb_loss", net.loss_median_pct, "%", better="lower"),
        Metric("trtcweb_first_video", net.first_video_ms, "ms", better="lower"))
    if net.first_audio_ms is None or net.first_video_ms is None:
        return Verdict(Status.FAIL, Message(S.TRTCWEB_NO_MEDIA), (Advice(R.CALL_POOR),), metrics)
    status = quality_status(net.quality_mean, net.worst_quality)
    return Verdict(status, Message(S.TRTCWEB_NETWORK, quality_words(
        net.quality_mean, net.rtt_median_ms, net.loss_median_pct)),
        (Advice(R.CALL_POOR),) if status is not Status.PASS else (), metrics)


def _browser(prior: Prior) -> tuple[str | None, str]:
    found = prior.get("browsers")
    if found is None:
        return None, "the browsers probe did not run"
    for entry in found.details.get("browsers") or ():
        seen = read(BrowserEntry, entry, "browsers")
        if runs_headless(seen):
            return seen.path, ""
    return None, "no supported Chrome, Chromium or Edge to run headless"


async def measure(config: Config, prior: Prior = NO_PRIOR) -> TrtcWebObservation:
    if switched_off():
        return TrtcWebObservation(skipped=f"switched off by {DISABLE_ENV}")
    if not config.trtc.trtc_asked and not is_tencent(config.network.target):
        return TrtcWebObservation(skipped=f"the target {config.network.target} is not Tencent's cloud")
    binary, why = _browser(prior)
    if binary is None:
        browsers = prior.get("browsers")
        return TrtcWebObservation(skipped=why, no_browser=browsers is not None
                                  and browsers.status is Status.SKIP)
    job: JsonObject = {"schedule": True, "sdkAppId": PLACEHOLDER_SDK_APP_ID,
                           "userId": "trtcdetect_" + secrets.token_hex(4),
                           "userSig": PLACEHOLDER_SIG, "roomId": secrets.randbelow(2**31) + 1}
    found = config.trtc.trtc_credentials
    if found is not None:  # Tencent's two-client test; the UserSigs reach only the page
        job = {"network": True, "sdkAppId": found.sdk_app_id, "roomId": found.room_id,
               "seconds": config.trtc.trtc_seconds,
               "users": [{"userId": u.user_id, "userSig": u.user_sig.reveal()}
                         for u in found.users]}
    if config.trtc.trtc_proxy:
        job["proxy"] = config.trtc.trtc_proxy
    wait = config.trtc.trtc_deadline_s + PAGE_LOAD_S + (config.trtc.trtc_seconds if found else 0)
    hold = None
    if config.network.local_chosen and netns.missing() is None:
        try:
            hold = netns.hold_for(config)
        except netns.NotHeld as exc:
            return TrtcWebObservation(browser=binary, ended_by="hold", error=str(exc),
                                      held=Held(which=local_choice(config)))
    run = await run_trtc_page(binary, job, wait, hold=hold)
    network = None
    if found is not None and run.schedule is not None:
        network = summarize(run.schedule.get("network") or [])
    sdk = sdk_version()
    errors = tuple(dict.fromkeys(
        (host, error) for url, error in run.net_errors
        if (host := urlsplit(url).hostname or "") and is_tencent(host)))
    schedule = None if run.schedule is None else \
        faithful(Schedule, run.schedule, "the page's schedule")  # its words, each kept
    return TrtcWebObservation(browser=binary, sdk_version=sdk, schedule=schedule,
                              ended_by=run.ended_by, deadline_s=config.trtc.trtc_deadline_s,
                              elapsed_s=run.elapsed_s, net_errors=errors,
                              proxy=config.trtc.trtc_proxy, error=run.error, network=network,
                              held=hold.seen() if hold is not None else None)


def deadline_s(config: Config) -> float:
    # the page's deadline (and the test's length), the browser's start, its exit (TERM then
    # KILL), the browser's own namespace when one is made, and a margin
    test = config.trtc.trtc_seconds if config.trtc.trtc_credentials is not None else 0.0
    return config.trtc.trtc_deadline_s + PAGE_LOAD_S + test + 4 + PROBE_DEADLINE_MARGIN_S + (
        netns.SETUP_S if config.network.local_chosen else 0.0)


def unbound(config: Config) -> str | None:
    """What -4/-6, --source, --interface do not reach (MeasuredProbe.unbound): nothing, with
    slirp4netns to hold the browser to them; all of it without."""
    absent = netns.missing()
    return None if absent is None else (
        f"{absent}: Chromium with Tencent's Web SDK chose its own local addresses, and -4/-6, "
        "--source and --interface did not reach it")


PROBE = MeasuredProbe(
    id="trtcweb",
    traits=frozenset({"network", "browser", "sdk"}),
    evidence=TrtcWebDetails,
    titles=Text("TRTC Web SDK scheduling", "TRTC Web SDK 调度"),
    description="Tencent's Web SDK in the found Chrome/Chromium/Edge, headless: does TRTC's "
                "scheduling service answer from this browser",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    # after trtc: with credentials both use the same two users, which must not meet themselves
    after=("browsers", "trtc"),
    unbound=unbound,
)
