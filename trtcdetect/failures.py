"""What went wrong, as values: a `Failure` is a kind (one of `Kind`) and its parameters.

A probe that fails says so with a `Failure`, not with a sentence: the judge and the diagnosis
read its kind and parameters, the report says it in the reader's language, and the JSON
document carries its English text (an `error` string, as monitoring has always parsed it).

Each kind is declared once, with its English and Chinese wording. The English wording is also
the grammar by which a document read back from JSON (`render`, the check page's uploads)
becomes a `Failure` again: `Failure.read` is made from the same declarations, so a text
trtcdetect writes is always read back as the kind it was (a test writes and reads every kind).
Words from the outside world (the kernel's, OpenSSL's, a server's) are parameters, never
translated: in Chinese they are quoted as they were, in 「」.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: what a parameter looks like in English text, by its name (anything else: any text)
_SHAPES = {
    "seconds": r"[\d.]+",
    "count": r"\d+",
    "code": r"\d+",
    "family": r"[46]",
    "server": r"\S+",
    "host": r"\S+",
    "target": r"\S+",
    # an IPv4 or IPv6 address, or a URL: never the first word of someone else's sentence
    "where": r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*|[a-z][a-z0-9+.-]*://\S+)",
}
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Wording:
    """A kind's words. `quoted`: parameters that are someone else's words (quoted in Chinese);
    `nested`: parameters that are themselves failures (said in the reader's language)."""

    en: str
    zh: str
    quoted: frozenset[str] = frozenset()
    nested: frozenset[str] = frozenset()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_FIELD.findall(self.en)))

    def pattern(self) -> re.Pattern[str]:
        parts: list[str] = []
        last = 0
        for match in _FIELD.finditer(self.en):
            parts.append(re.escape(self.en[last:match.start()]))
            if f"(?P<{match[1]}>" in "".join(parts):  # named twice: the same text again
                parts.append(f"(?P={match[1]})")
            else:
                shape = _SHAPES.get(match[1], ".*?" if match.end() < len(self.en) else ".*")
                parts.append(f"(?P<{match[1]}>{shape})")
            last = match.end()
        parts.append(re.escape(self.en[last:]))
        return re.compile("".join(parts), re.S)


def _w(en: str, zh: str, quoted: Iterable[str] = (), nested: Iterable[str] = ()) -> Wording:
    return Wording(en, zh, frozenset(quoted), frozenset(nested))


class Kind(enum.Enum):
    """Every way trtcdetect says something went wrong. Order matters only for reading text
    back: the first kind whose English matches wins, so a narrow kind comes before a wide one."""

    # sockets and ports
    BLOCKED_HERE = _w("blocked on this computer: {said}", "被本机拦截：{said}", quoted={"said"})
    NO_ANSWER = _w("no answer within {seconds} s", "{seconds} 秒内无响应")
    STUN_SILENT = _w("no answer to {count} STUN requests in {seconds} s",
                     "发送 {count} 个 STUN 请求，{seconds} 秒内均无响应")
    NOT_STUN = _w("answered with {count} bytes that are not STUN",
                  "以 {count} 字节作答，但不是 STUN")
    STUN_ERROR = _w("STUN error response {code}", "STUN 错误响应 {code}")
    NO_ADDRESS = _w("no address to connect to", "没有可连接的地址")
    # TLS and HTTP
    UNTRUSTED = _w("certificate not trusted: {said}", "证书不受信任：{said}", quoted={"said"})
    HANDSHAKE_TIMEOUT = _w("handshake timed out", "TLS 握手超时")
    HANDSHAKE_FAILED = _w("handshake failed: {said}", "TLS 握手失败：{said}", quoted={"said"})
    NO_RESPONSE = _w("no response within {seconds} s", "{seconds} 秒内无响应")
    CLOSED_SILENT = _w("the server closed the connection without a response",
                       "服务器未作响应就关闭了连接")
    NOT_HTTP = _w("not an HTTP response: {said}", "不是 HTTP 响应：{said}", quoted={"said"})
    CONNECTION_LOST = _w("connection lost: {said}", "连接中断：{said}", quoted={"said"})
    # a proxy on the way
    PROXY_UNRESOLVED = _w("the proxy {host} did not resolve: {said}",
                          "代理 {host} 无法解析：{said}", quoted={"said"})
    PROXY_SILENT = _w("the proxy does not answer: {cause}", "代理没有响应：{cause}",
                      nested={"cause"})
    CONNECT_SILENT = _w("no answer to CONNECT within {seconds} s", "{seconds} 秒内 CONNECT 无响应")
    CONNECT_FAILED = _w("CONNECT failed: {said}", "CONNECT 失败：{said}", quoted={"said"})
    CONNECT_UNANSWERED = _w("the proxy refused CONNECT {target}: no answer",
                            "代理拒绝了 CONNECT {target}：没有应答")
    CONNECT_REFUSED = _w("the proxy refused CONNECT {target}: {said}",
                         "代理拒绝了 CONNECT {target}：{said}", quoted={"said"})
    # DNS, from getaddrinfo and from asking the configured servers
    DNS_TIMEOUT_SERVER = _w(
        "DNS lookup timed out after {seconds} s (no answer from the DNS server {server})",
        "DNS 查询超时（{seconds} 秒）：DNS 服务器 {server} 没有响应")
    DNS_TIMEOUT = _w("DNS lookup timed out after {seconds} s", "DNS 查询超时（{seconds} 秒）")
    DNS = _w("DNS: {cause}", "DNS：{cause}", nested={"cause"})
    NXDOMAIN_FROM = _w("{host} does not exist (NXDOMAIN from {server})",
                       "{host} 不存在（来自 {server} 的 NXDOMAIN）")
    REFUSED = _w("the DNS server {server} refused to answer (REFUSED)",
                 "DNS 服务器 {server} 拒绝应答（REFUSED）")
    SERVFAIL = _w("the DNS server {server} failed to answer (SERVFAIL)",
                  "DNS 服务器 {server} 应答失败（SERVFAIL）")
    DNS_SILENT = _w("the DNS server {server} did not answer within {seconds} s",
                    "DNS 服务器 {server} 在 {seconds} 秒内没有响应")
    DNS_NO_ROUTE = _w("no route to the DNS server {server} ({said})",
                      "无法路由到 DNS 服务器 {server}（{said}）", quoted={"said"})
    DNS_BLOCKED_HERE = _w("this computer blocks DNS to {server} ({said})",
                          "本机拦截了发往 {server} 的 DNS 请求（{said}）", quoted={"said"})
    DNS_UNASKABLE = _w("cannot ask the DNS server {server}: {said}",
                       "无法询问 DNS 服务器 {server}：{said}", quoted={"said"})
    NODATA_FROM = _w("{host} has no address records (NODATA for A and AAAA from {server})",
                     "{host} 没有地址记录（来自 {server} 的 A 和 AAAA 均为 NODATA）")
    NXDOMAIN = _w("name does not exist (NXDOMAIN)", "域名不存在（NXDOMAIN）")
    DNS_AGAIN = _w("temporary DNS failure (no answer from the DNS server)",
                   "DNS 临时故障（DNS 服务器没有响应）")
    GAI_FAIL = _w("DNS server failure (SERVFAIL or refused)", "DNS 服务器故障（SERVFAIL 或拒绝）")
    NODATA = _w("name has no address records", "域名没有地址记录")
    NO_DNS_SERVER = _w("no DNS server is configured (/etc/resolv.conf)",
                       "没有配置 DNS 服务器（/etc/resolv.conf）")
    NO_FAMILY = _w("{host} has no IPv{family} address (-{family}; it has {addresses})",
                   "{host} 没有 IPv{family} 地址（-{family}；它有 {addresses}）")
    NO_ADDRESS_RECORD = _w("DNS returned no IPv4 or IPv6 address", "DNS 没有返回 IPv4 或 IPv6 地址")
    # a page and its redirects
    REDIRECTS_TO = _w("redirects to {where}", "重定向到 {where}")
    TOO_MANY_REDIRECTS = _w("more than {count} redirects", "重定向超过 {count} 次")
    HTTP_ERROR = _w("{where} answers HTTP {code}", "{where} 返回 HTTP {code}")
    # the path
    NO_DEFAULT_ROUTE = _w("no default route", "没有默认路由")
    # one attempt among several (an address, a URL), and all of them
    EACH = _w("{first}; {rest}", "{first}；{rest}", nested={"first", "rest"})
    AT = _w("{where}: {cause}", "{where}：{cause}", nested={"cause"})
    # a probe that did not finish
    TIMED_OUT = _w("timed out after {seconds} s", "{seconds} 秒后超时")
    INNER_TIMEOUT = _w("TimeoutError inside the probe", "检测项内部超时（TimeoutError）")
    INTERRUPTED = _w("interrupted", "已中断")
    NO_REASON = _w("no reason given", "没有给出原因")
    # words that are not trtcdetect's: quoted as they were
    SAID = _w("{said}", "{said}", quoted={"said"})


#: the most attempts one failure lists (the addresses a name has), and the deepest nesting
#: trtcdetect writes (DNS: an address: ...) with room to spare: a document's text with more is
#: read as someone else's words, whatever it holds (a document is outside input)
MAX_EACH = 32
MAX_DEPTH = 40
#: each kind's grammar, in the order they are tried
_PATTERNS = [(kind, kind.value.pattern()) for kind in Kind]


class Failure:
    """One thing that went wrong: `kind` and the values its wording names (str, or a nested
    `Failure` where the wording nests one). Not a dataclass on purpose: msgspec would write
    one as an object, and the document has always carried an error as its text
    (evidence.encode_hook)."""

    __slots__ = ("kind", "params")

    def __init__(self, kind: Kind, params: tuple[tuple[str, str | Failure], ...] = ()) -> None:
        self.kind = kind
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Failure) and (self.kind, self.params) == (other.kind,
                                                                             other.params)

    def __hash__(self) -> int:
        return hash((self.kind, self.params))

    def __repr__(self) -> str:
        return f"Failure({self.kind.name}, {str(self)!r})"

    @classmethod
    def of(cls, kind: Kind, **params: Any) -> Failure:
        wording = kind.value
        missing = set(wording.fields) - set(params)
        extra = set(params) - set(wording.fields)
        if missing or extra:
            raise ValueError(f"{kind.name} takes {', '.join(wording.fields) or 'nothing'}")
        return cls(kind, tuple((name, _param(params[name], name in wording.nested))
                               for name in wording.fields))

    @classmethod
    def read(cls, text: str, depth: int = 0) -> Failure:
        """The failure a text says, as trtcdetect wrote it (documents read back from JSON);
        words of unknown origin are the outside world's (`SAID`). A document is outside
        input: failures nested deeper than trtcdetect nests them are someone else's words."""
        if depth > MAX_DEPTH:
            return said(text)
        for kind, pattern in _PATTERNS:
            match = pattern.fullmatch(text)
            if match is None:
                continue
            values = match.groupdict()
            if kind is Kind.EACH:
                if text.count("; ") > MAX_EACH:  # more addresses than a name has
                    continue
                # both halves must read as failures trtcdetect wrote, or it is someone's sentence
                if any(cls.read(values[n], depth + 1).kind is Kind.SAID
                       for n in ("first", "rest")):
                    continue
            return cls(kind, tuple(
                (name, cls.read(value, depth + 1) if name in kind.value.nested else value)
                for name, value in values.items()))
        return said(text)

    def get(self, name: str) -> str | Failure | None:
        return dict(self.params).get(name)

    def __str__(self) -> str:
        return self.kind.value.en.format_map({k: str(v) for k, v in self.params})

    def say(self, lang: str = "en") -> str:
        """In the reader's language: English as written; Chinese with trtcdetect's words
        translated and the outside world's quoted."""
        if lang != "zh":
            return str(self)
        if self.kind is Kind.SAID:
            text = str(self)
            return text if not re.search(r"[A-Za-z]{2,}", text) else _quote(text)
        wording = self.kind.value
        values: dict[str, str] = {}
        for name, value in self.params:
            if isinstance(value, Failure):
                values[name] = value.say(lang)
            elif name in wording.quoted:
                values[name] = _quote(value)
            else:
                values[name] = value
        zh: str = wording.zh.format_map(values)
        return zh


def said(text: str) -> Failure:
    """Someone else's words (the kernel's, a library's, a server's), as they were."""
    return Failure(Kind.SAID, (("said", text),))


def each(failures: Iterable[Failure]) -> Failure | None:
    """Several attempts that all failed (each address tried), in the order they were made."""
    items = list(failures)
    if not items:
        return None
    joined = items[-1]
    for item in reversed(items[:-1]):
        joined = Failure(Kind.EACH, (("first", item), ("rest", joined)))
    return joined


def say(error: str | Failure, lang: str = "en") -> str:
    """An error field (a document's text, or a value) in the reader's language."""
    if not error:
        return ""
    failure = error if isinstance(error, Failure) else Failure.read(error)
    return failure.say(lang)


def _param(value: Any, nested: bool) -> str | Failure:
    """A parameter as kept: a failure as it is (or, where one is nested, someone else's words);
    a number as the English text shows it."""
    if isinstance(value, Failure):
        return value
    if nested:
        return said(str(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _quote(text: str) -> str:
    text = text.strip()
    return f"「{text}」" if text else ""
