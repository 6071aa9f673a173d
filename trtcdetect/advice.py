"""Remedies by cause, in English and Chinese, drawn from the TRTC documents.

Sources (copies in ../shared/seeds): "TRTCCalling Web 语音通话" (环境要求: the firewall port and
domain list; URL 域名协议限制: the HTTPS-or-localhost rule) and the TRTCCalling Web FAQ.
A probe names a cause by id with the values its text needs; renderers pick the language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .models import Advice


@dataclass(frozen=True)
class Remedy:
    en: str
    zh: str


REMEDIES: Mapping[str, Remedy] = {
    "whitelist-udp": Remedy(
        en=(
            "Ask the network administrator to allow outbound UDP to {host} on ports {ports}. "
            "Without them media falls back to TCP or a relay, with higher delay."
        ),
        zh=(
            "请网络管理员放通到 {host} 的出站 UDP 端口 {ports}（加入防火墙白名单）。"
            "否则媒体只能回退到 TCP 或中转，延迟更高。"
        ),
    ),
    "whitelist-tcp": Remedy(
        en="Ask the network administrator to allow outbound TCP to {host} on ports {ports}.",
        zh="请网络管理员放通到 {host} 的出站 TCP 端口 {ports}（加入防火墙白名单）。",
    ),
    "whitelist-domain": Remedy(
        en=(
            "Allow the domain {host} (DNS and HTTPS on TCP 443) through the firewall or proxy; "
            "TRTCCalling needs it to reach the media servers."
        ),
        zh="请在防火墙或代理上放通域名 {host}（DNS 解析及 TCP 443 的 HTTPS 访问），TRTCCalling 需要它连接媒体服务器。",
    ),
    "dns-failure": Remedy(
        en=(
            "The name {host} did not resolve ({error}). Check the DNS server settings of this "
            "machine, or ask the network administrator whether DNS for this domain is blocked."
        ),
        zh="域名 {host} 无法解析（{error}）。请检查本机的 DNS 设置，或询问网络管理员该域名的解析是否被拦截。",
    ),
    "tls-untrusted": Remedy(
        en=(
            "The TLS certificate of {host} was not accepted ({error}). A proxy that inspects "
            "HTTPS, a wrong system clock or a missing CA certificate are the usual causes: check "
            "the clock, and ask whether a proxy rewrites HTTPS."
        ),
        zh=(
            "{host} 的 TLS 证书未通过验证（{error}）。常见原因：中间代理解密 HTTPS、系统时间错误或缺少 CA 证书。"
            "请检查系统时间，并确认是否有代理改写 HTTPS。"
        ),
    ),
    "cert-expiring": Remedy(
        en="The certificate of {host} expires in {days} days; renew it before it does.",
        zh="{host} 的证书将在 {days} 天后过期，请及时续期。",
    ),
    "network-unreachable": Remedy(
        en=(
            "Nothing on {host} was reachable. Check that this machine is online and that a "
            "firewall does not block all traffic to the TRTC servers."
        ),
        zh="无法连通 {host} 的任何端口。请确认本机已联网，且防火墙未拦截到 TRTC 服务器的全部流量。",
    ),
    "probe-error": Remedy(
        en="This check could not finish ({error}). Run it again; if it repeats, send this report to support.",
        zh="该项检测未能完成（{error}）。请重新运行；如仍出现，请将本报告发给技术支持。",
    ),
}


def render(advice: Advice, lang: str = "en") -> str:
    """The remedy text for `advice` in `lang` ("en" or "zh"), with its values filled in."""
    remedy = REMEDIES[advice.id]
    text = remedy.zh if lang == "zh" else remedy.en
    return text.format_map(dict(advice.params))
