"""Real headless Chromium driven over the DevTools protocol, as an end user's browser.

The browser runs in a lab namespace (no route out) with `--remote-debugging-pipe`: commands go
in on its fd 3 and answers come out on fd 4, NUL-separated JSON, so the test drives a browser in
another network namespace without a port. Fake media devices carry known content (a y4m clip
and a wav file made by ffmpeg; see BROWSER-LAB facts in docs/testing.md). The profile is removed
and the browser's process group ended on close, also after a failure.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--ignore-certificate-errors", "--use-fake-device-for-media-stream",
         "--autoplay-policy=no-user-gesture-required",
         "--disable-features=WebRtcHideLocalIpsWithMdns",
         # every tab is a user's foreground tab: no throttled timers in the others
         "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
         "--disable-backgrounding-occluded-windows")


def clip(path: Path, source: str, seconds: float = 3) -> Path:
    """A fake device's content made by ffmpeg's lavfi `source` (a .y4m path: video, a .wav:
    audio), e.g. color=c=black:s=640x480:r=30, testsrc=s=640x480:r=30, sine=frequency=440,
    anullsrc=r=48000:cl=mono."""
    if path.suffix == ".y4m":
        args = ["-pix_fmt", "yuv420p"]
    else:
        args = ["-ar", "48000", "-ac", "1"]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
                    "-t", str(seconds), *args, str(path)], check=True, timeout=60)
    return path


class Browser:
    def __init__(self, prefix: Sequence[str], flags: Sequence[str] = ()) -> None:
        self.profile = tempfile.mkdtemp(prefix="tdcdp-")
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()

        def fds() -> None:
            os.dup2(commands_r, 3)
            os.dup2(answers_w, 4)
            os.setsid()

        binary = shutil.which("chromium") or "chromium"
        self.proc = subprocess.Popen(
            [*prefix, binary, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             *flags, "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_r)
        os.close(answers_w)
        self._next = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30,
             session: bool | str = True) -> dict[str, Any]:
        """A command to the browser (session False), to the tab last opened (True), or to the
        tab of that session id."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if isinstance(session, str):
            message["sessionId"] = session
        elif session and self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        end = time.monotonic() + timeout
        while True:
            for reply in self._read(end):
                if reply.get("id") == self._next:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    result: dict[str, Any] = reply.get("result", {})
                    return result
                self.events.append(reply)

    def _read(self, end: float) -> list[dict[str, Any]]:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the browser did not answer in time")
        ready, _, _ = select.select([self._answers], [], [], left)
        if not ready:
            raise TimeoutError("the browser did not answer in time")
        chunk = os.read(self._answers, 1 << 20)
        if not chunk:
            raise RuntimeError("the browser closed its DevTools pipe (did it start?)")
        self._buffer += chunk
        *whole, self._buffer = self._buffer.split(b"\0")
        return [json.loads(m) for m in whole if m]

    def open(self, url: str, phone: tuple[int, int] | None = None) -> str:
        """A new tab at `url`, and this driver attached to it; with `phone` (width, height) the
        tab is a phone's screen (touch, device pixels 2:1) before the page loads."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                       "flatten": True}, session=False)
        self.session = attached["sessionId"]
        if phone is not None:
            self.send("Emulation.setDeviceMetricsOverride", {
                "width": phone[0], "height": phone[1], "deviceScaleFactor": 2, "mobile": True})
            self.send("Emulation.setTouchEmulationEnabled", {"enabled": True})
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})
        return self.session

    def evaluate(self, expression: str, timeout: float = 30, tab: str | None = None) -> Any:
        """`expression` in the page (the last opened, or session `tab`'s) as a user's action
        (userGesture: a click counts), awaited."""
        answer = self.send("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "userGesture": True,
            "returnByValue": True, "timeout": int(timeout * 1000)}, timeout=timeout + 5,
            session=tab or True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"page: {answer['exceptionDetails']}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 40, tab: str | None = None) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = self.evaluate(expression, tab=tab)
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"{expression} stayed false for {timeout} s")

    def screenshot(self, path: Path) -> Path:
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        for fd in (self._commands, self._answers):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
