"""Regression tests for defects the house's shape let through. Each fails on the code before
the measure/judge split and passes after; each says where a stand-in is used and why."""

from __future__ import annotations

import asyncio
import io
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.paths import ROOT
from trtcdetect import runner
from trtcdetect.config import Config, Network
from trtcdetect.models import ProbeResult, Status
from trtcdetect.report.json import validate

FAKE_SOUNDDEVICE = '''
"""A stand-in for sounddevice: no virtual device lists an output that then refuses to open
(a PulseAudio null sink always opens), so this one does, as a busy device does."""
class PortAudioError(Exception):
    pass
class _Default:
    device = [0, 0]
default = _Default()
def query_hostapis():
    return [{"name": "ALSA"}]
def query_devices():
    return [{"index": 0, "name": "busy speaker", "hostapi": 0, "max_input_channels": 0,
             "max_output_channels": 2, "default_samplerate": 48000.0}]
def OutputStream(*args, **kwargs):
    raise PortAudioError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")
InputStream = OutputStream
'''


def test_a_speaker_that_cannot_be_opened_still_gets_a_report(tmp_path: Path) -> None:
    """Defect 1: the remedy lacked its {error} value and the JSON renderer raised: exit 3,
    no report. Now: fail, exit 2, both reports, the error in the remedy."""
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "sounddevice.py").write_text(FAKE_SOUNDDEVICE)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'fake'}{os.pathsep}{Path.cwd()}"}
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--only", "speaker",
                           "--speaker-loopback", "none", "--output", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (doc_file,) = (tmp_path / "out").glob("*.json")
    assert list((tmp_path / "out").glob("*.html"))
    doc = json.loads(doc_file.read_text())
    validate(doc)
    (speaker,) = doc["probes"]
    assert speaker["status"] == "fail"
    assert speaker["advice_ids"][0]["id"] == "speaker-cannot-open"
    assert "PaErrorCode -9985" in speaker["advice"][0]


def test_nat_with_dns_timing_out_resolves_once_and_says_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 2: one lookup per UDP port, one after another: 6 x timeout against a deadline of
    3 x timeout + 2 s. A stand-in resolver times out (the lab's DNS tests are for the ports and
    domain probes; here the count of lookups is what is checked)."""
    from trtcdetect.failures import Failure, Kind
    from trtcdetect.net import ResolveError
    from trtcdetect.probes import nat

    asked: list[str] = []

    async def slow_resolve(config: Config, host: str, port: int = 0) -> Any:
        asked.append(host)
        await asyncio.sleep(config.network.timeout_s)
        raise ResolveError(Failure.of(Kind.DNS_TIMEOUT, seconds=config.network.timeout_s), "timeout")

    monkeypatch.setattr(nat, "resolve", slow_resolve)
    start = time.monotonic()
    result = asyncio.run(runner.run_probe(nat.PROBE, Config.of(target="trtc.test", timeout_s=1.0)))
    assert asked == ["trtc.test"]
    assert time.monotonic() - start < 2.0
    assert result.status is Status.WARN and result.message is not None
    assert result.message.id == "nat.dns" and "timed out" in result.summary
    assert result.details["dns_errors"] == {"trtc.test": "DNS lookup timed out after 1 s"}


@pytest.mark.parametrize("summary", ["http://[fe80::1]/ is plain HTTP", "no input device matches '[/usb]'"])
def test_progress_lines_show_outside_names_as_text(summary: str) -> None:
    """Defect 4: progress lines were rich markup: '[fe80::1]' vanished, '[/usb]' raised."""
    from rich.console import Console

    from trtcdetect.probes import REGISTRY
    from trtcdetect.ui import Progress

    progress = Progress(enabled=True, total=1)
    out = io.StringIO()
    progress.console = Console(file=out, force_terminal=True, color_system=None, width=200)
    progress.live = True
    probe = REGISTRY["url"]
    progress.update(probe, None)
    progress.update(probe, ProbeResult("url", "Deployment page", Status.FAIL, summary))
    assert summary in out.getvalue()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, list[int]]]:
    """An HTTPS server on 127.0.0.1 (a test CA) that counts the connections it accepts."""
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    accepted: list[int] = []
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nServer: lab\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        await asyncio.Event().wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(5)
    yield port[0], ca_file, accepted


def test_domain_steps_time_the_network_only_and_share_one_connection(
        tls_server: tuple[int, Path, list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 5: building the TLS context (the trust store) was inside the TLS and HTTPS
    timers, and the HTTPS step opened a second TCP+TLS connection. Here the context takes
    0.2 s to build (a slowed stand-in for a big trust store): no step may include it, and the
    server sees one connection."""
    from trtcdetect.net import https

    port, ca_file, accepted = tls_server
    build = Network.ssl_context

    def slow_context(self: Network) -> ssl.SSLContext:
        time.sleep(0.2)
        return build(self)

    monkeypatch.setattr(Network, "ssl_context", slow_context)
    accepted.clear()
    config = Config.of(ca_file=ca_file, resolve={"localhost": ("127.0.0.1",)})
    steps = asyncio.run(https.check(config, "localhost", port))
    assert [s.ok for s in steps] == [True, True, True, True], [s.as_dict() for s in steps]
    assert steps[2].ms is not None and steps[2].ms < 150, steps[2].ms
    assert steps[3].ms is not None and steps[3].ms < 150, steps[3].ms
    assert steps[3].info["status_code"] == 200 and steps[3].info["server"] == "lab"
    assert len(accepted) == 1


def test_missing_portaudio_is_said_in_the_speakers_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 6: the speaker said "no microphone can be opened". A stand-in scan raises what
    sounddevice raises without PortAudio (test_microphone does this for real, for the mic)."""
    from trtcdetect.devices import findings
    from trtcdetect.probes import speaker

    async def no_portaudio(kind: str) -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(findings, "scan_audio", no_portaudio)
    result = asyncio.run(speaker.PROBE.run(Config()))
    assert result.message is not None and result.message.id == "speaker.portaudio"
    assert "speaker" in result.summary and "microphone" not in result.summary


def test_stopping_the_calls_microphone_does_not_block_the_event_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 7: MicTrack.stop() closed the stream on the event loop. A stand-in stream whose
    close blocks for 1 s (as a stuck driver does; the real stuck ALSA device is exercised in
    test_device_release) must not stall the loop."""
    import types

    from trtcdetect.call import media

    class SlowStream:
        def __init__(self, **_: Any) -> None:
            pass

        def start(self) -> None:
            pass

        def abort(self) -> None:
            time.sleep(1.0)

        def close(self, ignore_errors: bool = True) -> None:
            pass

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(InputStream=SlowStream))

    async def scenario() -> tuple[float, bool]:
        track = await media.open_mic(0)
        start = time.monotonic()
        track.stop()
        await asyncio.sleep(0)
        blocked = time.monotonic() - start
        assert track.released is not None
        return blocked, await track.released

    blocked, released = asyncio.run(scenario())
    assert blocked < 0.1 and released is True


def test_a_timeout_error_leaked_by_a_probe_is_not_called_its_deadline() -> None:
    """Defect 8: any TimeoutError became "timed out after {deadline} s"."""
    class Leaky:
        id, title, description, after = "leaky", "Leaky", "raises TimeoutError", ()

        def deadline_s(self, config: Config) -> float:
            return 30.0

        async def run(self, config: Config, prior: Any = None) -> ProbeResult:
            raise TimeoutError("an inner step")

    start = time.monotonic()
    result = asyncio.run(runner.run_probe(Leaky(), Config()))
    assert time.monotonic() - start < 1
    assert result.status is Status.ERROR and result.error == "TimeoutError: an inner step"


def test_demo_waits_for_serve_within_its_bound_and_drains_its_pipes() -> None:
    """Defect 9: the ready line was waited for with an unbounded readline(), and serve's pipes
    were never read afterwards. Stand-in endpoints: one that never speaks; one that says ready,
    then writes 1 MiB to stderr (more than a pipe holds) and exits only if that got through."""
    from trtcdetect.commands.demo import stop, wait_ready
    from trtcdetect.errors import UsageError

    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    with pytest.raises(UsageError, match="did not say it was ready within 0.5 s"):
        wait_ready(silent, 0.5)
    assert time.monotonic() - start < 3 and silent.poll() is not None
    chatty = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('ready', flush=True); "
         "sys.stderr.write('x' * (1 << 20)); sys.stderr.flush()"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_ready(chatty, 10)
    assert chatty.wait(10) == 0
    stop(chatty)


def test_a_browser_that_does_not_start_leaves_nothing_behind(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 10: the web runner, the temporary profile and the browser were set up outside the
    `try`, so a browser that failed to start leaked them."""
    from trtcdetect.browser.page import browser_webrtc

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    report = asyncio.run(browser_webrtc(Config.of(echo_url="http://127.0.0.1:9/call"),
                                        str(tmp_path / "no-such-browser")))
    assert report["connected"] is False and report["stage"] == "start"
    assert list(tmp_path.glob("trtcdetect-browser-*")) == []


def test_no_private_internals_of_other_libraries_are_read() -> None:
    """Defect 10: call/echo.py read aiortc's name-mangled `_RTCRtpReceiver__remote_streams` and
    the browser run read aiohttp's `site._server`. The package reads no other library's private
    names: no name-mangled attribute (`_Class__name`, literally or through getattr) and no
    underscore attribute of an object that is not its own (self, cls, or its own modules)."""
    import ast
    import re

    package = ROOT / "trtcdetect"
    own = {"self", "cls", "track", "text", "os"}  # os._exit is documented public API
    #: the one exception, named here so that it stays one: the echo passes a caller's
    #: picture-loss report on to the caller's encoder (it sends frames it did not encode, so it
    #: cannot make a keyframe itself), and aiortc has no public hook for either end. Guarded:
    #: without these names nothing is passed on (call/passthrough.py, tests/call).
    allowed = {("call/passthrough.py", "_send_rtcp_pli"), ("call/passthrough.py", "_send_keyframe")}
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        module = str(path.relative_to(package))
        for node in ast.walk(tree):
            where = f"{module}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"_[A-Za-z]\w*__\w+", node.value):
                found.append(f"{where} {node.value!r}")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name) \
                    and node.value.id not in own and not node.value.id.startswith("_"):
                found.append(f"{where} {node.value.id}.{node.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "setattr", "hasattr", "delattr") \
                    and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id not in own and isinstance(node.args[1], ast.Constant) \
                    and isinstance(node.args[1].value, str) \
                    and re.fullmatch(r"_[A-Za-z]\w*", node.args[1].value) \
                    and (module, node.args[1].value) not in allowed:
                # the same read through getattr and friends (shown to catch them: without its
                # allowed entry, call/passthrough.py's setattr(sender, '_send_keyframe') fails)
                found.append(f"{where} {node.func.id}({node.args[0].id}, {node.args[1].value!r})")
    assert found == []
