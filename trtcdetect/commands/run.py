"""`trtcdetect [options]`: run the probes, print progress, write the reports, exit by status.

The options themselves, and how they become a Config, are in `options`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import text
from ..config import Config
from ..errors import UsageError
from ..parse import check_output_dir
from ..report.files import checks_target, report_stem, write_atomic
from .options import build_parser, config_from, families, probe_ids

#: A run this long prepares the HTML report (imports, template) in a thread while probes still
#: wait on the network; shorter runs prepare it when they end.
REPORT_PREPARE_AFTER_S = 1.0
#: --call: each round's test call sends media this long unless --call-seconds says otherwise
#: (RTT needs about 2 s: RTCP reports come every 0.5-1.5 s)
CALL_PER_ROUND_S = 2.0

if TYPE_CHECKING:
    from ..models import RunReport
    from ..probes import Probe

def parse_run(argv: Sequence[str]) -> tuple[argparse.Namespace, Config, list[Probe]]:
    """Everything a run checks before it starts; raises UsageError or ConfigError, nothing else
    (the property tests hold it to that)."""
    parser = build_parser()
    args = parser.parse_args(families(argv, parser))  # --help and --version end here, cheaply
    from ..probes import REGISTRY, with_trait

    config = config_from(args)
    only, skip = probe_ids(args.only), probe_ids(args.skip)
    repeating = bool(args.repeat or args.for_s)
    if args.call and not repeating:
        raise UsageError("--call is for --repeat/--for: a single run makes its test call anyway")
    probes = [p for pid, p in REGISTRY.items()
              if ((not only or pid in only) and pid not in skip
                  # a round after round load test would be every round's delay: asked for only
                  and not ("load" in p.traits and repeating and pid not in only))
              or ("call" in p.traits and args.call)]
    if not probes:
        raise UsageError("--only/--skip leave no probe to run")
    if args.call and args.call_seconds is None:
        config = config.but(call_seconds=CALL_PER_ROUND_S)
    if set(with_trait("sdk")) & set(only):
        config = config.but(trtc_asked=True)
    return args, config, probes


def cmd_run(argv: Sequence[str], notes: Mapping[str, Any] | None = None) -> int:
    """A run; `notes` go into the JSON's `config` as they are (the demo says there which ports
    it moved for a normal user)."""
    args, config, probes = parse_run(argv)

    from .. import runner
    from ..report import json as json_report
    from ..ui import Progress, print_summary

    out = config.output
    lang = out.lang or text.default_lang()
    if out.json and out.format not in (None, "json"):
        raise UsageError(f"--json and --format {out.format} ask for two different outputs on "
                         "stdout: give one")
    stdout_format = out.stdout
    openmetrics_file = _metrics_path(out.openmetrics, "--openmetrics") \
        if out.openmetrics else None
    textfile = _metrics_path(out.textfile, "--textfile") if out.textfile else None
    output = None
    if out.output is not None or stdout_format is None:
        output = check_output_dir(out.output or "reports")
    settings = {**config.settings(), "probes": [p.id for p in probes], **(notes or {})}
    progress = Progress(enabled=not out.quiet and not (args.repeat or args.for_s),
                        total=len(probes))
    ahead = threading.Thread(target=_prepare_report, name="trtcdetect-prepare-report", daemon=True)

    async def go() -> RunReport:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        prepare = loop.call_later(REPORT_PREPARE_AFTER_S, ahead.start) \
            if output is not None else None
        try:
            if args.repeat or args.for_s:
                from .rounds import rounds

                return await rounds(args, config, probes, stop, settings)
            return await runner.run(config, probes, stop=stop, progress=progress.update,
                                    settings=settings)
        finally:
            if prepare is not None:
                prepare.cancel()
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)

    with progress:
        report = asyncio.run(go())
    if ahead.ident is not None:
        ahead.join()
    paths: list[Path] = []
    document = json_report.dumps(report)
    openmetrics = ""
    if stdout_format == "openmetrics" or openmetrics_file:
        from ..report import metrics

        openmetrics = metrics.render(json_report.to_dict(report)).decode()
    # First: monitoring gets its output even if a later step fails.
    if stdout_format is not None:
        if stdout_format == "nagios":
            from ..report import nagios

            sys.stdout.write(nagios.render(report))
        else:
            sys.stdout.write(document if stdout_format == "json" else openmetrics)
        sys.stdout.flush()
    try:
        if openmetrics_file is not None:
            write_atomic(openmetrics_file, openmetrics)
            paths.append(openmetrics_file)
        if textfile is not None:
            from ..report import metrics

            write_atomic(textfile, metrics.render(json_report.to_dict(report),
                                                  flavour="prometheus").decode())
            paths.append(textfile)
        if output is not None:
            about = config.network.target if checks_target([p.id for p in report.probes]) else None
            stem = report_stem(about, report.started_at)
            write_atomic(output / f"{stem}.json", document)
            from ..report import html

            write_atomic(output / f"{stem}.html", html.render(report, lang))
            paths[:0] = [output / f"{stem}.html", output / f"{stem}.json"]
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc.strerror or exc} "
                         f"({exc.filename or output})") from None
    if stdout_format is not None:
        if not out.quiet:
            print_summary(report, paths, stderr=True, lang=lang)
    else:
        print_summary(report, paths, stderr=False, lang=lang)
    code: int = report.exit_code
    return code


def _prepare_report() -> None:
    """Import and compile the HTML report's template ahead of time (see cmd_run); a failure
    here is left for the real render to report."""
    try:
        from ..report import html

        html.prepare()
    except Exception:  # noqa: BLE001 - rendering later raises it where it is handled
        pass


def _metrics_path(text: str, option: str) -> Path:
    path = Path(text)
    check_output_dir(str(path.parent))
    if path.is_dir():
        raise UsageError(f"{option} wants a file, not a folder: {text}")
    return path


