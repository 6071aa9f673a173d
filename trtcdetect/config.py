"""The run's configuration: what the CLI parsed, validated, and what every probe receives.

`Config` is the seam between the outside world and the probes: tests point a probe at a lab by
building a Config (`resolve` pins addresses, `ca_file` trusts a lab CA) instead of patching code.
"""

from __future__ import annotations

import ssl
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


@dataclass(frozen=True)
class Local:
    """Where the network probes' sockets are bound: --source's address, --interface's device
    (net/bind.py opens them)."""

    source: str | None = None
    interface: str | None = None


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

    def settings(self) -> dict[str, Any]:
        """What the JSON report records: every field but secrets (credentials: public parts)."""
        result: dict[str, Any] = {}
        for item in fields(self):
            if item.name in ("echo_token", "socks5_password"):
                continue
            if item.name == "proxy" and self.proxy:
                from .parse import parse_proxy

                result["proxy"] = parse_proxy(str(self.proxy)).shown  # no user, no password
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
