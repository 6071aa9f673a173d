"""Probe `browsers`: which browsers are installed, and will they run the TRTC Web SDK?

Found without opening a window: on Linux by running each known binary with --version (verified
here); on macOS from the app bundles' Info.plist and on Windows from the registry's App Paths
(the same seam, not verified on those systems). Each version is compared with the minimums of
the TRTC Web platform table; Chrome is the SDK's best-supported browser, so the advice is the
latest Chrome.

--browser-webrtc starts the found Chromium/Chrome headless with fake media devices on a local
page (served here, on 127.0.0.1) that calls getUserMedia and makes a call to the echo peer of
`trtcdetect serve` (--echo-url): the browser's own WebRTC stack, measured from outside it.
"""

from __future__ import annotations

import asyncio
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..config import Config
from ..models import Advice, Message, Metric, ProbeResult, Status, worst


@dataclass(frozen=True)
class Minimum:
    name: str
    version: tuple[int, ...]


#: Source: TRTCCalling Web 语音通话, 平台支持 (../shared/seeds/trtccalling-web-voice-call.zh.md):
#: desktop Chrome 56+, Firefox 56+, Edge 80+, Safari 11+, QQ Browser (极速内核) 10.4+.
MINIMUMS: dict[str, Minimum] = {
    "chrome": Minimum("Chrome", (56,)),
    "firefox": Minimum("Firefox", (56,)),
    "edge": Minimum("Edge", (80,)),
    "safari": Minimum("Safari", (11,)),
    "qqbrowser": Minimum("QQ Browser", (10, 4)),
}
MINIMUMS_SOURCE = "TRTCCalling Web platform table (平台支持), desktop browsers"

#: Linux binaries per family; Chromium is Chrome's open-source build and shares its minimum.
LINUX_BINARIES: dict[str, tuple[str, ...]] = {
    "chrome": ("google-chrome", "google-chrome-stable", "chromium", "chromium-browser"),
    "firefox": ("firefox", "firefox-esr"),
    "edge": ("microsoft-edge", "microsoft-edge-stable"),
}
MACOS_APPS: dict[str, tuple[str, ...]] = {
    "chrome": ("Google Chrome.app", "Chromium.app"), "firefox": ("Firefox.app",),
    "edge": ("Microsoft Edge.app",), "safari": ("Safari.app",), "qqbrowser": ("QQBrowser.app",),
}
WINDOWS_EXES: dict[str, tuple[str, ...]] = {
    "chrome": ("chrome.exe",), "firefox": ("firefox.exe",), "edge": ("msedge.exe",),
    "qqbrowser": ("QQBrowser.exe",),
}
_VERSION = re.compile(r"(\d+(?:\.\d+)+)")


def parse_version(text: str) -> tuple[int, ...] | None:
    match = _VERSION.search(text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def find_linux(path: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for family, names in LINUX_BINARIES.items():
        for name in names:
            binary = shutil.which(name, path=path)
            if binary is None or os.path.realpath(binary) in seen:
                continue
            seen.add(os.path.realpath(binary))
            try:
                proc = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                      timeout=10, stdin=subprocess.DEVNULL)
                text = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
                version_text = text[-1] if text else ""
            except (OSError, subprocess.TimeoutExpired) as exc:
                version_text = f"could not run --version: {exc}"
            found.append({"family": family, "binary": name, "path": binary,
                          "version_text": version_text[:200]})
    return found


def find_macos(apps: Path = Path("/Applications")) -> list[dict[str, Any]]:
    found = []
    for family, bundles in MACOS_APPS.items():
        for bundle in bundles:
            plist = apps / bundle / "Contents" / "Info.plist"
            try:
                info = plistlib.loads(plist.read_bytes())
            except (OSError, plistlib.InvalidFileException):
                continue
            found.append({"family": family, "binary": bundle, "path": str(apps / bundle),
                          "version_text": str(info.get("CFBundleShortVersionString", ""))})
    return found


def find_windows() -> list[dict[str, Any]]:  # pragma: no cover - not testable on Linux
    import importlib

    winreg: Any = importlib.import_module("winreg")  # Windows only

    found = []
    key = r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths"
    for family, exes in WINDOWS_EXES.items():
        for exe in exes:
            for root in (winreg.HKEY_LOCAL_MACHINE, winreg.HKEY_CURRENT_USER):
                try:
                    with winreg.OpenKey(root, f"{key}\\{exe}") as handle:
                        path = winreg.QueryValue(handle, None)
                except OSError:
                    continue
                version = ""
                try:
                    out = subprocess.run(
                        ["powershell", "-NoProfile", "-Command",
                         f"(Get-Item '{path}').VersionInfo.ProductVersion"],
                        capture_output=True, text=True, timeout=10)
                    version = out.stdout.strip()
                except (OSError, subprocess.TimeoutExpired):
                    pass
                found.append({"family": family, "binary": exe, "path": path,
                              "version_text": version})
                break
    return found


def find() -> list[dict[str, Any]]:
    if sys.platform == "darwin":
        return find_macos()
    if sys.platform == "win32":
        return find_windows()
    return find_linux()


def judge_one(entry: dict[str, Any]) -> dict[str, Any]:
    minimum = MINIMUMS[entry["family"]]
    version = parse_version(entry["version_text"])
    verdict = "unknown" if version is None else (
        "supported" if version >= minimum.version else "too_old")
    return {**entry, "version": ".".join(map(str, version)) if version else None,
            "minimum": ".".join(map(str, minimum.version)),
            "name": "Chromium" if "chromium" in entry["binary"].lower() else minimum.name,
            "verdict": verdict}


async def browser_webrtc(config: Config, binary: str) -> dict[str, Any]:
    """Run the local WebRTC page in headless `binary`; return what the page reported."""
    import httpx
    from aiohttp import web

    page = resources.files(__package__).joinpath("static/webrtc.html").read_text("utf-8")
    result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def offer(request: web.Request) -> web.Response:
        try:
            async with httpx.AsyncClient(verify=config.ssl_context(), timeout=config.timeout_s,
                                         trust_env=False) as client:
                answer = await client.post(str(config.echo_url), json=await request.json(),
                                           headers=config.echo_headers())
            return web.json_response(answer.json(), status=answer.status_code)
        except (httpx.HTTPError, ValueError) as exc:
            return web.json_response({"error": f"echo peer: {exc}"}, status=502)

    async def report(request: web.Request) -> web.Response:
        if not result.done():
            result.set_result(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_post("/offer", offer)
    app.router.add_post("/result", report)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    profile = tempfile.mkdtemp(prefix="trtcdetect-browser-")
    browser = await asyncio.create_subprocess_exec(
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={profile}",
        f"http://127.0.0.1:{port}/",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        return await asyncio.wait_for(result, 25)
    except TimeoutError:
        return {"stage": "timeout", "connected": False,
                "error": "the page did not report within 25 s"}
    finally:
        if browser.returncode is None:
            browser.terminate()
            try:
                await asyncio.wait_for(browser.wait(), 5)
            except TimeoutError:
                browser.kill()
                await browser.wait()
        await runner.cleanup()
        shutil.rmtree(profile, ignore_errors=True)


def webrtc_metrics(report: dict[str, Any]) -> list[Metric]:
    stats = report.get("stats") or []
    rtts = [s["roundTripTime"] * 1000 for s in stats
            if s["type"] == "remote-inbound-rtp" and s.get("roundTripTime") is not None]
    pair = [s["currentRoundTripTime"] * 1000 for s in stats
            if s["type"] == "candidate-pair" and s.get("currentRoundTripTime") is not None]
    lost = sum(s.get("packetsLost") or 0 for s in stats if s["type"] == "remote-inbound-rtp")
    metrics = [Metric("browser_packets_lost", lost, "count", better="lower")]
    if rtts or pair:
        metrics.append(Metric("browser_rtt", round(max(rtts or pair), 2), "ms", better="lower"))
    return metrics


class BrowsersProbe:
    id = "browsers"
    title = "Browsers"
    description = "installed browsers and their versions against the TRTC Web SDK minimums"

    def deadline_s(self, config: Config) -> float:
        return 60.0 if config.browser_webrtc else 30.0

    async def run(self, config: Config) -> ProbeResult:
        entries = [judge_one(e) for e in await asyncio.to_thread(find)]
        details: dict[str, Any] = {"browsers": entries, "minimums_source": MINIMUMS_SOURCE,
                                   "minimums": {k: ".".join(map(str, m.version))
                                                for k, m in MINIMUMS.items()}}
        metrics: list[Metric] = [Metric("browsers_found", len(entries), "count")]
        statuses: list[Status] = []
        advice: list[Advice] = []
        if not entries:
            message = Message("browsers.none")
            statuses.append(Status.SKIP)
        else:
            old = [e for e in entries if e["verdict"] == "too_old"]
            unknown = [e for e in entries if e["verdict"] == "unknown"]
            good = [e for e in entries if e["verdict"] == "supported"]
            listing = ", ".join(f"{e['name']} {e['version'] or '?'}" for e in entries)
            if not good:
                statuses.append(Status.FAIL)
                message = Message("browsers.none-supported", {"list": listing})
            elif old or unknown:
                statuses.append(Status.WARN)
                message = Message("browsers.some-old", {"list": listing})
            else:
                statuses.append(Status.PASS)
                message = Message("browsers.ok", {"list": listing})
            if old or not good or not any(e["family"] == "chrome" for e in good):
                advice.append(Advice("browser-upgrade"))
        if config.browser_webrtc:
            chromium = next((e for e in entries if e["family"] == "chrome"
                             and e["verdict"] == "supported"), None)
            if chromium is None:
                details["webrtc"] = {"error": "no supported Chrome or Chromium to run"}
                statuses.append(Status.WARN)
            elif not config.echo_url:
                details["webrtc"] = {"error": "--browser-webrtc needs --echo-url (trtcdetect serve)"}
                statuses.append(Status.WARN)
            else:
                webrtc = await browser_webrtc(config, chromium["path"])
                details["webrtc"] = {"browser": chromium["path"], **webrtc}
                metrics += webrtc_metrics(webrtc)
                if webrtc.get("connected"):
                    message = Message("browsers.webrtc-ok", {"before": message.as_dict(),
                                                             "browser": chromium["name"]})
                else:
                    statuses.append(Status.FAIL)
                    message = Message("browsers.webrtc-failed", {
                        "before": message.as_dict(), "stage": webrtc.get("stage", "?"),
                        "error": webrtc.get("error", "")})
                    advice.append(Advice("call-no-connect", {"stage": str(webrtc.get("stage"))}))
        status = Status.SKIP if statuses == [Status.SKIP] else worst(statuses)
        return ProbeResult(self.id, self.title, status, message=message,
                           metrics=tuple(metrics), details=details, advice=tuple(advice))


PROBE = BrowsersProbe()
