"""What to check: the hosts and ports of a TRTC SDK generation, built in or from a TOML file.

- `legacy` (default): the list in the TRTCCalling Web documents (docs/sources.md): TCP 8687;
  UDP 8000, 8080, 8800, 843, 443, 16285; qcloud.rtc.qq.com. TRTC Web SDK v4 before 4.12.0.
- `current`: TRTC Web SDK 4.12.0 and later, by the names the SDK itself uses (`WEB_SDK_HOSTS`,
  read from the vendored trtc.js; tests/probes/test_trtc_web.py fails when the SDK names a host the
  profile lacks): the scheduling service, signalling, reports and its asset hosts, plus the IM
  names TRTCCalling's documents add (events. and wss.my-imcloud.com); TCP 443; media on UDP 8000,
  8080, 8800, 843, 443, 16285 (Tencent Cloud's firewall FAQ, document 647/34399). The SDK never
  contacts qcloud.rtc.qq.com or TCP 8687. Signalling hosts `<name>.rtc.qq.com` are made at run
  time, so `*.rtc.qq.com` stays a wildcard, shown as not checked. These hosts were not resolved
  from the machine that built this (it has no internet).

A profile file (`--profile FILE.toml`):

    name = "my-deployment"
    hosts = ["media.example.com", "signal.example.com"]   # the first is the ports target
    tcp_ports = [443]
    udp_ports = [8000, 8800]
    [thresholds]
    timeout_s = 2.0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .defaults import DEFAULTS, Defaults
from .parse import (
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
    read_text_file,
)


@dataclass(frozen=True)
class Profile:
    name: str
    hosts: tuple[str, ...]
    tcp_ports: tuple[int, ...]
    udp_ports: tuple[int, ...]
    wildcards: tuple[str, ...] = ()
    timeout_s: float | None = None
    source: str = "built in"
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: What a run takes where the command line does not say (--help prints these).
    defaults: Defaults = DEFAULTS


#: The hosts Tencent's Web SDK (trtc.js 5.17.1, vendored in browser/static/vendor) names: the
#: scheduling service first (enterRoom asks it before anything else), signalling, quality
#: reports (yun.tim.qq.com; apisgp.my-imcloud.com for SDKAppIDs below 1400000000), asset hosts
WEB_SDK_HOSTS = ("schedule.cloud-rtc.com", "schedule.cloud-rtc.net", "schedule.rtc-web.com",
                 "schedule.rtc-web.io", "intl-schedule.cloud-rtc.com", "trtc.rtc.qq.com",
                 "webrtc.qq.com", "yun.tim.qq.com", "apisgp.my-imcloud.com",
                 "web.sdk.qcloud.com", "web.sdk.tencent.cn", "web.sdk.cloud.tencent.cn")
#: Names in trtc.js that are links for people, not hosts the SDK contacts
WEB_SDK_NOT_CONTACTED = {"console.cloud.tencent.com": "a link to the console in error texts"}

BUILTIN: dict[str, Profile] = {
    "legacy": Profile(
        name="legacy",
        hosts=(DEFAULTS.target,),
        tcp_ports=DEFAULTS.tcp_ports,
        udp_ports=DEFAULTS.udp_ports,
        notes=("TRTCCalling Web / TRTC Web SDK v4 before 4.12.0 (the TRTCCalling documents)",),
    ),
    "current": Profile(
        name="current",
        hosts=(*WEB_SDK_HOSTS, "events.my-imcloud.com", "wss.my-imcloud.com"),
        tcp_ports=(443,),
        udp_ports=DEFAULTS.udp_ports,
        wildcards=("*.rtc.qq.com",),
        notes=("TRTC Web SDK 4.12.0 and later: TCP 443 instead of 8687 (Tencent Cloud FAQ "
               "647/34399); the hosts are the ones trtc.js 5.17.1 names",
               "*.rtc.qq.com: signalling hosts the SDK makes at run time"),
    ),
}

#: The profile a run uses when --profile is not given.
DEFAULT_PROFILE = "legacy"

_KEYS = {"name", "hosts", "tcp_ports", "udp_ports", "wildcards", "thresholds"}


def load(spec: str) -> Profile:
    """A built-in profile by name, or a TOML file; any problem is one ConfigError line."""
    if spec in BUILTIN:
        return BUILTIN[spec]
    path = Path(spec)
    if not path.suffix == ".toml" and not path.exists():
        raise ConfigError(f"unknown profile {spec!r} (built in: {', '.join(BUILTIN)}; "
                          "or a .toml file)")
    source = read_text_file(path, "profile file")
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"profile {spec} is not valid TOML: {exc}") from None
    return _from_dict(data, spec)


def _from_dict(data: dict[str, Any], spec: str) -> Profile:
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"profile {spec}: unknown key {unknown[0]!r} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    hosts = data.get("hosts")
    if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
        raise ConfigError(f"profile {spec}: 'hosts' must be a non-empty list of host names")
    return Profile(
        name=_string(data.get("name", path_stem(spec)), "name", spec),
        hosts=tuple(parse_host(h) for h in hosts),
        tcp_ports=_ports(data.get("tcp_ports", []), "tcp_ports", spec),
        udp_ports=_ports(data.get("udp_ports", []), "udp_ports", spec),
        wildcards=tuple(_string(w, "wildcards", spec) for w in data.get("wildcards", [])),
        timeout_s=_timeout(data.get("thresholds", {}), spec),
        source=spec,
    )


def path_stem(spec: str) -> str:
    return Path(spec).stem


def _string(value: Any, key: str, spec: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"profile {spec}: '{key}' must be text")
    return value


def _ports(value: Any, key: str, spec: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in value):
        raise ConfigError(f"profile {spec}: '{key}' must be a list of port numbers")
    bad = [p for p in value if not 1 <= p <= 65535]
    if bad:
        raise ConfigError(f"profile {spec}: port out of range 1-65535 in '{key}': {bad[0]}")
    if len(set(value)) != len(value):
        raise ConfigError(f"profile {spec}: a port is listed twice in '{key}'")
    return tuple(value)


def _timeout(table: Any, spec: str) -> float | None:
    if not isinstance(table, dict):
        raise ConfigError(f"profile {spec}: [thresholds] must be a table")
    unknown = sorted(set(table) - {"timeout_s"})
    if unknown:
        raise ConfigError(f"profile {spec}: unknown threshold {unknown[0]!r} (known: timeout_s)")
    value = table.get("timeout_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 300:
        raise ConfigError(f"profile {spec}: timeout_s must be a number of seconds in (0, 300]")
    return float(value)


def describe(profile: Profile) -> list[str]:
    lines = [f"profile {profile.name} ({profile.source})",
             f"  hosts (domain probe): {', '.join(profile.hosts)}",
             f"  ports target: {profile.hosts[0]}",
             f"  TCP ports: {', '.join(map(str, profile.tcp_ports)) or '-'}",
             f"  UDP ports: {', '.join(map(str, profile.udp_ports)) or '-'}"]
    if profile.wildcards:
        lines.append(f"  not checked (wildcards, no concrete host): {', '.join(profile.wildcards)}")
    if profile.timeout_s is not None:
        lines.append(f"  timeout: {profile.timeout_s:g} s")
    lines += [f"  note: {n}" for n in profile.notes]
    return lines


@dataclass(frozen=True)
class Overrides:
    """What the command line said, as given (text; None: not given): everything a run's
    configuration takes besides its profile."""

    target: str | None = None
    tcp_ports: str | None = None
    udp_ports: str | None = None
    timeout: str | None = None
    port_quality: bool = False
    quality_count: str | None = None
    quality_rate: str | None = None
    stun: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    ca_file: str | None = None
    resolve: tuple[str, ...] = ()
    https_port: str | None = None
    camera: str | None = None
    camera_seconds: str | None = None
    camera_size: str | None = None
    mic: str | None = None
    mic_seconds: str | None = None
    require_devices: bool = False
    speaker: str | None = None
    speaker_loopback: str | None = None
    no_sound: bool = False
    browser_webrtc: bool = False
    browser_devices: str = "fake"
    echo_url: str | None = None
    echo_token: str | None = None
    call_seconds: str | None = None
    connect_deadline: str | None = None
    audio_only: bool = False
    trtc_deadline: str | None = None
    trtc_seconds: str | None = None
    trtc_logs: str | None = None
    socks5: str | None = None
    trtc_proxy: str | None = None


def apply(profile: Profile, given: Overrides) -> Config:
    """A run's configuration: the profile (its hosts, ports and defaults), with what the command
    line gave on top. A target given replaces the profile's hosts (and its wildcards, which belong
    to those hosts)."""
    d = profile.defaults
    target = parse_host(given.target) if given.target is not None else profile.hosts[0]

    def seconds(value: str | None, default: float, what: str) -> float:
        return parse_seconds(value, what) if value is not None else default

    return Config(
        target=target,
        hosts=profile.hosts if given.target is None else (target,),
        profile=profile.name,
        tcp_ports=parse_ports(given.tcp_ports) if given.tcp_ports is not None
        else profile.tcp_ports,
        udp_ports=parse_ports(given.udp_ports) if given.udp_ports is not None
        else profile.udp_ports,
        timeout_s=parse_timeout(given.timeout) if given.timeout is not None
        else profile.timeout_s or d.timeout_s,
        port_quality=given.port_quality,
        quality_count=parse_count(given.quality_count, "--quality-count", 1, 5000)
        if given.quality_count is not None else d.quality_count,
        quality_rate_pps=parse_count(given.quality_rate, "--quality-rate", 1, 1000)
        if given.quality_rate is not None else d.quality_rate_pps,
        stun=tuple(parse_hostport(s, "--stun") for s in given.stun),
        urls=tuple(parse_url(u, "--url") for u in given.urls),
        wildcards=profile.wildcards if given.target is None else (),
        ca_file=check_ca_file(given.ca_file) if given.ca_file is not None else None,
        resolve=parse_resolve(list(given.resolve)),
        https_port=parse_port(given.https_port) if given.https_port is not None
        else d.https_port,
        camera=given.camera,
        camera_seconds=seconds(given.camera_seconds, d.camera_seconds, "--camera-seconds"),
        camera_size=parse_size(given.camera_size) if given.camera_size is not None
        else d.camera_size,
        mic=given.mic,
        mic_seconds=seconds(given.mic_seconds, d.mic_seconds, "--mic-seconds"),
        require_devices=given.require_devices,
        speaker=given.speaker,
        speaker_loopback=given.speaker_loopback if given.speaker_loopback is not None
        else d.speaker_loopback,
        no_sound=given.no_sound,
        browser_webrtc=given.browser_webrtc,
        browser_devices=given.browser_devices,
        echo_url=parse_url(given.echo_url) if given.echo_url is not None else None,
        echo_token=given.echo_token or None,
        call_seconds=seconds(given.call_seconds, d.call_seconds, "--call-seconds"),
        connect_deadline_s=seconds(given.connect_deadline, d.connect_deadline_s,
                                   "--connect-deadline"),
        audio_only=given.audio_only,
        trtc_deadline_s=seconds(given.trtc_deadline, d.trtc_deadline_s, "--trtc-deadline"),
        trtc_seconds=seconds(given.trtc_seconds, d.trtc_seconds, "--trtc-seconds"),
        trtc_logs=check_output_dir(given.trtc_logs) if given.trtc_logs is not None else None,
        socks5=parse_hostport(given.socks5, "--socks5") if given.socks5 is not None else None,
        trtc_proxy=parse_host(given.trtc_proxy) if given.trtc_proxy is not None else None,
    )
