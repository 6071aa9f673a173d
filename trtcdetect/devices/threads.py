"""Device threads: blocking device I/O off the event loop, bounded release, the audio scan.

A driver may block in an open, a read or a close for ever (PortAudio waits on it even to stop);
nothing here lets that hold the event loop or the process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..evidence import AudioDevice
from ..models import Message
from ..offloop import in_thread

#: A device probe may take its capture time plus this (opening a device, warm-up), s.
DEVICE_DEADLINE_MARGIN_S = 8.0
#: Listing the audio devices (PortAudio opens each one) normally takes well under a second, s.
AUDIO_SCAN_S = 5.0
#: When a device probe is interrupted, how long it waits for its thread to close the device, s.
DEVICE_RELEASE_S = 2.0

T = TypeVar("T")


class DeviceProblem(Exception):
    """A finding that ends a device probe: the cause id for the advice (with the values its
    text needs), and a summary. `missing` marks "there is no such device", which the
    --require-devices rule decides.
    """

    def __init__(self, cause: str, message: Message, missing: bool = False,
                 params: dict[str, str] | None = None) -> None:
        super().__init__(message.text())
        self.cause, self.message, self.missing = cause, message, missing
        self.params = params or {}


def list_audio_devices(sd: Any, kind: str) -> list[AudioDevice]:
    """PortAudio's input or output devices (`kind`), with host API, channels and rate."""
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    hostapis = sd.query_hostapis()
    return [
        AudioDevice(id=d["index"], name=d["name"], host_api=hostapis[d["hostapi"]]["name"],
                    channels=d[channels], default_sample_rate=d["default_samplerate"])
        for d in sd.query_devices() if d[channels] > 0
    ]


#: Device threads that never came back from closing a device (a driver stuck in a read:
#: PortAudio then waits on it for ever). The command line exits without waiting for them.
STUCK: list[str] = []


def release(stream: Any, what: str) -> bool:
    """Abort and close a PortAudio stream, waiting at most DEVICE_RELEASE_S; False when the
    driver did not let go (the closing goes on in a daemon thread, listed in STUCK)."""
    def close() -> None:
        try:
            stream.abort()
        except Exception:  # noqa: BLE001 S110 - already stopped, or the device is gone
            pass
        finally:
            stream.close(ignore_errors=True)

    closer = threading.Thread(target=close, name=f"trtcdetect-release-{what}", daemon=True)
    closer.start()
    closer.join(DEVICE_RELEASE_S)
    if closer.is_alive():
        STUCK.append(what)
        return False
    return True


def release_soon(stream: Any, what: str) -> asyncio.Future[bool]:
    """`release`, from the event loop without blocking it: a future that is done when the
    device let go (True) or DEVICE_RELEASE_S passed (False)."""
    return asyncio.ensure_future(in_thread(lambda: release(stream, what),
                                           name=f"trtcdetect-release-{what}"))


async def run_in_thread(work: Callable[[threading.Event], T]) -> T:
    """Run blocking device I/O in a daemon thread; on cancellation tell it to stop and release.

    The thread checks the event between reads, so the device is closed within one read even
    when the run is interrupted or the probe's deadline passes; a run that returns has released
    it (the cancellation waits, bounded, for the thread to close the device).
    """
    stop = threading.Event()
    return await in_thread(lambda: work(stop), name="trtcdetect-device", on_cancel=stop.set,
                           cancel_wait_s=DEVICE_RELEASE_S)


def _own_stderr() -> None:
    """Give Python's stderr its own duplicate of fd 2. sounddevice points fd 2 at /dev/null,
    process-wide, while PortAudio starts (to hide ALSA's chatter); with the scan in a thread, our
    progress lines would vanish meanwhile — and for good if the scan hangs."""
    if "sounddevice" in sys.modules:  # started already: no redirection to come
        return
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return
    except (AttributeError, OSError, ValueError):  # a test's capture object, or closed
        return
    sys.stderr.flush()
    sys.stderr = open(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding,  # noqa: SIM115
                      errors=sys.stderr.errors)


async def scan_audio(kind: str) -> tuple[Any, list[AudioDevice]]:
    """Import sounddevice — PortAudio opens every device to list it — and list the `kind`
    devices, in a device thread and for at most AUDIO_SCAN_S: a driver that blocks an open must
    not block the run. TimeoutError when it did; OSError when PortAudio is not installed."""
    _own_stderr()

    def scan(_stop: threading.Event) -> tuple[Any, list[AudioDevice]]:
        import sounddevice as sd

        return sd, list_audio_devices(sd, kind)

    return await asyncio.wait_for(run_in_thread(scan), AUDIO_SCAN_S)
