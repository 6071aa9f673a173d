"""A report is titled and named after the target only when a probe of the run checked it: a
`--only url` or `--only camera` run is not about qcloud.rtc.qq.com."""

from __future__ import annotations

from pathlib import Path

from trtcdetect.main import main
from trtcdetect.report.files import report_stem


def test_a_run_that_checks_no_host_is_not_named_after_one(tmp_path: Path) -> None:
    code = main(["--only", "url", "--quiet", "--output", str(tmp_path)])  # no --url: skipped
    assert code == 0
    (html,) = tmp_path.glob("*.html")
    assert html.name.startswith("trtcdetect-2") and "qcloud" not in html.name, html.name
    page = html.read_text("utf-8")
    assert "qcloud.rtc.qq.com" not in page.split("</h1>")[0]


def test_a_run_that_checks_the_target_is_named_after_it() -> None:
    assert report_stem("qcloud.rtc.qq.com", "2026-12-01T00:00:00Z") == \
        "trtcdetect-qcloud.rtc.qq.com-20261201T000000Z"
    assert report_stem(None, "2026-12-01T00:00:00Z") == "trtcdetect-20261201T000000Z"
