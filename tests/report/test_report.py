"""The report a support person forwards (HTML, en + zh, in Chromium) and the outputs monitoring
eats (JSON, OpenMetrics), rendered from fixture reports covering every probe and status."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.fixtures import HOSTILE_FILE, report_a, report_b
from tests.report.test_html_chromium import REPORTS, run_chromium
from trtcdetect import text
from trtcdetect.main import main
from trtcdetect.report import html, metrics
from trtcdetect.report.json import dumps, to_dict, validate


def test_fixtures_cover_every_probe_and_status() -> None:
    probes = [p for r in (report_a(), report_b()) for p in r.probes]
    from trtcdetect.probes import REGISTRY

    assert {p.id for p in probes} == set(REGISTRY)
    assert {str(p.status) for p in probes} == {"pass", "warn", "fail", "skip", "error"}
    for report in (report_a(), report_b()):
        validate(to_dict(report))


def test_every_message_and_remedy_exists_in_both_languages() -> None:
    for message_id, sentence in text.SENTENCES.items():
        en, zh = sentence.en, sentence.zh
        assert en and zh and en != zh, message_id
    for cause, remedy in text.REMEDIES.items():
        assert remedy.en and remedy.zh, cause
        assert re.findall(r"{(\w+)}", remedy.en) == re.findall(r"{(\w+)}", remedy.zh) or \
            set(re.findall(r"{(\w+)}", remedy.en)) == set(re.findall(r"{(\w+)}", remedy.zh)), cause
    from trtcdetect.probes import REGISTRY

    # every probe has a title in both languages; "repeat" is --repeat's summary
    assert set(text.TITLES) == {"repeat"}  # a probe's titles are in its declaration
    for probe in REGISTRY.values():
        assert probe.titles.en and re.search(r"[\u4e00-\u9fff]", probe.titles.zh), probe.id


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_in_chromium(lang: str, tmp_path: Path) -> None:
    words = {
        "en": ["Firewall ports", "no answer (open or filtered)", "What to do", "Test call",
               "Known TRTCCalling errors", "NO_RESP", "whitelist", "Audio RTT"],
        "zh": ["防火墙端口", "无响应（开放或被过滤）", "处理建议", "测试通话", "常见 TRTCCalling 报错",
               "NO_RESP", "白名单", "音频往返时延", "邀请者超时"],
    }[lang]
    for name, report in (("a", report_a()), ("b", report_b())):
        text = html.render(report, lang)
        # self-contained: nothing outside the file is referenced
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text)
        assert "<script" not in text.lower() and "@import" not in text and "url(" not in text
        page = tmp_path / f"report-{name}-{lang}.html"
        page.write_text(text, encoding="utf-8")
        dom = run_chromium("--dump-dom", page.as_uri()).stdout
        assert dom, "chromium rendered nothing"
        images = re.findall(r"<img[^>]*>", dom)
        # outside-world strings are text: only the camera snapshot is an image, no tag survives
        assert all(i.startswith('<img class="snapshot"') for i in images), images
        for hostile in ("<script>alert(2)</script>", "<b>nginx</b>", "<i>USB Cam</i>", "desk-<01>",
                        "<speakers>", "<b>Firefox</b>", "<call>.html"):
            assert hostile not in dom
        if name == "a":
            assert len(images) == 1
            assert "&lt;img src=x onerror=alert(1)&gt;.mp4" in dom
            assert dom.count("<polyline") == 4  # RTT, jitter, loss, bitrate
            for word in words:
                assert word in dom, (lang, word)
        else:
            # the microphone level; the browser network test's uplink and downlink quality
            assert dom.count("<polyline") == 3
        shot = REPORTS / f"screenshot-report-{lang}{'' if name == 'a' else '-b'}.png"
        shot.unlink(missing_ok=True)
        run_chromium(f"--screenshot={shot}", "--window-size=1100,4200", page.as_uri())
        assert shot.exists() and shot.stat().st_size > 20_000


def test_print_to_a4_pdf(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html.render(report_a(), "zh"), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    run_chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes, "no page in the PDF"
    for width, height in boxes:  # A4 is 595 x 842 points
        assert float(width) == pytest.approx(595, abs=1) and float(height) == pytest.approx(842, abs=1)


def test_json_round_trip_renders_the_same_html(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    report = report_a()
    saved = tmp_path / "run.json"
    saved.write_text(dumps(report), encoding="utf-8")
    for lang in ("en", "zh"):
        out = tmp_path / f"again-{lang}.html"
        assert main(["render", str(saved), "--lang", lang, "--output", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == html.render(report, lang)
    assert main(["render", str(saved), "--lang", "zh"]) == 0
    assert saved.with_suffix(".html").read_text(encoding="utf-8") == html.render(report, "zh")
    capsys.readouterr()


@pytest.mark.parametrize(("content", "words"), [
    ("{not json", "is not JSON"),
    ('{"hello": "world"}', "is not a trtcdetect report"),
    ('{"schema_version": 2, "probes": []}', "is not a trtcdetect report"),
    ("", "is not JSON"),
])
def test_render_refuses_corrupt_or_foreign_json(content: str, words: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["render", str(bad)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_openmetrics_parses_and_names_are_stable() -> None:
    text = metrics.render(to_dict(report_a())).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert text.rstrip().endswith("# EOF")
    expected = {"trtcdetect_run_duration_seconds", "trtcdetect_run_status_code",
                "trtcdetect_probe_status", "trtcdetect_probe_status_code",
                "trtcdetect_port_verdict", "trtcdetect_port_rtt_seconds",
                "trtcdetect_domain_step_seconds", "trtcdetect_domain_step_ok",
                "trtcdetect_certificate_expiry_timestamp_seconds", "trtcdetect_call_rtt_seconds",
                "trtcdetect_call_mos", "trtcdetect_camera_fps"}
    assert expected <= set(families)

    def value(name: str, **labels: str) -> float:
        for sample in families[name].samples:
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
        raise AssertionError(f"no {name} {labels}")

    assert value("trtcdetect_run_status_code", target="qcloud.rtc.qq.com") == 2
    assert value("trtcdetect_probe_status_code", probe="ports") == 1
    assert value("trtcdetect_probe_status", probe="microphone", trtcdetect_probe_status="skip") == 1
    assert value("trtcdetect_port_verdict", protocol="udp", port="8000",
                 trtcdetect_port_verdict="no_answer") == 1
    assert value("trtcdetect_port_rtt_seconds", protocol="udp", port="443") == pytest.approx(0.0145)
    assert value("trtcdetect_domain_step_ok", step="tls") == 0
    assert value("trtcdetect_call_rtt_seconds") == pytest.approx(0.101)


def test_cli_openmetrics_file_is_written_atomically(tmp_path: Path) -> None:
    prom = tmp_path / "textfile" / "trtcdetect.prom"
    prom.parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "trtcdetect", "--only", "camera", "--camera", str(tmp_path / "none"),
         "--openmetrics", str(prom), "--format", "json", "--quiet"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    families = list(text_string_to_metric_families(prom.read_text()))
    assert any(f.name == "trtcdetect_probe_status" for f in families)
    assert [p.name for p in prom.parent.iterdir()] == ["trtcdetect.prom"]  # no temp file left
    proc = subprocess.run(
        [sys.executable, "-m", "trtcdetect", "--only", "camera", "--camera", str(tmp_path / "none"),
         "--format", "openmetrics", "--quiet"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.rstrip().endswith("# EOF")
    list(text_string_to_metric_families(proc.stdout))


def test_lang_follows_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert text.default_lang() == "zh"
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert text.default_lang() == "en"


def test_summary_table_in_chinese(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trtcdetect", "--only", "camera", "--camera", str(tmp_path / "x"),
         "--lang", "zh", "--output", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert "摄像头" in proc.stdout and "跳过" in proc.stdout
    (page,) = tmp_path.glob("*.html")
    assert 'lang="zh-CN"' in page.read_text() and HOSTILE_FILE not in page.read_text()


def test_every_probe_in_error_with_no_details_still_renders() -> None:
    from dataclasses import replace

    from trtcdetect.models import Message, Status

    report = report_a()
    broken = replace(report, probes=tuple(
        replace(p, status=Status.ERROR, details={}, metrics=(), error="boom",
                message=Message("error", {"reason": "boom"}), summary="error: boom")
        for p in report.probes))
    for lang in ("en", "zh"):
        text = html.render(broken, lang)
        assert text.count('class="badge s-error"') >= 5


def test_the_url_table_names_each_page_once() -> None:
    """Each page's sentence starts with its URL; the table had a URL column before it too."""
    rendered = html.render(report_a(), "en")
    (table,) = re.findall(r"<table>\s*<tr><th>Result</th><th>Evidence</th></tr>.*?</table>",
                          rendered, re.S)
    assert table.count("http://10.0.0.5/&lt;call&gt;.html") == 1, table


@pytest.mark.parametrize(("lang", "line", "header"), [
    ("en", "over udp from 192.0.2.10 (host) to &lt;i&gt;203.0.113.5&lt;/i&gt; (srflx), the "
           "address family held to: IPv4", "<th>RTT (ms)</th>"),
    ("zh", "经 udp，从 192.0.2.10（host）到 &lt;i&gt;203.0.113.5&lt;/i&gt;（srflx），限定的地址族：IPv4",
     "<th>往返时延 (ms)</th>"),
])
def test_the_browser_call_shows_the_pair_it_went_over(lang: str, line: str, header: str) -> None:
    """--browser-webrtc's candidate pair (addresses from the browser: escaped) and its RTTs in
    ms, not raw seconds."""
    rendered = html.render(report_a(), lang)
    assert line in rendered
    assert header in rendered and "<td>1.0</td>" in rendered


def test_each_section_reads_its_probes_evidence_and_one_that_does_not_read_is_left_out() -> None:
    """A probe's section is rendered from its typed evidence (report.html.seen); details that
    do not read as the probe's type (a document from another version, hand-edited) leave that
    section out, and the report still renders, with the raw details and every other section."""
    from trtcdetect.net.https import StepSeen
    from trtcdetect.probes.domain import DomainDetails

    document = to_dict(report_a())
    domain = next(p for p in document["probes"] if p["id"] == "domain")
    found = html.seen(domain)
    assert isinstance(found, DomainDetails) and isinstance(found.steps[0], StepSeen)
    whole = html.render_document(document, "en")
    assert "<td>DNS</td>" in whole
    domain["details"]["steps"] = "not a list of steps"
    assert html.seen(domain) is None
    for lang in ("en", "zh"):
        rendered = html.render_document(document, lang)
        assert "<td>DNS</td>" not in rendered and "not a list of steps" in rendered
        assert 'id="probe-ports"' in rendered and "<td>UDP</td>" in rendered
