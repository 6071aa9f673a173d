"""The JSON document's own shape (schema_version 1), around the probes' details: typed, so that
report/schema.py generates the whole of schema.json from types (these, and each probe's
evidence type for its details) and nothing in it is written by hand.

report/json.py writes the document; `read` reads one back into these types (a probe's details
stay a JSON object here: report.html.seen and evidence.of_entry read them into the probe's own
type). Fields that a document may lack are `T | UnsetType = UNSET`; the shape only gains
fields (schema_version 1).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..evidence import UNSET, EvidenceError, JsonObject, Said, UnsetType
from ..net.local import NetworkSeen

Port = Annotated[int, Meta(ge=1, le=65535)]
Seconds = Annotated[float, Meta(ge=0)]
#: a probe's status; the run's is one of pass, warn, fail, error
ProbeStatus = Literal["pass", "warn", "fail", "skip", "error"]
#: who can act on a finding (text.remedies.PARTIES)
Party = Literal["user", "network", "owner", "support"]


class Part(msgspec.Struct, frozen=True, kw_only=True):
    """The base of the document's parts: immutable, made with keywords."""


class Tool(Part, frozen=True, kw_only=True):
    name: str
    version: str


class Target(Part, frozen=True, kw_only=True):
    host: str
    tcp_ports: tuple[Port, ...]
    udp_ports: tuple[Port, ...]


class LoopLag(Part, frozen=True, kw_only=True):
    """How late the run's event loop woke (10 ms ticks), ms: what wall-clock figures may
    carry."""

    p50: float | UnsetType = UNSET
    p99: float | UnsetType = UNSET
    max: float | UnsetType = UNSET
    samples: int | UnsetType = UNSET


class System(Part, frozen=True, kw_only=True):
    """Where the checks ran: the command line's computer, or (the check page's documents) the
    end user's browser as the server saw it."""

    os: str
    python: str
    hostname: str
    network: NetworkSeen | UnsetType = UNSET
    loop_lag_ms: LoopLag | None | UnsetType = UNSET
    #: non-idle share of all CPUs over the run (/proc/stat), %
    cpu_busy_pct: float | None | UnsetType = UNSET
    #: the check page: the browser, its user agent, the address the upload came from, when
    browser: str | UnsetType = UNSET
    ran_in: str | UnsetType = UNSET
    user_agent: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    received_at: str | UnsetType = UNSET


class Metric(Part, frozen=True, kw_only=True):
    name: Annotated[str, Meta(pattern="^[a-z0-9_]+$")]
    value: float | None
    unit: str
    warn: float | None | UnsetType = UNSET
    fail: float | None | UnsetType = UNSET
    better: Literal["lower", "higher"] | None | UnsetType = UNSET


class Probe(Part, frozen=True, kw_only=True):
    id: str
    title: str
    status: ProbeStatus
    summary: str
    duration_s: Seconds
    metrics: tuple[Metric, ...]
    #: what the probe saw: its evidence type's JSON (schema.json's `<id>_details`), or, for an
    #: `error` result, whatever it had when it failed (an edge, a JSON object)
    details: JsonObject
    advice: tuple[str, ...]
    advice_ids: tuple[Said, ...] | UnsetType = UNSET
    error: str | None | UnsetType = UNSET
    message: Said | None | UnsetType = UNSET


class Finding(Part, frozen=True, kw_only=True):
    id: str
    severity: ProbeStatus
    headline: str
    #: the headline by id and values (a JSON object)
    message: JsonObject
    explains: tuple[str, ...]
    advice: tuple[str, ...]
    advice_ids: tuple[Said, ...]
    party: Party


class Document(Part, frozen=True, kw_only=True):
    """trtcdetect report, schema_version 1."""

    schema_version: Literal[1]
    tool: Tool
    started_at: Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    duration_s: Seconds
    status: Literal["pass", "warn", "fail", "error"]
    exit_code: Literal[0, 1, 2, 3] | UnsetType = UNSET
    interrupted: bool | UnsetType = UNSET
    target: Target
    system: System
    #: what the run was asked (flat option names, secrets left out): an edge, a JSON object
    config: JsonObject | UnsetType = UNSET
    probes: tuple[Probe, ...]
    #: the causes the diagnosis names, worst first; notes (severity pass) change no verdict
    diagnosis: tuple[Finding, ...] | UnsetType = UNSET


def read(document: object) -> Document:
    """A JSON document (parsed) as a Document; EvidenceError (one line) when it is not one."""
    try:
        return msgspec.convert(document, Document, strict=False)
    except msgspec.ValidationError as exc:
        raise EvidenceError(f"document: {exc}") from None
