"""`trtcdetect exporter`: Prometheus' multi-target exporter pattern (as blackbox_exporter).

`GET /probe?module=M&target=T` runs module M's probes against T (one the module allows) and
answers the run's metrics -- the names `--format openmetrics` writes -- plus
`trtcdetect_probe_success` (1 when the run's status is pass, else 0; the scrape's duration is
`trtcdetect_run_duration_seconds`). OpenMetrics when the scraper asks for it (Accept), else
Prometheus' text format.
The time budget is Prometheus' X-Prometheus-Scrape-Timeout-Seconds minus a margin, at most the
module's max_seconds; probes still running then are stopped and reported as errors.

At most `limit` runs at once, one per (module, target): a second scrape of a pair that is
running waits for that run and shares its result; a new pair beyond the limit gets 503 at once.
`GET /metrics` is the exporter's own metrics, `GET /` a page of modules and last results.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.exposition import generate_latest as text_format

from ..evidence import JsonObject
from ..models import RunReport, Status
from ..parse import ConfigError, parse_host
from .modules import Module

log = logging.getLogger("trtcdetect.exporter")
#: Taken off Prometheus' scrape timeout, s, so the answer arrives before it gives up
SCRAPE_MARGIN_S = 0.5
#: Longest query parameter accepted (a host name is at most 253)
MAX_PARAM = 256
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT = "text/plain; version=0.0.4; charset=utf-8"

SCRAPES = Counter("trtcdetect_exporter_scrapes", "Scrapes of /probe by module and outcome",
                  ["module", "outcome"])
DURATION = Histogram("trtcdetect_exporter_probe_seconds", "Time of each run, by module",
                     ["module"], buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120))

Runner = Callable[[Module, str, float], Awaitable[RunReport]]


class Refused(Exception):
    """A request answered with 400 and this one line."""


async def run_module(module: Module, target: str, budget_s: float) -> RunReport:
    """The module's probes against `target`, stopped at `budget_s`."""
    from .. import runner
    from ..probes import REGISTRY

    config = module.config(target)
    probes = [REGISTRY[p] for p in module.probes]
    stop = asyncio.Event()
    timer = asyncio.get_running_loop().call_later(max(0.1, budget_s), stop.set)
    try:
        return await runner.run(config, probes, stop=stop,
                                settings={**config.settings(), "probes": list(module.probes),
                                          "module": module.name})
    finally:
        timer.cancel()


def metrics_text(report: RunReport, openmetrics: bool) -> bytes:
    from ..report import json as json_report
    from ..report import metrics

    body = metrics.render(json_report.to_dict(report),
                          flavour="openmetrics" if openmetrics else "prometheus").decode()
    success = 1 if report.status in (Status.PASS, Status.SKIP) else 0
    extra = ("# HELP trtcdetect_probe_success 1 when the run's status is pass, else 0\n"
             "# TYPE trtcdetect_probe_success gauge\n"
             f'trtcdetect_probe_success{{target="{_label(report.target.host)}"}} {success}\n')
    if openmetrics and body.endswith("# EOF\n"):
        return (body[: -len("# EOF\n")] + extra + "# EOF\n").encode()
    return (body + extra).encode()


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


#: the index page's table of last results: its size and age bounds, and how often it is pruned
LAST_KEEP = 256
LAST_MAX_AGE_S = 3600.0
LAST_PRUNE_S = 60.0


class Exporter:
    def __init__(self, modules: dict[str, Module], limit: int = 4, run: Runner = run_module,
                 json_logs: bool = False) -> None:
        self.modules = modules
        self.limit = limit
        self.run = run
        self.json_logs = json_logs
        self.running: dict[tuple[str, str], asyncio.Task[RunReport]] = {}
        #: the index page's last result per (module, target), oldest first: at most LAST_KEEP
        #: entries, none older than LAST_MAX_AGE_S (a pattern module allows many names)
        self.last: dict[tuple[str, str], JsonObject] = {}

    def parse(self, request: web.Request) -> tuple[Module, str]:
        query = request.rel_url.query
        for key, value in query.items():
            if len(key) > MAX_PARAM or len(value) > MAX_PARAM:
                raise Refused(f"parameter {key[:40]!r} is too long (at most {MAX_PARAM})")
        name = query.get("module", "default")
        module = self.modules.get(name)
        if module is None:
            raise Refused(f"unknown module {name[:60]!r} (known: {', '.join(self.modules)})")
        if "target" not in query or not query["target"].strip():
            raise Refused("target is missing: /probe?module=NAME&target=HOST")
        try:
            target = parse_host(query["target"])
        except ConfigError as exc:
            raise Refused(str(exc)) from None
        if not module.allows(target):
            raise Refused(f"target {target} is not allowed by module {name}")
        return module, target

    def budget(self, request: web.Request, module: Module) -> float:
        header = request.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
        try:
            scrape = float(header) - SCRAPE_MARGIN_S if header else module.max_seconds
        except ValueError:
            scrape = module.max_seconds
        return max(0.5, min(scrape, module.max_seconds))

    async def probe(self, request: web.Request) -> web.Response:
        try:
            module, target = self.parse(request)
        except Refused as exc:
            SCRAPES.labels("?", "refused").inc()
            return web.Response(status=400, text=f"{exc}\n", content_type="text/plain")
        key = (module.name, target)
        task = self.running.get(key)
        if task is None:
            if len(self.running) >= self.limit:
                SCRAPES.labels(module.name, "busy").inc()
                return web.Response(status=503, text=f"busy: {self.limit} probes running\n",
                                    content_type="text/plain")
            task = asyncio.ensure_future(self._one(module, target, self.budget(request, module)))
            self.running[key] = task
            task.add_done_callback(lambda _: self.running.pop(key, None))
        report = await asyncio.shield(task)
        accept = request.headers.get("Accept", "")
        openmetrics = "application/openmetrics-text" in accept
        SCRAPES.labels(module.name, str(report.status)).inc()
        return web.Response(body=metrics_text(report, openmetrics),
                            headers={"Content-Type": OPENMETRICS if openmetrics else TEXT})

    async def _one(self, module: Module, target: str, budget: float) -> RunReport:
        started = time.monotonic()
        report = await self.run(module, target, budget)
        took = time.monotonic() - started
        DURATION.labels(module.name).observe(took)
        entry = {"module": module.name, "target": target, "status": str(report.status),
                 "duration_s": round(took, 3), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                   time.gmtime())}
        self.last.pop((module.name, target), None)  # re-inserted: the newest is last
        self.last[(module.name, target)] = {**entry, "monotonic": time.monotonic()}
        self.prune()
        if self.json_logs:
            log.info(json.dumps(entry))
        else:
            log.info("module=%s target=%s status=%s duration=%.3fs", module.name, target,
                     entry["status"], took)
        return report

    def prune(self, now: float | None = None) -> None:
        """Forget the oldest results beyond LAST_KEEP and those older than LAST_MAX_AGE_S."""
        now = time.monotonic() if now is None else now
        while self.last and (len(self.last) > LAST_KEEP or now - next(
                iter(self.last.values()))["monotonic"] > LAST_MAX_AGE_S):
            del self.last[next(iter(self.last))]

    async def _pruning(self, _: web.Application) -> Any:
        """The table is pruned on a timer too: entries age out with no probe to trigger it."""
        async def every() -> None:
            while True:
                await asyncio.sleep(LAST_PRUNE_S)
                self.prune()

        task = asyncio.create_task(every())
        yield
        task.cancel()

    async def own_metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=text_format(REGISTRY), headers={"Content-Type": TEXT})

    async def index(self, _: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{html.escape(m.name)}</td><td>{html.escape(m.profile)}</td>"
            f"<td>{html.escape(', '.join(m.probes))}</td>"
            f"<td>{html.escape(', '.join(m.targets) or '')}"
            f"{html.escape(' ~ ' + m.target_pattern.pattern) if m.target_pattern else ''}</td></tr>"
            for m in self.modules.values())
        last = "".join(
            f"<tr><td>{html.escape(e['module'])}</td><td>{html.escape(e['target'])}</td>"
            f"<td>{html.escape(e['status'])}</td><td>{e['duration_s']}</td>"
            f"<td>{html.escape(e['at'])}</td></tr>" for e in self.last.values())
        page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>trtcdetect exporter"
                "</title></head><body><h1>trtcdetect exporter</h1><p><a href='/metrics'>"
                "/metrics</a> · /probe?module=NAME&amp;target=HOST</p><h2>Modules</h2><table>"
                "<tr><th>module</th><th>profile</th><th>probes</th><th>targets</th></tr>"
                f"{rows}</table><h2>Last results</h2><table><tr><th>module</th><th>target</th>"
                f"<th>status</th><th>seconds</th><th>at</th></tr>{last}</table></body></html>")
        return web.Response(text=page, content_type="text/html")

    def app(self) -> web.Application:
        application = web.Application()
        application.cleanup_ctx.append(self._pruning)
        application.router.add_get("/probe", self.probe)
        application.router.add_get("/metrics", self.own_metrics)
        application.router.add_get("/", self.index)
        return application


__all__ = ["Exporter", "Refused", "metrics_text", "run_module"]
