"""The run's configuration: what the CLI parsed, validated, and what every probe receives.

`Config` is the seam between the outside world and the probes: tests point a probe at a lab by
building a Config (`resolve` pins addresses, `ca_file` trusts a lab CA) instead of patching code.

It is plain data in sections, one per concern: `network` (what the network probes reach, and
how), `devices` (camera, microphone, speaker), `call` (the test call and the browser's),
`trtc` (Tencent's SDKs), and `output` (what the run writes, and where: the command reads it;
no probe does, and the JSON document's `config` does not list it). Every field name is unique
across the sections, so a field has one flat name too: the name its option declares
(declared.py), the key the JSON document's `config` writes (`settings`), and the name
`Config.of` and `Config.but` take.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .defaults import DEFAULTS
from .evidence import JsonObject

if TYPE_CHECKING:
    from .credentials import Credentials, Secret

#: A probe gets this many step timeouts plus PROBE_DEADLINE_MARGIN_S before the runner calls it
#: hung and records `error`. The domain probe has four sequential steps, hence 4.
PROBE_DEADLINE_STEPS = 4
PROBE_DEADLINE_MARGIN_S = 2.0


@dataclass(frozen=True)
class Local:
    """Where the network probes' sockets are bound: --source's address, --interface's device
    (net/bind.py opens them)."""

    source: str | None = None
    interface: str | None = None


@dataclass(frozen=True)
class Network:
    """What the network probes reach, and how: the target and its ports, the hosts and pages a
    profile names, the step timeout, trust, proxies, and where packets leave."""

    target: str = DEFAULTS.target
    tcp_ports: tuple[int, ...] = DEFAULTS.tcp_ports
    udp_ports: tuple[int, ...] = DEFAULTS.udp_ports
    timeout_s: float = DEFAULTS.timeout_s
    ca_file: Path | None = None
    #: host name (lower case) -> addresses to use instead of DNS, like curl's --resolve
    resolve: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    https_port: int = DEFAULTS.https_port
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
    #: domain and url probes: an HTTP proxy (URL) to check their hosts through as well
    proxy: str | None = None
    #: -4 / -6: only this address family for every name the network probes resolve
    family: int | None = None
    #: --source: the local address the network probes send from (multi-homed machines, VPNs)
    source: str | None = None
    #: --interface: the network device the network probes send through (SO_BINDTODEVICE)
    interface: str | None = None
    #: capacity probe: the ramp's ceiling, kbit/s
    capacity_max_kbps: float = DEFAULTS.capacity_max_kbps

    @property
    def local_chosen(self) -> bool:
        """Whether -4/-6, --source or --interface narrows where the probes' packets leave."""
        return bool(self.family or self.source or self.interface)

    @property
    def local(self) -> Local | None:
        """Where the network probes' sockets are bound (--source, --interface), or None."""
        if self.source is None and self.interface is None:
            return None
        return Local(self.source, self.interface)

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


@dataclass(frozen=True)
class Devices:
    """The camera, microphone and speaker probes', and the browsers' devices."""

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
    #: browsers: Tencent's checks with "fake" or "real" devices
    browser_devices: str = "fake"


@dataclass(frozen=True)
class Call:
    """The test call (rtp probe) and the found Chromium's own WebRTC call (browsers probe)."""

    #: the echo peer's signalling URL (None: local loopback), its token, and timing
    echo_url: str | None = None
    echo_token: str | None = None
    call_seconds: float = DEFAULTS.call_seconds
    connect_deadline_s: float = DEFAULTS.connect_deadline_s
    audio_only: bool = False
    #: browsers: the found Chromium's own WebRTC call to --echo-url
    browser_webrtc: bool = False

    def echo_headers(self) -> dict[str, str]:
        """HTTP headers for the echo peer's signalling: the shared token, when one is set."""
        return {"Authorization": f"Bearer {self.echo_token}"} if self.echo_token else {}


@dataclass(frozen=True)
class Trtc:
    """Tencent's SDKs (trtc and trtcweb probes); credentials None: the credential-free
    reachability check."""

    trtc_deadline_s: float = DEFAULTS.trtc_deadline_s
    trtc_seconds: float = DEFAULTS.trtc_seconds
    trtc_logs: Path | None = None
    socks5: tuple[str, int] | None = None
    socks5_user: str = ""
    socks5_password: Secret | None = None
    trtc_credentials: Credentials | None = None
    trtc_asked: bool = False
    trtc_proxy: str | None = None


@dataclass(frozen=True)
class Output:
    """What a run writes, and where (the run command's; the probes never read it). Paths are
    as given: the command creates and checks them when it writes, not before."""

    #: stdout: the JSON document (--json), or --format's json, openmetrics or nagios
    json: bool = False
    format: str | None = None
    #: also these files: OpenMetrics text, Prometheus' text format for node_exporter
    openmetrics: str | None = None
    textfile: str | None = None
    #: the HTML report's and the summary's language; None: from the locale
    lang: str | None = None
    #: the reports' folder; None: "reports", unless stdout has the document
    output: str | None = None
    #: no progress on stderr
    quiet: bool = False

    @property
    def stdout(self) -> str | None:
        """What stdout carries: "json", "openmetrics", "nagios", or None (the summary)."""
        return self.format or ("json" if self.json else None)


#: each section's field names: a flat name to its section
_SECTIONS: dict[str, type[Any]] = {"network": Network, "devices": Devices, "call": Call,
                                   "trtc": Trtc, "output": Output}
SECTION_OF: Mapping[str, str] = {f.name: section for section, kind in _SECTIONS.items()
                                 for f in fields(kind)}
#: the order the JSON document's `config` has always listed them in
SETTINGS_ORDER = (
    "target", "tcp_ports", "udp_ports", "timeout_s", "ca_file", "resolve", "https_port",
    "camera", "camera_seconds", "camera_size", "mic", "mic_seconds", "require_devices",
    "speaker", "speaker_loopback", "no_sound", "browser_webrtc", "browser_devices", "echo_url",
    "echo_token", "call_seconds", "connect_deadline_s", "audio_only", "hosts", "profile",
    "wildcards", "stun", "port_quality", "quality_count", "quality_rate_pps", "urls",
    "trtc_deadline_s", "trtc_seconds", "trtc_logs", "socks5", "socks5_user", "socks5_password",
    "trtc_credentials", "trtc_asked", "trtc_proxy", "proxy", "family", "source", "interface",
    "capacity_max_kbps")
#: never written: a token and a password
_SECRET = frozenset({"echo_token", "socks5_password"})


@dataclass(frozen=True)
class Config:
    network: Network = field(default_factory=Network)
    devices: Devices = field(default_factory=Devices)
    call: Call = field(default_factory=Call)
    trtc: Trtc = field(default_factory=Trtc)
    output: Output = field(default_factory=Output)

    @classmethod
    def of(cls, **flat: Any) -> Config:
        """A configuration from flat names (`timeout_s=1.0`), each put in its section."""
        return cls().but(**flat)

    def but(self, **flat: Any) -> Config:
        """This configuration with the fields named (flat names) changed."""
        unknown = sorted(set(flat) - set(SECTION_OF))
        if unknown:
            raise TypeError(f"Config has no field {', '.join(unknown)}")
        def part(section: str) -> Any:
            current = getattr(self, section)
            given = {k: v for k, v in flat.items() if SECTION_OF[k] == section}
            return replace(current, **given) if given else current

        return Config(network=part("network"), devices=part("devices"), call=part("call"),
                      trtc=part("trtc"), output=part("output"))

    def get(self, name: str) -> Any:
        """A field by its flat name."""
        return getattr(getattr(self, SECTION_OF[name]), name)

    def settings(self) -> JsonObject:
        """What the JSON report records: every field but secrets (credentials: public parts)
        and the output section's (where this copy of the report went is not the run's)."""
        result: JsonObject = {}
        for name in SETTINGS_ORDER:
            if name in _SECRET:
                continue
            value = self.get(name)
            if name == "proxy" and value:
                from .parse import parse_proxy

                result["proxy"] = parse_proxy(str(value)).shown  # no user, no password
                continue
            if name == "trtc_credentials":
                result[name] = None if value is None else {
                    "sdk_app_id": value.sdk_app_id, "room_id": value.room_id,
                    "expires_at": value.expires_at,
                    "user_ids": [u.user_id for u in value.users]}
                continue
            if name == "socks5" and value is not None:
                value = f"{value[0]}:{value[1]}"
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            result[name] = value
        return result
