"""Report files: their names, and writing them atomically (temp file + rename)."""

from __future__ import annotations

import os
import re
from pathlib import Path


def checks_target(probe_ids: list[str] | tuple[str, ...]) -> bool:
    """Whether a run of these probes is about its target host: one of them checks it itself
    (the probes' "target" trait); a run without one is not about that host."""
    from ..probes import with_trait

    return bool(set(with_trait("target")) & set(probe_ids))


def report_stem(host: str | None, started_at: str) -> str:
    """trtcdetect-HOST-STAMP, or trtcdetect-STAMP when no probe of the run checked a host."""
    stamp = started_at.replace("-", "").replace(":", "")
    if host is None:
        return f"trtcdetect-{stamp}"
    safe_host = re.sub(r"[^A-Za-z0-9.-]+", "-", host).strip("-") or "host"
    return f"trtcdetect-{safe_host}-{stamp}"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


