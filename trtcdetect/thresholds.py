"""Every pass/warn/fail limit and default, as a named constant, with the reason for its value."""

from __future__ import annotations

# --- Target (TRTCCalling Web, legacy SDK v4 firewall list: ../shared/seeds, "环境要求") ---
DEFAULT_TARGET = "qcloud.rtc.qq.com"
DEFAULT_TCP_PORTS: tuple[int, ...] = (8687,)
DEFAULT_UDP_PORTS: tuple[int, ...] = (8000, 8080, 8800, 843, 443, 16285)
#: The media domain is checked over HTTPS on this port.
DOMAIN_HTTPS_PORT = 443

# --- Time ---
#: Ceiling for one network step (DNS, TCP connect, TLS handshake, HTTP request, UDP probe), s.
DEFAULT_STEP_TIMEOUT_S = 3.0
#: A probe gets this many step timeouts plus PROBE_DEADLINE_MARGIN_S before the runner calls it
#: hung and records `error`. The domain probe has four sequential steps, hence 4.
PROBE_DEADLINE_STEPS = 4
PROBE_DEADLINE_MARGIN_S = 2.0
#: After Ctrl-C, how long unfinished probes get to clean up before the report is written, s.
INTERRUPT_GRACE_S = 0.3

# --- UDP port probe: adaptive retransmission, as nmap does ---
#: Until any answer has measured the path, STUN requests are resent this often, s.
UDP_INITIAL_RTO_S = 0.5
#: Once an answer has measured the RTT, silent ports are resent every RTT * this factor ...
UDP_RTO_RTT_FACTOR = 4.0
#: ... but never faster than this, s (an RTO below scheduler noise only adds packets).
UDP_MIN_RTO_S = 0.2
#: ... and a silent port is given up after this many resends at the measured RTO.
UDP_ADAPTIVE_RESENDS = 3

# --- Domain probe ---
#: A certificate that expires within this many days is a warning: renewals are usually
#: automated 30 days ahead, so 14 days left means the automation has failed.
CERT_EXPIRY_WARN_DAYS = 14
