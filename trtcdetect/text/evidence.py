"""Error texts as evidence, in the reader's language.

Probes record what went wrong as text (JSON `error` fields stay English: monitoring parses
them). For a Chinese reader, the parts trtcdetect wrote itself are said in Chinese and what
the outside world said (the kernel's, OpenSSL's, a server's words) is quoted as it was, in
「」: evidence is never translated, and never mistaken for the report's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _quote(text: str) -> str:
    text = text.strip()
    return f"「{text}」" if text else ""


#: trtcdetect's own error texts (net/, probes/) -> Chinese; what they quote stays quoted
_ZH: list[Rule] = [
    (re.compile(r"^no answer to (\d+) STUN requests in ([\d.]+) s$"),
     lambda m: f"发送 {m[1]} 个 STUN 请求，{m[2]} 秒内均无响应"),
    (re.compile(r"^no answer within ([\d.]+) s$"), lambda m: f"{m[1]} 秒内无响应"),
    (re.compile(r"^no response within ([\d.]+) s$"), lambda m: f"{m[1]} 秒内无响应"),
    (re.compile(r"^certificate not trusted: (.*)$", re.S), lambda m: f"证书不受信任：{_quote(m[1])}"),
    (re.compile(r"^handshake timed out$"), lambda m: "TLS 握手超时"),
    (re.compile(r"^handshake failed: (.*)$", re.S), lambda m: f"TLS 握手失败：{_quote(m[1])}"),
    (re.compile(r"^connection lost: (.*)$", re.S), lambda m: f"连接中断：{_quote(m[1])}"),
    (re.compile(r"^not an HTTP response: (.*)$", re.S), lambda m: f"不是 HTTP 响应：{_quote(m[1])}"),
    (re.compile(r"^blocked on this computer: (.*)$", re.S),
     lambda m: f"被本机拦截：{_quote(m[1])}"),
    (re.compile(r"^DNS lookup timed out after ([\d.]+) s(?: \(no answer from the DNS server "
                r"(\S+)\))?$"),
     lambda m: f"DNS 查询超时（{m[1]} 秒）" + (f"：DNS 服务器 {m[2]} 没有响应" if m[2] else "")),
    (re.compile(r"^DNS: (.*)$", re.S), lambda m: f"DNS：{evidence(m[1], 'zh')}"),
    (re.compile(r"^(\S+) does not exist \(NXDOMAIN from (\S+)\)$"),
     lambda m: f"{m[1]} 不存在（来自 {m[2]} 的 NXDOMAIN）"),
    (re.compile(r"^the DNS server (\S+) refused to answer \(REFUSED\)$"),
     lambda m: f"DNS 服务器 {m[1]} 拒绝应答（REFUSED）"),
    (re.compile(r"^the DNS server (\S+) failed to answer \(SERVFAIL\)$"),
     lambda m: f"DNS 服务器 {m[1]} 应答失败（SERVFAIL）"),
    (re.compile(r"^the DNS server (\S+) did not answer within ([\d.]+) s$"),
     lambda m: f"DNS 服务器 {m[1]} 在 {m[2]} 秒内没有响应"),
    (re.compile(r"^no route to the DNS server (\S+) \((.*)\)$"),
     lambda m: f"无法路由到 DNS 服务器 {m[1]}（{_quote(m[2])}）"),
    (re.compile(r"^this computer blocks DNS to (\S+) \((.*)\)$"),
     lambda m: f"本机拦截了发往 {m[1]} 的 DNS 请求（{_quote(m[2])}）"),
    (re.compile(r"^(\S+) has no address records \(NODATA for A and AAAA from (\S+)\)$"),
     lambda m: f"{m[1]} 没有地址记录（来自 {m[2]} 的 A 和 AAAA 均为 NODATA）"),
    (re.compile(r"^name does not exist \(NXDOMAIN\)$"), lambda m: "域名不存在（NXDOMAIN）"),
    (re.compile(r"^no default route$"), lambda m: "没有默认路由"),
    (re.compile(r"^temporary DNS failure \(no answer from the DNS server\)$"),
     lambda m: "DNS 临时故障（DNS 服务器没有响应）"),
]


def evidence(text: str, lang: str = "en") -> str:
    """`text` for a reader of `lang`: unchanged in English; in Chinese, trtcdetect's own words
    translated and the outside world's quoted."""
    if lang != "zh" or not text:
        return text
    for pattern, render in _ZH:
        match = pattern.match(text)
        if match:
            return render(match)
    if not re.search(r"[A-Za-z]{2,}", text):
        return text
    return _quote(text)
