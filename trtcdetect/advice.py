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
    "portaudio-missing": Remedy(
        en="PortAudio, which trtcdetect uses to reach audio devices, is not installed. On Debian/Ubuntu install it with: apt-get install libportaudio2 (macOS: brew install portaudio).",
        zh="未安装 trtcdetect 访问音频设备所需的 PortAudio。Debian/Ubuntu 请执行：apt-get install libportaudio2（macOS：brew install portaudio）。",
    ),
    "mic-missing": Remedy(
        en="No microphone was found. Plug in a headset or microphone, check that the operating system lists it as an input device, and run the check again. TRTCCalling cannot start a call without one (\"获取用户设备权限失败\").",
        zh="未找到麦克风。请插入耳机或麦克风，确认操作系统已将其识别为输入设备后重新检测。没有麦克风时 TRTCCalling 无法发起通话（报错“获取用户设备权限失败”）。",
    ),
    "mic-cannot-open": Remedy(
        en="The microphone exists but could not be opened. Close other applications that may hold it (another call, a recorder), and grant microphone access: Windows Settings > Privacy > Microphone; macOS System Settings > Privacy & Security > Microphone; in Chrome, chrome://settings/content for the calling site.",
        zh="麦克风存在但无法打开。请关闭可能占用它的其他应用（其他通话、录音软件），并授予麦克风权限：Windows 设置 > 隐私 > 麦克风；macOS 系统设置 > 隐私与安全性 > 麦克风；Chrome 中访问 chrome://settings/content 为通话网站开启麦克风权限。",
    ),
    "mic-no-data": Remedy(
        en="The microphone opened but delivered no audio. Reconnect it, pick another input device, or restart the audio service; a driver problem is likely.",
        zh="麦克风已打开但没有采集到任何音频数据。请重新插拔、换用其他输入设备或重启音频服务，可能是驱动问题。",
    ),
    "mic-silent": Remedy(
        en="The microphone delivers silence: it is muted (a mute key or switch on the headset, or the input volume at zero) or not the one you speak into. Unmute it, raise the input volume, or choose the right input device.",
        zh="麦克风采集到的是静音：可能被静音（耳机上的静音键/开关，或输入音量为零），或者并非您正在使用的那个麦克风。请取消静音、调高输入音量或选择正确的输入设备。",
    ),
    "mic-low": Remedy(
        en="The microphone level is very low: the far end will hardly hear you. Raise the input volume or move closer to the microphone.",
        zh="麦克风音量很低，对方可能听不清。请调高输入音量或靠近麦克风。",
    ),
    "mic-clipping": Remedy(
        en="The microphone overloads (clips): your voice will sound distorted. Lower the input volume or turn off extra microphone boost.",
        zh="麦克风过载（削波），声音会失真。请调低输入音量或关闭麦克风增强。",
    ),
    "camera-missing": Remedy(
        en="No camera was found. Connect a camera and check that the operating system lists it; for an audio-only call none is needed. Starting a video call without one fails (\"getVideoTracks of null\").",
        zh="未找到摄像头。请连接摄像头并确认操作系统已识别；纯语音通话无需摄像头。没有摄像头时发起视频通话会失败（报错“getVideoTracks of null”）。",
    ),
    "camera-permission": Remedy(
        en="This user may not use the camera. On Linux add the user to the group that owns the device (usually 'video': sudo usermod -aG video USER, then log in again); on Windows allow camera access in Settings > Privacy > Camera; on macOS in System Settings > Privacy & Security > Camera; in Chrome allow the camera for the calling site at chrome://settings/content.",
        zh="当前用户无权使用摄像头。Linux：将用户加入设备所属的组（通常为 video：sudo usermod -aG video 用户名，然后重新登录）；Windows：设置 > 隐私 > 相机 中允许访问；macOS：系统设置 > 隐私与安全性 > 摄像头；Chrome：在 chrome://settings/content 中为通话网站开启摄像头权限。",
    ),
    "camera-busy": Remedy(
        en="The camera could not be opened: another application (another call, a meeting app, a browser tab) is probably using it. Close it and try again.",
        zh="摄像头无法打开，可能正被其他应用（其他通话、会议软件或浏览器标签页）占用。请关闭后重试。",
    ),
    "camera-no-frames": Remedy(
        en="The camera opened but sent no picture. Reconnect it, try another USB port, or restart the machine; a driver problem is likely.",
        zh="摄像头已打开但没有画面。请重新插拔、换一个 USB 口或重启电脑，可能是驱动问题。",
    ),
    "camera-black": Remedy(
        en="The camera sends black pictures: the lens is covered (privacy shutter or cover) or the camera is disabled by a key on the keyboard. Uncover or enable it.",
        zh="摄像头画面全黑：镜头可能被遮挡（隐私挡板或贴纸），或被键盘上的摄像头开关关闭。请移开遮挡或开启摄像头。",
    ),
    "camera-frozen": Remedy(
        en="The camera picture does not change (frozen). Reconnect the camera or restart the application that drives it.",
        zh="摄像头画面静止不动（卡住）。请重新插拔摄像头或重启驱动它的应用。",
    ),
    "camera-low-fps": Remedy(
        en="The camera delivers few frames per second: video will look jerky. Improve the lighting (cameras slow down in the dark), close other applications using the camera or the CPU, or use another USB port.",
        zh="摄像头帧率偏低，视频会卡顿。请改善光线（光线暗时摄像头会降帧）、关闭占用摄像头或 CPU 的应用，或换一个 USB 口。",
    ),
    "camera-low-resolution": Remedy(
        en="The camera delivers a lower resolution than requested: the far end will see a smaller picture. Use a better camera or request a resolution it supports.",
        zh="摄像头实际分辨率低于请求的分辨率，对方看到的画面会较小。请更换摄像头或选择其支持的分辨率。",
    ),
    "call-no-connect": Remedy(
        en="The test call could not connect ({stage} stage). For ICE and DTLS: a firewall drops the UDP media ports or the traffic between this machine and the media server; allow the UDP ports listed in the ports check. For signalling: check the echo peer's URL and token.",
        zh="测试通话无法建立（{stage} 阶段）。ICE/DTLS 阶段失败：防火墙拦截了 UDP 媒体端口或本机与媒体服务器之间的流量，请放通端口检测中列出的 UDP 端口。信令阶段失败：请检查回声服务的 URL 和令牌。",
    ),
    "call-poor": Remedy(
        en="The test call works, but its quality is low: high delay, jitter or packet loss. Use a wired connection instead of Wi-Fi, close downloads and other calls, and move closer to the access point; if it persists, ask the network administrator about congestion or a VPN in the path.",
        zh="测试通话可以建立，但质量较差：延迟、抖动或丢包偏高。请改用有线网络、关闭下载和其他通话、靠近无线路由器；若仍如此，请询问网络管理员是否存在拥塞或 VPN。",
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
