"""The options of a run (`trtcdetect [options]`) and how they become a Config.

Defaults shown in --help are the default profile's (`defaults.Defaults`); an option not given
stays None here, so `profiles.apply` can tell "not given" from "given as the default".
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence

from .. import __version__, text
from ..config import Config
from ..errors import Parser, UsageError
from ..profiles import BUILTIN, DEFAULT_PROFILE, Overrides, apply, load
from .option_values import (
    add_trtc_options,
    capacity_max,
    duration,
    interval,
    parse_interface,
    parse_source,
    rounds,
    trtc_credentials,
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
  trtcdetect --only trtc --credentials creds.json   a test call through TRTC's cloud
  trtcdetect --only ports,domain --format nagios    one Nagios/Icinga plugin line
  trtcdetect exporter --config exporter.toml   serve /probe?module=&target= for Prometheus
"""



def _ports(ports: tuple[int, ...]) -> str:
    return ",".join(map(str, ports)) or "none"


def build_parser() -> argparse.ArgumentParser:
    P = BUILTIN[DEFAULT_PROFILE]  # noqa: N806 - the defaults --help shows are the profile's
    D = P.defaults  # noqa: N806
    parser = Parser(
        prog="trtcdetect",
        description=(
            "Pre-call diagnostics for Tencent TRTC / TRTCCalling. Checks the firewall ports "
            "(TCP 8687; UDP 8000, 8080, 8800, 843, 443, 16285), the media domain "
            "(DNS, TCP, TLS, HTTPS), the camera and the microphone, and writes an HTML and a "
            "JSON report. A UDP port that "
            "does not answer is reported as 'no answer (open or filtered)', never as open. "
            "Other commands: 'trtcdetect probes' lists the probes, 'trtcdetect serve' runs "
            "the reference endpoint, 'trtcdetect demo' runs a full offline diagnosis, "
            "'trtcdetect render REPORT.json --lang zh' renders a saved report again, "
            "'trtcdetect credentials' makes short-lived test-room credentials for support, "
            "'trtcdetect exporter' serves the probes to Prometheus."
        ),
        epilog=EXIT_CODES + "\n" + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--profile", metavar="NAME|FILE", default=DEFAULT_PROFILE,
        help="what to check: 'legacy' (TRTCCalling / Web SDK before 4.12.0: TCP 8687; UDP "
             "8000,8080,8800,843,443,16285; qcloud.rtc.qq.com), 'current' (SDK 4.12.0 and "
             "later: TCP 443 on several domains), or a .toml file; see 'trtcdetect probes "
             "--profile NAME' (default: %(default)s)")
    add("--target", metavar="HOST", default=None,
        help=f"host to check (default: the profile's first host, {P.hosts[0]})")
    add("--tcp-ports", metavar="LIST", default=None,
        help=f"comma-separated TCP ports (default: the profile's, {_ports(P.tcp_ports)})")
    add("--udp-ports", metavar="LIST", default=None,
        help=f"comma-separated UDP ports (default: the profile's, {_ports(P.udp_ports)})")
    add("--port-quality", action="store_true",
        help="after the verdicts, send a train of STUN requests to every UDP port that did not "
             "refuse (about 2 s at 100 per second, all ports at once): RTT, jitter and loss "
             "per port")
    add("--quality-count", metavar="N", default=None,
        help=f"requests per port in a quality train (default: {D.quality_count})")
    add("--quality-rate", metavar="PPS", default=None,
        help=f"requests per second per port (default: {D.quality_rate_pps:g})")
    add("--capacity-max", metavar="KBPS", type=capacity_max, default=None,
        help="probe 'capacity' (against a 'trtcdetect serve' target): the ramp's ceiling in "
             f"kbit/s, 500-20000 (default: {D.capacity_max_kbps:g}); the test sends up to "
             "this rate for 0.4 s, each way")
    add("--stun", metavar="HOST:PORT", action="append", default=[],
        help="STUN server for the nat probe (repeatable; default: the target's UDP ports)")
    add("--url", metavar="URL", action="append", default=[],
        help="a deployment page to check: browsers allow camera and microphone only over "
             "HTTPS or on http://localhost (repeatable)")
    add("--only", metavar="IDS", action="append", default=[],
        help="run only these probes (comma-separated; see 'trtcdetect probes')")
    add("--skip", metavar="IDS", action="append", default=[], help="do not run these probes")
    add("--timeout", metavar="SECONDS", default=None,
        help=f"ceiling for each network step (default: the profile's, else {D.timeout_s:g})")
    add("--https-port", metavar="PORT", default=None,
        help=f"port of the domain probe's TLS/HTTPS steps (default: {D.https_port})")
    add("--repeat", metavar="N", type=rounds, default=None,
        help="run the probes N times (2-1000), like mtr, for faults that come and go: one line "
             "per round, and the report shows every figure as a series and the worst window "
             "(e.g. 'UDP 8000 stopped working for 40 s at 10:42:10'); best with --only "
             "ports,domain,nat")
    add("--for", dest="for_s", metavar="DURATION", type=duration, default=None,
        help="repeat for this long (90s, 10m, 1h; at most 24 h and 1000 rounds) instead of, "
             "or as well as, a number of rounds: whichever ends first")
    add("--interval", metavar="S", type=interval, default=10.0,
        help="seconds from the start of one round to the next with --repeat/--for (default: "
             "%(default)g; 0: back to back)")
    add("--call", action="store_true",
        help="with --repeat/--for: a short test call (the 'rtp' probe, 2 s unless a call "
             "length is given) in every round, its RTT and MOS as series and 'CALL' among the "
             "checks of the worst window")
    add("--json", action="store_true",
        help="print the JSON document on stdout and nothing else there (same as --format "
             "json); progress goes to stderr; report files are written only when --output is "
             "given")
    add("--format", choices=("json", "openmetrics", "nagios"), default=None,
        help="print the JSON document, OpenMetrics text (Prometheus), or one Nagios/Icinga "
             "plugin line with performance data, on stdout")
    add("--openmetrics", metavar="FILE", default=None,
        help="also write OpenMetrics text to FILE, atomically (for a Pushgateway or a scraper "
             "that takes OpenMetrics)")
    add("--textfile", metavar="FILE", default=None,
        help="also write the metrics in Prometheus' text format to FILE, atomically: what "
             "node_exporter's textfile collector reads (*.prom in its directory; it rejects "
             "OpenMetrics)")
    add("--lang", choices=text.LANGS, default=None,
        help="language of the HTML report and the summary table (default: from the locale, "
             "zh for a Chinese locale, else en); the JSON is language-neutral")
    add("--output", metavar="DIR", default=None,
        help="folder for the reports (default: reports)")
    add("--ca-file", metavar="PEM", default=None,
        help="also trust the CA certificates in this PEM file (private deployments, labs)")
    family = parser.add_mutually_exclusive_group()
    # -4 and -6 are accepted too (parse_run turns them into these): declared as options they
    # would make argparse read every negative number ("--timeout -1") as an option
    family.add_argument("--ipv4", dest="family", action="store_const", const=4,
                        help="(or -4) only IPv4: every name the network probes check resolves "
                             "to its IPv4 addresses (a name without one is a finding)")
    family.add_argument("--ipv6", dest="family", action="store_const", const=6,
                        help="(or -6) only IPv6, likewise (\"it works on IPv4, not on IPv6\")")
    add("--source", metavar="ADDR", default=None,
        help="send the network probes' packets from this local address (a machine with Wi-Fi "
             "and a VPN: which one carries calls?); ports, domain, url, nat, capacity and the "
             "test call's ICE (not Chromium nor Tencent's SDKs: they choose their own)")
    add("--interface", metavar="NAME", default=None,
        help="send the network probes' packets out of this network device (e.g. wlan0, tun0), "
             "whatever the routing table prefers (Linux SO_BINDTODEVICE); the same probes")
    add("--proxy", metavar="URL", default=None,
        help="an HTTP proxy (http://[user:password@]HOST:PORT) through which the domain and "
             "url probes check their hosts too, as a browser behind it would (default: "
             "$HTTPS_PROXY unless $NO_PROXY exempts the host)")
    add("--resolve", metavar="HOST:ADDR", action="append", default=[],
        help="use ADDR for HOST instead of DNS, like curl (repeatable)")
    devices = parser.add_argument_group("devices")
    add = devices.add_argument
    add("--camera", metavar="CAM", default=None,
        help="camera to check: an index, a device path (/dev/video0), or a video file or "
             "stream URL OpenCV opens, e.g. an IP camera's rtsp:// URL (default: the first found)")
    add("--camera-seconds", metavar="S", default=None,
        help=f"how long to capture video (default: {D.camera_seconds:g})")
    add("--camera-size", metavar="WxH", default=None,
        help="resolution to request (default: {}x{})".format(*D.camera_size))
    add("--mic", metavar="MIC", default=None,
        help="microphone: a device index or part of its name (default: the system default)")
    add("--mic-seconds", metavar="S", default=None,
        help=f"how long to record (default: {D.mic_seconds:g})")
    add("--speaker", metavar="OUT", default=None,
        help="speaker: a device index or part of its name (default: the system default)")
    add("--speaker-loopback", metavar="MIC", default=None,
        help="input that can hear the speaker (a sink's monitor, or a microphone in the same "
             "room): an index or name part, 'auto' (the default input) or 'none' "
             f"(default: {D.speaker_loopback})")
    add("--no-sound", action="store_true",
        help="do not play the speaker's test sound (unattended runs)")
    add("--browser-webrtc", action="store_true",
        help="also run the found Chromium/Chrome headless with fake devices against the echo "
             "peer of --echo-url: the browser's own WebRTC stack")
    add("--browser-devices", choices=("fake", "real"), default="fake",
        help="Tencent's checks in the browser with the browser's fake camera and microphone "
             "(default) or the real ones: their names, resolutions and permission state")
    add("--require-devices", action="store_true",
        help="a missing camera, microphone or speaker fails the run (default: skipped, as on "
             "a server)")
    call = parser.add_argument_group("test call")
    add = call.add_argument
    add("--echo-url", metavar="URL", default=None,
        help="signalling URL of an echo peer ('trtcdetect serve --http-port 8089' answers at "
             "http://HOST:8089/call); default: a local loopback call in this process")
    add("--echo-token", metavar="TOKEN", default=None,
        help="the echo peer's shared token (default: $TRTCDETECT_TOKEN; prefer that: a "
             "command line is visible to other users of the machine)")
    add("--call-seconds", metavar="S", default=None,
        help="how long the test call sends media, from the moment it connects; RTT needs "
             f"about 2 s, as RTCP reports come every 0.5-1.5 s (default: {D.call_seconds:g})")
    add("--connect-deadline", metavar="S", default=None,
        help=f"ICE and DTLS must be up within this (default: {D.connect_deadline_s:g})")
    add("--audio-only", action="store_true", help="test call without video")
    add_trtc_options(parser, D)
    add = parser.add_argument
    add("-q", "--quiet", action="store_true", help="no progress output")
    add("--version", action="version", version=f"trtcdetect {__version__}")
    return parser


def families(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """-4 / -6 as --ipv4 / --ipv6, except where they are an option's value. The options that
    take a value are read from the usage line ("[--timeout SECONDS]"), argparse's public text."""
    takes_value = set(re.findall(r"\[(-{1,2}[\w-]+) [^\]|]", parser.format_usage()))
    out: list[str] = []
    for index, token in enumerate(argv):
        if token in ("-4", "-6") and (index == 0 or argv[index - 1] not in takes_value):
            token = "--ipv4" if token == "-4" else "--ipv6"
        out.append(token)
    return out


def probe_ids(values: list[str]) -> list[str]:
    from ..probes import REGISTRY

    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if values and not ids:
        raise UsageError(f"--only/--skip want probe ids (known: {', '.join(REGISTRY)})")
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise UsageError(
            f"unknown probe id {unknown[0]!r} (known: {', '.join(REGISTRY)})")
    return ids


def config_from(args: argparse.Namespace) -> Config:
    from dataclasses import replace

    config = apply(load(args.profile), Overrides(
        target=args.target, tcp_ports=args.tcp_ports, udp_ports=args.udp_ports,
        timeout=args.timeout, port_quality=args.port_quality, quality_count=args.quality_count,
        quality_rate=args.quality_rate, stun=tuple(args.stun), urls=tuple(args.url),
        ca_file=args.ca_file, resolve=tuple(args.resolve), https_port=args.https_port,
        camera=args.camera, camera_seconds=args.camera_seconds, camera_size=args.camera_size,
        mic=args.mic, mic_seconds=args.mic_seconds, require_devices=args.require_devices,
        speaker=args.speaker, speaker_loopback=args.speaker_loopback, no_sound=args.no_sound,
        browser_webrtc=args.browser_webrtc, browser_devices=args.browser_devices,
        echo_url=args.echo_url,
        echo_token=args.echo_token or os.environ.get("TRTCDETECT_TOKEN"),
        call_seconds=args.call_seconds,
        connect_deadline=args.connect_deadline, audio_only=args.audio_only,
        trtc_deadline=args.trtc_deadline, trtc_seconds=args.trtc_seconds,
        trtc_logs=args.trtc_logs, socks5=args.socks5, trtc_proxy=args.trtc_proxy))
    if args.family is not None:
        config = replace(config, family=args.family)
    if args.source is not None:
        config = replace(config, source=parse_source(args.source))
    if args.interface is not None:
        config = replace(config, interface=parse_interface(args.interface))
    if args.capacity_max is not None:
        config = replace(config, capacity_max_kbps=args.capacity_max)
    if args.proxy is not None:
        from ..parse import parse_proxy

        parse_proxy(args.proxy)  # one line of error for a bad URL, now
        config = replace(config, proxy=args.proxy)
    return trtc_credentials(args, config)
