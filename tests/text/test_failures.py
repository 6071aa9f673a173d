"""Failures as values (trtcdetect/failures.py): every kind trtcdetect can write is read back as
the same kind with the same values, and is said in Chinese with only the outside world's words
left in English (quoted)."""

from __future__ import annotations

import pytest

from trtcdetect.evidence import DnsFailure, details, read
from trtcdetect.failures import Failure, Kind, each, said, say
from trtcdetect.models import Message
from trtcdetect.text import TextError
from trtcdetect.text.ids import S

from ..report.test_zh_complete import english_runs

#: a value of each parameter name, as a probe would give it (numbers as numbers)
VALUES: dict[str, object] = {
    "seconds": 2.5, "count": 3, "code": 401, "family": 6, "server": "10.0.0.53",
    "host": "qcloud.rtc.qq.com", "target": "qcloud.rtc.qq.com:443",
    "where": "https://a.test/page", "addresses": "192.0.2.1, 192.0.2.2",
    "said": "Connection reset by peer (errno 104)",
    "cause": Failure.of(Kind.NO_ANSWER, seconds=3.0),
    "first": Failure.of(Kind.AT, where="192.0.2.1", cause=said("Connection refused (errno 111)")),
    "rest": Failure.of(Kind.AT, where="2001:db8::1", cause=Failure.of(Kind.NO_ANSWER, seconds=3)),
}


def made(kind: Kind) -> Failure:
    return Failure.of(kind, **{name: VALUES[name] for name in kind.value.fields})


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.name)
def test_every_kind_is_read_back_as_itself(kind: Kind) -> None:
    failure = made(kind)
    assert Failure.read(str(failure)) == failure


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.name)
def test_every_kind_is_said_in_chinese(kind: Kind) -> None:
    zh = made(kind).say("zh")
    assert english_runs([zh]) == [], zh
    assert zh != str(made(kind)) or kind is Kind.SAID


#: what the report said in Chinese before failures were values (the regular expressions of
#: text/evidence.py, as they were): the same words now come from the kinds
BEFORE = [
    ("no answer to 3 STUN requests in 2.5 s", "发送 3 个 STUN 请求，2.5 秒内均无响应"),
    ("no answer within 2 s", "2 秒内无响应"),
    ("no response within 1.5 s", "1.5 秒内无响应"),
    ("certificate not trusted: certificate has expired (_ssl.c:1006)",
     "证书不受信任：「certificate has expired (_ssl.c:1006)」"),
    ("handshake timed out", "TLS 握手超时"),
    ("handshake failed: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
     "TLS 握手失败：「[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)」"),
    ("connection lost: Connection reset by peer (errno 104)",
     "连接中断：「Connection reset by peer (errno 104)」"),
    ("not an HTTP response: illegal request line", "不是 HTTP 响应：「illegal request line」"),
    ("blocked on this computer: Operation not permitted (errno 1)",
     "被本机拦截：「Operation not permitted (errno 1)」"),
    ("DNS lookup timed out after 3 s", "DNS 查询超时（3 秒）"),
    ("DNS lookup timed out after 3 s (no answer from the DNS server 10.0.0.53)",
     "DNS 查询超时（3 秒）：DNS 服务器 10.0.0.53 没有响应"),
    ("DNS: name does not exist (NXDOMAIN)", "DNS：域名不存在（NXDOMAIN）"),
    ("DNS: qcloud.rtc.qq.com does not exist (NXDOMAIN from 10.0.0.53)",
     "DNS：qcloud.rtc.qq.com 不存在（来自 10.0.0.53 的 NXDOMAIN）"),
    ("the DNS server 10.0.0.53 refused to answer (REFUSED)",
     "DNS 服务器 10.0.0.53 拒绝应答（REFUSED）"),
    ("the DNS server 10.0.0.53 failed to answer (SERVFAIL)",
     "DNS 服务器 10.0.0.53 应答失败（SERVFAIL）"),
    ("the DNS server 10.0.0.53 did not answer within 2 s", "DNS 服务器 10.0.0.53 在 2 秒内没有响应"),
    ("no route to the DNS server 10.0.0.53 (Network is unreachable)",
     "无法路由到 DNS 服务器 10.0.0.53（「Network is unreachable」）"),
    ("this computer blocks DNS to 10.0.0.53 (Operation not permitted)",
     "本机拦截了发往 10.0.0.53 的 DNS 请求（「Operation not permitted」）"),
    ("qcloud.rtc.qq.com has no address records (NODATA for A and AAAA from 10.0.0.53)",
     "qcloud.rtc.qq.com 没有地址记录（来自 10.0.0.53 的 A 和 AAAA 均为 NODATA）"),
    ("name does not exist (NXDOMAIN)", "域名不存在（NXDOMAIN）"),
    ("no default route", "没有默认路由"),
    ("temporary DNS failure (no answer from the DNS server)", "DNS 临时故障（DNS 服务器没有响应）"),
    ("Connection refused (errno 111)", "「Connection refused (errno 111)」"),
    ("42", "42"),
    ("", ""),
]


@pytest.mark.parametrize("text, zh", BEFORE)
def test_the_chinese_words_are_those_the_report_had(text: str, zh: str) -> None:
    assert say(text, "zh") == zh
    assert say(text, "en") == text


def test_someone_else_s_sentence_is_not_taken_for_trtcdetect_s() -> None:
    # a colon after a word, a semicolon in a library's words: quoted whole, never split
    for text in ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
                 "ConnectError: [Errno 111] Connection refused; retrying",
                 "DNSSEC: bad signature"):
        assert Failure.read(text) == said(text)


def test_each_address_tried_reads_back_in_order() -> None:
    tried = [Failure.of(Kind.AT, where=a, cause=said("No route to host (errno 113)"))
             for a in ("192.0.2.1", "192.0.2.2", "2001:db8::2")]
    joined = each(tried)
    assert joined is not None and Failure.read(str(joined)) == joined
    assert str(joined).count("; ") == 2
    assert joined.say("zh").count("；") == 2 and "「No route to host (errno 113)」" in joined.say("zh")
    assert each([]) is None


def test_a_hostile_text_is_read_quickly_and_as_someone_else_s() -> None:
    """A document is outside input: ten thousand parts that each look like trtcdetect's are not
    read recursively (that was a RecursionError), and a long text does not backtrack."""
    import time

    parts = "; ".join(["192.0.2.1: no answer within 1 s"] * 10_000)
    nested = "192.0.2.1: " * 10_000 + "no answer within 1 s"
    started = time.perf_counter()
    for text in (parts, nested, "x" * 200_000 + ": " + "y; " * 5_000):
        failure = Failure.read(text)  # no RecursionError
        assert str(failure) == text  # the text as it was, whatever it was read as
        assert "「" in failure.say("zh")  # and not all of it taken for trtcdetect's words
    assert time.perf_counter() - started < 2.0
    assert Failure.read(nested).kind is Kind.AT and Failure.read(parts).kind is Kind.AT


def test_a_failure_takes_exactly_its_values() -> None:
    with pytest.raises(ValueError, match="NO_ANSWER takes seconds"):
        Failure.of(Kind.NO_ANSWER)
    with pytest.raises(ValueError, match="takes nothing"):
        Failure.of(Kind.NO_DEFAULT_ROUTE, seconds=1)


def test_the_document_carries_the_text_and_reads_back_the_value() -> None:
    why = Failure.of(Kind.DNS_SILENT, server="10.0.0.53", seconds=2.0)
    written = details(DnsFailure(host="h.test", kind="timeout", error=why, server="10.0.0.53"))
    assert written["error"] == "the DNS server 10.0.0.53 did not answer within 2 s"
    back = read(DnsFailure, written)
    assert back.error == why and back.error.kind is Kind.DNS_SILENT
    assert back.error.get("server") == "10.0.0.53"


def test_a_message_writes_a_failure_as_its_text_and_refuses_one_it_would_show_in_english() -> None:
    why = Failure.of(Kind.HANDSHAKE_TIMEOUT)
    message = Message(S.DOMAIN_STEP_FAILED, {"step": "TLS", "error": why})
    assert message.as_dict()["params"]["error"] == "handshake timed out"
    assert "TLS 握手超时" in message.text("zh")
    with pytest.raises(TextError, match="'step' holds a failure"):
        Message(S.DOMAIN_STEP_FAILED, {"step": why, "error": "x"})
