"""Every probe, with each of its measuring seams (the network and device helpers it calls)
made to raise: the run goes on, the probe is `error` with the reason, and both reports are
always written. In-process stand-ins by design: what is under test is the house around a
failing step, for every step, which no lab can make fail on demand one at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trtcdetect.main import main
from trtcdetect.report.json import validate

LOCAL = ["--target", "127.0.0.1", "--timeout", "1"]
#: probe id -> (extra arguments, the seams it measures through: "module:attribute")
SEAMS: dict[str, tuple[list[str], list[str]]] = {
    "ports": (["--port-quality", "--quality-count", "5"], [
        "trtcdetect.probes.ports:resolve", "trtcdetect.probes.ports:probe_tcp",
        "trtcdetect.probes.ports:probe_udp", "trtcdetect.probes.ports:run_train"]),
    "domain": ([], ["trtcdetect.net.https:resolve", "trtcdetect.net.https:tcp",
                    "trtcdetect.net.https:_tls", "trtcdetect.net.https:_https"]),
    "nat": ([], ["trtcdetect.probes.nat:resolve", "trtcdetect.probes.nat:global_ipv6_addresses",
                 "trtcdetect.probes.nat:_ask_all", "trtcdetect.probes.nat:local_address"]),
    "path": ([], ["trtcdetect.probes.path:resolve", "trtcdetect.probes.path:trace"]),
    "url": (["--url", "https://127.0.0.1:9/"], ["trtcdetect.net.https:check",
                                                 "trtcdetect.probes.url:follow"]),
    "camera": ([], ["trtcdetect.probes.camera:list_cameras", "trtcdetect.probes.camera:_source",
                    "trtcdetect.probes.camera:run_in_thread"]),
    "microphone": ([], ["trtcdetect.probes.microphone:audio_devices",
                        "trtcdetect.probes.microphone:choose",
                        "trtcdetect.probes.microphone:run_in_thread"]),
    "speaker": ([], ["trtcdetect.probes.speaker:audio_devices", "trtcdetect.probes.speaker:_pick",
                     "trtcdetect.probes.speaker:run_in_thread"]),
    "browsers": (["--browser-webrtc", "--echo-url", "http://127.0.0.1:9/call"], [
        "trtcdetect.probes.browsers:find", "trtcdetect.probes.browsers:browser_webrtc"]),
    "rtp": (["--audio-only"], ["trtcdetect.probes.rtp:choose_media",
                               "trtcdetect.call.session:run_call"]),
    # Tencent's SDK never runs here: both seams come before it (see the test)
    "trtc": ([], ["trtcdetect.probes.trtc:unavailable", "trtcdetect.probes.trtc:run_worker"]),
    # Chromium never starts here: the browser is looked up first, in the browsers probe's result
    "trtcweb": ([], ["trtcdetect.probes.trtcweb:_browser"]),
    "capacity": (["--udp-ports", "9"], ["trtcdetect.probes.capacity:resolve",
                                        "trtcdetect.net.capacity:measure"]),
}
CASES = [(probe, seam) for probe, (_, seams) in SEAMS.items() for seam in seams]
#: seams an earlier step keeps this in-process run from reaching (no device, no TLS server, no
#: UDP port answering on 127.0.0.1): the report must still be written; the lab tests make
#: these steps fail for real
NOT_REACHED_HERE = {"trtcdetect.probes.ports:run_train", "trtcdetect.net.https:_tls",
                    "trtcdetect.net.https:_https", "trtcdetect.probes.url:follow",
                    "trtcdetect.probes.camera:run_in_thread",
                    "trtcdetect.probes.microphone:run_in_thread",
                    "trtcdetect.probes.speaker:run_in_thread"}


def test_every_probe_has_its_seams_listed() -> None:
    from trtcdetect.probes import REGISTRY

    assert set(SEAMS) == set(REGISTRY)


@pytest.mark.parametrize("probe, seam", CASES, ids=[f"{p}-{s.split(':')[1]}" for p, s in CASES])
def test_a_step_that_raises_still_gives_a_report(probe: str, seam: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import importlib
    import inspect

    module_name, attribute = seam.split(":")
    module = importlib.import_module(module_name)
    assert hasattr(module, attribute), seam  # the seam is real: a rename fails here

    called: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        called.append(attribute)
        raise RuntimeError(f"stand-in failure in {attribute}")

    async def broken_async(*args: Any, **kwargs: Any) -> Any:
        return broken(*args, **kwargs)

    # a coroutine function fails when awaited, as the real one would
    real = getattr(module, attribute)
    monkeypatch.setattr(module, attribute,
                        broken_async if inspect.iscoroutinefunction(real) else broken)
    extra, _ = SEAMS[probe]
    if probe in ("trtc", "trtcweb"):
        # the SDK may run only in a namespace with no route out: here the seam under test, or
        # unavailable() before it, stops the probe first; without the SDK run_worker is never
        # reached, so there is nothing to test
        from trtcdetect.probes.trtc import unavailable

        if seam.endswith("run_worker") and unavailable() is not None:
            pytest.skip("Tencent's SDK is not installed: run_worker is not reached")
        monkeypatch.delenv("TRTCDETECT_NO_SDK")
    code = main([*LOCAL, "--only", probe, *extra, "--quiet", "--output", str(tmp_path)])
    (doc_file,) = tmp_path.glob("*.json")
    assert list(tmp_path.glob("*.html"))
    doc = json.loads(doc_file.read_text("utf-8"))
    validate(doc)
    (result,) = doc["probes"]
    assert bool(called) is (seam not in NOT_REACHED_HERE), (seam, result["summary"])
    if called:
        assert code == 3 and result["status"] == "error", (result["status"], result["summary"])
        assert f"stand-in failure in {attribute}" in result["error"]
    assert doc["exit_code"] == code
    assert "Traceback" not in capsys.readouterr().err
