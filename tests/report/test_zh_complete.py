"""Chinese is complete: every sentence a zh report or the zh terminal shows is Chinese, apart
from code, numbers, names and quoted evidence; and the CJK layout keeps short words whole."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from tests.fixtures import report_a, report_b
from tests.report.test_html_chromium import REPORTS, chromium, run_chromium
from trtcdetect.diagnosis import diagnose
from trtcdetect.models import RunReport
from trtcdetect.report import html

#: four ASCII words in a row (a word: letters only; a token with a digit, dot, slash, colon or
#: underscore is a name, a number or code and ends the run)
ENGLISH = re.compile(r"(?<![\w./:])(?:[A-Za-z][A-Za-z'-]*[ ,;()]+){3}[A-Za-z][A-Za-z'-]*(?![\w./:])")
QUOTED = re.compile(r"「[^」]*」|“[^”]*”|'[^']*'")


class Visible(HTMLParser):
    """The text a reader sees, without code, raw details and styles."""

    SKIP = {"style", "script", "pre", "code", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP or self.depth:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.texts.append(data.strip())


def english_runs(texts: list[str]) -> list[str]:
    return [m.group(0) for t in texts for m in ENGLISH.finditer(QUOTED.sub("", t))]


def diagnosed(report: RunReport) -> RunReport:
    return replace(report, diagnosis=diagnose(report.probes, {}))


REPORTS_ZH = {"a": lambda: diagnosed(report_a()), "b": lambda: diagnosed(report_b())}


def test_the_scanner_finds_english() -> None:
    assert english_runs(["端口 no answer to four requests"]) == ["no answer to four"]
    assert english_runs(["证书不受信任：「certificate has expired on the server」"]) == []
    assert english_runs(["qcloud.rtc.qq.com 的 UDP 8000 无响应"]) == []


@pytest.mark.parametrize("name", sorted(REPORTS_ZH))
def test_a_zh_report_says_everything_in_chinese(name: str) -> None:
    parser = Visible()
    parser.feed(html.render(REPORTS_ZH[name](), "zh"))
    assert english_runs(parser.texts) == []


@pytest.mark.parametrize("name", sorted(REPORTS_ZH))
def test_the_zh_terminal_says_everything_in_chinese(name: str) -> None:
    from trtcdetect import ui

    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    report = REPORTS_ZH[name]()
    ui.print_diagnosis(console, report, [Path("reports/r.html")], "zh")
    original = ui.Console
    try:
        ui.Console = lambda **_: console  # type: ignore[assignment,misc]
        ui.print_summary(report, [], stderr=False, lang="zh")
    finally:
        ui.Console = original  # type: ignore[misc]
    lines = [line.strip("│ ") for line in buffer.getvalue().splitlines()]
    assert english_runs([line for line in lines if line]) == []


@pytest.mark.skipif(chromium() is None, reason="no Chromium")
def test_cjk_layout_keeps_short_words_whole(tmp_path: Path) -> None:
    """In Chromium, every badge, table heading and check name of the zh report is one line:
    a narrow column used to break 'NAT 与公网地址' into '...地' / '址'."""
    page = html.render(REPORTS_ZH["a"](), "zh")
    probe = """<script>
    const broken = [];
    for (const el of document.querySelectorAll('.badge, th, .summary td:first-child a')) {
      if (el.getClientRects().length > 1 || el.getBoundingClientRect().height >
          1.8 * parseFloat(getComputedStyle(el).lineHeight || 20)) broken.push(el.textContent);
    }
    document.body.setAttribute('data-broken', JSON.stringify(broken));
    </script></body>"""
    measured = tmp_path / "zh.html"
    measured.write_text(page.replace("</body>", probe), "utf-8")
    dom = run_chromium("--virtual-time-budget=2000", "--window-size=700,1400", "--dump-dom",
                       measured.as_uri()).stdout
    found = re.search(r'data-broken="([^"]*)"', dom)
    assert found is not None, dom[:500]
    assert found.group(1).replace("&quot;", '"') == "[]"
    plain = tmp_path / "report-zh.html"
    plain.write_text(page, "utf-8")
    REPORTS.mkdir(exist_ok=True)
    shot = REPORTS / "screenshot-report-zh.png"
    run_chromium(f"--screenshot={shot}", "--window-size=700,1600", plain.as_uri())
    assert shot.stat().st_size > 10_000
