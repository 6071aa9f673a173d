"""Every option of a run, declared once: its flags, help, how its text becomes a value, where the
value goes in the configuration and what it is when not given, which commands carry it.

From this table come the run's argparse parser (commands/options.py), the run's configuration
(`apply`: a profile with what was given on top; exporter modules give theirs through it too),
`--help`'s defaults (the default profile's, formatted into each help text: `{D.name}` is a
`defaults.Defaults` field, `{P...}` the profile), and the options `serve` and `credentials`
share with a run (`--sdk-app-id`, `--secret-key-file`, `--secret-key`).

A given value is text as typed (None, False or an empty list: not given), so "not given" and
"given as the default" stay apart until `apply`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .errors import UsageError
from .evidence import Foreign
from .parse import (
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
from .profiles import Profile
from .text.base import LANGS

#: the groups of a run's --help, in order ("" is argparse's own "options")
GROUPS = ("", "devices", "test call", "trtc")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    #: str.format template: {D.x} a Defaults field, {P.x} the profile, {ports} joins ports
    help: str
    metavar: str | None = None
    #: the Config field the option sets; None: the command itself reads it
    target: str | None = None
    #: the given value (text, or a list for a repeated option) -> the field's value
    read: Callable[[Any], Any] | None = None
    #: the field's value when not given, from the profile; None: Config's own default
    fallback: Callable[[Profile], Any] | None = None
    #: "value", "flag" (store_true), "repeat" (append)
    kind: str = "value"
    choices: tuple[str, ...] | None = None
    #: argparse's own conversion, for values checked while parsing (their errors name the option)
    argtype: Callable[[str], Any] | None = None
    #: argparse's value when not given (a choice's default, --interval's)
    default: Any = None
    group: str = ""
    commands: frozenset[str] = frozenset({"run"})
    #: a sentence a command adds to the help: what that command does with the value
    also: Mapping[str, str] = field(default_factory=dict)
    #: the commands that cannot do without it
    required: frozenset[str] = frozenset()
    dest: str | None = None

    @property
    def name(self) -> str:
        """argparse's dest: where the given value is found."""
        return self.dest or self.flags[-1].lstrip("-").replace("-", "_")

    def given(self, value: Any) -> bool:
        return value is not None and value is not False and value != [] and value != ()


def _ports_text(ports: tuple[int, ...]) -> str:
    return ",".join(map(str, ports)) or "none"


def _seconds(flag: str) -> Callable[[str], float]:
    return lambda text: parse_seconds(text, flag)


def _count(flag: str, low: float, high: float) -> Callable[[str], int]:
    return lambda text: parse_count(text, flag, low, high)


def _each(read: Callable[[str], Any]) -> Callable[[Sequence[str]], tuple[Any, ...]]:
    return lambda values: tuple(read(v) for v in values)


def _proxy(text: str) -> str:
    from .parse import parse_proxy

    parse_proxy(text)  # one line of error for a bad URL, now
    return text


def parse_interface(text: str) -> str:
    from .net.bind import check_interface

    try:
        return check_interface(text.strip())
    except ValueError as exc:
        raise UsageError(f"--interface: {exc}") from None


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


def number_between(option: str, low: float, high: float, unit: str) -> Callable[[str], float]:
    """An argparse type: a number from `low` to `high` (inclusive), else one line saying so."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} is not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} must be {low:g}-{high:g} {unit}: "
                                             f"{text!r}")
        return value
    return parse


capacity_max = number_between("--capacity-max", 500, 20_000, "kbit/s")
TRTC_COMMANDS = frozenset({"run", "serve", "credentials"})

OPTIONS: tuple[Option, ...] = (
    Option(("--target",), "host to check (default: the profile's first host, {P.hosts[0]})",
           "HOST", "target", parse_host, lambda p: p.hosts[0]),
    Option(("--tcp-ports",), "comma-separated TCP ports (default: the profile's, {tcp})",
           "LIST", "tcp_ports", parse_ports, lambda p: p.tcp_ports),
    Option(("--udp-ports",), "comma-separated UDP ports (default: the profile's, {udp})",
           "LIST", "udp_ports", parse_ports, lambda p: p.udp_ports),
    Option(("--port-quality",),
           "after the verdicts, send a train of STUN requests to every UDP port that did not "
           "refuse (about 2 s at 100 per second, all ports at once): RTT, jitter and loss "
           "per port", target="port_quality", kind="flag"),
    Option(("--quality-count",), "requests per port in a quality train (default: "
           "{D.quality_count})", "N", "quality_count", _count("--quality-count", 1, 5000),
           lambda p: p.defaults.quality_count),
    Option(("--quality-rate",), "requests per second per port (default: {D.quality_rate_pps:g})",
           "PPS", "quality_rate_pps", _count("--quality-rate", 1, 1000),
           lambda p: p.defaults.quality_rate_pps),
    Option(("--capacity-max",), "probe 'capacity' (against a 'trtcdetect serve' target): the "
           "ramp's ceiling in kbit/s, 500-20000 (default: {D.capacity_max_kbps:g}); the test "
           "sends up to this rate for 0.4 s, each way", "KBPS", "capacity_max_kbps",
           argtype=capacity_max),
    Option(("--stun",), "STUN server for the nat probe (repeatable; default: the target's UDP "
           "ports)", "HOST:PORT", "stun", _each(lambda s: parse_hostport(s, "--stun")),
           kind="repeat"),
    Option(("--url",), "a deployment page to check: browsers allow camera and microphone only "
           "over HTTPS or on http://localhost (repeatable)", "URL", "urls",
           _each(lambda u: parse_url(u, "--url")), kind="repeat"),
    Option(("--timeout",), "ceiling for each network step (default: the profile's, else "
           "{D.timeout_s:g})", "SECONDS", "timeout_s", parse_timeout,
           lambda p: p.timeout_s or p.defaults.timeout_s),
    Option(("--https-port",), "port of the domain probe's TLS/HTTPS steps (default: "
           "{D.https_port})", "PORT", "https_port", parse_port, lambda p: p.defaults.https_port),
    Option(("--ca-file",), "also trust the CA certificates in this PEM file (private "
           "deployments, labs)", "PEM", "ca_file", check_ca_file),
    Option(("--source",), "send the network probes' packets from this local address (a machine "
           "with Wi-Fi and a VPN: which one carries calls?); ports, domain, url, nat, capacity "
           "and the test call's ICE (not Chromium nor Tencent's SDKs: they choose their own)",
           "ADDR", "source", parse_source),
    Option(("--interface",), "send the network probes' packets out of this network device (e.g. "
           "wlan0, tun0), whatever the routing table prefers (Linux SO_BINDTODEVICE); the same "
           "probes", "NAME", "interface", parse_interface),
    Option(("--proxy",), "an HTTP proxy (http://[user:password@]HOST:PORT) through which the "
           "domain and url probes check their hosts too, as a browser behind it would "
           "(default: $HTTPS_PROXY unless $NO_PROXY exempts the host)", "URL", "proxy", _proxy),
    Option(("--resolve",), "use ADDR for HOST instead of DNS, like curl (repeatable)",
           "HOST:ADDR", "resolve", lambda values: parse_resolve(list(values)), kind="repeat"),
    # output: what the run writes (the command reads it; not the probes, not the JSON)
    Option(("--json",), "print the JSON document on stdout and nothing else there (same as "
           "--format json); progress goes to stderr; report files are written only when "
           "--output is given", target="json", kind="flag"),
    Option(("--format",), "print the JSON document, OpenMetrics text (Prometheus), or one "
           "Nagios/Icinga plugin line with performance data, on stdout", target="format",
           choices=("json", "openmetrics", "nagios")),
    Option(("--openmetrics",), "also write OpenMetrics text to FILE, atomically (for a "
           "Pushgateway or a scraper that takes OpenMetrics)", "FILE", "openmetrics"),
    Option(("--textfile",), "also write the metrics in Prometheus' text format to FILE, "
           "atomically: what node_exporter's textfile collector reads (*.prom in its "
           "directory; it rejects OpenMetrics)", "FILE", "textfile"),
    Option(("--lang",), "language of the HTML report and the summary table (default: from the "
           "locale, zh for a Chinese locale, else en); the JSON is language-neutral",
           target="lang", choices=LANGS),
    Option(("--output",), "folder for the reports (default: reports)", "DIR", "output"),
    Option(("-q", "--quiet"), "no progress output", target="quiet", kind="flag"),
    # devices
    Option(("--camera",), "camera to check: an index, a device path (/dev/video0), or a video "
           "file or stream URL OpenCV opens, e.g. an IP camera's rtsp:// URL (default: the "
           "first found)", "CAM", "camera", group="devices"),
    Option(("--camera-seconds",), "how long to capture video (default: {D.camera_seconds:g})",
           "S", "camera_seconds", _seconds("--camera-seconds"),
           lambda p: p.defaults.camera_seconds, group="devices"),
    Option(("--camera-size",), "resolution to request (default: {size})", "WxH", "camera_size",
           parse_size, lambda p: p.defaults.camera_size, group="devices"),
    Option(("--mic",), "microphone: a device index or part of its name (default: the system "
           "default)", "MIC", "mic", group="devices"),
    Option(("--mic-seconds",), "how long to record (default: {D.mic_seconds:g})", "S",
           "mic_seconds", _seconds("--mic-seconds"), lambda p: p.defaults.mic_seconds,
           group="devices"),
    Option(("--speaker",), "speaker: a device index or part of its name (default: the system "
           "default)", "OUT", "speaker", group="devices"),
    Option(("--speaker-loopback",), "input that can hear the speaker (a sink's monitor, or a "
           "microphone in the same room): an index or name part, 'auto' (the default input) or "
           "'none' (default: {D.speaker_loopback})", "MIC", "speaker_loopback",
           fallback=lambda p: p.defaults.speaker_loopback, group="devices"),
    Option(("--no-sound",), "do not play the speaker's test sound (unattended runs)",
           target="no_sound", kind="flag", group="devices"),
    Option(("--browser-webrtc",), "also run the found Chromium/Chrome headless with fake devices "
           "against the echo peer of --echo-url: the browser's own WebRTC stack",
           target="browser_webrtc", kind="flag", group="devices"),
    Option(("--browser-devices",), "Tencent's checks in the browser with the browser's fake "
           "camera and microphone (default) or the real ones: their names, resolutions and "
           "permission state", target="browser_devices", choices=("fake", "real"),
           default="fake", group="devices"),
    Option(("--require-devices",), "a missing camera, microphone or speaker fails the run "
           "(default: skipped, as on a server)", target="require_devices", kind="flag",
           group="devices"),
    # test call
    Option(("--echo-url",), "signalling URL of an echo peer ('trtcdetect serve --http-port "
           "8089' answers at http://HOST:8089/call); default: a local loopback call in this "
           "process", "URL", "echo_url", parse_url, group="test call"),
    Option(("--echo-token",), "the echo peer's shared token (default: $TRTCDETECT_TOKEN; prefer "
           "that: a command line is visible to other users of the machine)", "TOKEN",
           "echo_token", lambda text: text or None, group="test call"),
    Option(("--call-seconds",), "how long the test call sends media, from the moment it "
           "connects; RTT needs about 2 s, as RTCP reports come every 0.5-1.5 s (default: "
           "{D.call_seconds:g})", "S", "call_seconds", _seconds("--call-seconds"),
           lambda p: p.defaults.call_seconds, group="test call"),
    Option(("--connect-deadline",), "ICE and DTLS must be up within this (default: "
           "{D.connect_deadline_s:g})", "S", "connect_deadline_s",
           _seconds("--connect-deadline"), lambda p: p.defaults.connect_deadline_s,
           group="test call"),
    Option(("--audio-only",), "test call without video", target="audio_only", kind="flag",
           group="test call"),
    # Tencent's SDKs
    Option(("--credentials",), "a credentials file from 'trtcdetect credentials' (support makes "
           "it; no SecretKey reaches this machine)", "FILE", group="trtc"),
    Option(("--sdk-app-id",), "the TRTC application's SDKAppID; its SecretKey comes from "
           "$TRTC_SECRET_KEY or --secret-key-file, never from the command line", "N",
           group="trtc", commands=TRTC_COMMANDS, required=frozenset({"credentials"}),
           also={"run": "trtcdetect makes 10-minute UserSigs from them for a test call through "
                        "TRTC's cloud",
                 "serve": "the check page then also runs Tencent's two-client network test, "
                          "with UserSigs serve mints for each check (valid 5 minutes); the "
                          "SecretKey never reaches the browser"}),
    Option(("--secret-key-file",), "read the SecretKey for --sdk-app-id from this file "
           "(default: $TRTC_SECRET_KEY)", "FILE", group="trtc", commands=TRTC_COMMANDS),
    Option(("--secret-key",), "refused: a command line is visible to other users of the "
           "machine; use $TRTC_SECRET_KEY or --secret-key-file", "KEY", group="trtc",
           commands=TRTC_COMMANDS),
    Option(("--socks5",), "send the SDK's traffic through this SOCKS5 proxy (user and password "
           "from $TRTCDETECT_SOCKS5_USER and $TRTCDETECT_SOCKS5_PASSWORD)", "HOST:PORT",
           "socks5", lambda text: parse_hostport(text, "--socks5"), group="trtc"),
    Option(("--trtc-proxy",), "probe 'trtcweb': Tencent's enterprise proxy for the Web SDK (its "
           "proxy.unifiedProxy): schedule and report requests go to https://HOST/", "HOST",
           "trtc_proxy", parse_host, group="trtc"),
    Option(("--trtc-deadline",), "how long the SDK may try to reach the cloud (default: "
           "{D.trtc_deadline_s:g}; offline the SDK itself gives up after 21 s)", "S",
           "trtc_deadline_s", _seconds("--trtc-deadline"), lambda p: p.defaults.trtc_deadline_s,
           group="trtc"),
    Option(("--trtc-seconds",), "length of the test call with credentials (default: "
           "{D.trtc_seconds:g}, Tencent's own pre-call test)", "S", "trtc_seconds",
           _seconds("--trtc-seconds"), lambda p: p.defaults.trtc_seconds, group="trtc"),
    Option(("--trtc-logs",), "keep the SDK's logs in DIR, secrets removed, for Tencent's "
           "support", "DIR", "trtc_logs", check_output_dir, group="trtc"),
)

BY_NAME: Mapping[str, Option] = {option.name: option for option in OPTIONS}


def help_text(option: Option, profile: Profile, command: str = "run") -> str:
    text = option.help.format(D=profile.defaults, P=profile, tcp=_ports_text(profile.tcp_ports),
                              udp=_ports_text(profile.udp_ports),
                              size="{}x{}".format(*profile.defaults.camera_size))
    also = option.also.get(command)
    return f"{text}; {also}" if also else text


def add(where: Any, options: Iterable[Option], profile: Profile, command: str = "run") -> None:
    """Add the options to an argparse parser or group, their help for `command`."""
    for option in options:
        kwargs: Foreign = {"help": help_text(option, profile, command)}
        if option.kind == "flag":
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = option.metavar
            kwargs["default"] = [] if option.kind == "repeat" else option.default
            if option.kind == "repeat":
                kwargs["action"] = "append"
        if option.choices is not None:
            kwargs["choices"] = option.choices
            kwargs.pop("metavar", None)
        if option.argtype is not None:
            kwargs["type"] = option.argtype
        if option.dest is not None:
            kwargs["dest"] = option.dest
        if command in option.required:
            kwargs["required"] = True
        where.add_argument(*option.flags, **kwargs)


def of(command: str, group: str | None = None) -> tuple[Option, ...]:
    """The options `command` carries (in `group`, when given), in declaration order."""
    return tuple(o for o in OPTIONS if command in o.commands
                 and (group is None or o.group == group))


def apply(profile: Profile, given: Mapping[str, Any]) -> Config:
    """A run's configuration: the profile (its hosts, ports and defaults) with what was given on
    top, by option name (`Option.name`); names not given, or given as None, take the profile's
    value. A target given replaces the profile's hosts (and its wildcards, which belong to those
    hosts). Any bad value is one ConfigError line naming the option."""
    unknown = sorted(set(given) - set(BY_NAME))
    if unknown:
        raise ValueError(f"not an option: {unknown[0]}")
    values: dict[str, object] = {}
    for option in OPTIONS:
        if option.target is None:
            continue
        value = given.get(option.name)
        if option.given(value):
            values[option.target] = option.read(value) if option.read is not None else value
        elif option.kind == "repeat" and option.read is not None:
            values[option.target] = option.read(())
        elif option.fallback is not None:
            values[option.target] = option.fallback(profile)
        elif option.default is not None:
            values[option.target] = option.default
    target_given = option_given("target", given)
    return Config.of(**values, profile=profile.name,
                     hosts=(values["target"],) if target_given else profile.hosts,
                     wildcards=() if target_given else profile.wildcards)


def option_given(name: str, given: Mapping[str, Any]) -> bool:
    return BY_NAME[name].given(given.get(name))


def given_by(args: argparse.Namespace) -> Foreign:
    """What a parsed command line gave, for `apply`: every declared option it carries."""
    return {name: getattr(args, name) for name in BY_NAME if hasattr(args, name)
            and BY_NAME[name].target is not None}


def sdk_app_id_and_key(args: argparse.Namespace) -> tuple[int, Any] | None:
    """--sdk-app-id with its SecretKey (from --secret-key-file or $TRTC_SECRET_KEY), or None;
    --secret-key itself is refused, and --secret-key-file alone is a usage error. The same rule
    for every command that carries them (run, serve, credentials)."""
    from .credentials import parse_sdk_app_id, secret_key

    if getattr(args, "secret_key", None) is not None:
        raise UsageError("--secret-key is refused: a command line is visible to other users "
                         "of the machine; set $TRTC_SECRET_KEY or use --secret-key-file")
    if args.sdk_app_id is None:
        if args.secret_key_file is not None:
            raise UsageError("--secret-key-file needs --sdk-app-id")
        return None
    return parse_sdk_app_id(args.sdk_app_id), secret_key(args.secret_key_file, os.environ)
