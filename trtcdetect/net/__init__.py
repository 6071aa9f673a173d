"""Network helpers shared by the probes: resolution, one STUN client, STUN trains, the HTTPS
step chain. Nothing here judges: it measures and returns what it saw."""

from .errors import REFUSALS, os_error_text
from .resolve import Resolution, ResolveError, resolve

__all__ = ["REFUSALS", "Resolution", "ResolveError", "os_error_text", "resolve"]
