"""Probe `trtc`: TRTC's real cloud, through Tencent's own native SDK (PyPI `liteav`).

Tencent's access servers speak Tencent's own encrypted protocol, not STUN, so only Tencent's
SDK can show that they are reachable. Without credentials the SDK enters a room with a
placeholder application: any answer from the servers (even "no such application") proves the
cloud is reachable from here. With credentials (--credentials, or --sdk-app-id and a SecretKey)
two SDK users make a test call through the cloud for --trtc-seconds, as Tencent's own pre-call
test does, and the call is judged on Tencent's network-quality scale.

The SDK runs in a child process (trtc/session.py); what it tried comes from its log
(trtc/sdklog.py), the call's figures from its callbacks (trtc/events.py). `judge` is pure.
What was exercised where: README, "Tencent's SDK".
"""

from __future__ import annotations

import contextlib
import importlib.util
import platform
from dataclasses import dataclass, field, replace

from .. import thresholds
from ..call.local import local_choice
from ..config import PROBE_DEADLINE_MARGIN_S, Config
from ..credentials import Secret
from ..evidence import UNSET, Evidence, Foreign, JsonObject, Number, UnsetType, details, read
from ..models import Advice, Message, Metric, Status
from ..net.bind import family_allows
from ..net.local import route
from ..net.socksrelay import relay_running
from ..text.base import Text
from ..text.ids import R, S
from ..trtc import DISABLE_ENV, TENCENT_SUFFIXES, is_tencent, switched_off
from ..trtc.events import CallFigures, CallSeen, summarize
from ..trtc.reading import (
    CREDENTIAL_CODES,
    NO_ANSWER_CODES,
    UNTOLD,
    OwnCheck,
    addresses,
    answered_over,
    meaning,
    outcomes,
    quality_status,
    quality_words,
    told_apart,
)
from ..trtc.sdklog import Attempt, SdkLog, parse
from ..trtc.session import Proxy, call_done, job_for, reach_done, run_worker, through_relay, unbound
from .base import NO_PRIOR, MeasuredProbe, Prior, Verdict

__all__ = ["PROBE", "TENCENT_SUFFIXES", "TrtcObservation", "judge"]



class SdkName(Evidence, frozen=True, kw_only=True):
    """A name Tencent's SDK looked up, as its log says: the addresses, or its error."""

    name: str
    addresses: tuple[str, ...] = ()
    error: str | None = None
    ms: int | None = None


class SdkEndpoint(Evidence, frozen=True, kw_only=True):
    """An access server the SDK tried (its log), this computer's route toward it, and this
    probe's own connect or STUN request where the SDK's attempt ended without a word."""

    endpoint: str
    transport: str
    port: int | None = None
    first_s: Number
    sends: int
    #: answered, refused, unreachable, timeout, or pending (no word yet)
    outcome: str
    ended_s: Number | None = None
    route: str | None | UnsetType = UNSET
    checked: OwnCheck | UnsetType = UNSET


class Relayed(Evidence, frozen=True, kw_only=True):
    """-4/-6, --source, --interface: which, and what the local SOCKS5 relay carried for the
    SDK (net/socksrelay.py Tally)."""

    which: str
    connects: int = 0
    connects_failed: int = 0
    datagrams_out: int = 0
    datagrams_in: int = 0
    other_family: int = 0
    destinations: tuple[str, ...] = ()


class Reached(Evidence, frozen=True, kw_only=True):
    endpoint: str
    transport: str


class TrtcDetails(Evidence, frozen=True, kw_only=True):
    """The trtc probe's details: how Tencent's native SDK ended, what its log says it tried
    (names, access servers, the room-entry code), the routes toward them, what answered, and
    with credentials the call's figures; or why it did not run."""

    skipped: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    ended_by: str | UnsetType = UNSET
    returncode: int | None | UnsetType = UNSET
    deadline_s: Number | UnsetType = UNSET
    elapsed_s: Number | UnsetType = UNSET
    proxy: str | None | UnsetType = UNSET
    #: address -> the kernel's route toward it ("no route: ..." or a source address)
    routes: dict[str, str] | UnsetType = UNSET
    sdk_version: str | None | UnsetType = UNSET
    lines: int | UnsetType = UNSET
    names: tuple[SdkName, ...] | UnsetType = UNSET
    endpoints: tuple[SdkEndpoint, ...] | UnsetType = UNSET
    enter_code: int | None | UnsetType = UNSET
    enter_message: str | None | UnsetType = UNSET
    enter_cost_ms: int | None | UnsetType = UNSET
    exhausted_s: Number | None | UnsetType = UNSET
    socks5: bool | UnsetType = UNSET
    unsent_datagrams: int | UnsetType = UNSET
    relayed: Relayed | UnsetType = UNSET
    reached_over: Reached | UnsetType = UNSET
    call: CallSeen | UnsetType = UNSET
    kept_logs: tuple[str, ...] | UnsetType = UNSET
    tail: tuple[str, ...] | UnsetType = UNSET


@dataclass(frozen=True)
class TrtcObservation:
    #: why the probe did not run the SDK: ("no-sdk" | "not-tencent" | "disabled", reason)
    skipped: tuple[str, str] | None = None
    mode: str = "reach"
    target: str = ""
    log: SdkLog = field(default_factory=SdkLog)
    events: tuple[Foreign, ...] = ()
    ended_by: str = ""
    returncode: int | None = None
    deadline_s: float = 0.0
    elapsed_s: float = 0.0
    #: address -> the kernel's route toward it ("no route: ..." or a source address)
    routes: dict[str, str] = field(default_factory=dict)
    proxy: str | None = None
    #: -4/-6, --source, --interface: what the local relay carried for the SDK
    relayed: Relayed | None = None
    call: CallFigures | None = None
    kept_logs: tuple[str, ...] = ()
    #: the last SDK log lines when it ended without a verdict (secrets already removed)
    tail: tuple[str, ...] = ()
    #: "ENDPOINT TRANSPORT" -> this probe's own connect (TCP) or STUN request on a connected
    #: UDP socket to an endpoint whose SDK attempt ended without a word (net.ports verdicts):
    #: the SDK does not log a UDP refusal, nor a TCP reset when its deadline comes first
    checked: dict[str, OwnCheck] = field(default_factory=dict)

    def evidence(self) -> TrtcDetails:
        if self.skipped is not None:
            return TrtcDetails(skipped=self.skipped[0], reason=self.skipped[1])
        log, reached = self.log, self.reached_over()
        return TrtcDetails(
            mode=self.mode, ended_by=self.ended_by, returncode=self.returncode,
            deadline_s=self.deadline_s, elapsed_s=round(self.elapsed_s, 3), proxy=self.proxy,
            routes=self.routes, sdk_version=log.version, lines=log.lines,
            names=tuple(SdkName(name=n.name, addresses=tuple(n.addresses), error=n.error,
                                ms=n.ms) for n in log.names.values()),
            endpoints=tuple(self._endpoint(a, reached) for a in log.tried()),
            enter_code=log.enter_code, enter_message=log.enter_message or None,
            enter_cost_ms=log.enter_cost_ms,
            exhausted_s=None if log.exhausted_s is None else round(log.exhausted_s, 3),
            socks5=log.socks5, unsent_datagrams=log.unsent,
            relayed=UNSET if self.relayed is None else self.relayed,
            reached_over=UNSET if reached is None else Reached(endpoint=reached[0],
                                                               transport=reached[1]),
            call=UNSET if self.call is None else self.call.seen(),
            kept_logs=self.kept_logs or UNSET, tail=self.tail or UNSET)

    def _endpoint(self, attempt: Attempt, reached: tuple[str, str] | None) -> SdkEndpoint:
        """An endpoint the SDK tried, with this computer's route toward it and this probe's
        own check of it; the one the SDK reached answered, whatever its log last said."""
        outcome = attempt.outcome or "pending"
        checked = self.checked.get(f"{attempt.endpoint} {attempt.transport}")
        if checked is not None:
            outcome = told_apart(outcome, checked)
        if reached is not None and attempt.endpoint == reached[0] and outcome == "pending":
            outcome = "answered"
        return SdkEndpoint(
            endpoint=attempt.endpoint, transport=attempt.transport, port=attempt.port,
            first_s=round(attempt.first_s, 3), sends=attempt.sends, outcome=outcome,
            ended_s=None if attempt.ended_s is None else round(attempt.ended_s, 3),
            route=self.routes.get(attempt.host),
            checked=UNSET if checked is None else checked)

    def details(self) -> JsonObject:
        return details(self.evidence())

    def reached_over(self) -> tuple[str, str] | None:
        """(endpoint, "UDP 8000") of the access server that answered, when one did."""
        code = self.log.enter_code
        entered = any(e.get("event") == "entered" for e in self.events)
        if not entered and (code is None or not (code == 0 or code in CREDENTIAL_CODES)):
            return None
        endpoint, transport = answered_over(self.log)
        return None if endpoint == "-" else (endpoint, transport)


def unavailable() -> str | None:
    """Why Tencent's SDK cannot run here, or None."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return f"Tencent publishes liteav for Linux x86_64/aarch64 only, not " \
               f"{platform.system()} {platform.machine()}"
    if importlib.util.find_spec("liteav") is None:
        return "the Python package liteav is not installed"
    return None


# --- judge -------------------------------------------------------------------------------------

def _proxy(observation: TrtcObservation) -> str | JsonObject:
    if observation.relayed is not None:  # -4/-6, --source, --interface through the relay
        return Message(S.TRTC_VIA_LOCAL_RELAY, {"which": observation.relayed.which}).as_dict()
    return "" if observation.proxy is None else \
        Message(S.TRTC_VIA_PROXY, {"proxy": observation.proxy}).as_dict()


def _no_answer(observation: TrtcObservation) -> Verdict:
    log = observation.log
    tried_hosts = {a.host for a in log.tried()}
    no_route = [h for h in tried_hosts if observation.routes.get(h, "").startswith(
        ("no route", "excluded by "))]
    excluded = any(observation.routes.get(h, "").startswith("excluded by ") for h in no_route)
    seconds = observation.elapsed_s if observation.ended_by == "deadline" else \
        (log.enter_s or observation.elapsed_s)
    which = outcomes(log, observation.routes, observation.checked)
    metrics = (Metric("trtc_endpoints_tried", len(log.attempts), "count"),)
    if tried_hosts and len(no_route) == len(tried_hosts):
        # -4/-6 left out the rest: the options left the SDK no way, not the network alone
        cause = Advice(R.LOCAL_OPTIONS_LEFT_NOTHING, {
            "which": observation.relayed.which if observation.relayed is not None
            and observation.relayed.which else "-4/-6"}) if excluded \
            else Advice(R.TRTC_NO_ROUTE, {"addresses": addresses(log)})
        return Verdict(Status.FAIL, Message(S.TRTC_NO_ROUTE, {"which": which}), (cause,),
                       metrics)
    advice = [Advice(R.TRTC_WHITELIST, {
        "addresses": addresses(log), "names": ", ".join(log.names) or "-"})]
    for name in log.names.values():
        if name.error is not None and not name.addresses:
            advice.append(Advice(R.DNS_FAILURE, {"host": name.name, "error": name.error}))
    if observation.proxy is not None:
        advice.insert(0, Advice(R.TRTC_PROXY, {"proxy": observation.proxy}))
    return Verdict(Status.FAIL, Message(S.TRTC_NO_ANSWER, {
        "seconds": seconds, "which": which, "proxy": _proxy(observation)}),
        tuple(advice), metrics)


def judge(observation: TrtcObservation) -> Verdict:
    if observation.skipped is not None:
        kind, reason = observation.skipped
        if kind == "no-sdk":
            return Verdict(Status.SKIP, Message(S.TRTC_NO_SDK, {"reason": reason}),
                           (Advice(R.TRTC_INSTALL),))
        if kind == "disabled":
            return Verdict(Status.SKIP, Message(S.TRTC_DISABLED))
        return Verdict(Status.SKIP, Message(S.TRTC_NOT_TENCENT, {"target": observation.target}))
    log = observation.log
    if observation.mode == "call":
        return _judge_call(observation)
    code = log.enter_code
    if code is None and any(e.get("event") == "entered" for e in observation.events):
        code = 0
    if code is not None and code not in NO_ANSWER_CODES and (code == 0 or code in CREDENTIAL_CODES):
        endpoint, transport = answered_over(log)
        ms = float(log.enter_cost_ms if log.enter_cost_ms is not None
                   else 1000 * (log.enter_s or observation.elapsed_s))
        return Verdict(Status.PASS, Message(S.TRTC_ANSWERED, {
            "ms": ms, "endpoint": endpoint, "transport": transport,
            "proxy": _proxy(observation)}), (),
            (Metric("trtc_answer", round(ms, 1), "ms", better="lower"),))
    if code is not None and code not in NO_ANSWER_CODES:
        return Verdict(Status.WARN, Message(S.TRTC_UNKNOWN_CODE, {
            "code": code, "message": log.enter_message or "-"}))
    if code is None and observation.ended_by not in ("deadline", "done"):
        reason = f"the SDK's process ended with code {observation.returncode}"
        if observation.tail:
            reason += f": {observation.tail[-1].strip()}"
        return Verdict(Status.ERROR, Message(S.TRTC_SDK_FAILED, {"reason": reason}))
    return _no_answer(observation)


def _judge_call(observation: TrtcObservation) -> Verdict:
    call, log = observation.call, observation.log
    assert call is not None
    codes = call.up.error_codes + call.down.error_codes + (
        (log.enter_code,) if log.enter_code is not None else ())
    rejected = next((c for c in codes if c in CREDENTIAL_CODES), None)
    if rejected is not None:
        return Verdict(Status.FAIL, Message(S.TRTC_REJECTED, {"code": rejected,
                                                              "meaning": meaning(rejected)}),
                       (Advice(R.TRTC_CREDENTIALS, {"code": str(rejected)}),))
    if not call.entered:
        if observation.ended_by not in ("deadline", "done") and log.enter_code is None \
                and not call.up.error_codes and not call.down.error_codes:
            reason = f"the SDK's process ended with code {observation.returncode}"
            return Verdict(Status.ERROR, Message(S.TRTC_SDK_FAILED, {"reason": reason}))
        return _no_answer(observation)
    metrics = _call_metrics(call)
    seconds = call.seconds or observation.elapsed_s
    if call.audio_frames == 0 or call.video_frames == 0:
        what = S.TRTC_MEDIA_BOTH if call.audio_frames == call.video_frames == 0 else \
            S.TRTC_MEDIA_AUDIO if call.audio_frames == 0 else S.TRTC_MEDIA_VIDEO
        return Verdict(Status.FAIL, Message(S.TRTC_NO_MEDIA, {
            "what": Message(what).as_dict(), "seconds": seconds}),
            (Advice(R.CALL_POOR),), metrics)
    if call.worst_quality == 6:
        return Verdict(Status.FAIL, Message(S.TRTC_CALL_DOWN), (Advice(R.CALL_POOR),), metrics)
    mean = call.quality_mean
    status = quality_status(mean, call.worst_quality)
    return Verdict(status, Message(S.TRTC_CALL, quality_words(
        mean, call.rtt_median_ms, call.ping_loss_pct)),
        (Advice(R.CALL_POOR),) if status is not Status.PASS else (), metrics)


def _call_metrics(call: CallFigures) -> tuple[Metric, ...]:
    return (
        Metric("trtc_quality_mean", call.quality_mean, "level",
               warn=thresholds.TRTC_QUALITY_WARN, fail=thresholds.TRTC_QUALITY_FAIL,
               better="lower"),
        Metric("trtc_enter_up", call.up.entered_ms, "ms", better="lower"),
        Metric("trtc_enter_down", call.down.entered_ms, "ms", better="lower"),
        Metric("trtc_first_audio", call.first_audio_ms, "ms", better="lower"),
        Metric("trtc_first_video", call.first_video_ms, "ms", better="lower"),
        Metric("trtc_rtt", call.rtt_median_ms, "ms", better="lower"),
        Metric("trtc_message_loss", call.ping_loss_pct, "%", better="lower"),
        Metric("trtc_audio_gaps", call.audio_gaps, "count", better="lower"),
        Metric("trtc_audio_level", call.audio_level_dbfs, "dBFS"),
    )


# --- measure -----------------------------------------------------------------------------------

async def measure(config: Config, prior: Prior = NO_PRIOR) -> TrtcObservation:
    if switched_off():
        return TrtcObservation(skipped=("disabled", DISABLE_ENV), target=config.network.target)
    if not config.trtc.trtc_asked and not is_tencent(config.network.target):
        return TrtcObservation(skipped=("not-tencent", config.network.target), target=config.network.target)
    reason = unavailable()
    if reason is not None:
        return TrtcObservation(skipped=("no-sdk", reason), target=config.network.target)
    job = job_for(config)
    deadline = config.trtc.trtc_deadline_s + (config.trtc.trtc_seconds + 5 if job.mode == "call" else 0)
    async with (relay_running(config.network.local, config.network.family) if through_relay(config)
                else contextlib.nullcontext()) as relay:
        if relay is not None:
            job = replace(job, proxy=Proxy("127.0.0.1", relay.port, relay.user,
                                           Secret(relay.password)))
        run = await run_worker(job, deadline, call_done if job.mode == "call" else reach_done,
                               keep_logs=config.trtc.trtc_logs)
    log = parse(run.log)
    proxy = None if config.trtc.socks5 is None else f"{config.trtc.socks5[0]}:{config.trtc.socks5[1]}"
    # through a user's proxy this computer's own routes do not decide where the SDK's packets
    # go; through the relay they are the routes from the chosen local end
    routes = {} if proxy else {host: excluded_by(host, config) or route(host, config.network.local)
                               for host in dict.fromkeys(a.host for a in log.tried())}
    checked = {} if proxy or relay is not None else await own_checks(log, routes, config)
    return TrtcObservation(
        checked=checked,
        mode=job.mode, target=config.network.target, log=log, events=tuple(run.events),
        ended_by=run.ended_by, returncode=run.returncode, deadline_s=deadline,
        elapsed_s=run.elapsed_s, routes=routes, proxy=proxy,
        relayed=None if relay is None else read(Relayed, {"which": local_choice(config),
                                                          **relay.tally.as_dict()}),
        call=summarize(run.events) if job.mode == "call" else None,
        kept_logs=tuple(run.kept),
        tail=tuple(line.rstrip() for line in run.log[-3:])
        if log.enter_code is None and run.ended_by == "exit" else ())


async def own_checks(log: SdkLog, routes: dict[str, str],
                     config: Config) -> dict[str, OwnCheck]:
    """A TCP connect or a STUN request (net.ports: the ports probe's own checks) to each
    endpoint the SDK tried without a word on how it ended, all at once, bounded by
    --timeout. Only endpoints this computer has a route to; never through a proxy."""
    import asyncio

    from ..net.ports import PathClock, probe_tcp, probe_udp

    wanted = {(a.endpoint, a.transport, a.host, a.port): None for a in log.tried()
              if (a.outcome or "pending") in UNTOLD
              and not routes.get(a.host, "").startswith(("no route", "excluded by "))}
    clock = PathClock()
    verdicts = await asyncio.gather(*(
        (probe_tcp if transport == "TCP" else probe_udp)(host, port, config.network.timeout_s, clock,
                                                         config.network.local)
        for _endpoint, transport, host, port in wanted))
    return {f"{endpoint} {transport}": read(OwnCheck, verdict.as_dict())
            for (endpoint, transport, _host, _port), verdict in zip(wanted, verdicts, strict=True)}


def excluded_by(host: str, config: Config) -> str | None:
    """"excluded by -6" for an address of the family -4/-6 leaves out (the relay refuses it)."""
    return None if family_allows(config.network.family, host) else f"excluded by -{config.network.family}"


def deadline_s(config: Config) -> float:
    call = config.trtc.trtc_seconds + 5 if config.trtc.trtc_credentials is not None else 0.0
    # the worker's own deadline, its exit grace (close, TERM, KILL: 2 s each), the own checks
    # of the endpoints it left untold (net.ports: two timeouts at most) and a margin
    return config.trtc.trtc_deadline_s + call + 6 + 2 * config.network.timeout_s + PROBE_DEADLINE_MARGIN_S


PROBE = MeasuredProbe(
    id="trtc",
    evidence=TrtcDetails,
    traits=frozenset({"network", "sdk"}),
    titles=Text("TRTC cloud (Tencent's SDK)", "TRTC 云服务（腾讯 SDK）"),
    description="Tencent's own SDK enters a room: are TRTC's access servers reachable "
                "(with credentials: a two-user test call through the cloud)",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    unbound=unbound,
)
