"""The JSON Schema of the document's probe details, generated from the probes' evidence types.

`report/schema.json` is the contract monitoring reads. Its document-level parts are written by
hand; the details of every probe that declares an evidence type (`MeasuredProbe.evidence`) are
generated here with msgspec: the types' schemas under `$defs/evidence/$defs/<Type>`,
`$defs/<probe id>_details` pointing at its type, and the probe's if/then entry that applies it
(the details of an `error` result are whatever the probe had when it failed, so unchecked).
`system.network` is generated the same way, from net.local.NetworkSeen.
`scripts/update-schema` writes the file from `generate`; tests/report fail while the file and
the types disagree.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

import msgspec

from ..evidence import JsonObject, schema_hook
from ..net.local import NetworkSeen
from ..probes import REGISTRY

#: where the evidence types' schemas live inside schema.json
EVIDENCE_PATH = "#/$defs/evidence/$defs/{name}"


def _entry(probe_id: str) -> JsonObject:
    return {"if": {"properties": {"id": {"const": probe_id},
                                  "status": {"not": {"const": "error"}}}},
            "then": {"properties": {"details": {"$ref": f"#/$defs/{probe_id}_details"}}}}


def _entry_id(entry: JsonObject) -> str | None:
    found = entry.get("if", {}).get("properties", {}).get("id", {}).get("const")
    return found if isinstance(found, str) else None


def generate(current: JsonObject) -> JsonObject:
    """`current` (the schema as written) with every typed probe's details generated."""
    schema = copy.deepcopy(current)
    typed = {pid: probe.evidence for pid, probe in REGISTRY.items() if probe.evidence is not None}
    kinds: list[type] = [*typed.values(), NetworkSeen]
    found, components = msgspec.json.schema_components(kinds, ref_template=EVIDENCE_PATH,
                                                       schema_hook=schema_hook)
    *refs, network = found
    schema["properties"]["system"]["properties"]["network"] = network
    defs = schema["$defs"]
    defs["evidence"] = {"$comment": "generated from the probes' evidence types "
                                    "(report/schema.py): do not edit",
                        "$defs": dict(sorted(components.items()))}
    for pid, ref in zip(typed, refs, strict=True):
        defs[f"{pid}_details"] = ref
    entries = defs["probe"]["allOf"]
    known = {_entry_id(e) for e in entries}
    entries.extend(_entry(pid) for pid in typed if pid not in known)
    return schema


def written() -> JsonObject:
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: JsonObject = json.loads(text)
    return loaded


def text(schema: JsonObject) -> str:
    """schema.json's text: indented as it always was, keys in the order given."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
