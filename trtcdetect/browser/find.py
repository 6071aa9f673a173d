"""Installed browsers, found without opening a window: on Linux each known binary's --version
(verified here); on macOS the app bundles' Info.plist and on Windows the registry's App Paths
(the same seam, not verified on those systems)."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

from ..evidence import Evidence

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
class Installed(Evidence, frozen=True, kw_only=True):
    """A browser found here: its family, the binary (or bundle, or exe) name, where it is, and
    what it said its version was."""

    family: str
    binary: str
    path: str
    version_text: str


class BrowserEntry(Evidence, frozen=True, kw_only=True):
    """A browser found here, and its version against TRTC Web's minimum for its family."""

    family: str
    binary: str
    path: str
    version_text: str
    version: str | None
    minimum: str
    name: str
    verdict: Literal["supported", "too_old", "unknown"]



def find_linux(path: str | None = None) -> list[Installed]:
    found: list[Installed] = []
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
            found.append(Installed(family=family, binary=name, path=binary,
                                   version_text=version_text[:200]))
    return found


def find_macos(apps: Path = Path("/Applications")) -> list[Installed]:
    found = []
    for family, bundles in MACOS_APPS.items():
        for bundle in bundles:
            plist = apps / bundle / "Contents" / "Info.plist"
            try:
                info = plistlib.loads(plist.read_bytes())
            except (OSError, plistlib.InvalidFileException):
                continue
            found.append(Installed(family=family, binary=bundle, path=str(apps / bundle),
                                   version_text=str(info.get("CFBundleShortVersionString", ""))))
    return found


def find_windows() -> list[Installed]:  # pragma: no cover - not testable on Linux
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
                found.append(Installed(family=family, binary=exe, path=path,
                                       version_text=version))
                break
    return found


def find() -> list[Installed]:
    if sys.platform == "darwin":
        return find_macos()
    if sys.platform == "win32":
        return find_windows()
    return find_linux()


def runs_headless(entry: BrowserEntry) -> bool:
    """A found browser that runs a page headless: Chrome, Chromium or Edge, new enough."""
    return entry.family in ("chrome", "edge") and entry.verdict == "supported"
