"""The end user's browser against TRTC Web's platform table, from its user agent.

Source: TRTC Web SDK, Supported Platforms (https://trtc.io/document/59733; the Chinese
TRTCCalling Web page's 平台支持 table holds the desktop rows, docs/sources.md). The user agent
is the browser's own claim: what it says is judged here, and Tencent's own checks in the page
(TRTC.isSupported, rtc-detect) say what the browser can really do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLATFORM_SOURCE = "https://trtc.io/document/59733"


@dataclass(frozen=True)
class Row:
    os: str  # windows, macos, linux, chromeos, android, ios
    browser: str  # chrome, edge, firefox, safari, opera, qqbrowser, wechat, webview, chromium
    minimum: tuple[int, ...]
    #: the row says the browser may receive but not send (publish) below this version
    publish_from: tuple[int, ...] | None = None


#: (os, browser) -> the row. iOS versions are the system's (iOS browsers are all WebKit).
TABLE: dict[tuple[str, str], Row] = {
    (os, b): Row(os, b, m) for os in ("windows", "macos", "linux", "chromeos")
    for b, m in (("chrome", (56,)), ("firefox", (56,)), ("edge", (80,)), ("opera", (46,)),
                 ("chromium", (56,)), ("qqbrowser", (10, 4)))
}
TABLE[("macos", "safari")] = Row("macos", "safari", (11,))
for _b, _m in (("chrome", (79,)), ("edge", (80,)), ("firefox", (80,)), ("webview", (79,)),
               ("wechat", (79,))):
    TABLE[("android", _b)] = Row("android", _b, _m)
for _b in ("safari", "chrome", "edge", "firefox", "wechat", "webview"):
    TABLE[("ios", _b)] = Row("ios", _b, (11,), None if _b == "safari" else (14, 3))

NAMES = {"chrome": "Chrome", "edge": "Edge", "firefox": "Firefox", "safari": "Safari",
         "opera": "Opera", "qqbrowser": "QQ Browser", "wechat": "WeChat", "webview": "WebView",
         "chromium": "Chromium", "unknown": "?"}
OS_NAMES = {"windows": "Windows", "macos": "macOS", "linux": "Linux", "chromeos": "ChromeOS",
            "android": "Android", "ios": "iOS", "unknown": "?"}


@dataclass(frozen=True)
class Browser:
    family: str
    version: tuple[int, ...] | None
    os: str
    #: the version the table is read against: iOS's own for every iOS browser
    compared: tuple[int, ...] | None
    mobile: bool

    @property
    def name(self) -> str:
        shown = ".".join(map(str, self.version[:2])) if self.version else "?"
        return f"{NAMES.get(self.family, self.family)} {shown}"

    @property
    def os_name(self) -> str:
        return OS_NAMES.get(self.os, self.os)


def _version(pattern: str, ua: str) -> tuple[int, ...] | None:
    match = re.search(pattern, ua)
    if not match:
        return None
    return tuple(int(p) for p in re.split(r"[._]", match.group(1)) if p.isdigit())[:4] or None


def parse(ua: str) -> Browser:
    """The browser, its version and the operating system, as a user agent states them."""
    if re.search(r"iPhone|iPad|iPod", ua) or ("Macintosh" in ua and "Mobile/" in ua):
        os = "ios"
    elif "Android" in ua:
        os = "android"
    elif "CrOS" in ua:
        os = "chromeos"
    elif "Windows" in ua:
        os = "windows"
    elif "Mac OS X" in ua or "Macintosh" in ua:
        os = "macos"
    elif "Linux" in ua or "X11" in ua:
        os = "linux"
    else:
        os = "unknown"
    checks = (  # the most specific first: Edge and Opera say Chrome too, Chrome says Safari
        ("wechat", r"MicroMessenger/([\d.]+)"),
        ("qqbrowser", r"QQBrowser/([\d.]+)"),
        ("edge", r"Edg(?:e|A|iOS)?/([\d.]+)"),
        ("opera", r"OPR/([\d.]+)"),
        ("firefox", r"(?:Firefox|FxiOS)/([\d.]+)"),
        ("chrome", r"(?:CriOS|Chrome)/([\d.]+)"),
        ("chromium", r"Chromium/([\d.]+)"),
        ("safari", r"Version/([\d.]+).*Safari/"),
    )
    family, version = "unknown", None
    for name, pattern in checks:
        found = _version(pattern, ua)
        if found is not None:
            family, version = name, found
            break
    if family == "chrome" and os == "android" and "; wv)" in ua:
        family = "webview"
    if family == "unknown" and os == "ios" and "AppleWebKit" in ua:
        family = "webview"
    compared = version
    if os == "ios":
        compared = _version(r"OS (\d+[_.]\d+(?:[_.]\d+)?) like Mac OS X", ua)
    elif family == "wechat" and os == "android":
        compared = _version(r"Chrome/([\d.]+)", ua)
    return Browser(family, version, os, compared, os in ("android", "ios"))


@dataclass(frozen=True)
class Judged:
    browser: Browser
    row: Row | None
    #: supported, too_old, receive_only (this iOS may play but not send), unknown (no row)
    verdict: str

    @property
    def minimum(self) -> str:
        if self.row is None:
            return "-"
        shown = ".".join(map(str, self.row.minimum))
        return f"iOS {shown}" if self.row.os == "ios" else shown


def judge(browser: Browser) -> Judged:
    row = TABLE.get((browser.os, browser.family))
    if row is None and browser.family in ("chromium", "qqbrowser") and browser.os == "unknown":
        row = TABLE.get(("linux", browser.family))
    if row is None or browser.compared is None:
        return Judged(browser, row, "unknown")
    if browser.compared < row.minimum:
        return Judged(browser, row, "too_old")
    if row.publish_from is not None and browser.compared < row.publish_from:
        return Judged(browser, row, "receive_only")
    return Judged(browser, row, "supported")
