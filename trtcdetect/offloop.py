"""Blocking work off the event loop: one way, used by everything that must not stall the loop.

`in_thread(work)` runs `work()` in a daemon thread and awaits its result (or its exception) on
the loop. A daemon thread, not the loop's executor: a DNS lookup, a device driver or a TLS
step that hangs for good must never keep the process from ending. When the awaiting task is
cancelled, `on_cancel` is called (tell the thread to stop: an event, a task in another loop)
and, with `cancel_wait_s`, the cancellation waits that long for the thread to finish (a device
closed before the run returns). A result that comes after nobody waits is dropped quietly.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_thread(work: Callable[[], T], *, name: str,
                    on_cancel: Callable[[], None] | None = None,
                    cancel_wait_s: float = 0.0) -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(value: Any, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def target() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        try:
            loop.call_soon_threadsafe(deliver, value, error)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    threading.Thread(target=target, name=name, daemon=True).start()
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel()
        # its outcome is taken here rather than reported by asyncio as never retrieved
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        if cancel_wait_s > 0:
            await asyncio.wait({future}, timeout=cancel_wait_s)
        raise
