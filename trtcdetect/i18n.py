"""Every sentence the report shows, in English and Chinese, by id.

Probes say what they found as a :class:`~trtcdetect.models.Message` (an id and its values); the
JSON keeps the id, the values and the English rendering; the HTML renders the language asked for.
Values from the outside world (host names, device names, error texts) are inserted as they are
and escaped by the HTML template, never formatted into markup here.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping
from typing import Any

LANGS = ("en", "zh")

#: summary sentences: id -> (English, Chinese); str.format fields name the message's values
MESSAGES: Mapping[str, tuple[str, str]] = {
    # runner
    "error": ("error: {reason}", "错误：{reason}"),
    # ports
    "ports.none": ("no ports to check", "没有需要检测的端口"),
    "ports.dns": ("{host} did not resolve: {error}", "{host} 无法解析：{error}"),
    "ports.all-open": ("all {count} ports answered", "全部 {count} 个端口均有响应"),
    "ports.none-open": ("no port of {host} answered ({count} checked)",
                        "{host} 的端口均无响应（共检测 {count} 个）"),
    "ports.some-open": ("{open} of {count} ports answered; not reachable: {which}",
                        "{count} 个端口中 {open} 个有响应；不可达：{which}"),
    "ports.lossy": ("every port answered, but the quality trains lost packets: {which}",
                    "所有端口均有响应，但质量测试有丢包：{which}"),
    # nat
    "nat.no-server": ("no STUN server to ask", "没有可询问的 STUN 服务器"),
    "nat.no-answer": ("no STUN server answered ({count} asked): the public address is unknown",
                      "STUN 服务器均无响应（共询问 {count} 个）：无法得知公网地址"),
    "nat.public": ("no NAT: this machine's address {address} is its public address",
                   "无 NAT：本机地址 {address} 即公网地址"),
    "nat.cone": ("behind NAT, public address {address}, mapping {mapping}: direct media should work",
                 "位于 NAT 之后，公网地址 {address}，映射方式 {mapping}：媒体应可直连"),
    "nat.symmetric": ("behind a NAT whose mapping changes per destination (public address {address}): a relay (TURN) will likely be needed",
                      "位于按目的地址改变映射的 NAT（对称型）之后（公网地址 {address}）：很可能需要中继（TURN）"),
    # url
    "url.none": ("no --url given", "未指定 --url"),
    "url.localhost": ("{url} is localhost: browsers allow camera and microphone there",
                      "{url} 是 localhost：浏览器允许使用摄像头和麦克风"),
    "url.plain-http": ("{url} is plain HTTP on another host: browsers will not give it camera or microphone",
                       "{url} 是其他主机上的 HTTP 地址：浏览器不会允许其使用摄像头或麦克风"),
    "url.unreachable": ("{url} cannot be reached securely: {error}", "{url} 无法安全访问：{error}"),
    "url.redirect-insecure": ("{url} {problem}: browsers will not give camera or microphone to the page",
                              "{url} 跳转到了不安全地址（{problem}）：浏览器不会允许页面使用摄像头或麦克风"),
    "url.fetch-failed": ("{url} could not be fetched: {problem}", "{url} 无法获取：{problem}"),
    "url.http-error": ("{url} answered HTTP {code}", "{url} 返回 HTTP {code}"),
    "url.ok": ("{url} is served over HTTPS (HTTP {code}, {ms:.0f} ms)",
               "{url} 通过 HTTPS 提供（HTTP {code}，{ms:.0f} 毫秒）"),
    "url.summary": ("{ok} of {count} pages can use camera and microphone; not: {which}",
                    "{count} 个页面中 {ok} 个可以使用摄像头和麦克风；不可以：{which}"),
    # domain
    "domain.step-failed": ("{step} step failed: {error}", "{step} 步骤失败：{error}"),
    "domain.cert-expiring": ("reachable, but the certificate expires in {days:.0f} days",
                             "可以访问，但证书将在 {days:.0f} 天后过期"),
    "domain.all-ok": ("all {count} hosts work over DNS, TCP, TLS and HTTPS",
                      "全部 {count} 个域名的 DNS、TCP、TLS 和 HTTPS 均正常"),
    "domain.hosts-bad": ("{bad} of {count} hosts have a problem: {which}",
                         "{count} 个域名中 {bad} 个有问题：{which}"),
    "domain.ok": ("DNS, TCP, TLS and HTTPS all work ({ms:.0f} ms in all)",
                  "DNS、TCP、TLS 和 HTTPS 均正常（共 {ms:.0f} 毫秒）"),
    # camera
    "camera.none": ("no camera found", "未找到摄像头"),
    "camera.not-at": ("no camera at {path}", "{path} 处没有摄像头"),
    "camera.unreachable": ("permission denied: this user may not reach {path}",
                           "权限不足：当前用户无法访问 {path}"),
    "camera.permission": ("permission denied: this user may not read {path}",
                          "权限不足：当前用户无法读取 {path}"),
    "camera.permission-group": (
        "permission denied: this user may not read {path} (join the group '{group}' and log in again)",
        "权限不足：当前用户无法读取 {path}（请加入 '{group}' 组并重新登录）"),
    "camera.cannot-open": (
        "the camera exists but cannot be opened (in use by another application, or not a video source)",
        "摄像头存在但无法打开（可能被其他应用占用，或不是视频源）"),
    "camera.no-frames": ("the camera opened but delivered no frames", "摄像头已打开但没有输出画面"),
    "camera.black": ("the camera delivers black frames ({ratio:.0%})", "摄像头输出黑屏画面（{ratio:.0%}）"),
    "camera.frozen": ("the picture is frozen ({ratio:.0%} of frames unchanged)",
                      "画面静止不动（{ratio:.0%} 的帧无变化）"),
    "camera.degraded": ("the camera works, but: {problems}", "摄像头可用，但：{problems}"),
    "camera.low-fps": ("{fps:.1f} fps", "{fps:.1f} 帧/秒"),
    "camera.low-resolution": ("{width}x{height} instead of {req_width}x{req_height}",
                              "实际 {width}x{height}，请求 {req_width}x{req_height}"),
    "camera.ok": ("the camera delivers {width}x{height} at {fps:.0f} fps",
                  "摄像头正常输出 {width}x{height}，{fps:.0f} 帧/秒"),
    # microphone
    "mic.portaudio": ("PortAudio is not installed, so no microphone can be opened",
                      "未安装 PortAudio，无法打开麦克风"),
    "mic.none": ("no microphone (input device) found", "未找到麦克风（输入设备）"),
    "mic.no-match": ("no input device matches {wanted!r}", "没有与 {wanted!r} 匹配的输入设备"),
    "mic.cannot-open": ("the microphone cannot be opened: {error}", "麦克风无法打开：{error}"),
    "mic.no-data": ("the microphone opened but delivered no audio", "麦克风已打开但没有采集到音频"),
    "audio.scan-hung": ("the audio system did not answer: listing the audio devices hung",
                        "音频系统无响应：列出音频设备时卡住"),
    "mic.no-data-stuck": ("the microphone opened but delivered no audio, and its driver would not let "
                          "go of it", "麦克风已打开但没有采集到音频，且其驱动无法释放该设备"),
    "mic.silent": ("the microphone is silent ({level:.0f} dBFS): muted or dead",
                   "麦克风无声（{level:.0f} dBFS）：已静音或损坏"),
    "mic.clipping": ("the microphone clips: {clipped} samples at full scale",
                     "麦克风削波：{clipped} 个采样达到满幅"),
    "mic.low": ("the microphone level is very low ({level:.0f} dBFS)", "麦克风音量很低（{level:.0f} dBFS）"),
    "mic.ok": ("the microphone captures sound ({level:.0f} dBFS RMS)", "麦克风采集正常（RMS {level:.0f} dBFS）"),
    # device probes
    "interrupted": ("interrupted", "已中断"),
    # speaker
    "speaker.no-sound": ("not played (--no-sound)", "未播放（--no-sound）"),
    "speaker.none": ("no speaker (output device) found", "未找到扬声器（输出设备）"),
    "speaker.cannot-open": ("the speaker cannot be opened: {error}", "扬声器无法打开：{error}"),
    "speaker.stalled": ("the speaker opened but did not take the sound", "扬声器已打开但未能播放声音"),
    "speaker.underruns": ("played, with {count} underruns (gaps in the sound)", "已播放，但有 {count} 次欠载（声音中断）"),
    "speaker.verified": ("played and heard back on {device} at {level:.0f} dBFS after {delay:.0f} ms",
                         "已播放，并在 {device} 上以 {level:.0f} dBFS 收到回声，延迟 {delay:.0f} 毫秒"),
    "speaker.not-verified": ("played, not verified: no input heard the sound",
                             "已播放，未验证：没有输入设备听到该声音"),
    # browsers
    "browsers.none": ("no browser found on this machine", "本机未发现浏览器"),
    "browsers.ok": ("supported: {list}", "均受支持：{list}"),
    "browsers.some-old": ("some browsers are too old or unknown: {list}", "部分浏览器版本过低或无法识别：{list}"),
    "browsers.none-supported": ("no browser here runs the TRTC Web SDK: {list}", "本机没有可运行 TRTC Web SDK 的浏览器：{list}"),
    "browsers.webrtc-ok": ("{before}; {browser}'s own WebRTC reached the echo peer", "{before}；{browser} 自身的 WebRTC 已连通回声服务"),
    "browsers.webrtc-failed": ("{before}; the browser's WebRTC failed at {stage}: {error}", "{before}；浏览器 WebRTC 在 {stage} 阶段失败：{error}"),
    # test call
    "call.no-connect": ("could not connect: {stage} {how}", "无法建立连接：{stage} {how}"),
    "call.failed": ("failed", "失败"),
    "call.not-within": ("not done within {seconds:g} s", "未在 {seconds:g} 秒内完成"),
    "call.no-media": ("connected, but no media came back", "已连接，但没有收到回传的媒体"),
    "call.signal-unreachable": ("echo peer unreachable: {error}", "无法访问回声服务：{error}"),
    "call.signal-http": ("echo peer answered HTTP {code}: {body}", "回声服务返回 HTTP {code}：{body}"),
    "call.signal-no-sdp": ("echo peer sent no SDP answer", "回声服务没有返回 SDP 应答"),
    "call.no-rtcp": ("call connected but no RTCP reports came back", "通话已建立，但没有收到 RTCP 报告"),
    "call.poor": ("call quality is poor: {numbers}", "通话质量差：{numbers}"),
    "call.degraded": ("call quality is degraded: {numbers}", "通话质量下降：{numbers}"),
    "call.ok": ("test call works: {numbers}", "测试通话正常：{numbers}"),
    "call.ok-local": ("local test call works: {numbers}", "本机回环测试通话正常：{numbers}"),
    "call.numbers": ("RTT {rtt:.0f} ms, jitter {jitter:.1f} ms, loss {loss:.1f} %, MOS {mos:.2f}",
                     "往返时延 {rtt:.0f} 毫秒，抖动 {jitter:.1f} 毫秒，丢包 {loss:.1f}%，MOS {mos:.2f}"),
}

TITLES: Mapping[str, tuple[str, str]] = {
    "ports": ("Firewall ports", "防火墙端口"),
    "domain": ("Media domain", "媒体域名"),
    "camera": ("Camera", "摄像头"),
    "microphone": ("Microphone", "麦克风"),
    "rtp": ("Test call", "测试通话"),
    "nat": ("NAT and public address", "NAT 与公网地址"),
    "speaker": ("Speaker", "扬声器"),
    "browsers": ("Browsers", "浏览器"),
    "url": ("Deployment page", "部署页面"),
}

#: the report's own words
UI: Mapping[str, tuple[str, str]] = {
    "heading": ("TRTC pre-call check", "TRTC 通话前检测"),
    "took": ("took", "耗时"),
    "machine": ("machine", "机器"),
    "interrupted": ("interrupted before all checks finished", "检测未全部完成即被中断"),
    "verdict.pass": ("Everything checked works: this machine is ready for TRTC calls.",
                     "所有检测项均正常：本机可以进行 TRTC 通话。"),
    "verdict.warn": ("Calls should work, but something will make them worse: see the warnings below.",
                     "通话应可进行，但有问题会影响质量：请查看下方警告。"),
    "verdict.fail": ("Calls are likely to fail from this machine: see what failed below and what to do.",
                     "本机很可能无法正常通话：请查看下方失败项及处理建议。"),
    "verdict.error": ("Some checks could not finish, so the result is incomplete: see below.",
                      "部分检测未能完成，结果不完整：请查看下方说明。"),
    "status.pass": ("pass", "通过"), "status.warn": ("warn", "警告"), "status.fail": ("fail", "失败"),
    "status.skip": ("skip", "跳过"), "status.error": ("error", "错误"),
    "check": ("Check", "检测项"), "result": ("Result", "结果"), "summary": ("Summary", "摘要"),
    "protocol": ("Protocol", "协议"), "port": ("Port", "端口"), "verdict": ("Verdict", "结论"),
    "rtt": ("RTT", "往返时延"), "evidence": ("Evidence", "依据"), "address": ("Address checked", "检测地址"),
    "step": ("Step", "步骤"), "time": ("Time", "耗时"),
    "ok": ("ok", "正常"), "failed": ("failed", "失败"), "not-run": ("not run", "未执行"),
    "metric": ("Metric", "指标"), "value": ("Value", "数值"), "limits": ("Limits", "阈值"),
    "warn-above": ("warn above", "高于此值警告"), "warn-below": ("warn below", "低于此值警告"),
    "fail-above": ("fail above", "高于此值失败"), "fail-below": ("fail below", "低于此值失败"),
    "what-to-do": ("What to do", "处理建议"), "raw": ("Raw details", "原始数据"),
    "devices": ("Devices found", "发现的设备"), "source": ("Source", "来源"),
    "resolution": ("Resolution", "分辨率"), "requested": ("requested", "请求"),
    "frame-rate": ("Frame rate", "帧率"), "measured": ("measured", "实测"),
    "claims": ("device claims", "设备标称"), "frames": ("frames", "帧"),
    "black": ("Black frames", "黑屏帧"), "frozen": ("Frozen frames", "静止帧"),
    "device": ("Device", "设备"), "level": ("Level", "电平"), "peak": ("peak", "峰值"),
    "noise-floor": ("noise floor", "底噪"), "clipped": ("Clipped samples", "削波采样"),
    "format": ("Format", "格式"), "signal-on": ("signal on", "有信号的声道"),
    "level-chart": ("level, dBFS", "电平，dBFS"), "per-step": ("one point per {step} s", "每 {step} 秒一个点"),
    "mode": ("Mode", "模式"), "mode.echo": ("echo peer at {url}", "回声服务 {url}"),
    "mode.local": ("local loopback (both ends in this process)", "本机回环（两端均在本进程内）"),
    "media": ("media", "媒体"), "failed-stage": ("Failed at the {stage} stage.", "在 {stage} 阶段失败。"),
    "packets": ("Packets", "数据包"),
    "packets-line": ("sent {sent}, lost on the way out {up_lost} ({up_pct} %); received {received}, lost on the way back {down_lost} ({down_pct} %)",
                     "发送 {sent}，上行丢失 {up_lost}（{up_pct}%）；接收 {received}，下行丢失 {down_lost}（{down_pct}%）"),
    "rtt-reports": ("from {n} receiver reports", "来自 {n} 个接收报告"),
    "counted-by": ("Loss on the way out counted by", "上行丢包统计来源"),
    "counted-by.far end": ("the far end, asked when media stopped", "对端（媒体停止时直接询问）"),
    "counted-by.receiver reports": ("the far end's RTCP receiver reports", "对端的 RTCP 接收报告"),
    "jitter-out": ("Jitter (out)", "抖动（上行）"), "jitter-back": ("Jitter (back)", "抖动（下行）"),
    "bitrate": ("Bitrate sent", "发送码率"), "over-call": ("over the call", "通话过程中"),
    "per-second": ("one point a second; gaps: no report yet", "每秒一个点；空缺：尚无报告"),
    "chart.rtt": ("Audio RTT", "音频往返时延"), "chart.jitter": ("Audio jitter", "音频抖动"),
    "chart.loss": ("Audio loss", "音频丢包"), "chart.bitrate": ("Audio bitrate", "音频码率"),
    "timeline": ("Set-up timeline", "建立过程时间线"),
    "playback": ("Playback", "播放"), "underruns": ("underruns", "欠载"),
    "latency": ("output latency", "输出延迟"), "loopback": ("Heard back on", "回录设备"),
    "not-heard": ("not heard", "未录到"), "browser": ("Browser", "浏览器"),
    "version": ("Version", "版本"), "minimum": ("Minimum", "最低版本"), "path": ("Path", "路径"),
    "browser.supported": ("supported", "支持"), "browser.too_old": ("too old", "版本过低"),
    "browser.unknown": ("unknown version", "版本未知"),
    "browser-webrtc": ("The browser's own WebRTC call to the echo peer", "浏览器自身 WebRTC 到回声服务的通话"),
    "public-address": ("Public address", "公网地址"), "yes": ("yes", "是"), "no": ("no", "否"),
    "sent": ("Sent", "发送"), "loss": ("Loss", "丢包"), "jitter": ("Jitter", "抖动"),
    "exit-code": ("Exit code", "退出码"), "schema": ("JSON schema version", "JSON 模式版本"),
    "faq": ("Known TRTCCalling errors and what they mean", "常见 TRTCCalling 报错及含义"),
    "faq.error": ("Message or symptom", "报错或现象"), "faq.cause": ("Cause", "原因"),
    "faq.fix": ("What to do", "解决方法"),
}

VERDICT_TEXT_ZH = {"open": "开放", "closed": "关闭", "no_answer": "无响应（开放或被过滤）", "error": "错误"}


def render(message_id: str, params: Mapping[str, Any], lang: str = "en") -> str:
    en, zh = MESSAGES[message_id]
    template = zh if lang == "zh" else en
    values = dict(params)
    # nested messages (e.g. the list of camera problems) are rendered in the same language
    for key, value in values.items():
        if isinstance(value, dict) and "id" in value and value["id"] in MESSAGES:
            values[key] = render(value["id"], value.get("params", {}), lang)
        elif isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value):
            values[key] = ("；" if lang == "zh" else "; ").join(
                render(v["id"], v.get("params", {}), lang) for v in value)
    return template.format_map(values)


def ui(key: str, lang: str = "en", **values: Any) -> str:
    en, zh = UI[key]
    return (zh if lang == "zh" else en).format_map(values)


def title(probe_id: str, fallback: str, lang: str = "en") -> str:
    pair = TITLES.get(probe_id)
    return (pair[1] if lang == "zh" else pair[0]) if pair else fallback


def default_lang() -> str:
    """zh when the locale says Chinese (LC_ALL, LC_MESSAGES, LANG), else en."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    code = locale.getlocale()[0] or ""
    return "zh" if code.lower().startswith("zh") else "en"
