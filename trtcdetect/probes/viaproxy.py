"""The judging of a host's path through an HTTP proxy beside its direct one: shared by the
domain and url probes (both check their hosts through the proxy a browser here would use).
A pure rule; net/proxy.py measures the path."""

from __future__ import annotations

from collections.abc import Sequence

from ..evidence import given
from ..models import Advice, Message, Status, Verdict
from ..net.https import Step, first_failure, step
from ..text.ids import R, S


def judge_via(host: str, direct: Verdict, direct_issuer: str | None,
              via_proxy: tuple[str, Sequence[Step]] | None,
              blocked_remedy: str = R.WHITELIST_DOMAIN) -> Verdict:
    """A host's verdict once its path through the proxy is known (the domain and url probes):
    the direct verdict when the proxy changes nothing; "only through the proxy", "not through
    the proxy", "through neither"; and a proxy whose certificate comes from another issuer
    than the direct path's is inspecting HTTPS. `blocked_remedy`: what to allow when only the
    proxy fails (the media domain, or a deployment page's host). A pure rule: the judges'
    tables test it."""
    if via_proxy is None:
        return direct
    proxy, steps = via_proxy
    failed = first_failure(list(steps))
    direct_ok = direct.status is not Status.FAIL
    if failed is None:
        issuer = given(step(steps, "tls").seen().issuer)
        if direct_ok and issuer and direct_issuer and issuer != direct_issuer:
            return Verdict(Status.WARN, Message(S.DOMAIN_PROXY_INTERCEPTS, {
                "proxy": proxy, "issuer": issuer}),
                (Advice(R.PROXY_INTERCEPTS, {"proxy": proxy, "host": host, "issuer": issuer}),),
                direct.metrics)
        if not direct_ok:
            return Verdict(Status.WARN, Message(S.DOMAIN_ONLY_PROXY, {
                "proxy": proxy, "before": direct.message.as_dict()}), direct.advice,
                direct.metrics)
        return direct
    said = {"proxy": proxy, "step": failed.name.upper(), "error": failed.error or "no reason given"}
    if direct_ok:
        # the host that failed: a redirect's (the url probe's GET step names it) or this one
        blocked = given(failed.seen().host) or host
        return Verdict(Status.WARN, Message(S.DOMAIN_PROXY_FAILED, said),
                       (Advice(blocked_remedy, {"host": blocked}),), direct.metrics)
    return Verdict(Status.FAIL, Message(S.DOMAIN_BOTH_FAILED, {
        "before": direct.message.as_dict(),
        "after": Message(S.DOMAIN_PROXY_ALSO_FAILED, said).as_dict()}), direct.advice,
        direct.metrics)
