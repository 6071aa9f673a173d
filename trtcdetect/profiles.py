"""What to check: the hosts and ports of a TRTC SDK generation, built in or from a TOML file.

- `legacy` (default): the list in the TRTCCalling Web documents (docs/sources.md): TCP 8687;
  UDP 8000, 8080, 8800, 843, 443, 16285; qcloud.rtc.qq.com. TRTC Web SDK v4 before 4.12.0.
- `current`: TRTC Web SDK 4.12.0 and later, by the names the SDK itself uses (`WEB_SDK_HOSTS`,
  read from the vendored trtc.js; tests/probes/test_tencent_web_tables.py fails when the SDK names a host the
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

from .defaults import DEFAULTS, Defaults
from .evidence import JsonObject
from .parse import (
    ConfigError,
    parse_host,
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


def _from_dict(data: JsonObject, spec: str) -> Profile:
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
