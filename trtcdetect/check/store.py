"""Received checks on disk: each a JSON document under a random id, and a small index entry.

DIR/<id>.json is the run report (the same document `trtcdetect --json` writes), DIR/<id>.html
its HTML report in the user's language (served in the other one by rendering the JSON again),
DIR/<id>.entry.json what the list shows. Ids are 128
random bits. Reports older than `keep_days` are removed; when the disk quota would be passed,
the oldest go first, said in the log, but never one younger than KEEP_AT_LEAST_S: a flood of
uploads may not push out the reports support is about to read (it is refused instead).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..evidence import JsonObject
from ..models import RunReport
from ..report.document import read
from ..report.json import to_dict

log = logging.getLogger("trtcdetect.serve")

#: A report this young is never removed to make room, s
KEEP_AT_LEAST_S = 3600
ID_PATTERN = re.compile(r"^[a-z2-7]{26}$")


class StoreFull(Exception):
    """The quota is used by reports too young to remove."""


def new_id() -> str:
    """128 random bits in base32 (26 characters, no padding, lower case)."""
    import base64

    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def code(report_id: str) -> str:
    """The part of an id a user reads out on the phone: its first 8 characters, as XXXX-XXXX."""
    return f"{report_id[:4]}-{report_id[4:8]}".upper()


@dataclass(frozen=True)
class Entry:
    id: str
    received_at: float
    reference: str | None
    status: str
    cause: str | None
    cause_params: JsonObject
    browser: str
    address: str
    bytes: int

    @property
    def code(self) -> str:
        return code(self.id)


class Store:
    def __init__(self, root: Path, keep_days: float = 30, quota_bytes: int = 500 * 1024 * 1024,
                 clock: Any = time.time) -> None:
        self.root, self.keep_s, self.quota, self.clock = root, keep_days * 86400, quota_bytes, clock
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _paths(self, report_id: str) -> tuple[Path, Path, Path]:
        if not ID_PATTERN.match(report_id):
            raise KeyError(report_id)
        return (self.root / f"{report_id}.json", self.root / f"{report_id}.entry.json",
                self.root / f"{report_id}.html")

    def entries(self) -> list[Entry]:
        """Every stored check, newest first."""
        found = []
        for path in self.root.glob("*.entry.json"):
            try:
                found.append(Entry(**json.loads(path.read_text("utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return sorted(found, key=lambda e: e.received_at, reverse=True)

    def used(self) -> int:
        return sum(e.bytes for e in self.entries())

    def save(self, report: RunReport, lang: str = "en") -> Entry:
        from ..report.html import render

        text = json.dumps(to_dict(report), ensure_ascii=False, indent=2)
        page = render(report, lang)
        size = len(text.encode("utf-8")) + len(page.encode("utf-8"))
        self.prune()
        self._make_room(size)
        first = next((f for f in report.diagnosis if not f.note), None)
        entry = Entry(id=new_id(), received_at=self.clock(),
                      reference=report.config.get("reference"), status=str(report.status),
                      cause=first.headline.id if first else None,
                      cause_params=dict(first.headline.params) if first else {},
                      browser=str(report.system.get("browser", "?")),
                      address=str(report.system.get("hostname", "?")), bytes=size)
        document, index, html = self._paths(entry.id)
        # the list entry last: a report is listed only once all of it is there
        for path, content in ((document, text), (html, page), (index, json.dumps(entry.__dict__))):
            temporary = path.with_suffix(".tmp")
            temporary.write_text(content, "utf-8")
            os.replace(temporary, path)
        return entry

    def load(self, report_id: str) -> JsonObject:
        """A stored report's document, read into the document's types as a check (a file that
        does not read -- damaged on disk -- raises ValueError, as a missing one KeyError)."""
        document = self._paths(report_id)[0]
        loaded: JsonObject = json.loads(document.read_text("utf-8"))
        read(loaded)
        return loaded

    def remove(self, report_id: str) -> None:
        document, index, html = self._paths(report_id)
        for path in (index, document, html):  # the list entry first
            path.unlink(missing_ok=True)

    def prune(self) -> int:
        """Remove reports older than keep_days; how many went."""
        now, gone = self.clock(), 0
        for entry in self.entries():
            if now - entry.received_at > self.keep_s:
                self.remove(entry.id)
                gone += 1
        if gone:
            log.warning("check reports: %d older than %g days removed", gone, self.keep_s / 86400)
        return gone

    def _make_room(self, size: int) -> None:
        entries = self.entries()
        used = sum(e.bytes for e in entries)
        now = self.clock()
        removed = 0
        for entry in reversed(entries):  # oldest first
            if used + size <= self.quota:
                break
            if now - entry.received_at < KEEP_AT_LEAST_S:
                break
            self.remove(entry.id)
            used -= entry.bytes
            removed += 1
        if removed:
            log.warning("check reports: the quota of %d bytes is reached; the %d oldest removed",
                        self.quota, removed)
        if used + size > self.quota:
            raise StoreFull("the server holds as many check reports as it may keep; try again "
                            "in an hour")
