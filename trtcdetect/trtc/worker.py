"""The child process that runs Tencent's native SDK (PyPI `liteav`) for the `trtc` probe.

Started by :mod:`trtcdetect.trtc.session` as `python -m trtcdetect.trtc.worker`, with its own
temporary HOME/XDG_CACHE_HOME (the SDK keeps logs, settings and mmaps there) and its stderr
piped (the SDK writes ~200 log lines per enter there, whatever its log switches say). The job
arrives as one JSON line on stdin — so no secret ever reaches argv — and the worker writes
events as JSON lines on its own copy of stdout; fd 1 itself is pointed at stderr so nothing the
SDK prints can be mistaken for an event. When stdin closes (the parent ended or gave up) or
SIGTERM arrives, the worker leaves its rooms and exits.

Events: {"t": seconds since start, "user": "probe" | "up" | "down", "event": name, ...}.
Imports nothing of trtcdetect but its media generators, so it starts fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

from ..evidence import Foreign, JsonObject
from .media import FRAME_MS, SAMPLE_RATE, VIDEO_FPS, VIDEO_H, VIDEO_W, level_dbfs, pattern_frame, tone_frame

#: Custom-message ping: command id (Tencent allows 1-10) and its interval
PING_CMD = 7
PING_INTERVAL_S = 0.1
#: How long the worker waits for its rooms to say goodbye before it exits anyway
EXIT_GRACE_S = 1.0

_T0 = time.monotonic()
_OUT_LOCK = threading.Lock()
_OUT: Any = None


def emit(user: str, event: str, **values: Any) -> None:
    line = json.dumps({"t": round(time.monotonic() - _T0, 4), "user": user, "event": event,
                       **values})
    with _OUT_LOCK:
        _OUT.write(line + "\n")
        _OUT.flush()


def _take_stdout() -> None:
    """Events go to a private copy of fd 1; fd 1 itself goes to stderr with the SDK's log."""
    global _OUT
    events_fd = os.dup(1)
    os.dup2(2, 1)
    _OUT = os.fdopen(events_fd, "w", buffering=1)


def _run(job: JsonObject, stop: threading.Event) -> None:
    # only here: the child is the one place the SDK is loaded. Typed Any: liteav's own stub
    # lacks names its module has (TXLiveSDK, CreateTRTCCloud, TrtcString(value)).
    import importlib

    liteav: Any = importlib.import_module("liteav")

    if job.get("socks5"):
        proxy = job["socks5"]
        ok = liteav.TXLiveSDK.SetSocks5Proxy(proxy["host"], int(proxy["port"]),
                                             proxy.get("user", ""), proxy.get("password", ""))
        emit("probe", "proxy", ok=bool(ok))

    clouds: Foreign = {}
    users: dict[str, str] = {}
    entered = {"up": threading.Event(), "down": threading.Event(), "probe": threading.Event()}
    #: the uplink's channels: frames are sent only once their channel exists (the SDK's rule)
    ready = {"audio": threading.Event(), "video": threading.Event()}

    class Delegate(liteav.TRTCCloudDelegate):  # type: ignore[misc]
        # Tencent's SDK aborts the process on a callback its subclass lacks: every On* is here.
        def __init__(self, role: str) -> None:
            super().__init__()
            self.role = role
            self.last_audio: float | None = None

        def OnError(self, error: Any) -> None:
            emit(self.role, "error", code=int(error))

        def OnConnectionStateChanged(self, old: Any, new: Any) -> None:
            emit(self.role, "connection", old=int(old), new=int(new))

        def OnEnterRoom(self) -> None:
            emit(self.role, "entered")
            entered[self.role].set()
            if self.role == "up":
                _start_sending(self.role)

        def OnExitRoom(self) -> None:
            emit(self.role, "exited")

        def OnLocalAudioChannelCreated(self) -> None:
            emit(self.role, "audio_channel")
            ready["audio"].set()

        def OnLocalAudioChannelDestroyed(self) -> None:
            pass

        def OnLocalVideoChannelCreated(self, stream_type: Any) -> None:
            emit(self.role, "video_channel")
            ready["video"].set()

        def OnLocalVideoChannelDestroyed(self, stream_type: Any) -> None:
            pass

        def OnRequestChangeVideoEncodeBitrate(self, stream_type: Any, bitrate_bps: int) -> None:
            emit(self.role, "bitrate_request", bps=int(bitrate_bps))

        def OnRequestKeyFrame(self, stream_type: Any) -> None:
            pass

        def OnRemoteUserEnterRoom(self, info: Any) -> None:
            emit(self.role, "remote_entered", remote=_other(self.role, info))

        def OnRemoteUserExitRoom(self, info: Any, reason: int) -> None:
            emit(self.role, "remote_exited", remote=_other(self.role, info), reason=int(reason))

        def OnRemoteAudioAvailable(self, user_id: str, available: bool) -> None:
            emit(self.role, "remote_audio", available=bool(available))
            if available and self.role == "down":
                clouds["down"].Subscribe(user_id, liteav.StreamType.STREAM_TYPE_AUDIO)

        def OnRemoteVideoAvailable(self, user_id: str, available: bool, stream_type: Any) -> None:
            emit(self.role, "remote_video", available=bool(available))
            if available and self.role == "down":
                clouds["down"].Subscribe(user_id, stream_type)

        def OnRemoteVideoFrameReceived(self, user_id: str, stream_type: Any, frame: Any) -> None:
            emit(self.role, "video_frame", bytes=int(frame.size))

        def OnRemotePixelFrameReceived(self, user_id: str, stream_type: Any, frame: Any) -> None:
            emit(self.role, "video_frame", width=int(frame.width), height=int(frame.height))

        def OnRemoteAudioReceived(self, user_id: str, frame: Any) -> None:
            emit(self.role, "audio_frame", level_dbfs=level_dbfs(bytes(frame.data)),
                 ms=int(frame.size) * 1000 // max(1, 2 * frame.channels * frame.sample_rate))

        def OnRemoteMixedAudioReceived(self, frame: Any) -> None:
            pass

        def OnSeiMessageReceived(self, user_id: str, stream_type: Any, message_type: int,
                                 message: bytes) -> None:
            pass

        def OnReceiveCustomCmdMsg(self, user_id: str, cmd_id: int, seq: int,
                                  message: bytes) -> None:
            if cmd_id != PING_CMD:
                return
            if self.role == "down":  # echo the ping back through the cloud
                clouds["down"].SendCustomCmdMsg(PING_CMD, bytes(message), False, False)
            else:
                emit(self.role, "pong", seq=int(bytes(message).decode() or 0))

        def OnMissCustomCmdMsg(self, user_id: str, cmd_id: int, error_code: int,
                               missed: int) -> None:
            emit(self.role, "missed_messages", missed=int(missed))

        def OnNetworkQuality(self, local: Any, remotes: Any) -> None:
            emit(self.role, "quality", local=int(local.quality),
                 remote=[int(r.quality) for r in remotes])

    def _other(role: str, info: Any) -> str:
        value = info.user_id.GetValue() if hasattr(info.user_id, "GetValue") else str(info.user_id)
        return "down" if value == users.get("down") else "up" if value == users.get("up") else "other"

    sending = threading.Event()

    def _start_sending(role: str) -> None:
        if sending.is_set():
            return
        sending.set()
        params = liteav.AudioEncodeParams()
        params.channels, params.sample_rate = 1, SAMPLE_RATE
        params.frame_length_ms, params.bitrate_bps, params.need_encode = FRAME_MS, 50000, True
        clouds[role].CreateLocalAudioChannel(params)
        clouds[role].CreateLocalVideoChannel(liteav.StreamType.STREAM_TYPE_VIDEO_HIGH)

    def _enter(role: str, user: JsonObject) -> None:
        delegate = Delegate(role)
        cloud = liteav.CreateTRTCCloud(delegate)
        clouds[role] = cloud
        clouds[role + "_delegate"] = delegate
        users[role] = user["user_id"]
        params = liteav.EnterRoomParams()
        params.room.sdk_app_id = int(job["sdk_app_id"])
        params.room.user_id = liteav.TrtcString(user["user_id"])
        params.room.user_sig = liteav.TrtcString(user["user_sig"])
        params.room.room_id = int(job["room_id"])
        params.use_pixel_frame_input = True
        params.use_pixel_frame_output = True
        code = cloud.EnterRoom(params)
        emit(role, "enter", code=int(code))

    roles = [("probe", job["users"][0])] if job["mode"] == "reach" else \
        [("up", job["users"][0]), ("down", job["users"][1])]
    try:
        for role, user in roles:
            _enter(role, user)
        if job["mode"] == "call":
            # the call's clock starts once both users are in the room; until then the parent's
            # deadline is the only limit
            while not stop.is_set() and not (entered["up"].is_set() and entered["down"].is_set()):
                stop.wait(0.01)
            _pace(clouds, liteav, stop, float(job.get("seconds", 15)), ready)
        else:
            stop.wait()
    finally:
        for role, _ in roles:
            if role in clouds:
                clouds[role].ExitRoom()
        time.sleep(0.05)
        emit("probe", "done")


def _pace(clouds: Foreign, liteav: Any, stop: threading.Event, seconds: float,
          ready: dict[str, threading.Event]) -> None:
    """The uplink's tone (20 ms frames), pattern (15 fps) and pings (every 100 ms), paced in
    real time, until `seconds` after the first frame or until told to stop."""
    start: float | None = None
    audio_n = video_n = ping_n = 0
    #: each stream's clock starts when its channel exists (no burst to catch up)
    began: dict[str, float] = {}
    cloud = clouds["up"]
    while not stop.is_set():
        now = time.monotonic()
        if start is None:
            start = now
        elapsed = now - start
        if elapsed >= seconds:
            emit("up", "call_over", seconds=round(elapsed, 3))
            return
        for kind in ("audio", "video"):
            if kind not in began and ready[kind].is_set():
                began[kind] = now
        while "audio" in began and audio_n * FRAME_MS / 1000 <= now - began["audio"]:
            frame = liteav.AudioFrame()
            frame.sample_rate, frame.channels, frame.bits_per_sample = SAMPLE_RATE, 1, 16
            frame.pts = audio_n * FRAME_MS
            frame.SetData(tone_frame(audio_n))
            cloud.SendAudioFrame(frame)
            audio_n += 1
        while "video" in began and video_n / VIDEO_FPS <= now - began["video"]:
            pixel = liteav.PixelFrame()
            pixel.width, pixel.height = VIDEO_W, VIDEO_H
            pixel.pts = int(video_n * 1000 / VIDEO_FPS)
            pixel.SetData(pattern_frame(video_n))
            cloud.SendPixelFrame(liteav.StreamType.STREAM_TYPE_VIDEO_HIGH, pixel)
            video_n += 1
        while ping_n * PING_INTERVAL_S <= elapsed:
            cloud.SendCustomCmdMsg(PING_CMD, str(ping_n).encode(), False, False)
            emit("up", "ping", seq=ping_n)
            ping_n += 1
        stop.wait(0.005)


def main() -> int:
    _take_stdout()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    line = sys.stdin.readline()
    try:
        job = json.loads(line)
    except ValueError:
        emit("probe", "bad_job")
        return 3

    def _watch_stdin() -> None:  # the parent closes stdin when it is done or gone
        sys.stdin.read()
        stop.set()

    threading.Thread(target=_watch_stdin, daemon=True).start()
    emit("probe", "started", pid=os.getpid())
    try:
        _run(job, stop)
    except ImportError as exc:
        emit("probe", "no_sdk", reason=str(exc))
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
