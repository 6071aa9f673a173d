"""Known TRTCCalling errors and symptoms from the FAQ, their causes and fixes (en/zh).

Source: the TRTCCalling Web FAQ (https://cloud.tencent.com/document/product/647/62484); shown in every
report so a support person can match what the user saw.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Text as Remedy


@dataclass(frozen=True)
class KnownError:
    """A TRTCCalling error message or symptom from the FAQ, its cause and its fix."""

    symptom: str | Remedy  # an error message as it appears (str), or a symptom in words
    cause: Remedy
    fix: Remedy


KNOWN_ERRORS: tuple[KnownError, ...] = (
    KnownError(
        "NO_RESP",
        Remedy(en="The invitation timed out, or the callee is not online.",
               zh="邀请者超时，或被邀请者不在线。"),
        Remedy(en="Handle the event by its cause: ask the callee to log in, or call again.",
               zh="请根据触发条件进行事件处理：让被叫登录后重试，或重新呼叫。"),
    ),
    KnownError(
        "Error: TRTCCalling.call - 获取用户设备权限失败",
        Remedy(en="TRTCCalling has no permission for the camera/microphone, or there is no such device.",
               zh="TRTCCalling 没有设备权限或者没有对应设备。"),
        Remedy(en="Run this check (camera and microphone), and allow the camera and microphone for the calling site at chrome://settings/content.",
               zh="使用本工具检测摄像头和麦克风，并在 Chrome 的网站设置（chrome://settings/content）中为通话网站开启摄像头/麦克风权限。"),
    ),
    KnownError(
        "TypeError: Cannot read property 'getVideoTracks' of null",
        Remedy(en="The call was accepted before permission for the camera and microphone was granted.",
               zh="用户在接受通话时，还没有获取到摄像头和麦克风权限。"),
        Remedy(en="Start devices asynchronously (startLocalView/startRemoteView), or upgrade TRTCCalling to 1.0.0 or later.",
               zh="使用 startRemoteView、startLocalView 等设备方法时使用异步方式，或升级 TRTCCalling 至 1.0.0 及以上。"),
    ),
    KnownError(
        Remedy(en="Works on localhost, fails when the page is opened by the server's IP", zh="在 localhost 上正常，用服务器 IP 打开页面时失败"),
        Remedy(en="The page is served over plain HTTP: browsers allow the camera and microphone only over HTTPS or on http://localhost / 127.0.0.1.",
               zh="通过 IP 访问时使用的是 HTTP 协议：浏览器只在 HTTPS 或 http://localhost、127.0.0.1 下允许使用摄像头和麦克风。"),
        Remedy(en="Serve the page over HTTPS (TRTCCalling must run under HTTPS or localhost).",
               zh="TRTCCalling SDK 需在 HTTPS 或 localhost 环境下运行，请为页面配置 HTTPS。"),
    ),
    KnownError(
        "Chrome 90+: \"不支持，TRTCClient.您的浏览器不兼容此应用\"",
        Remedy(en="The IM SDK is too old and its browser check is incomplete.",
               zh="IM 版本过低，检测机制有所缺失。"),
        Remedy(en="Upgrade the IM SDK (tim-js-sdk).", zh="建议升级 IM 版本。"),
    ),
    KnownError(
        Remedy(en="No sound from the other side in WeChat's browser on iPhone", zh="iPhone 微信浏览器中听不到对方声音"),
        Remedy(en="Autoplay is restricted.", zh="自动播放受限。"),
        Remedy(en="Upgrade TRTCCalling to 1.0.0 or later, which handles it.",
               zh="calling 在 1.0.0 版本已处理，建议升级至 1.0.0 及之后的版本。"),
    ),
    KnownError(
        "TSignaling._onMessageReceived unknown bussinessID=undefined",
        Remedy(en="An old tsignaling version with broken signalling.", zh="tsignaling 版本过旧，旧版本信令有问题。"),
        Remedy(en="Upgrade tsignaling; the new file is named tsignaling-js.",
               zh="升级 tsignaling，注意新版本文件名为 tsignaling-js。"),
    ),
    KnownError(
        Remedy(en="Callee logs the call but handleNewInvitationReceived never fires", zh="被叫端日志显示有呼叫，但 handleNewInvitationReceived 从未触发"),
        Remedy(en="TRTCCalling <= 0.6.0 and tsignaling <= 0.3.0 are too old.",
               zh="TRTCCalling <= 0.6.0 和 Tsignaling <= 0.3.0 版本过低。"),
        Remedy(en="Upgrade TRTCCalling and tsignaling to the latest versions.",
               zh="升级 TRTCCalling 和 Tsignaling 到最新版本。"),
    ),
    KnownError(
        Remedy(en="Cannot call again after rejecting a call", zh="拒绝一次通话后无法再次呼叫"),
        Remedy(en="The calling state was not reset after reject.", zh="call 之后主动 reject，calling 状态没有重置。"),
        Remedy(en="Upgrade TRTCCalling to 1.0.3 or later.", zh="升级 TRTCCalling 版本 >= 1.0.3。"),
    ),
)
