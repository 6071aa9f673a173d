"""OpenMetrics output details: no binary float noise, and conflicting output options refused."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from trtcdetect.main import main
from trtcdetect.report import metrics


def document(rtt_ms: float, step_ms: float) -> dict[str, Any]:
    return {"target": {"host": "h"}, "duration_s": 1.0, "status": "pass", "exit_code": 0,
            "tool": {"version": "t"},
            "probes": [{"id": "ports", "status": "pass", "duration_s": 0.1, "metrics": [],
                        "details": {"ports": [{"protocol": "udp", "port": 8000,
                                               "verdict": "open", "rtt_ms": rtt_ms}]}},
                       {"id": "domain", "status": "pass", "duration_s": 0.1, "metrics": [],
                        "details": {"steps": [{"name": "tls", "ok": True, "ms": step_ms}]}}]}


def test_seconds_carry_no_binary_noise() -> None:
    text = metrics.render(document(33.41, 0.1 + 0.2)).decode()
    assert "0.03341" in text and "0.033409999999999995" not in text
    assert "0.00030000000000000003" not in text
    values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert values["trtcdetect_port_rtt_seconds"] == 0.03341  # the library's own parser


def test_json_and_another_format_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "--format", "openmetrics", "--only", "url"]) == 3
    err = capsys.readouterr().err
    assert "--json and --format openmetrics" in err and err.count("\n") == 1
    assert main(["--json", "--format", "json", "--only", "url", "--quiet"]) == 0


def test_capacity_is_in_bytes_per_second_and_says_when_it_is_a_floor() -> None:
    from tests.fixtures import report_a
    from trtcdetect.report.json import to_dict

    text = metrics.render(to_dict(report_a())).decode()
    samples = {(s.name, s.labels.get("direction")): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    # the fixture: 1,049 kbit/s up (an estimate), at least 10,000 down (the ceiling)
    assert samples[("trtcdetect_capacity_bytes_per_second", "up")] == 1049 * 1000 / 8
    assert samples[("trtcdetect_capacity_lower_bound", "up")] == 0
    assert samples[("trtcdetect_capacity_bytes_per_second", "down")] == 10_000 * 1000 / 8
    assert samples[("trtcdetect_capacity_lower_bound", "down")] == 1


def test_the_path_exports_each_answering_hop_and_where_loss_starts() -> None:
    from tests.fixtures import report_a
    from trtcdetect.report.json import to_dict

    text = metrics.render(to_dict(report_a())).decode()
    samples = {(s.name, s.labels.get("hop")): s.value
               for f in text_string_to_metric_families(text) for s in f.samples
               if s.name.startswith("trtcdetect_path_")}
    # the fixture: hops 1, 2 and 4 answered (2 and 4 lost 2 of 5), hop 3 hid, the target at 4
    assert samples[("trtcdetect_path_hop_loss_ratio", "1")] == 0
    assert samples[("trtcdetect_path_hop_loss_ratio", "2")] == 0.4
    assert ("trtcdetect_path_hop_loss_ratio", "3") not in samples  # hidden: no figure, not 100 %
    assert samples[("trtcdetect_path_hop_rtt_seconds", "4")] == 0.0124
    assert samples[("trtcdetect_path_target_hops", None)] == 4
    assert samples[("trtcdetect_path_loss_start_hop", None)] == 2
    assert ("trtcdetect_path_delay_start_hop", None) not in samples


def test_every_probes_samples_name_a_series_it_declared() -> None:
    """A probe's `samples` may only yield families its declaration lists (metrics.render looks
    them up by name), with as many label values as the family has labels."""
    from tests.fixtures import report_a, report_b
    from trtcdetect.probes import REGISTRY
    from trtcdetect.report.json import to_dict

    seen = set()
    # the fixtures' call has only rtt and mos: a call with every figure besides them
    call = {"id": "rtp", "metrics": [{"name": name, "value": 1.0}
                                     for name in ("setup", "rtt", "jitter", "loss", "mos")]}
    for document in (to_dict(report_a()), to_dict(report_b()), {"probes": [call]}):
        for probe in document["probes"]:
            declared = {s.name: s for s in REGISTRY[probe["id"]].series}
            for name, labels, _ in REGISTRY[probe["id"]].samples(probe):
                assert name in declared and len(labels) == len(declared[name].labels), name
                seen.add(name)
    every = {s.name for p in REGISTRY.values() for s in p.series}
    assert every - seen <= {"trtcdetect_path_delay_start_hop"}, every - seen
