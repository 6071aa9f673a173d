"""What a run checks and for how long when the command line does not say: one place.

The built-in profiles carry these (``profiles.BUILTIN[...].defaults``), ``Config`` starts from
them, and ``--help`` prints them from here — so a default changed here changes all three.
Pass/warn/fail limits are in ``thresholds``; internal tuning (resend timers, poll intervals)
sits beside the code that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defaults:
    #: TRTCCalling Web, legacy SDK v4 firewall list ("TRTCCalling Web 语音通话", 环境要求; docs/sources.md).
    target: str = "qcloud.rtc.qq.com"
    tcp_ports: tuple[int, ...] = (8687,)
    udp_ports: tuple[int, ...] = (8000, 8080, 8800, 843, 443, 16285)
    #: The media domain is checked over HTTPS on this port.
    https_port: int = 443
    #: Ceiling for one network step (DNS, TCP connect, TLS handshake, HTTP request, UDP probe), s.
    timeout_s: float = 3.0
    #: Capture lengths, s: three seconds hold enough frames and 50 ms windows to judge.
    camera_seconds: float = 3.0
    mic_seconds: float = 3.0
    camera_size: tuple[int, int] = (640, 480)
    #: Media time of the test call, s (counted from connect).
    call_seconds: float = 5.0
    #: ICE + DTLS must be up within this, s; with all UDP dropped aiortc itself would wait ~60 s.
    connect_deadline_s: float = 10.0
    #: --port-quality: 200 STUN requests at 100 per second, two seconds per port, all ports at
    #: once. 200 samples put the loss estimate within about +-2 points at 5 % (binomial, 95 %).
    quality_count: int = 200
    quality_rate_pps: float = 100.0
    #: Where the speaker probe listens for its own sound: the default input.
    speaker_loopback: str = "auto"
    #: trtc probe: how long Tencent's SDK may try to reach its access servers, s. Offline it
    #: gives up by itself only after 21.3 s; by 12 s it has asked on all six of its ports
    #: (UDP 8000, 8080, 16285; TCP 443, 13275, 23275) and waited its own 3 s on each of the
    #: first nine endpoints (recorded: tests/data/trtc/*.log). An answering server answers in
    #: one round trip.
    trtc_deadline_s: float = 12.0
    #: trtc test call (with credentials): media time, s -- Tencent's own pre-call test length.
    trtc_seconds: float = 15.0
    #: capacity probe: the ramp's ceiling, kbit/s. A 1080p TRTC call needs about 2.1 Mbit/s
    #: (thresholds.py); 10 Mbit/s is several calls' worth, reached in about 5 s per direction.
    capacity_max_kbps: float = 10_000.0


DEFAULTS = Defaults()
