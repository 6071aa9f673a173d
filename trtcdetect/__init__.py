"""trtcdetect: pre-call diagnostics for Tencent TRTC / TRTCCalling.

Checks the firewall ports and the media domain a call needs, renders the findings as JSON and a
self-contained HTML report, and exits with a monitoring-plugin code (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN).
"""

from __future__ import annotations

import logging

from .models import Advice, Message, Metric, ProbeResult, RunReport, Status, Target

__version__ = "0.2.0"

__all__ = [
    "Advice",
    "Message",
    "Metric",
    "ProbeResult",
    "RunReport",
    "Status",
    "Target",
    "__version__",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
