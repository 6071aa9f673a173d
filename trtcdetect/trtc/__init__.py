"""Tencent's native TRTC SDK (PyPI `liteav`), run in a child process: `worker` (the child),
`session` (starting, feeding and ending it), `sdklog` (what its log says it tried), `events`
(a test call's figures). The probe that uses them is `probes/trtc.py`."""

from __future__ import annotations

import os

#: Switches Tencent's SDKs off, native and Web (test suites, machines where they must not dial
#: out): the trtc and trtcweb probes skip, the browsers probe leaves out Tencent's checks
DISABLE_ENV = "TRTCDETECT_NO_SDK"


def switched_off() -> bool:
    return bool(os.environ.get(DISABLE_ENV))

#: Domains of Tencent's TRTC cloud: a target under one of these is Tencent's (the built-in
#: profiles' hosts, the names the SDKs use: docs/tencent-sdks.md)
TENCENT_SUFFIXES = ("qq.com", "tencent-cloud.com", "tencent-cloud.net", "tencentcloud.com",
                    "qcloud.com", "myqcloud.com", "my-imcloud.com", "cloud-rtc.com",
                    "cloud-rtc.net", "rtc-web.com", "rtc-web.io", "whyrtc.com", "trtc.io")


def is_tencent(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == s or name.endswith("." + s) for s in TENCENT_SUFFIXES)
