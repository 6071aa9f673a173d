"""`trtcdetect exporter`: the multi-target exporter for Prometheus (see exporter/app.py)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from ..errors import Parser, UsageError
from ..parse import parse_hostport

EXAMPLE = """\
example scrape job (prometheus.yml), the standard relabelling for multi-target exporters:
  - job_name: trtcdetect
    metrics_path: /probe
    params: {module: [default]}
    scrape_interval: 1m
    scrape_timeout: 30s
    static_configs: [{targets: [qcloud.rtc.qq.com]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: 127.0.0.1:9469}
"""


class OneLine(logging.Formatter):
    """Log lines stay lines: aiohttp logs a malformed request with its traceback; the exporter
    says what happened in one line (the request got its 400 already)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {record.exc_info[1]!r}"[:500]
            record.args, record.exc_info, record.exc_text = None, None, None
        return super().format(record).replace("\n", " ")


def build_parser() -> Parser:
    parser = Parser(
        prog="trtcdetect exporter",
        description=(
            "Serve GET /probe?module=NAME&target=HOST for Prometheus (as blackbox_exporter "
            "does): each scrape runs the module's probes against the target and answers their "
            "metrics. Modules and the targets they allow come from --config (TOML; see "
            "contrib/prometheus/exporter.toml); without it, module 'default' runs the network "
            "probes against the legacy profile's own host. GET /metrics: the exporter's own "
            "metrics; GET /: modules and last results."),
        epilog=EXAMPLE)
    add = parser.add_argument
    add("--listen", metavar="HOST:PORT", default="127.0.0.1:9469",
        help="address to serve on (default: %(default)s; 9469 is trtcdetect's in "
             "Prometheus' default port allocations list style)")
    add("--config", metavar="FILE", help="modules and allowed targets (TOML)")
    add("--limit", metavar="N", type=int, default=4,
        help="runs at once; one more distinct scrape gets 503 (default: %(default)s)")
    add("--log-format", choices=("text", "json"), default="text",
        help="one line per run on stderr, as text or JSON (default: %(default)s)")
    return parser


def cmd_exporter(argv: Sequence[str]) -> int:
    from aiohttp import web

    from ..exporter.app import Exporter
    from ..exporter.modules import load_modules

    args = build_parser().parse_args(argv)
    host, port = parse_hostport(args.listen, "--listen")
    if not 1 <= args.limit <= 64:
        raise UsageError("--limit must be between 1 and 64")
    modules = load_modules(args.config)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    exporter = Exporter(modules, limit=args.limit, json_logs=args.log_format == "json")
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    ready = f"trtcdetect exporter ready on http://{where}/ (modules: {', '.join(modules)})\n"

    def say_ready(_: str) -> None:  # aiohttp calls it once the socket is bound
        sys.stdout.write(ready)
        sys.stdout.flush()

    try:
        web.run_app(exporter.app(), host=host, port=port, shutdown_timeout=5, print=say_ready,
                    access_log=None)
    except OSError as exc:
        raise UsageError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return 0
