"""The SDK's log in words: how each endpoint ended, which server answered, what a room-entry
code means. Pure; used by the trtc probe's judge (probes/trtc.py)."""

from __future__ import annotations

from collections.abc import Mapping

from .. import thresholds
from ..evidence import UNSET, Evidence, JsonObject, Number, UnsetType
from ..models import Message, Status
from ..text.ids import S
from .sdklog import SdkLog

#: Placeholder credentials for the credential-free check: a number in TRTC's SDKAppID range
#: that is not an application, and a UserSig that is not one. The room id is random per run.
PLACEHOLDER_SDK_APP_ID = 1400000001
PLACEHOLDER_SIG = "trtcdetect-reachability-check-not-a-usersig"
#: Room-entry codes that mean no server answered (Tencent's error table: -3307/-3308 request
#: timeouts, -6 request timeout, -103 network unavailable)
NO_ANSWER_CODES = frozenset({-3307, -3308, -6, -103})
#: Codes a server gives when it judged the credentials (Tencent's error table: text/sentences.py
#: trtc.code-N says each). Offline the SDK never gave one (it checks only that none is empty).
CREDENTIAL_CODES = frozenset({-3317, -3318, -3319, -3320, -100006, -100013, -100018})


def meaning(code: int) -> JsonObject:
    """What Tencent's error table says a credential code means, as a nested message."""
    return Message(f"trtc.code{code}").as_dict()


#: the SDK's outcomes that say nothing of refused or dropped
UNTOLD = ("timeout", "pending")


class OwnCheck(Evidence, frozen=True, kw_only=True):
    """This probe's own connect or STUN request to an endpoint (net.ports' PortVerdict, as its
    details write it)."""

    protocol: str | UnsetType = UNSET
    port: int | UnsetType = UNSET
    verdict: str
    rtt_ms: Number | None | UnsetType = UNSET
    error: str | None | UnsetType = UNSET
    attempts: int | UnsetType = UNSET
    refused_by: str | None | UnsetType = UNSET
    timing: str | None | UnsetType = UNSET



def told_apart(outcome: str, checked: OwnCheck | None) -> str:
    """The SDK's outcome with the trtc probe's own check of the endpoint (a net.ports
    verdict): a refusal (TCP reset, ICMP port unreachable) is "refused", silence a timeout;
    an endpoint that answered the check keeps the SDK's word. Pure."""
    if outcome not in UNTOLD or checked is None:
        return outcome
    return {"closed": "refused", "no_answer": "timeout"}.get(checked.verdict, outcome)


def outcomes(log: SdkLog, routes: dict[str, str],
             checked: Mapping[str, OwnCheck] | None = None) -> list[JsonObject]:
    """'UDP 8000, 8080 no answer; TCP 443 refused; IPv6 no route; ...': one nested message per
    outcome. Endpoints this computer has no route to are grouped by address family (an IPv4-only
    network has no route to the SDK's IPv6 addresses: their ports say nothing). `checked`:
    "ENDPOINT TRANSPORT" -> the trtc probe's own check of it (told_apart)."""
    groups: dict[str, dict[str, list[int]]] = {}
    families: list[str] = []
    excluded: dict[str, str] = {}  # family -> the option (-4/-6) that left it out
    for attempt in log.tried():
        family = "IPv6" if ":" in attempt.host else "IPv4"
        way = routes.get(attempt.host, "")
        if way.startswith("excluded by "):
            excluded[family] = way.removeprefix("excluded by ")
            continue
        if way.startswith("no route"):
            if family not in families:
                families.append(family)
            continue
        outcome = told_apart(attempt.outcome or "pending",
                             (checked or {}).get(f"{attempt.endpoint} {attempt.transport}"))
        ports = groups.setdefault(outcome, {}).setdefault(attempt.transport, [])
        if attempt.port not in ports:
            ports.append(attempt.port)
    known = {"timeout": S.TRTC_OUTCOME_TIMEOUT, "refused": S.TRTC_OUTCOME_REFUSED,
             "unreachable": S.TRTC_OUTCOME_UNREACHABLE, "pending": S.TRTC_OUTCOME_PENDING}
    said = []
    for outcome, by_transport in groups.items():
        which = "; ".join(f"{t} {', '.join(map(str, sorted(p)))}" for t, p in
                          sorted(by_transport.items(), key=lambda kv: kv[0] != "UDP"))
        if outcome in known:
            said.append(Message(known[outcome], {"which": which}).as_dict())
        else:
            said.append(Message(S.TRTC_OUTCOME_OTHER, {"which": which,
                                                       "outcome": outcome}).as_dict())
    if families:
        said.append(Message(S.TRTC_OUTCOME_UNREACHABLE, {"which": ", ".join(families)}).as_dict())
    for family, option in excluded.items():
        said.append(Message(S.TRTC_OUTCOME_EXCLUDED, {"which": family, "option": option}).as_dict())
    for name in log.names.values():
        if name.error is not None and not name.addresses:
            # the resolver's words are in the advice (dns-failure): the summary stays short
            said.append(Message(S.TRTC_DNS_FAILED, {"name": name.name}).as_dict())
    return said


def addresses(log: SdkLog) -> str:
    hosts = list(dict.fromkeys(a.host for a in log.tried()))
    return ", ".join(hosts) or "-"


def answered_over(log: SdkLog) -> tuple[str, str]:
    """The endpoint the SDK was waiting on when the answer came: the earliest attempt that had
    not ended by then."""
    at = log.enter_s if log.enter_s is not None else float("inf")
    waiting = [a for a in log.tried() if a.first_s <= at and (a.ended_s is None or a.ended_s >= at)]
    chosen = waiting[0] if waiting else (log.tried()[-1] if log.tried() else None)
    if chosen is None:
        return "-", "-"
    return chosen.endpoint, f"{chosen.transport} {chosen.port}"


def quality_word(level: float | None) -> JsonObject:
    """Tencent's word for a mean level; "unknown" when Tencent gave no known sample."""
    rounded = 0 if level is None else min(6, max(1, round(level)))
    return Message(getattr(S, f"TRTC_QUALITY_{rounded}")).as_dict()


def quality_status(mean: float | None, worst: int | None) -> Status:
    """A test call on Tencent's scale (native or Web): any "down" (6) or a mean from
    TRTC_QUALITY_FAIL fails, from TRTC_QUALITY_WARN warns; no known sample is no finding."""
    if worst == 6 or (mean is not None and mean >= thresholds.TRTC_QUALITY_FAIL):
        return Status.FAIL
    if mean is not None and mean >= thresholds.TRTC_QUALITY_WARN:
        return Status.WARN
    return Status.PASS


def quality_words(mean: float | None, rtt_ms: float | None,
                  loss_pct: float | None) -> JsonObject:
    """The values of a call's sentence: Tencent's word for the mean, the mean, RTT and loss."""
    return {"quality": quality_word(mean), "mean": "-" if mean is None else f"{mean:.1f}",
            "rtt": "-" if rtt_ms is None else f"{rtt_ms:.0f} ms",
            "loss": "-" if loss_pct is None else f"{loss_pct:g} %"}
