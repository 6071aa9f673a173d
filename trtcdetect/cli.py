"""Command line: `trtcdetect [options]`, `trtcdetect probes`, `trtcdetect serve`, `trtcdetect demo`.

One error handler maps every failure to an exit code: bad input and internal errors print one
line on stderr and return 3; a finished run returns its worst status as a monitoring code.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__, i18n, thresholds
from .config import (
    Config,
    ConfigError,
    check_ca_file,
    check_output_dir,
    parse_count,
    parse_host,
    parse_hostport,
    parse_port,
    parse_ports,
    parse_resolve,
    parse_seconds,
    parse_size,
    parse_timeout,
    parse_url,
)

EXIT_CODES = """\
exit codes (monitoring-plugin convention):
  0  every probe passed (skipped probes do not count)
  1  the worst probe result is a warning
  2  the worst probe result is a failure
  3  unknown: bad usage, an internal error, or a probe that could not finish (error);
     a failure elsewhere in the same run still gives 2
"""

EXAMPLES = """\
examples:
  trtcdetect                                   check qcloud.rtc.qq.com, write reports/*.html|json
  trtcdetect --json > result.json              JSON on stdout (for monitoring), no files
  trtcdetect --only ports --udp-ports 8000     one probe, one port
  trtcdetect --target media.example.com --ca-file corp-ca.pem
  trtcdetect serve --bind 0.0.0.0              run the reference endpoint on your own host
  trtcdetect demo                              serve on loopback + full diagnosis against it
"""


if TYPE_CHECKING:
    from .probes import Probe


class UsageError(Exception):
    """Bad input: printed as one line, exit 3."""


def one_line(text: str) -> str:
    """Control characters from the command line shown escaped: an error stays one line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(one_line(message))


def _build_run_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trtcdetect",
        description=(
            "Pre-call diagnostics for Tencent TRTC / TRTCCalling. Checks the firewall ports "
            "(TCP 8687; UDP 8000, 8080, 8800, 843, 443, 16285), the media domain "
            "(DNS, TCP, TLS, HTTPS), the camera and the microphone, and writes an HTML and a "
            "JSON report. A UDP port that "
            "does not answer is reported as 'no answer (open or filtered)', never as open. "
            "Other commands: 'trtcdetect probes' lists the probes, 'trtcdetect serve' runs "
            "the reference endpoint, 'trtcdetect demo' runs a full offline diagnosis, "
            "'trtcdetect render REPORT.json --lang zh' renders a saved report again."
        ),
        epilog=EXIT_CODES + "\n" + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--profile", metavar="NAME|FILE", default="legacy",
        help="what to check: 'legacy' (TRTCCalling / Web SDK before 4.12.0: TCP 8687; UDP "
             "8000,8080,8800,843,443,16285; qcloud.rtc.qq.com), 'current' (SDK 4.12.0 and "
             "later: TCP 443 on several domains), or a .toml file; see 'trtcdetect probes "
             "--profile NAME' (default: %(default)s)")
    add("--target", metavar="HOST", default=None,
        help="host to check (default: the profile's first host, qcloud.rtc.qq.com)")
    add("--tcp-ports", metavar="LIST", default=None,
        help="comma-separated TCP ports (default: the profile's, 8687)")
    add("--udp-ports", metavar="LIST", default=None,
        help="comma-separated UDP ports (default: the profile's, 8000,8080,8800,843,443,16285)")
    add("--port-quality", action="store_true",
        help="after the verdicts, send a train of STUN requests to every UDP port that did not "
             "refuse (about 2 s at 100 per second, all ports at once): RTT, jitter and loss "
             "per port")
    add("--quality-count", metavar="N", default=str(thresholds.QUALITY_TRAIN_COUNT),
        help="requests per port in a quality train (default: %(default)s)")
    add("--quality-rate", metavar="PPS", default=str(thresholds.QUALITY_TRAIN_RATE_PPS),
        help="requests per second per port (default: %(default)s)")
    add("--stun", metavar="HOST:PORT", action="append", default=[],
        help="STUN server for the nat probe (repeatable; default: the target's UDP ports)")
    add("--url", metavar="URL", action="append", default=[],
        help="a deployment page to check: browsers allow camera and microphone only over "
             "HTTPS or on http://localhost (repeatable)")
    add("--only", metavar="IDS", action="append", default=[],
        help="run only these probes (comma-separated; see 'trtcdetect probes')")
    add("--skip", metavar="IDS", action="append", default=[], help="do not run these probes")
    add("--timeout", metavar="SECONDS", default=None,
        help=f"ceiling for each network step (default: {thresholds.DEFAULT_STEP_TIMEOUT_S:g})")
    add("--https-port", metavar="PORT", default=str(thresholds.DOMAIN_HTTPS_PORT),
        help="port of the domain probe's TLS/HTTPS steps (default: %(default)s)")
    add("--json", action="store_true",
        help="print the JSON document on stdout and nothing else there (same as --format "
             "json); progress goes to stderr; report files are written only when --output is "
             "given")
    add("--format", choices=("json", "openmetrics"), default=None,
        help="print the JSON document, or OpenMetrics text (Prometheus), on stdout")
    add("--openmetrics", metavar="FILE", default=None,
        help="also write OpenMetrics text to FILE, atomically (node_exporter's textfile "
             "collector reads *.prom files)")
    add("--lang", choices=i18n.LANGS, default=None,
        help="language of the HTML report and the summary table (default: from the locale, "
             "zh for a Chinese locale, else en); the JSON is language-neutral")
    add("--output", metavar="DIR", default=None,
        help="folder for the reports (default: reports)")
    add("--ca-file", metavar="PEM", default=None,
        help="also trust the CA certificates in this PEM file (private deployments, labs)")
    add("--resolve", metavar="HOST:ADDR", action="append", default=[],
        help="use ADDR for HOST instead of DNS, like curl (repeatable)")
    devices = parser.add_argument_group("devices")
    add = devices.add_argument
    add("--camera", metavar="CAM", default=None,
        help="camera to check: an index, a device path (/dev/video0), or a video file or "
             "stream URL OpenCV opens, e.g. an IP camera's rtsp:// URL (default: the first found)")
    add("--camera-seconds", metavar="S", default=str(thresholds.DEFAULT_CAMERA_SECONDS),
        help="how long to capture video (default: %(default)s)")
    add("--camera-size", metavar="WxH", default="{}x{}".format(*thresholds.DEFAULT_CAMERA_SIZE),
        help="resolution to request (default: %(default)s)")
    add("--mic", metavar="MIC", default=None,
        help="microphone: a device index or part of its name (default: the system default)")
    add("--mic-seconds", metavar="S", default=str(thresholds.DEFAULT_MIC_SECONDS),
        help="how long to record (default: %(default)s)")
    add("--speaker", metavar="OUT", default=None,
        help="speaker: a device index or part of its name (default: the system default)")
    add("--speaker-loopback", metavar="MIC", default="auto",
        help="input that can hear the speaker (a sink's monitor, or a microphone in the same "
             "room): an index or name part, 'auto' (the default input) or 'none'")
    add("--no-sound", action="store_true",
        help="do not play the speaker's test sound (unattended runs)")
    add("--browser-webrtc", action="store_true",
        help="also run the found Chromium/Chrome headless with fake devices against the echo "
             "peer of --echo-url: the browser's own WebRTC stack")
    add("--require-devices", action="store_true",
        help="a missing camera, microphone or speaker fails the run (default: skipped, as on "
             "a server)")
    call = parser.add_argument_group("test call")
    add = call.add_argument
    add("--echo-url", metavar="URL", default=None,
        help="signalling URL of an echo peer ('trtcdetect serve --http-port 8089' answers at "
             "http://HOST:8089/call); default: a local loopback call in this process")
    add("--echo-token", metavar="TOKEN", default=os.environ.get("TRTCDETECT_TOKEN"),
        help="the echo peer's shared token (default: $TRTCDETECT_TOKEN)")
    add("--call-seconds", metavar="S", default=str(thresholds.DEFAULT_CALL_SECONDS),
        help="how long the test call sends media, from the moment it connects; RTT needs "
             "about 2 s, as RTCP reports come every 0.5-1.5 s (default: %(default)s)")
    add("--connect-deadline", metavar="S", default=str(thresholds.DEFAULT_CONNECT_DEADLINE_S),
        help="ICE and DTLS must be up within this (default: %(default)s)")
    add("--audio-only", action="store_true", help="test call without video")
    add = parser.add_argument
    add("-q", "--quiet", action="store_true", help="no progress output")
    add("--version", action="version", version=f"trtcdetect {__version__}")
    return parser


def _join(ports: Sequence[int]) -> str:
    return ",".join(str(p) for p in ports)


def _ids(values: list[str]) -> list[str]:
    from .probes import REGISTRY

    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if values and not ids:
        raise UsageError(f"--only/--skip want probe ids (known: {', '.join(REGISTRY)})")
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise UsageError(
            f"unknown probe id {unknown[0]!r} (known: {', '.join(REGISTRY)})")
    return ids


def _config(args: argparse.Namespace) -> Config:
    from .profiles import load

    profile = load(args.profile)
    target = parse_host(args.target) if args.target is not None else profile.hosts[0]
    hosts = profile.hosts if args.target is None else (target,)
    timeout = args.timeout if args.timeout is not None else str(
        profile.timeout_s or thresholds.DEFAULT_STEP_TIMEOUT_S)
    return Config(
        target=target,
        hosts=hosts,
        profile=profile.name,
        tcp_ports=parse_ports(args.tcp_ports) if args.tcp_ports is not None else profile.tcp_ports,
        udp_ports=parse_ports(args.udp_ports) if args.udp_ports is not None else profile.udp_ports,
        timeout_s=parse_timeout(timeout),
        port_quality=args.port_quality,
        quality_count=parse_count(args.quality_count, "--quality-count", 1, 5000),
        quality_rate_pps=parse_count(args.quality_rate, "--quality-rate", 1, 1000),
        stun=tuple(parse_hostport(s, "--stun") for s in args.stun),
        urls=tuple(parse_url(u, "--url") for u in args.url),
        wildcards=profile.wildcards if args.target is None else (),
        ca_file=check_ca_file(args.ca_file) if args.ca_file is not None else None,
        resolve=parse_resolve(args.resolve),
        https_port=parse_port(args.https_port),
        camera=args.camera,
        camera_seconds=parse_seconds(args.camera_seconds, "--camera-seconds"),
        camera_size=parse_size(args.camera_size),
        mic=args.mic,
        mic_seconds=parse_seconds(args.mic_seconds, "--mic-seconds"),
        require_devices=args.require_devices,
        speaker=args.speaker,
        speaker_loopback=args.speaker_loopback,
        no_sound=args.no_sound,
        browser_webrtc=args.browser_webrtc,
        echo_url=parse_url(args.echo_url) if args.echo_url is not None else None,
        echo_token=args.echo_token or None,
        call_seconds=parse_seconds(args.call_seconds, "--call-seconds"),
        connect_deadline_s=parse_seconds(args.connect_deadline, "--connect-deadline"),
        audio_only=args.audio_only,
    )


def report_stem(host: str, started_at: str) -> str:
    safe_host = re.sub(r"[^A-Za-z0-9.-]+", "-", host).strip("-") or "host"
    stamp = started_at.replace("-", "").replace(":", "")
    return f"trtcdetect-{safe_host}-{stamp}"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def parse_run(argv: Sequence[str]) -> tuple[argparse.Namespace, Config, list[Probe]]:
    """Everything a run checks before it starts; raises UsageError or ConfigError, nothing else
    (the property tests hold it to that)."""
    args = _build_run_parser().parse_args(argv)  # --help and --version end here, cheaply
    from .probes import REGISTRY

    config = _config(args)
    only, skip = _ids(args.only), _ids(args.skip)
    probes = [p for pid, p in REGISTRY.items() if (not only or pid in only) and pid not in skip]
    if not probes:
        raise UsageError("--only/--skip leave no probe to run")
    return args, config, probes


def cmd_run(argv: Sequence[str]) -> int:
    args, config, probes = parse_run(argv)

    from . import runner
    from .models import RunReport
    from .report import json as json_report
    from .ui import Progress, print_summary

    lang = args.lang or i18n.default_lang()
    stdout_format = args.format or ("json" if args.json else None)
    openmetrics_file = _metrics_path(args.openmetrics) if args.openmetrics else None
    output = None
    if args.output is not None or stdout_format is None:
        output = check_output_dir(args.output or "reports")
    settings = {**config.settings(), "probes": [p.id for p in probes]}
    progress = Progress(enabled=not args.quiet, total=len(probes))
    ahead = threading.Thread(target=_prepare_report, name="trtcdetect-prepare-report", daemon=True)

    async def go() -> RunReport:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        prepare = loop.call_later(thresholds.REPORT_PREPARE_AFTER_S, ahead.start) \
            if output is not None else None
        try:
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
        from .report import metrics

        openmetrics = metrics.render(json_report.to_dict(report)).decode()
    # First: monitoring gets its output even if a later step fails.
    if stdout_format is not None:
        sys.stdout.write(document if stdout_format == "json" else openmetrics)
        sys.stdout.flush()
    try:
        if openmetrics_file is not None:
            write_atomic(openmetrics_file, openmetrics)
            paths.append(openmetrics_file)
        if output is not None:
            stem = report_stem(config.target, report.started_at)
            write_atomic(output / f"{stem}.json", document)
            from .report import html

            write_atomic(output / f"{stem}.html", html.render(report, lang))
            paths[:0] = [output / f"{stem}.html", output / f"{stem}.json"]
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc.strerror or exc} "
                         f"({exc.filename or output})") from None
    if stdout_format is not None:
        if not args.quiet:
            print_summary(report, paths, stderr=True, lang=lang)
    else:
        print_summary(report, paths, stderr=False, lang=lang)
    code: int = report.exit_code
    return code


def _prepare_report() -> None:
    """Import and compile the HTML report's template ahead of time (see cmd_run); a failure
    here is left for the real render to report."""
    try:
        from .report import html

        html.prepare()
    except Exception:  # noqa: BLE001 - rendering later raises it where it is handled
        pass


def _metrics_path(text: str) -> Path:
    path = Path(text)
    check_output_dir(str(path.parent))
    if path.is_dir():
        raise UsageError(f"--openmetrics wants a file, not a folder: {text}")
    return path


def cmd_render(argv: Sequence[str]) -> int:
    import json

    from .report import html
    from .report.json import validate

    parser = _Parser(prog="trtcdetect render",
                     description="Render the HTML report again from a saved JSON report, e.g. "
                                 "in another language. Writes REPORT.html beside the JSON, or "
                                 "--output FILE ('-' for stdout).")
    parser.add_argument("report", metavar="REPORT.json")
    parser.add_argument("--lang", choices=i18n.LANGS, default=None,
                        help="en or zh (default: from the locale)")
    parser.add_argument("--output", metavar="FILE", default=None)
    args = parser.parse_args(argv)
    source = Path(args.report)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no such report: {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {source}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        validate(document)
    except Exception as exc:  # noqa: BLE001 - jsonschema.ValidationError and friends
        where = "/".join(str(p) for p in getattr(exc, "absolute_path", [])) or "top level"
        message = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        raise UsageError(f"{source} is not a trtcdetect report ({where}: {message})") from None
    text = html.render_document(document, args.lang or i18n.default_lang())
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.output) if args.output else source.with_suffix(".html")
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"report: {target}")  # noqa: T201
    return 0


def cmd_probes(argv: Sequence[str]) -> int:
    from .probes import REGISTRY
    from .profiles import describe, load

    parser = _Parser(prog="trtcdetect probes",
                     description="List the probe ids, one a line; with --profile, what the "
                                 "profile checks.")
    parser.add_argument("--profile", metavar="NAME|FILE", default=None)
    args = parser.parse_args(argv)
    width = max(len(pid) for pid in REGISTRY)
    for pid, probe in REGISTRY.items():
        print(f"{pid:<{width}}  {probe.description}")  # noqa: T201
    if args.profile is not None:
        print()  # noqa: T201
        for line in describe(load(args.profile)):
            print(line)  # noqa: T201
    return 0


def _build_serve_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trtcdetect serve",
        description=(
            "Run the reference endpoint: a STUN responder on every UDP port, a TCP listener "
            "on every TCP port and an HTTPS server, so trtcdetect can be pointed at a host you "
            "control. Stops on Ctrl-C or SIGTERM. Without --cert it makes a throw-away CA; "
            "pass the file written by --ca-out to clients as --ca-file."
        ),
    )
    add = parser.add_argument
    add("--bind", metavar="ADDR", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    add("--tcp-ports", metavar="LIST", default=_join(thresholds.DEFAULT_TCP_PORTS))
    add("--udp-ports", metavar="LIST", default=_join(thresholds.DEFAULT_UDP_PORTS))
    add("--https-port", metavar="PORT", default=str(thresholds.DOMAIN_HTTPS_PORT),
        help="HTTPS port, 0 for none (default: %(default)s)")
    add("--cert", metavar="PEM", help="certificate chain for HTTPS (default: a generated one)")
    add("--key", metavar="PEM", help="private key for --cert")
    add("--ca-out", metavar="PEM", help="write the generated CA certificate here")
    add("--name", metavar="HOST", action="append", default=[],
        help="host name for the generated certificate (repeatable; default: localhost)")
    add("--http-port", metavar="PORT", default="0",
        help="plain-HTTP port for the echo peer's signalling, 0 for none (default: %(default)s); "
             "the HTTPS port answers POST /call too")
    add("--token", metavar="TOKEN", default=os.environ.get("TRTCDETECT_TOKEN"),
        help="require this shared token from callers (default: $TRTCDETECT_TOKEN, or none)")
    add("--max-calls", metavar="N", type=int, default=4,
        help="echo calls at the same time (default: %(default)s)")
    add("--max-call-seconds", metavar="S", type=float, default=30.0,
        help="each echo call is closed after this long (default: %(default)s)")
    add("-q", "--quiet", action="store_true", help="do not log each request")
    return parser


def cmd_serve(argv: Sequence[str]) -> int:
    import logging

    from .server.app import ServeConfig, ServeError, run

    args = _build_serve_parser().parse_args(argv)
    https_port = 0 if args.https_port.strip() == "0" else parse_port(args.https_port)
    http_port = 0 if args.http_port.strip() == "0" else parse_port(args.http_port)
    if not 1 <= args.max_calls <= 64:
        raise UsageError("--max-calls must be between 1 and 64")
    if not 1 <= args.max_call_seconds <= 3600:
        raise UsageError("--max-call-seconds must be between 1 and 3600")
    config = ServeConfig(
        bind=parse_host(args.bind),
        tcp_ports=parse_ports(args.tcp_ports),
        udp_ports=parse_ports(args.udp_ports),
        https_port=https_port,
        cert=Path(args.cert) if args.cert else None,
        key=Path(args.key) if args.key else None,
        ca_out=Path(args.ca_out) if args.ca_out else None,
        names=tuple(parse_host(n) for n in args.name) or ("localhost",),
        http_port=http_port,
        token=args.token or None,
        max_calls=args.max_calls,
        max_call_seconds=args.max_call_seconds,
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        stream=sys.stderr)
    # One line per request from us; aiortc/aioice's own chatter stays at warnings.
    logging.getLogger("trtcdetect.serve").setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        run(config)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"probes": cmd_probes, "serve": cmd_serve, "demo": _demo, "render": cmd_render}
    try:
        if args and args[0] in commands:
            return commands[args[0]](args[1:])
        return cmd_run(args)
    except (UsageError, ConfigError) as exc:
        print(f"trtcdetect: error: {one_line(str(exc))}", file=sys.stderr)  # noqa: T201
        return 3
    except KeyboardInterrupt:
        print("trtcdetect: interrupted", file=sys.stderr)  # noqa: T201
        return 3
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit 3
        print(f"trtcdetect: internal error: {type(exc).__name__}: {one_line(str(exc))}",  # noqa: T201
              file=sys.stderr)
        return 3


def entry() -> None:
    """The console script: main(), then exit — at once when a device driver is stuck in a read
    (PortAudio would wait on it for ever at exit, after the reports are written)."""
    code = main()
    devices = sys.modules.get("trtcdetect.probes.devices")
    if devices is not None and devices.STUCK:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


def _demo(argv: Sequence[str]) -> int:
    from .demo import run_demo

    return run_demo(argv, cmd_run, _Parser)
