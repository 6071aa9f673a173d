"""Probe `camera`: present, permitted, and delivering real pictures (OpenCV).

Tells apart: no camera, permission denied (names the group to join), busy or cannot open, opens
but no frames, and frames — then judges them: black, frozen, frame rate, resolution.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from msgspec import Meta

from .. import thresholds
from ..config import Config
from ..devices.findings import problem_verdict
from ..devices.threads import DEVICE_DEADLINE_MARGIN_S, DeviceProblem, run_in_thread
from ..evidence import UNSET, Evidence, JsonObject, MediaError, Number, UnsetType, details
from ..models import Advice, Message, Metric, Status
from ..text.base import Text
from ..text.ids import R, S
from .base import NO_PRIOR, MeasuredProbe, Prior, Sample, Series, Verdict, metric_value

#: Width of the JPEG snapshot embedded in the report, px.
SNAPSHOT_WIDTH = 320

SYSFS_V4L = Path("/sys/class/video4linux")


class CameraDevice(Evidence, frozen=True, kw_only=True):
    """A camera found here: its index, its name, and its device node (Linux)."""

    id: str
    name: str
    path: str | None


class CameraCapture(Evidence, frozen=True, kw_only=True):
    """What the capture saw: the size delivered and asked for, the frame rate measured and
    claimed, and the share of black and frozen frames."""

    width: int
    height: int
    requested_width: int | UnsetType = UNSET
    requested_height: int | UnsetType = UNSET
    fps: Number
    claimed_fps: Number | None | UnsetType = UNSET
    frames: int
    black_ratio: Annotated[float, Meta(ge=0.0, le=1.0)]
    frozen_ratio: Annotated[float, Meta(ge=0.0, le=1.0)]
    changed_pixels_median: int | None | UnsetType = UNSET
    snapshot_jpeg_base64: str | None | UnsetType = UNSET
    #: the check page: the frames' mean brightness
    mean_luma: Number | None | UnsetType = UNSET


def list_cameras(dev: Path = Path("/dev")) -> list[CameraDevice]:
    """Linux: the /dev/video* nodes, named from sysfs. Elsewhere: indexes OpenCV can open."""
    if sys.platform.startswith("linux"):
        nodes = sorted(dev.glob("video*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
        cameras: list[CameraDevice] = []
        for node in nodes:
            name_file = SYSFS_V4L / node.name / "name"
            try:
                name = name_file.read_text().strip()
            except OSError:
                name = node.name
            index = int(re.sub(r"\D", "", node.name) or 0)
            cameras.append(CameraDevice(id=str(index), name=name, path=str(node)))
        return cameras
    import cv2

    found: list[CameraDevice] = []
    for index in range(4):
        capture = cv2.VideoCapture(index)
        if capture.isOpened():
            found.append(CameraDevice(id=str(index), name=f"camera {index}", path=None))
        capture.release()
    return found


def _source(config: Config, cameras: list[CameraDevice]) -> tuple[str | int, str | None]:
    """What to hand OpenCV (index or path/URL), and the local path to check permissions on."""
    wanted = config.devices.camera
    if wanted is None:
        if not cameras:
            raise DeviceProblem(R.CAMERA_MISSING, Message(S.CAMERA_NONE), missing=True)
        first = cameras[0]
        return (first.path or int(first.id)), first.path
    if wanted.isdigit():
        node = f"/dev/video{wanted}"
        return (node if os.path.exists(node) else int(wanted)), (
            node if os.path.exists(node) else None)
    if "://" in wanted:
        return wanted, None  # an IP camera or stream URL
    try:
        os.stat(wanted)
    except FileNotFoundError:
        raise DeviceProblem(R.CAMERA_MISSING, Message(S.CAMERA_NOT_AT, {"path": wanted}),
                            missing=True) from None
    except PermissionError:
        raise DeviceProblem(R.CAMERA_PERMISSION,
                            Message(S.CAMERA_UNREACHABLE, {"path": wanted})) from None
    return wanted, wanted


def _permission(path: str) -> None:
    if os.access(path, os.R_OK):
        return
    import grp  # Unix only, and only needed here

    try:
        group = grp.getgrgid(os.stat(path).st_gid).gr_name
    except (KeyError, OSError):
        group = None
    raise DeviceProblem(R.CAMERA_PERMISSION, Message(
        S.CAMERA_PERMISSION_GROUP if group else S.CAMERA_PERMISSION, {"path": path, "group": group}))


def capture(source: str | int, config: Config, stop: threading.Event) -> CameraCapture:
    """Open, read for camera_seconds paced in real time, analyse; always release."""
    import cv2
    import numpy as np

    cap = cv2.VideoCapture(source)
    try:
        if not cap.isOpened():
            raise DeviceProblem(R.CAMERA_BUSY, Message(S.CAMERA_CANNOT_OPEN))
        width, height = config.devices.camera_size
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        claimed_fps = cap.get(cv2.CAP_PROP_FPS)
        interval = 1 / claimed_fps if 1 <= claimed_fps <= 240 else 0.0
        stamps: list[float] = []
        black = frozen = 0
        changes: list[int] = []  # pixels that changed from the frame before, per frame
        previous: Any = None
        snapshot: Any = None
        last_good: Any = None
        size = (0, 0)
        start = time.monotonic()
        end = start + config.devices.camera_seconds
        next_read = start
        while not stop.is_set() and time.monotonic() < end:
            # Files and some streams are not paced by the driver: read at the claimed rate.
            delay = next_read - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ok, frame = cap.read()
            now = time.monotonic()
            next_read = max(next_read + interval, now) if interval else now
            if not ok or frame is None:
                if not stamps and now - start > min(2.0, config.devices.camera_seconds):
                    break  # nothing at all for two seconds: it delivers no frames
                if stamps and isinstance(source, str) and not source.startswith("/dev/"):
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # a file ended: loop it
                continue
            stamps.append(now)
            last_good = frame
            size = (frame.shape[1], frame.shape[0])
            grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            if float(grey.mean()) < thresholds.BLACK_LUMA_MAX:
                black += 1
            # Frozen is a frame repeated exactly: not one pixel changed. A mean difference
            # (below FROZEN_MAD_MAX) also calls noise-free slow motion frozen -- a virtual
            # camera, a synthetic clip -- where a few hundred pixels move a little per frame.
            if previous is not None and previous.shape == grey.shape:
                changed = int(np.count_nonzero(cv2.absdiff(grey, previous)))
                changes.append(changed)
                if changed == 0:
                    frozen += 1
            previous = grey
            if snapshot is None and now - start >= config.devices.camera_seconds / 2:
                snapshot = frame
        if stop.is_set():
            raise DeviceProblem(R.PROBE_ERROR, Message(S.INTERRUPTED), params={"error": "interrupted"})
        if not stamps:
            raise DeviceProblem(R.CAMERA_NO_FRAMES, Message(S.CAMERA_NO_FRAMES))
    finally:
        cap.release()
    frames = len(stamps)
    fps = (frames - 1) / (stamps[-1] - stamps[0]) if frames > 1 and stamps[-1] > stamps[0] else 0.0
    if snapshot is None:
        snapshot = last_good
    return CameraCapture(
        width=size[0], height=size[1],
        requested_width=config.devices.camera_size[0],
        requested_height=config.devices.camera_size[1],
        fps=round(fps, 2), claimed_fps=round(claimed_fps, 2) if claimed_fps > 0 else None,
        frames=frames,
        black_ratio=round(black / frames, 3),
        frozen_ratio=round(frozen / max(1, frames - 1), 3),
        changed_pixels_median=int(np.median(changes)) if changes else None,
        snapshot_jpeg_base64=_jpeg(snapshot) if snapshot is not None else None,
    )


def _jpeg(frame: Any) -> str | None:
    import cv2

    height, width = frame.shape[:2]
    scale = SNAPSHOT_WIDTH / width if width > SNAPSHOT_WIDTH else 1.0
    small = cv2.resize(frame, (int(width * scale), int(height * scale)))
    ok, encoded = cv2.imencode(".jpg", small, [int(cv2.IMWRITE_JPEG_QUALITY), 70])
    return base64.b64encode(encoded.tobytes()).decode("ascii") if ok else None


def judge_capture(c: CameraCapture) -> tuple[Status, Message, tuple[Advice, ...]]:
    limit = thresholds.BAD_FRAME_RATIO_FAIL
    if c.black_ratio > limit:
        return (Status.FAIL, Message(S.CAMERA_BLACK, {"ratio": c.black_ratio}),
                (Advice(R.CAMERA_BLACK),))
    if c.frozen_ratio > limit:
        return (Status.FAIL, Message(S.CAMERA_FROZEN, {"ratio": c.frozen_ratio}),
                (Advice(R.CAMERA_FROZEN),))
    problems: list[JsonObject] = []
    advice = []
    if c.fps < thresholds.CAMERA_FPS_WARN:
        problems.append(Message(S.CAMERA_LOW_FPS, {"fps": c.fps}).as_dict())
        advice.append(Advice(R.CAMERA_LOW_FPS))
    asked_width, asked_height = c.requested_width or c.width, c.requested_height or c.height
    if c.width < asked_width or c.height < asked_height:
        problems.append(Message(S.CAMERA_LOW_RESOLUTION, {
            "width": c.width, "height": c.height, "req_width": asked_width,
            "req_height": asked_height}).as_dict())
        advice.append(Advice(R.CAMERA_LOW_RESOLUTION))
    if problems:
        return Status.WARN, Message(S.CAMERA_DEGRADED, {"problems": problems}), tuple(advice)
    return (Status.PASS, Message(S.CAMERA_OK, {"width": c.width, "height": c.height,
                                               "fps": c.fps}), ())


class CameraDetails(Evidence, frozen=True, kw_only=True):
    """The camera probe's details: the cameras found, the one used, and its capture; from the
    check page also where it ran, the permission and the browser's error."""

    ran_in: str | UnsetType = UNSET
    permission: str | None | UnsetType = UNSET
    devices: tuple[CameraDevice, ...]
    source: str | None | UnsetType = UNSET
    error: str | UnsetType = UNSET
    media_error: MediaError | UnsetType = UNSET
    capture: CameraCapture | UnsetType = UNSET


@dataclass
class CameraObservation:
    """What was seen, as it was gathered: the cameras, the source used (a device's path or
    index, or a file), the capture, or the problem the judge says."""

    devices: tuple[CameraDevice, ...] = ()
    source: str | None = None
    capture: CameraCapture | None = None
    problem: DeviceProblem | None = None
    require_devices: bool = False

    def evidence(self) -> CameraDetails:
        return CameraDetails(devices=self.devices, source=self.source,
                             capture=UNSET if self.capture is None else self.capture)

    def details(self) -> JsonObject:
        return details(self.evidence())


def judge(observation: CameraObservation) -> Verdict:
    if observation.problem is not None:
        return problem_verdict(observation.problem, observation.require_devices)
    capture = observation.evidence().capture
    if not capture:
        raise ValueError("the camera probe saw no capture and no problem")
    status, message, advice = judge_capture(capture)
    metrics = (
        Metric("fps", capture.fps, "fps", warn=thresholds.CAMERA_FPS_WARN, better="higher"),
        Metric("width", capture.width, "px"),
        Metric("height", capture.height, "px"),
        Metric("frames", capture.frames, "count"),
        Metric("black_ratio", capture.black_ratio, "ratio",
               fail=round(thresholds.BAD_FRAME_RATIO_FAIL, 3), better="lower"),
        Metric("frozen_ratio", capture.frozen_ratio, "ratio",
               fail=round(thresholds.BAD_FRAME_RATIO_FAIL, 3), better="lower"),
    )
    return Verdict(status, message, advice, metrics)


async def measure(config: Config, prior: Prior = NO_PRIOR) -> CameraObservation:
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # no driver chatter on our stderr
    cameras = list_cameras()
    seen = CameraObservation(devices=tuple(cameras), source=config.devices.camera,
                             require_devices=config.devices.require_devices)
    try:
        source, path = _source(config, cameras)
        seen.source = str(source)
        if path is not None:
            _permission(path)
        seen.capture = await run_in_thread(lambda stop: capture(source, config, stop))
    except DeviceProblem as problem:
        seen.problem = problem
    return seen


def deadline_s(config: Config) -> float:
    return config.devices.camera_seconds + DEVICE_DEADLINE_MARGIN_S


SERIES = (Series("trtcdetect_camera_fps", "Measured camera frame rate"),)


def samples(probe: Mapping[str, Any]) -> Iterable[Sample]:
    fps = metric_value(probe, "fps")
    if fps is not None:
        yield "trtcdetect_camera_fps", (), fps


PROBE = MeasuredProbe(
    id="camera",
    traits=frozenset({"device"}),
    titles=Text("Camera", "摄像头"),
    description="video device present, permitted, and delivering real frames (not black, frozen)",
    measure=measure,
    judge=judge,
    deadline=deadline_s,
    evidence=CameraDetails,
    series=SERIES,
    samples=samples,
)
