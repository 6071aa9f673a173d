"""Network helpers shared by the probes: resolution, one STUN client, STUN trains, the HTTPS
step chain. Nothing here judges: it measures and returns what it saw."""

from .errors import BLOCKED_HERE, REFUSALS, ResolveError, os_error_text, refused_by
from .resolve import Resolution, resolve

__all__ = ["BLOCKED_HERE", "REFUSALS", "refused_by", "Resolution", "ResolveError", "os_error_text", "resolve"]
