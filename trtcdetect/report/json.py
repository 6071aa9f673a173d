"""The JSON document (schema_version 1). Monitoring depends on it: only add, never change.

The schema lives beside this module in `schema.json` (the probes' details in it generated from
their evidence types: report/schema.py); every test run validates against it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..evidence import JsonObject
from ..models import Advice, Finding, ProbeResult, RunReport

SCHEMA_VERSION = 1


def probe_to_dict(result: ProbeResult) -> JsonObject:
    return {
        "id": result.id,
        "title": result.title,
        "status": str(result.status),
        "summary": result.summary,
        "duration_s": result.duration_s,
        "metrics": [
            {"name": m.name, "value": m.value, "unit": m.unit, "warn": m.warn, "fail": m.fail,
             "better": m.better}
            for m in result.metrics
        ],
        "details": dict(result.details),
        "advice": [_advice_text(a) for a in result.advice],
        "advice_ids": [{"id": a.id, "params": dict(a.params)} for a in result.advice],
        "error": result.error,
        "message": result.message.as_dict() if result.message is not None else None,
    }


def _advice_text(advice: Advice) -> str:
    """The remedy in English; an advice that cannot be rendered (it is checked when made, so
    only a foreign object could) still leaves a report: its id stands in for the text."""
    try:
        return advice.text("en")
    except (KeyError, ValueError, TypeError, IndexError):
        return advice.id


def finding_to_dict(finding: Finding) -> JsonObject:
    return {
        "id": finding.id,
        "severity": str(finding.severity),
        "headline": finding.headline.text("en"),
        "message": finding.headline.as_dict(),
        "explains": list(finding.explains),
        "advice": [_advice_text(a) for a in finding.advice],
        "advice_ids": [{"id": a.id, "params": dict(a.params)} for a in finding.advice],
        "party": finding.party,
    }


def to_dict(report: RunReport) -> JsonObject:
    from .. import __name__ as tool_name

    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": tool_name, "version": report.tool_version},
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "status": str(report.status),
        "exit_code": report.exit_code,
        "interrupted": report.interrupted,
        "target": {
            "host": report.target.host,
            "tcp_ports": list(report.target.tcp_ports),
            "udp_ports": list(report.target.udp_ports),
        },
        "system": dict(report.system),
        "config": dict(report.config),
        "probes": [probe_to_dict(p) for p in report.probes],
        "diagnosis": [finding_to_dict(f) for f in report.diagnosis],
    }


def dumps(report: RunReport) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"


@cache
def schema() -> JsonObject:
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    loaded: JsonObject = json.loads(text)
    return loaded


@cache
def _validator() -> Any:
    import jsonschema

    checked = jsonschema.validators.validator_for(schema())
    checked.check_schema(schema())
    return checked(schema())


def validate(document: JsonObject) -> None:
    """Raise jsonschema.ValidationError when `document` breaks the contract, and
    evidence.EvidenceError when it does not read as its types (report/document.py, and a
    probe's details as its evidence type): the schema says the same, being generated from the
    types; this reads the document into the types themselves."""
    import jsonschema

    from .. import evidence
    from ..probes import REGISTRY

    # as jsonschema.validate, without checking the schema itself again on every document
    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is not None:
        raise error
    from .document import read

    read(document)  # the document's own parts, as their types
    for probe in document["probes"]:
        kind = getattr(REGISTRY.get(probe["id"]), "evidence", None)
        if kind is not None and probe["status"] != "error":
            evidence.read(kind, probe["details"], f"probes/{probe['id']}/details")
