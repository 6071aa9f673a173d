"""schema.json is generated from types (report/schema.py): the document's parts
(report/document.py) and the probes' evidence types; the file is what generation gives, and
the generated parts check what they say."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from tests.fixtures import report_a
from trtcdetect.probes import REGISTRY
from trtcdetect.report import schema as generated
from trtcdetect.report.json import schema, to_dict, validate


def test_the_file_is_what_the_evidence_types_generate() -> None:
    """Run scripts/update-schema after changing an evidence type."""
    written = generated.written()
    assert generated.text(generated.generate()) == generated.text(written)
    typed = [pid for pid, probe in REGISTRY.items() if probe.evidence is not None]
    assert typed == list(REGISTRY)  # every probe's details are typed
    for pid in typed:
        assert schema()["$defs"][f"{pid}_details"]["$ref"].startswith("#/$defs/evidence/$defs/")


def test_a_hand_edit_of_a_generated_part_is_caught() -> None:
    written = copy.deepcopy(generated.written())
    written["$defs"]["evidence"]["$defs"]["PortVerdict"]["properties"]["verdict"]["enum"].append(
        "open-ish")
    assert generated.text(generated.generate()) != generated.text(written)


def _broken(change: Any) -> dict[str, Any]:
    document = to_dict(report_a())
    for probe in document["probes"]:
        change(probe)
    return document


@pytest.mark.parametrize("change", [
    lambda p: p["details"]["ports"][0].update(verdict="opened") if p["id"] == "ports" else None,
    lambda p: p["details"]["ports"][0].update(port=70000) if p["id"] == "ports" else None,
    lambda p: p["details"]["hops"][0].update(loss_pct=140) if p["id"] == "path" else None,
    lambda p: p["details"]["loss_from"].update(place="nowhere") if p["id"] == "path" else None,
    lambda p: p["details"].pop("host") if p["id"] == "path" else None,
], ids=["verdict", "port", "loss", "place", "host"])
def test_the_generated_details_refuse_what_the_types_refuse(change: Any) -> None:
    validate(to_dict(report_a()))
    with pytest.raises(jsonschema.ValidationError):
        validate(_broken(change))


def test_an_error_result_s_details_are_not_checked() -> None:
    """A probe that failed to finish has whatever details it had: not its type's."""
    document = to_dict(report_a())
    for probe in document["probes"]:
        if probe["id"] == "path":
            probe["status"], probe["details"] = "error", {"hops": "partial"}
    validate(document)


def test_the_shapes_a_probe_writes_when_something_failed_read_into_its_type() -> None:
    """A probe that stopped early writes fewer keys; each such shape is still its type (the
    browser not held: only `which`; a call with no network; a camera that would not open)."""
    from trtcdetect.evidence import Held, details
    from trtcdetect.probes import camera, rtp, speaker, trtcweb

    shapes = [
        trtcweb.TrtcWebObservation(browser="/usr/bin/chromium", ended_by="hold",
                                   error="no slirp4netns", held=Held(which="-4")),
        trtcweb.TrtcWebObservation(skipped="switched off"),
        rtp.RtpObservation(rtp.RtpDetails(mode="local", echo_url=None, media="none",
                                          failed_stage="network")),
        camera.CameraObservation(),
        speaker.SpeakerObservation(no_sound=True),
    ]
    for observation in shapes:
        seen = observation.evidence()
        assert details(seen) == observation.details()


@pytest.mark.parametrize("change", [
    lambda d: d.update(started_at="2026-12-03 09:00"),
    lambda d: d.update(status="skip"),
    lambda d: d["target"]["tcp_ports"].append(0),
    lambda d: d["probes"][0]["metrics"][0].update(name="Has Spaces"),
    lambda d: d["probes"][0].update(duration_s=-1),
    lambda d: d["probes"][0].pop("advice"),
    lambda d: d["diagnosis"][0].update(party="everyone"),
    lambda d: d["system"].pop("hostname"),
    lambda d: d["system"]["network"].update(dns_servers="10.0.0.1"),
], ids=["started_at", "run-status", "port", "metric-name", "duration", "advice", "party",
        "hostname", "network"])
def test_the_generated_document_parts_refuse_what_the_document_types_refuse(change: Any) -> None:
    """The document's own parts (report/document.py) as the hand-written schema had them: the
    pattern of started_at and of a metric's name, the run's four statuses, a port's range,
    durations of at least 0, the parties, the required fields."""
    from dataclasses import replace

    from trtcdetect.diagnosis import diagnose
    from trtcdetect.evidence import EvidenceError
    from trtcdetect.report import document as types

    report = report_a()
    fine = to_dict(replace(report, diagnosis=diagnose(report.probes, None)))
    assert fine["diagnosis"]
    fine["system"]["network"] = {"usable_addresses": [], "dns_servers": ["10.0.0.1"]}
    validate(fine)
    types.read(fine)
    broken = copy.deepcopy(fine)
    change(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    with pytest.raises(EvidenceError):
        types.read(broken)
