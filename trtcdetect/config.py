"""The run's configuration: what the CLI parsed, validated, and what every probe receives.

`Config` is the seam between the outside world and the probes: tests point a probe at a lab by
building a Config (`resolve` pins addresses, `ca_file` trusts a lab CA) instead of patching code.
"""

from __future__ import annotations

import ipaddress
import math
import re
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .defaults import DEFAULTS

if TYPE_CHECKING:
    from .credentials import Credentials, Secret

#: A probe gets this many step timeouts plus PROBE_DEADLINE_MARGIN_S before the runner calls it
#: hung and records `error`. The domain probe has four sequential steps, hence 4.
PROBE_DEADLINE_STEPS = 4
PROBE_DEADLINE_MARGIN_S = 2.0


class ConfigError(ValueError):
    """Bad input from the command line; its message is the one line the user sees."""


@dataclass(frozen=True)
class Config:
    target: str = DEFAULTS.target
    tcp_ports: tuple[int, ...] = DEFAULTS.tcp_ports
    udp_ports: tuple[int, ...] = DEFAULTS.udp_ports
    timeout_s: float = DEFAULTS.timeout_s
    ca_file: Path | None = None
    #: host name (lower case) -> addresses to use instead of DNS, like curl's --resolve
    resolve: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    https_port: int = DEFAULTS.https_port
    #: camera: an index, a device path, or a file/URL OpenCV opens; None: the first found
    camera: str | None = None
    camera_seconds: float = DEFAULTS.camera_seconds
    camera_size: tuple[int, int] = DEFAULTS.camera_size
    #: microphone: an index or (part of) a device name; None: the system default input
    mic: str | None = None
    mic_seconds: float = DEFAULTS.mic_seconds
    #: missing devices fail instead of being skipped (a desk machine must have them)
    require_devices: bool = False
    #: speaker: an output index or name part; loopback input: "auto" (the default input),
    #: "none", or an input index or name part; no_sound skips playing
    speaker: str | None = None
    speaker_loopback: str = DEFAULTS.speaker_loopback
    no_sound: bool = False
    #: browsers: the found Chromium's own WebRTC call to --echo-url; Tencent's checks with
    #: "fake" or "real" devices
    browser_webrtc: bool = False
    browser_devices: str = "fake"
    #: test call: the echo peer's signalling URL (None: local loopback), its token, and timing
    echo_url: str | None = None
    echo_token: str | None = None
    call_seconds: float = DEFAULTS.call_seconds
    connect_deadline_s: float = DEFAULTS.connect_deadline_s
    audio_only: bool = False
    #: every host the domain probe checks (a profile's hosts); empty: just `target`
    hosts: tuple[str, ...] = ()
    profile: str = "legacy"
    wildcards: tuple[str, ...] = ()  # a profile's wildcard domains: reported as not checked
    stun: tuple[tuple[str, int], ...] = ()  # nat probe's STUN servers; empty: the target's
    #: ports probe: after the verdicts, a train of STUN requests per UDP port
    port_quality: bool = False
    quality_count: int = DEFAULTS.quality_count
    quality_rate_pps: float = DEFAULTS.quality_rate_pps
    #: url probe: deployment pages to check for the secure-context rule
    urls: tuple[str, ...] = ()
    #: trtc probe (Tencent's SDK); credentials None: the credential-free reachability check
    trtc_deadline_s: float = DEFAULTS.trtc_deadline_s
    trtc_seconds: float = DEFAULTS.trtc_seconds
    trtc_logs: Path | None = None
    socks5: tuple[str, int] | None = None
    socks5_user: str = ""
    socks5_password: Secret | None = None
    trtc_credentials: Credentials | None = None
    trtc_asked: bool = False
    trtc_proxy: str | None = None

    def settings(self) -> dict[str, Any]:
        """What the JSON report records: every field but secrets (credentials: public parts)."""
        result: dict[str, Any] = {}
        for item in fields(self):
            if item.name in ("echo_token", "socks5_password"):
                continue
            value = getattr(self, item.name)
            if item.name == "trtc_credentials":
                result[item.name] = None if value is None else {
                    "sdk_app_id": value.sdk_app_id, "room_id": value.room_id,
                    "expires_at": value.expires_at,
                    "user_ids": [u.user_id for u in value.users]}
                continue
            if item.name == "socks5" and value is not None:
                value = f"{value[0]}:{value[1]}"
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            result[item.name] = value
        return result

    def echo_headers(self) -> dict[str, str]:
        """HTTP headers for the echo peer's signalling: the shared token, when one is set."""
        return {"Authorization": f"Bearer {self.echo_token}"} if self.echo_token else {}

    def ssl_context(self) -> ssl.SSLContext:
        """The system's trust store, plus `ca_file` when one was given."""
        ctx = ssl.create_default_context()
        if self.ca_file is not None:
            ctx.load_verify_locations(cafile=str(self.ca_file))
        return ctx

    async def tls_context(self) -> ssl.SSLContext:
        """ssl_context() in a worker thread: reading the trust store takes ~30 ms, which on the
        event loop would stall every other probe's timers."""
        import asyncio

        return await asyncio.to_thread(self.ssl_context)

    @property
    def probe_deadline_s(self) -> float:
        return self.timeout_s * PROBE_DEADLINE_STEPS + PROBE_DEADLINE_MARGIN_S


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def parse_host(text: str) -> str:
    """A DNS name or an IP literal (IPv6 with or without brackets), normalised."""
    raw = text.strip()
    if not raw:
        raise ConfigError("host is empty")
    literal = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    try:
        name = raw.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ConfigError(f"not a valid host name: {text!r}") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ConfigError(f"not a valid host name: {text!r}")
    return name


def parse_port(text: str) -> int:
    try:
        port = int(text.strip())
    except ValueError:
        raise ConfigError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"port out of range 1-65535: {port}")
    return port


def parse_ports(text: str) -> tuple[int, ...]:
    """A comma-separated port list; empty means none. Duplicates are an error (likely a typo)."""
    if not text.strip():
        return ()
    ports = tuple(parse_port(part) for part in text.split(","))
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise ConfigError(f"port listed twice: {', '.join(map(str, duplicates))}")
    return ports


def parse_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"timeout is not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds: {text!r}")
    if value > 300:
        raise ConfigError(f"timeout above 300 s is not useful: {text!r}")
    return value


def parse_seconds(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} is not a number: {text!r}") from None
    if not math.isfinite(value) or not 0.5 <= value <= 60:
        raise ConfigError(f"{what} must be between 0.5 and 60 seconds: {text!r}")
    return value


def parse_url(text: str, what: str = "--echo-url") -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} wants an http:// or https:// URL: {text!r}")
    parse_host(parts.hostname)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(f"{what} has a bad port: {text!r}") from None
    return text.strip()


def parse_count(text: str, what: str, low: float, high: float) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} is not a number: {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{what} must be between {low:g} and {high:g}: {text!r}")
    return int(value)


def parse_hostport(text: str, what: str) -> tuple[str, int]:
    """HOST:PORT, with an IPv6 literal in brackets ([2001:db8::1]:3478)."""
    raw = text.strip()
    if raw.startswith("["):
        host, sep, port = raw[1:].partition("]:")
    else:
        host, sep, port = raw.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{what} wants HOST:PORT, got {text!r}")
    return parse_host(host), parse_port(port)


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*", text)
    if not match:
        raise ConfigError(f"--camera-size wants WIDTHxHEIGHT, e.g. 1280x720: {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_resolve(entries: list[str]) -> dict[str, tuple[str, ...]]:
    """curl-style HOST:ADDR (ADDR may be an IPv6 literal, bracketed or not); repeatable."""
    pinned: dict[str, list[str]] = {}
    for entry in entries:
        host, sep, addr = entry.partition(":")
        if not sep or not host or not addr:
            raise ConfigError(f"--resolve wants HOST:ADDR, got {entry!r}")
        name = parse_host(host)
        literal = addr[1:-1] if addr.startswith("[") and addr.endswith("]") else addr
        try:
            address = str(ipaddress.ip_address(literal))
        except ValueError:
            raise ConfigError(f"--resolve address is not an IP address: {addr!r}") from None
        pinned.setdefault(name, []).append(address)
    return {name: tuple(addrs) for name, addrs in pinned.items()}


def read_text_file(path: Path, what: str) -> str:
    """A file the user named, as text; any problem is one ConfigError line naming `what`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


def check_ca_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise ConfigError(f"CA file is a directory: {text}")
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except FileNotFoundError:
        raise ConfigError(f"CA file not found: {text}") from None
    except PermissionError:
        raise ConfigError(f"CA file not readable: {text}") from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError(f"CA file holds no usable PEM certificate: {text} ({exc})") from None
    return path


def check_output_dir(text: str) -> Path:
    """Create the folder if needed and prove a file can be written there."""
    path = Path(text)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output folder {text}: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"output folder is not writable: {text} ({exc.strerror or exc})") from None
    return path
