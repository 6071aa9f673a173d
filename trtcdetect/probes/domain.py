"""Probe `domain`: DNS -> TCP -> TLS -> HTTPS to the media domain, a time for each step.

The steps (`net.https`) run in order on one address and one connection, so the times add up to
what a browser spends before its first response; the first failing step is the finding. A
profile with several hosts checks them all at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from .. import thresholds
from ..config import Config
from ..evidence import UNSET, Evidence, JsonObject, UnsetType, details, given, of, of_entry
from ..failures import Failure, Kind
from ..models import Advice, Message, Metric, ProbeResult, Status, unique_advice, worst
from ..net import https, portal
from ..net.https import Step, StepSeen
from ..net.portal import PlainHttp
from ..net.proxy import check_via, proxy_for
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, Check, MeasuredProbe, Prior, Sample, Series, Verdict, seconds
from .viaproxy import judge_via


class ViaProxy(Evidence, frozen=True, kw_only=True):
    """The same host through the HTTP proxy a browser here would use."""

    proxy: str
    steps: tuple[StepSeen, ...]


class HostEntry(Evidence, frozen=True, kw_only=True):
    """One of several hosts (a profile's): its verdict and steps."""

    host: str
    status: str
    summary: str
    steps: tuple[StepSeen, ...]
    plain_http: PlainHttp | None = None


class DomainDetails(Evidence, frozen=True, kw_only=True):
    """The domain probe's details: the first host's steps (DNS, TCP, TLS, HTTPS), directly and
    through a proxy; with several hosts, each one's verdict; the wildcards not checked."""

    host: str = ""
    steps: tuple[StepSeen, ...]
    plain_http: PlainHttp | UnsetType = UNSET
    via_proxy: ViaProxy | UnsetType = UNSET
    hosts: tuple[HostEntry, ...] | UnsetType = UNSET
    not_checked: tuple[str, ...] | UnsetType = UNSET


@dataclass(frozen=True)
class HostSteps:
    host: str
    steps: tuple[Step, ...]
    #: the same host through the HTTP proxy a browser here would use: (proxy, its steps)
    via_proxy: tuple[str, tuple[Step, ...]] | None = None
    #: http://HOST/ on port 80, once, no redirect followed (net/portal.py): does something
    #: (a login page) answer in the host's place?
    plain_http: PlainHttp | None = None

    @property
    def plain(self) -> PlainHttp | None:
        return self.plain_http

    def evidence(self) -> DomainDetails:
        return DomainDetails(
            host=self.host, steps=tuple(s.seen() for s in self.steps),
            plain_http=self.plain or UNSET,
            via_proxy=UNSET if self.via_proxy is None else ViaProxy(
                proxy=self.via_proxy[0], steps=tuple(s.seen() for s in self.via_proxy[1])))


@dataclass(frozen=True)
class DomainObservation:
    hosts: tuple[HostSteps, ...]
    not_checked: tuple[str, ...] = ()

    def evidence(self) -> DomainDetails:
        first = self.hosts[0].evidence()
        entries: tuple[HostEntry, ...] | UnsetType = UNSET
        if len(self.hosts) > 1:
            entries = tuple(
                HostEntry(host=host.host, status=str(verdict.status),
                          summary=verdict.message.text() if verdict.message else "",
                          steps=tuple(s.seen() for s in host.steps), plain_http=host.plain)
                for host, verdict in ((h, judge_host(h)) for h in self.hosts))
        return msgspec.structs.replace(first, hosts=entries,
                                       not_checked=self.not_checked or UNSET)

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge_host(observation: HostSteps) -> Verdict:
    """The direct path (judge_direct), and the path through the proxy when there is one."""
    direct = judge_direct(observation)
    return judge_via(observation.host, direct,
                     given(https.step(observation.steps, "tls").seen().issuer),
                     observation.via_proxy)


def judge_direct(observation: HostSteps) -> Verdict:
    """One host's four steps: the first failed step fails it; a certificate near expiry warns."""
    host, steps = observation.host, observation.steps
    metrics = [Metric(f"{s.name}_time", round(s.ms, 2), "ms", better="lower")
               for s in steps if s.ms is not None and s.ok]
    tls = https.step(steps, "tls")
    days_left = given(tls.seen().days_left)
    if days_left is not None:
        metrics.append(Metric("cert_days_left", days_left, "days",
                              warn=thresholds.CERT_EXPIRY_WARN_DAYS, better="higher"))
    failed = https.first_failure(steps)
    if failed is not None:
        error = str(failed.error or Failure.of(Kind.NO_REASON))
        advice = Advice(https.STEP_CAUSE.get(failed.name, R.WHITELIST_DOMAIN), {"host": host, "error": error})
        return Verdict(Status.FAIL, Message(S.DOMAIN_STEP_FAILED,
                                            {"step": failed.name.upper(), "error": error}),
                       (advice,), tuple(metrics))
    if days_left is not None and days_left < thresholds.CERT_EXPIRY_WARN_DAYS:
        return Verdict(Status.WARN, Message(S.DOMAIN_CERT_EXPIRING, {"days": days_left}),
                       (Advice(R.CERT_EXPIRING, {"host": host, "days": f"{days_left:.0f}"}),),
                       tuple(metrics))
    total = sum(s.ms or 0 for s in steps)
    return Verdict(Status.PASS, Message(S.DOMAIN_OK, {"ms": round(total, 1)}), (),
                   tuple(metrics))


def judge(observation: DomainObservation) -> Verdict:
    """Every host: the first host's metrics as a single host's, the worst status of all."""
    verdicts = [judge_host(h) for h in observation.hosts]
    if len(verdicts) == 1:
        return verdicts[0]
    bad = [(h, v) for h, v in zip(observation.hosts, verdicts, strict=True)
           if v.status is not Status.PASS]
    ok = Metric("hosts_ok", len(verdicts) - len(bad), "count")
    if not bad:
        message = Message(S.DOMAIN_ALL_OK, {"count": len(verdicts)})
    else:
        which = ", ".join(f"{h.host} ({v.message.text()})" for h, v in bad)
        message = Message(S.DOMAIN_HOSTS_BAD, {"bad": len(bad), "count": len(verdicts),
                                               "which": which})
    return Verdict(worst([v.status for v in verdicts]), message,
                   unique_advice(a for v in verdicts for a in v.advice),
                   (*verdicts[0].metrics, ok))


async def measure(config: Config, prior: Prior = NO_PRIOR) -> DomainObservation:
    hosts = config.network.hosts or (config.network.target,)
    proxies = [proxy_for(config, host) for host in hosts]
    checked, through, looked = await asyncio.gather(
        asyncio.gather(*(https.check(config, host, config.network.https_port) for host in hosts)),
        asyncio.gather(*(check_via(config, proxy, host, config.network.https_port)
                         for host, proxy in zip(hosts, proxies, strict=True)
                         if proxy is not None)),
        asyncio.gather(*(portal.look(config, host) for host in hosts)))
    via = iter(through)
    return DomainObservation(
        tuple(HostSteps(host, tuple(steps), None if proxy is None
                        else (proxy.shown, tuple(next(via))), plain)
              for host, steps, proxy, plain in zip(hosts, checked, proxies, looked,
                                                   strict=True)),
        tuple(config.network.wildcards))


def deadline_s(config: Config) -> float:
    return config.network.probe_deadline_s


#: OpenMetrics: each step's time and outcome, and the certificate's expiry
SERIES = (
    Series("trtcdetect_domain_step_seconds", "Time of each DNS/TCP/TLS/HTTPS step", ("step",),
           unit="seconds"),
    Series("trtcdetect_domain_step_ok", "1 when the step worked, 0 when it failed", ("step",)),
    Series("trtcdetect_certificate_expiry_timestamp_seconds",
           "When the TLS certificate expires, Unix time (alert on it minus time())",
           unit="seconds"),
)


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    seen = of_entry(DomainDetails, probe)
    steps = seen.steps if seen is not None else ()
    for s in steps:
        if s.ok is not None:
            yield "trtcdetect_domain_step_ok", (s.name,), 1 if s.ok else 0
        if s.ok and s.ms is not None:
            yield "trtcdetect_domain_step_seconds", (s.name,), seconds(s.ms)
    for s in steps:
        if s.name == "tls" and s.not_after:
            try:
                expiry = dt.datetime.fromisoformat(s.not_after)
            except ValueError:
                continue
            yield "trtcdetect_certificate_expiry_timestamp_seconds", (), expiry.timestamp()


def checks(result: ProbeResult) -> Iterable[Check]:
    """--repeat's board: each step of the first host that ran."""
    seen = of(DomainDetails, result)
    for step in seen.steps if seen is not None else ():
        if step.ok is not None:
            yield f"DOMAIN {step.name.upper()}", step.ok, None


PROBE = MeasuredProbe(
    id="domain",
    traits=frozenset({"network", "target"}),
    titles=Text("Media domain", "媒体域名"),
    description="DNS, TCP 443, TLS certificate and HTTPS request to the media domain, timed",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=DomainDetails,
    checks=checks,
    series=SERIES,
    samples=samples,
)
