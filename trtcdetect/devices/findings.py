"""What a device probe concludes before it has anything to measure: no such device (the
--require-devices rule), a device that could not be used, or an audio system that did not
answer. Pure: verdicts from findings."""

from __future__ import annotations

from typing import Any, Protocol

from ..evidence import AudioDevice
from ..models import Advice, Message, Status, Verdict
from ..text.ids import R, S
from .threads import AUDIO_SCAN_S, STUCK, DeviceProblem, scan_audio

#: causes that make TRTCCalling before 1.0.0 fail late ("getVideoTracks of null") instead of
#: refusing the call: the FAQ's upgrade advice goes with them
_OLD_SDK_CAUSES = {R.CAMERA_MISSING, R.CAMERA_PERMISSION, R.MIC_MISSING, R.MIC_CANNOT_OPEN}


def device_advice(cause: str, params: dict[str, str] | None = None) -> tuple[Advice, ...]:
    upgrade = (Advice(R.UPGRADE_TRTCCALLING),) if cause in _OLD_SDK_CAUSES else ()
    return (Advice(cause, params or {}), *upgrade)


def problem_verdict(problem: DeviceProblem, require_devices: bool) -> Verdict:
    """No such device: `skip` (a server has no camera), or `fail` with --require-devices; a
    device that could not be used: `fail`."""
    if problem.missing:
        status = Status.FAIL if require_devices else Status.SKIP
        return Verdict(status, problem.message, device_advice(problem.cause, problem.params))
    return Verdict(Status.FAIL, problem.message, device_advice(problem.cause, problem.params))


class AudioSeen(Protocol):
    """What an audio probe records of the scan: the devices found, or why there are none."""

    devices: tuple[AudioDevice, ...]
    error: str | None


def scan_hung(seen: AudioSeen, who: str) -> DeviceProblem:
    """The audio scan did not end: the driver thread is left behind (see STUCK)."""
    STUCK.append(f"{who}-scan")
    seen.error = f"PortAudio's device scan did not end within {AUDIO_SCAN_S:g} s"
    return DeviceProblem(R.AUDIO_SCAN_HUNG, Message(S.AUDIO_SCAN_HUNG))


async def audio_devices(kind: str, seen: AudioSeen, who: str, no_portaudio: Message) -> Any:
    """PortAudio's `kind` devices into seen.devices, and sounddevice (a module: Any); raises
    the finding when the scan hung or PortAudio is missing (said in `who`'s own words)."""
    try:
        sd, devices = await scan_audio(kind)
    except TimeoutError:  # (an OSError too: first)
        raise scan_hung(seen, who) from None
    except OSError as exc:  # the library is there, PortAudio is not
        seen.error = str(exc)
        raise DeviceProblem(R.PORTAUDIO_MISSING, no_portaudio, missing=True) from None
    seen.devices = tuple(devices)
    return sd
