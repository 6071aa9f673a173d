"""The options of a run (`trtcdetect [options]`) and how they become a Config.

Defaults shown in --help are the default profile's (`defaults.Defaults`); an option not given
stays None here, so `profiles.apply` can tell "not given" from "given as the default".
"""

from __future__ import annotations

import argparse
import os

from .. import __version__, text
from ..config import Config
from ..errors import Parser, UsageError
from ..profiles import BUILTIN, DEFAULT_PROFILE, Overrides, apply, load

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
    family.add_argument("-4", dest="family", action="store_const", const=4,
                        help="only IPv4: every name the network probes check resolves to its "
                             "IPv4 addresses (a name without one is a finding)")
    family.add_argument("-6", dest="family", action="store_const", const=6,
                        help="only IPv6, likewise (\"it works on IPv4, not on IPv6\")")
    add("--source", metavar="ADDR", default=None,
        help="send the network probes' packets from this local address (a machine with Wi-Fi "
             "and a VPN: which one carries calls?); ports, domain, url and nat")
    add("--proxy", metavar="URL", default=None,
        help="an HTTP proxy (http://[user:password@]HOST:PORT) through which the domain probe "
             "checks the media domain too, as a browser behind it would (default: "
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
    trtc = parser.add_argument_group(
        "TRTC cloud (probes 'trtc' and 'trtcweb': Tencent's own SDKs)",
        "'trtc' runs Tencent's native SDK (pip install 'trtcdetect[trtc]'), 'trtcweb' its Web "
        "SDK in the Chrome/Chromium/Edge found here, headless. Without credentials each enters "
        "a room with a placeholder application: if TRTC's servers answer (even to say the "
        "credentials are wrong), the cloud is reachable from here. With credentials they make "
        "a two-user test call through the cloud. They run by default when the target is "
        "Tencent's (the built-in profiles); '--only trtc,trtcweb' runs them whatever the "
        "target.")
    add = trtc.add_argument
    add("--credentials", metavar="FILE",
        help="a credentials file from 'trtcdetect credentials' (support makes it; no "
             "SecretKey reaches this machine)")
    add("--sdk-app-id", metavar="N",
        help="the application's SDKAppID; its SecretKey from $TRTC_SECRET_KEY or "
             "--secret-key-file: trtcdetect makes 10-minute UserSigs itself")
    add("--secret-key-file", metavar="FILE", help="read the SecretKey from this file")
    add("--secret-key", metavar="KEY", help=argparse.SUPPRESS)
    add("--socks5", metavar="HOST:PORT",
        help="send the SDK's traffic through this SOCKS5 proxy (user and password from "
             "$TRTCDETECT_SOCKS5_USER and $TRTCDETECT_SOCKS5_PASSWORD)")
    add("--trtc-proxy", metavar="HOST",
        help="probe 'trtcweb': Tencent's enterprise proxy for the Web SDK (its "
             "proxy.unifiedProxy): schedule and report requests go to https://HOST/")
    add("--trtc-deadline", metavar="S", default=None,
        help="how long the SDK may try to reach the cloud (default: "
             f"{D.trtc_deadline_s:g}; offline the SDK itself gives up after 21 s)")
    add("--trtc-seconds", metavar="S", default=None,
        help=f"length of the test call with credentials (default: {D.trtc_seconds:g}, "
             "Tencent's own pre-call test)")
    add("--trtc-logs", metavar="DIR", default=None,
        help="keep the SDK's logs in DIR, secrets removed, for Tencent's support")
    add = parser.add_argument
    add("-q", "--quiet", action="store_true", help="no progress output")
    add("--version", action="version", version=f"trtcdetect {__version__}")
    return parser


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
    if args.proxy is not None:
        from ..net.proxy import parse_proxy

        parse_proxy(args.proxy)  # one line of error for a bad URL, now
        config = replace(config, proxy=args.proxy)
    return trtc_credentials(args, config)


def parse_source(text: str) -> str:
    """A local address of this machine (bindable), as --source wants it."""
    import ipaddress
    import socket

    try:
        address = str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise UsageError(f"--source wants an IP address of this machine: {text!r}") from None
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as exc:
            raise UsageError(f"--source {address} is not an address of this machine "
                             f"({exc.strerror or exc})") from None
    return address


#: UserSigs trtcdetect makes itself from --sdk-app-id live this long: a run, with room to spare
RUN_SIG_EXPIRE_S = 600


def trtc_credentials(args: argparse.Namespace, config: Config) -> Config:
    """The trtc probe's credentials and proxy secrets, from files and the environment only."""
    from dataclasses import replace

    from ..credentials import Secret, generate, load, parse_sdk_app_id, secret_key

    if args.secret_key is not None:
        raise UsageError("--secret-key is refused: a command line is visible to other users "
                         "of the machine; set $TRTC_SECRET_KEY or use --secret-key-file")
    if args.credentials and args.sdk_app_id:
        raise UsageError("--credentials and --sdk-app-id are two ways to the same thing: "
                         "give one")
    if args.secret_key_file and not args.sdk_app_id:
        raise UsageError("--secret-key-file needs --sdk-app-id")
    found = None
    if args.credentials:
        found = load(args.credentials)
    elif args.sdk_app_id:
        found = generate(parse_sdk_app_id(args.sdk_app_id),
                         secret_key(args.secret_key_file, os.environ), RUN_SIG_EXPIRE_S)
    password = os.environ.get("TRTCDETECT_SOCKS5_PASSWORD", "")
    return replace(config, trtc_credentials=found,
                   socks5_user=os.environ.get("TRTCDETECT_SOCKS5_USER", "") if config.socks5
                   else "",
                   socks5_password=Secret(password) if config.socks5 and password else None)


