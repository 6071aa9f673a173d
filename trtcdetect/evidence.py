"""Typed evidence: what a probe saw, as msgspec Structs that the judge, the diagnosis, the
renderers and the metrics read by attribute. The JSON document's `details` of a probe and the
JSON Schema of them are generated from these (`details`, report/schema.py); reading a document
back validates its details into the same types (`read`).

msgspec rather than pydantic: the check page's uploads were already read with it (constraints
on the types themselves, one fast decode of hostile input), its JSON Schema output is plain
draft 2020-12, and Structs are frozen, slotted and cheap enough for every hop and port.

Shapes several probes share live here; a probe's own evidence lives beside it (probes/) and
what net/ measures beside the measuring (net/ports.py PortVerdict, net/path.py PathHop).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from .failures import Failure

if TYPE_CHECKING:
    from .models import ProbeResult

__all__ = ["UNSET", "AudioDevice", "DnsFailure", "Evidence", "EvidenceError", "Foreign",
           "Held", "JsonObject", "MediaError", "MinAvgMax", "Number", "Place", "Port", "Said",
           "UnsetType", "details", "faithful", "given", "of", "of_entry", "read", "read_or_none"]

#: A JSON object as it is written or read: a document, a probe's details, a message's values,
#: a request's or an answer's body, a TOML table. The edge where typed values become text and
#: text becomes typed values again (read, of, faithful).
JsonObject = dict[str, Any]
#: Someone else's shape, kept as they gave it: Chromium's getStats objects and a page's report,
#: Tencent's SDK events and answers, a library's own records and keyword arguments. Read into
#: types where trtcdetect relies on a part of it.
Foreign = dict[str, Any]
# Any other dict[str, Any] in the package is a shape still to be typed (tests/house/test_house.py
# counts them, and the count may only go down).

#: a port number
Port = Annotated[int, Meta(ge=1, le=65535)]
#: a figure that may be whole (54 packets) or not (2.5 ms): written back as it was given
Number = int | float
# A float's bounds are written as floats: typing caches Annotated types by equality, and
# Meta(ge=0) == Meta(ge=0.0), so an int bound here could come out as another module's float
# one (or the reverse) in the generated schema, depending on import order.


class Evidence(Struct, frozen=True, kw_only=True):
    """The base of every evidence type: immutable, made with keywords, its fields in the order
    the JSON has them; a field that may be absent from the JSON is `T | UnsetType = UNSET`
    (left out, as the document always did), one a later version added has a default (an older
    document lacks it); unknown keys do not fail a read (schema_version 1 only adds)."""


class MinAvgMax(Evidence, frozen=True, kw_only=True):
    """A figure's smallest, mean and largest value over a series."""

    min: Number
    avg: Number
    max: Number


class DnsFailure(Evidence, frozen=True, kw_only=True):
    """A name that did not resolve, classified (net.errors.ResolveError), for the diagnosis."""

    host: str
    kind: str
    error: Failure
    server: str | None


#: a place on the path: this computer's link, between, or the target's own hop
Place = Literal["here", "middle", "server"]


class EvidenceError(ValueError):
    """A document's details that are not what the probe's evidence type says: one line."""


E = TypeVar("E", bound=Evidence)


def encode_hook(value: Any) -> Any:
    """Values JSON has no type for, as the document writes them: a Failure as its English text."""
    if isinstance(value, Failure):
        return str(value)
    raise NotImplementedError(type(value).__name__)


def decode_hook(kind: type, value: Any) -> Any:
    """The reverse of `encode_hook`: a document's error text is read back into its Failure
    (failures.Failure.read: the grammar made from the same declarations that wrote it)."""
    if kind is Failure:
        if isinstance(value, Failure):
            return value
        if isinstance(value, str):
            return Failure.read(value)
    raise NotImplementedError(kind.__name__)


def schema_hook(kind: type) -> JsonObject:
    """The JSON Schema of those values: a Failure is a string."""
    if kind is Failure:
        return {"type": "string"}
    raise NotImplementedError(kind.__name__)


def _json(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value, enc_hook=encode_hook))


def details(evidence: Evidence) -> JsonObject:
    """The JSON document's `details` of a probe, from its evidence: JSON's own types (lists,
    not tuples, a Failure's text), as the document is written and read back."""
    built: JsonObject = _json(evidence)
    return built


def read(kind: type[E], value: Any, where: str = "details") -> E:
    """`value` (a JSON object) as evidence of `kind`, validated; EvidenceError names the field."""
    try:
        return msgspec.convert(value, kind, strict=False, dec_hook=decode_hook)
    except msgspec.ValidationError as exc:
        raise EvidenceError(f"{where}: {exc}") from None


def of(kind: type[E], result: ProbeResult | None) -> E | None:
    """A probe result's evidence as `kind`: the typed evidence it carries, or its details read
    into `kind` (a result read back from a document, or a narrower view of another probe's
    evidence). None without evidence: no result, an `error` result, or details that are not
    `kind` (a rule then has nothing to go on, as with a probe that did not run)."""
    if result is None or str(result.status) == "error":
        return None
    if isinstance(result.evidence, kind):
        return result.evidence
    return read_or_none(kind, result.details)


def of_entry(kind: type[E], entry: Mapping[str, Any]) -> E | None:
    """Likewise for a probe's entry in a JSON document."""
    if entry.get("status") == "error":
        return None
    return read_or_none(kind, entry.get("details"))


def read_or_none(kind: type[E], value: Any) -> E | None:
    """`value` as `kind`, or None when there is none or it does not read as `kind` (a document
    from another version: what needs it then says nothing)."""
    if not value:
        return None
    try:
        return read(kind, value)
    except EvidenceError:
        return None


T = TypeVar("T")


def given(value: T | UnsetType) -> T | None:
    """A field's value, None where the document left it out (not a falsy 0 or 0.0)."""
    return None if value is UNSET else value


def faithful(kind: type[E], value: Mapping[str, Any], where: str = "details") -> E:
    """Someone else's report (a page's JSON: browser/static's) as `kind`, refusing to lose any
    of it: a key the type lacks, or a value it would change, is an EvidenceError (a mistake in
    the type, found by the tests, rather than a key silently gone from the report). What
    trtcdetect measures itself is made as its type where it is measured."""
    found = read(kind, value, where)
    given = _json(value)
    kept = details(found)
    # compared as JSON text, keys sorted: 54 read into a float field would write 54.0
    if json.dumps(kept, sort_keys=True) != json.dumps(given, sort_keys=True):
        lost = sorted(set(given) - set(kept))
        raise EvidenceError(f"{where}: {kind.__name__} does not keep "
                            f"{lost or 'every value as it was'}")
    return found


class Held(Evidence, frozen=True, kw_only=True):
    """A browser's own network namespace for -4/-6, --source, --interface (browser/netns.py
    Hold); only `which` when it could not be made."""

    which: str
    ipv4: bool | UnsetType = UNSET
    ipv6: bool | UnsetType = UNSET
    v4: str | None | UnsetType = UNSET
    v6: str | None | UnsetType = UNSET
    through: str | UnsetType = UNSET


class AudioDevice(Evidence, frozen=True, kw_only=True):
    """A PortAudio device (devices/threads.py list_audio_devices); the check page's have only
    a name and "getUserMedia" as host API."""

    id: int | UnsetType = UNSET
    name: str
    host_api: str | UnsetType = UNSET
    channels: int | UnsetType = UNSET
    default_sample_rate: Number | UnsetType = UNSET


class Said(Evidence, frozen=True, kw_only=True):
    """A sentence of the catalogue and its values (models.Message.as_dict): the values are the
    sentence's own, an open set (a nested sentence among them), hence a mapping."""

    id: str
    params: JsonObject


class MediaError(Evidence, frozen=True, kw_only=True):
    """What the browser said when getUserMedia failed (the check page)."""

    name: str
    message: str
