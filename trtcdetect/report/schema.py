"""The JSON Schema of the document, generated from types: the document's own parts
(report/document.py) and each probe's evidence type for its details.

`report/schema.json` is the contract monitoring reads; nothing in it is written by hand. The
document's parts are its top-level `$defs` (`Probe`, `Finding`, `Metric` ...); the evidence
types are under `$defs/evidence/$defs/<Type>`, `$defs/<probe id>_details` points at a probe's
type, and the probe's if/then entry in `Probe.allOf` applies it (the details of an `error`
result are whatever the probe had when it failed, so unchecked). `system.network` is
net.local.NetworkSeen. `scripts/update-schema` writes the file from `generate`; tests/report
fail while the file and the types disagree.
"""

from __future__ import annotations

import json
from importlib import resources

import msgspec

from ..evidence import JsonObject, schema_hook
from ..probes import REGISTRY
from .document import Document, Part

#: where the evidence types' schemas live inside schema.json, and the document's parts
EVIDENCE_PATH = "#/$defs/evidence/$defs/{name}"
DOCUMENT_PATH = "#/$defs/{name}"


def _entry(probe_id: str) -> JsonObject:
    return {"if": {"properties": {"id": {"const": probe_id},
                                  "status": {"not": {"const": "error"}}}},
            "then": {"properties": {"details": {"$ref": f"#/$defs/{probe_id}_details"}}}}


def _parts(kind: type) -> set[str]:
    found = {kind.__name__}
    sub: type
    for sub in kind.__subclasses__():
        found |= _parts(sub)
    return found


def _moved(value: object, parts: set[str]) -> object:
    """`value` with each reference to a document part pointing at the top-level `$defs`."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in parts:
            return {**value, "$ref": DOCUMENT_PATH.format(name=ref.rsplit("/", 1)[-1])}
        return {k: _moved(v, parts) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, parts) for v in value]
    return value


def generate() -> JsonObject:
    """schema.json: the document's parts and every probe's evidence type, from the types."""
    typed = {pid: probe.evidence for pid, probe in REGISTRY.items() if probe.evidence is not None}
    found, components = msgspec.json.schema_components(
        [Document, *typed.values()], ref_template=EVIDENCE_PATH, schema_hook=schema_hook)
    parts = _parts(Part) - {"Part"}
    moved = _moved(components, parts)
    assert isinstance(moved, dict)
    document = moved.pop("Document")
    defs: JsonObject = {name: moved.pop(name) for name in sorted(parts - {"Document"})}
    defs["Probe"]["allOf"] = [_entry(pid) for pid in typed]
    for pid, ref in zip(typed, found[1:], strict=True):
        defs[f"{pid}_details"] = ref
    defs["evidence"] = {"$comment": "generated from the probes' evidence types "
                                    "(report/schema.py): do not edit",
                        "$defs": dict(sorted(moved.items()))}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "trtcdetect-report-v1", "title": "trtcdetect report, schema_version 1",
            "$comment": "generated from report/document.py and the probes' evidence types "
                        "(report/schema.py): do not edit",
            "type": "object", "required": document["required"],
            "properties": document["properties"], "$defs": defs}


def written() -> JsonObject:
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: JsonObject = json.loads(text)
    return loaded


def text(schema: JsonObject) -> str:
    """schema.json's text: indented as it always was, keys in the order given."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
