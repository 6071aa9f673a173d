"""Probe `domain`: DNS -> TCP -> TLS -> HTTPS to the media domain, a time for each step.

The steps run in order on one resolved address, so the times add up to what a browser spends
before its first request; the first failing step is the finding and the later ones are not run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import time
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from cryptography import x509

from .. import thresholds
from ..config import Config
from ..models import Advice, Message, Metric, ProbeResult, Status, unique_advice, worst
from ..net import Resolution, ResolveError, os_error_text, resolve

STEPS = ("dns", "tcp", "tls", "https")


@dataclass
class Step:
    name: str
    ok: bool | None = None  # None: not run, because an earlier step failed
    ms: float | None = None
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "ok": self.ok,
            "ms": None if self.ms is None else round(self.ms, 2),
            "error": self.error, **self.info,
        }


class _Timer:
    def __enter__(self) -> _Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms = (time.perf_counter() - self.start) * 1000


async def _dns(config: Config, host: str, step: Step) -> Resolution | None:
    with _Timer() as t:
        try:
            resolution = await resolve(config, host, config.https_port)
        except ResolveError as exc:
            step.ok, step.error = False, str(exc)
            resolution = None
    step.ms = t.ms
    if resolution is not None:
        step.ok = True
        step.info = {"source": resolution.source, "a": list(resolution.ipv4),
                     "aaaa": list(resolution.ipv6)}
    return resolution


async def _tcp(config: Config, addresses: tuple[str, ...], step: Step) -> socket.socket | None:
    """Connect to each address in turn (IPv4 first) until one answers."""
    errors = []
    loop = asyncio.get_running_loop()
    with _Timer() as t:
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await asyncio.wait_for(
                    loop.sock_connect(sock, (address, config.https_port)), config.timeout_s
                )
            except TimeoutError:
                sock.close()
                errors.append(f"{address}: no answer within {config.timeout_s:g} s")
                continue
            except OSError as exc:
                sock.close()
                errors.append(f"{address}: {os_error_text(exc)}")
                continue
            step.info = {"address": address, "port": config.https_port}
            step.ok = True
            break
        else:
            sock = None
            step.ok, step.error = False, "; ".join(errors) or "no address to connect to"
    step.ms = t.ms
    return sock


def _certificate_info(der: bytes | None) -> dict[str, Any]:
    if not der:
        return {}
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    days_left = (not_after - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": not_after.isoformat(),
        "days_left": round(days_left, 1),
        "dns_names": names,
    }


async def _tls(
    config: Config, host: str, address: str, sock: socket.socket, step: Step
) -> bool:
    """Handshake with verification; on a verification failure fetch the certificate anyway."""
    with _Timer() as t:
        try:
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=config.ssl_context(), server_hostname=host,
                ssl_handshake_timeout=config.timeout_s,
            )
        except ssl.SSLCertVerificationError as exc:
            step.ok, step.error = False, f"certificate not trusted: {exc.verify_message}"
            step.info = {"verified": False}
        except (TimeoutError, ssl.SSLError, OSError) as exc:
            step.ok = False
            step.error = f"handshake failed: {exc}" if str(exc) else "handshake timed out"
            step.info = {"verified": False}
        else:
            ssl_object = writer.get_extra_info("ssl_object")
            step.ok = True
            step.info = {"verified": True, "version": ssl_object.version(),
                         **_certificate_info(ssl_object.getpeercert(binary_form=True))}
            writer.close()
    step.ms = t.ms
    if not step.ok and step.error and step.error.startswith("certificate"):
        step.info.update(await _unverified_certificate(config, host, address))
    return bool(step.ok)


async def _unverified_certificate(config: Config, host: str, address: str) -> dict[str, Any]:
    """The certificate a server presents, without trusting it: evidence for the report."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(address, config.https_port, ssl=ctx, server_hostname=host),
            config.timeout_s,
        )
    except (TimeoutError, OSError):
        return {}
    ssl_object = writer.get_extra_info("ssl_object")
    info = {"version": ssl_object.version(),
            **_certificate_info(ssl_object.getpeercert(binary_form=True))}
    writer.close()
    return info


async def _https(config: Config, host: str, address: str, step: Step) -> None:
    """GET / with httpx on the address the earlier steps used, SNI and Host set to `host`."""
    literal = f"[{address}]" if ":" in address else address
    url = f"https://{literal}:{config.https_port}/"
    with _Timer() as t:
        try:
            async with httpx.AsyncClient(
                verify=config.ssl_context(), timeout=config.timeout_s, trust_env=False
            ) as client:
                # Up to the response headers, no further: a body that never ends must not
                # hold the probe (the whole step is bounded by the step timeout too).
                async with asyncio.timeout(config.timeout_s), client.stream(
                    "GET", url, headers={"Host": host}, extensions={"sni_hostname": host}
                ) as response:
                    step.ok = True
                    step.info = {"status_code": response.status_code,
                                 "http_version": response.http_version,
                                 "server": response.headers.get("server")}
        except httpx.HTTPError as exc:
            step.ok, step.error = False, f"{type(exc).__name__}: {exc}" if str(exc) else type(
                exc).__name__
        except TimeoutError:
            step.ok, step.error = False, f"no response within {config.timeout_s:g} s"
    step.ms = t.ms


class DomainProbe:
    id = "domain"
    title = "Media domain"
    description = "DNS, TCP 443, TLS certificate and HTTPS request to the media domain, timed"

    def deadline_s(self, config: Config) -> float:
        return config.probe_deadline_s

    async def run(self, config: Config) -> ProbeResult:
        hosts = config.hosts or (config.target,)
        results = await asyncio.gather(*(self.check(config, host) for host in hosts))
        result = results[0] if len(results) == 1 else self._combine(list(results))
        if config.wildcards:
            details = {**result.details, "not_checked": list(config.wildcards)}
            result = replace(result, details=details)
        return result

    async def check(self, config: Config, host: str) -> ProbeResult:
        """The four steps for one host (the url probe uses this too, on the URL's port)."""
        steps = {name: Step(name) for name in STEPS}
        resolution = await _dns(config, host, steps["dns"])
        sock = None
        if resolution is not None:
            sock = await _tcp(config, resolution.addresses, steps["tcp"])
        if sock is not None:
            address = steps["tcp"].info["address"]
            if await _tls(config, host, address, sock, steps["tls"]):
                await _https(config, host, address, steps["https"])
        return self._result(host, list(steps.values()))

    def _combine(self, results: list[ProbeResult]) -> ProbeResult:
        """Every host of a profile: the first host's details as before, all hosts in `hosts`."""
        first = results[0]
        details = dict(first.details)
        details["hosts"] = [{"host": r.details["host"], "status": str(r.status),
                             "summary": r.summary, "steps": r.details["steps"]} for r in results]
        bad = [r for r in results if r.status is not Status.PASS]
        advice = unique_advice(a for r in results for a in r.advice)
        ok = Metric("hosts_ok", len(results) - len(bad), "count")
        if not bad:
            message = Message("domain.all-ok", {"count": len(results)})
        else:
            which = ", ".join(f"{r.details['host']} ({r.summary})" for r in bad)
            message = Message("domain.hosts-bad", {"bad": len(bad), "count": len(results),
                                                   "which": which})
        return ProbeResult(self.id, self.title, worst([r.status for r in results]),
                           message=message, metrics=(*first.metrics, ok), details=details,
                           advice=advice)

    def _result(self, host: str, steps: list[Step]) -> ProbeResult:
        details: dict[str, Any] = {"host": host, "steps": [s.as_dict() for s in steps]}
        metrics = [Metric(f"{s.name}_time", round(s.ms, 2), "ms", better="lower")
                   for s in steps if s.ms is not None and s.ok]
        tls = steps[2]
        days_left = tls.info.get("days_left")
        if days_left is not None:
            metrics.append(Metric("cert_days_left", days_left, "days",
                                  warn=thresholds.CERT_EXPIRY_WARN_DAYS, better="higher"))
        failed = next((s for s in steps if s.ok is False), None)
        if failed is not None:
            cause = {"dns": "dns-failure", "tls": "tls-untrusted"}.get(
                failed.name, "whitelist-domain")
            advice = Advice(cause, {"host": host, "error": failed.error or ""})
            return ProbeResult(
                id=self.id, title=self.title, status=Status.FAIL,
                message=Message("domain.step-failed",
                                {"step": failed.name.upper(), "error": failed.error or ""}),
                metrics=tuple(metrics), details=details, advice=(advice,),
            )
        total = sum(s.ms or 0 for s in steps)
        if days_left is not None and days_left < thresholds.CERT_EXPIRY_WARN_DAYS:
            return ProbeResult(
                id=self.id, title=self.title, status=Status.WARN,
                message=Message("domain.cert-expiring", {"days": days_left}),
                metrics=tuple(metrics), details=details,
                advice=(Advice("cert-expiring", {"host": host, "days": f"{days_left:.0f}"}),),
            )
        return ProbeResult(
            id=self.id, title=self.title, status=Status.PASS,
            message=Message("domain.ok", {"ms": round(total, 1)}),
            metrics=tuple(metrics), details=details,
        )


PROBE = DomainProbe()
