"""contrib/: the Prometheus scrape config, alert rules (with promtool's own unit tests), the
Grafana dashboard and the exporter's example modules -- checked by the real tools, and against
the metric names trtcdetect actually writes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.fixtures import report_a, report_b
from tests.paths import ROOT
from trtcdetect.exporter.modules import load_modules
from trtcdetect.report import metrics
from trtcdetect.report.json import to_dict

CONTRIB = ROOT / "contrib"
PROMTOOL = pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian's prometheus")


def written_names() -> set[str]:
    names = {"trtcdetect_probe_success"}  # the exporter adds it
    for make in (report_a, report_b):
        text = metrics.render(to_dict(make()), flavour="prometheus").decode()
        names |= set(re.findall(r"^# TYPE (\S+)", text, re.M))
    return names


@PROMTOOL
@pytest.mark.parametrize("args", [["check", "config", "prometheus.yml"],
                                  ["check", "rules", "rules.yml"],
                                  ["test", "rules", "rules_test.yml"]])
def test_promtool_accepts_the_prometheus_files(args: list[str]) -> None:
    proc = subprocess.run(["promtool", *args], cwd=CONTRIB / "prometheus", capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_and_dashboard_use_only_metrics_that_exist() -> None:
    names = written_names()
    rules = (CONTRIB / "prometheus" / "rules.yml").read_text()
    dashboard = json.loads((CONTRIB / "grafana" / "trtcdetect.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set(re.findall(r"trtcdetect_[a-z_]+", rules + " ".join(exprs)))
    assert used and used <= names, used - names
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_the_example_modules_load() -> None:
    modules = load_modules(str(CONTRIB / "prometheus" / "exporter.toml"))
    assert set(modules) == {"trtc", "media"}
    assert modules["media"].allows("media3.example.com")
    assert not modules["media"].allows("qcloud.rtc.qq.com")
