"""The check page's upload judged as the command line judges (pure: no network, no root)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.check.uploads import good
from trtcdetect.call.quality import mos
from trtcdetect.check import platform
from trtcdetect.check.convert import to_report
from trtcdetect.check.upload import decode
from trtcdetect.models import RunReport, Status
from trtcdetect.report.html import render
from trtcdetect.report.json import to_dict, validate
from trtcdetect.text.ids import R, S


def judged(**changes: Any) -> RunReport:
    upload = decode(json.dumps(good(**changes)).encode())
    return to_report(upload, server="198.18.0.2:8443", echo="https://198.18.0.2:8443/call",
                     ref="TICKET-1", received_at=dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
                     address="198.18.0.1")


def probe(report: RunReport, pid: str) -> Any:
    return next(p for p in report.probes if p.id == pid)


def test_a_working_browser_passes_and_the_document_keeps_the_contract() -> None:
    report = judged()
    assert {p.id: p.status for p in report.probes} == {
        "browsers": Status.PASS, "camera": Status.PASS, "microphone": Status.PASS,
        "speaker": Status.SKIP, "rtp": Status.PASS, "trtcweb": Status.PASS}
    assert report.status is Status.PASS
    assert all(p.details["ran_in"] == "browser" for p in report.probes)
    document = to_dict(report)
    validate(document)
    assert document["config"]["reference"] == "TICKET-1"


def test_the_call_is_scored_by_the_command_lines_e_model() -> None:
    call = probe(judged(), "rtp")
    figures = {m.name: m.value for m in call.metrics}
    assert figures["rtt"] == 21.0 and figures["jitter"] == 1.5
    assert figures["mos"] == round(mos(21.0, 1.5, 0.0), 2)
    lossy = probe(judged(call__packets_lost_up=25, call__rtt_ms=[300.0]), "rtp")
    assert {m.name: m.value for m in lossy.metrics}["loss"] == 10.0
    assert lossy.status in (Status.WARN, Status.FAIL)


ROWS: list[tuple[dict[str, Any], str, Status, str, str | None]] = [
    ({"camera__black_ratio": 1.0, "camera__mean_luma": 0.0}, "camera", Status.FAIL,
     S.CAMERA_BLACK, R.CAMERA_BLACK),
    ({"camera__frozen_ratio": 0.98}, "camera", Status.FAIL, S.CAMERA_FROZEN, R.CAMERA_FROZEN),
    ({"camera__frames": 0}, "camera", Status.FAIL, S.CAMERA_NO_FRAMES, R.CAMERA_NO_FRAMES),
    ({"camera__fps": 8.0}, "camera", Status.WARN, S.CAMERA_DEGRADED, R.CAMERA_LOW_FPS),
    # silence in a browser: a warning (nobody spoke, or muted), not the device's failure
    ({"microphone__rms_dbfs": -200.0, "microphone__peak_dbfs": -200.0}, "microphone",
     Status.WARN, S.CHECK_MIC_SILENT, R.CHECK_SPEAK),
    ({"microphone__clipped_ratio": 0.05, "microphone__clipped_samples": 4800}, "microphone",
     Status.WARN, S.MIC_CLIPPING, R.MIC_CLIPPING),
    ({"camera__error": {"name": "NotAllowedError", "message": "Permission denied"}}, "camera",
     Status.FAIL, S.CHECK_CAMERA_DENIED, R.BROWSER_PERMISSION_CHROME),
    ({"camera__error": {"name": "NotAllowedError", "message": "Permission denied by system"}},
     "camera", Status.FAIL, S.CHECK_CAMERA_DENIED_SYSTEM, R.BROWSER_PERMISSION_SYSTEM),
    ({"microphone__error": {"name": "NotReadableError", "message": "Could not start audio source"}},
     "microphone", Status.FAIL, S.CHECK_MIC_BUSY, R.MIC_CANNOT_OPEN),
    ({"camera__error": {"name": "NotFoundError", "message": "Requested device not found"}},
     "camera", Status.FAIL, S.CHECK_CAMERA_MISSING, R.CAMERA_MISSING),
    ({"camera__error": {"name": "OverconstrainedError", "message": "width"}}, "camera",
     Status.FAIL, S.CHECK_CAMERA_ERROR, R.CAMERA_NO_FRAMES),
    ({"page__secure_context": False, "page__protocol": "http:"}, "browsers", Status.FAIL,
     S.CHECK_INSECURE, R.HTTPS_REQUIRED),
    ({"page__user_agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/55.0 Safari/537.36"},
     "browsers", Status.FAIL, S.CHECK_BROWSER_OLD, R.BROWSER_UPGRADE),
    ({"tencent__is_supported": False, "tencent__checks": {"isWebRTCSupported": False}},
     "browsers", Status.FAIL, S.CHECK_TENCENT_FAILED, R.BROWSER_UPGRADE),
    ({"speaker": {"heard": False}}, "speaker", Status.WARN, S.CHECK_SPEAKER_NOT_HEARD,
     R.CHECK_SPEAKER),
    ({"schedule__error": {"code": 5500, "message": "enterRoom failed: schedule failed"}},
     "trtcweb", Status.FAIL, S.TRTCWEB_UNREACHABLE, R.WHITELIST_DOMAIN),
    ({"schedule__timed_out": True, "schedule__error": None}, "trtcweb", Status.FAIL,
     S.TRTCWEB_NO_ANSWER, R.TRTC_WEB_PROXY),
    ({"schedule__error": None, "schedule__entered": True}, "trtcweb", Status.PASS,
     S.TRTCWEB_ANSWERED, None),
    ({"call": {"connected": False, "stage": "ICE", "error": "not connected within 10 s"}}, "rtp",
     Status.FAIL, S.CHECK_CALL_FAILED, R.CALL_NO_CONNECT),
]


# ids by number: a probe's id in a test's name would read as a browser test (conftest.py)
@pytest.mark.parametrize(("changes", "pid", "status", "sentence", "remedy"), ROWS,
                         ids=[f"row{i}" for i in range(len(ROWS))])
def test_each_finding_has_its_sentence_and_remedy(changes: dict[str, Any], pid: str,
                                                  status: Status, sentence: str,
                                                  remedy: str | None) -> None:
    result = probe(judged(**changes), pid)
    assert result.status is status
    assert sentence in (result.message.id, *_nested_ids(result.message.params))
    assert remedy in [a.id for a in result.advice] if remedy else not result.advice


def _nested_ids(params: Any) -> list[str]:
    found: list[str] = []
    for value in params.values():
        if isinstance(value, dict) and "id" in value:
            found += [value["id"], *_nested_ids(value.get("params", {}))]
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "id" in item:
                    found += [item["id"], *_nested_ids(item.get("params", {}))]
    return found


@pytest.mark.parametrize(("family", "remedy"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", R.BROWSER_PERMISSION_EDGE),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0",
     R.BROWSER_PERMISSION_FIREFOX),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", R.BROWSER_PERMISSION_SAFARI),
])
def test_the_permission_remedy_is_each_browsers_own(family: str, remedy: str) -> None:
    denied = judged(page__user_agent=family,
                    camera__error={"name": "NotAllowedError", "message": "denied"})
    assert [a.id for a in probe(denied, "camera").advice][0] == remedy


@pytest.mark.parametrize(("ua", "expected"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36", ("chrome", "windows", "supported")),
    ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0 "
     "Safari/537.36 Edg/79.0", ("edge", "windows", "too_old")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/10.1 Safari/605.1.15", ("safari", "macos", "too_old")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.1 Mobile/15E148 Safari/604.1", ("safari", "ios", "supported")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 13_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/87.0.4280.77 Mobile/15E148 Safari/604.1", ("chrome", "ios", "receive_only")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 10_3 like Mac OS X) AppleWebKit/603.1.30 (KHTML, like "
     "Gecko) Version/10.0 Mobile/14E304 Safari/602.1", ("safari", "ios", "too_old")),
    ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/119.0.0.0 Mobile Safari/537.36", ("chrome", "android", "supported")),
    ("Mozilla/5.0 (Linux; Android 9; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/74.0.3729.157 Mobile Safari/537.36", ("chrome", "android", "too_old")),
    ("Mozilla/5.0 (Linux; Android 12; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
     "Chrome/110.0 Mobile Safari/537.36 MicroMessenger/8.0.40", ("wechat", "android", "supported")),
    ("Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/70.0.3538.25 Safari/537.36 Core/1.70.3877.400 QQBrowser/10.8.4506.400",
     ("qqbrowser", "windows", "supported")),
    ("curl/8.0", ("unknown", "unknown", "unknown")),
])
def test_the_platform_table(ua: str, expected: tuple[str, str, str]) -> None:
    result = platform.judge(platform.parse(ua))
    assert (result.browser.family, result.browser.os, result.verdict) == expected


def test_hostile_strings_are_text_in_both_reports() -> None:
    hostile = "<img src=x onerror=alert(1)>"
    report = judged(camera__label=hostile, devices=[{"kind": "videoinput", "label": hostile}],
                    page__hostname=hostile, page__secure_context=False,
                    camera__error={"name": "NotAllowedError", "message": hostile})
    for lang in ("en", "zh"):
        page = render(report, lang)
        assert hostile not in page and "&lt;img src=x" in page
        assert 'id="ran-in-browser"' in page


@pytest.mark.parametrize(("quality", "error", "status", "sentence"), [
    (1, None, Status.PASS, S.TRTCWEB_NETWORK),
    (4, None, Status.FAIL, S.TRTCWEB_NETWORK),
    (1, 5400, Status.FAIL, S.TRTCWEB_REFUSED),
    (1, 5500, Status.FAIL, S.TRTCWEB_UNREACHABLE),
], ids=["excellent", "bad", "refused", "offline"])
def test_tencents_network_test_from_the_page_is_judged_as_the_command_lines(
        quality: int, error: int | None, status: Status, sentence: str) -> None:
    """Event sequences written from Tencent's docs (TRTC.EVENT names and fields), the same the
    command line's page test uses (tests/probes/test_trtc_web.py)."""
    from tests.probes.test_tencent_web_tables import network_events

    events = network_events(quality=quality, error=error)
    result = probe(judged(network={"events": events}), "trtcweb")
    assert result.status is status
    assert result.message.id == sentence
    assert result.details["network"]["uplink_quality"] == ([] if error else [quality] * 7)


def test_a_converted_result_is_read_into_its_probes_evidence_or_becomes_error() -> None:
    """The page's figures become each probe's typed evidence, as the command line's do; details
    a converter got wrong do not read, and that probe's result is `error` with the reason (the
    report is still written), instead of a document the contract refuses later."""
    from trtcdetect.check.convert import _result
    from trtcdetect.models import Message, Verdict
    from trtcdetect.probes import camera
    from trtcdetect.probes.camera import CameraDetails

    report = judged()
    cam = probe(report, "camera")
    assert isinstance(cam.evidence, CameraDetails) and cam.evidence.ran_in == "browser"
    assert all(p.evidence is not None for p in report.probes)
    wrong = _result(camera.PROBE, Verdict(Status.PASS, Message(S.CAMERA_OK, {
        "width": 640, "height": 480, "fps": 30.0})),
                    {"devices": "not a list"})
    assert wrong.status is Status.ERROR and "camera details" in (wrong.error or "")
