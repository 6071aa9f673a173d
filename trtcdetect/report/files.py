"""Report files: their names, and writing them atomically (temp file + rename)."""

from __future__ import annotations

import os
import re
from pathlib import Path


def report_stem(host: str, started_at: str) -> str:
    safe_host = re.sub(r"[^A-Za-z0-9.-]+", "-", host).strip("-") or "host"
    stamp = started_at.replace("-", "").replace(":", "")
    return f"trtcdetect-{safe_host}-{stamp}"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


