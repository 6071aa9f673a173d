"""Run a coroutine on an event loop of its own, in a daemon thread, and await it from this one.

The TLS and HTTPS steps are read on an event loop: on the run's main loop, a reply waits while
that loop imports aiortc, starts a browser or runs the test call (a loop held for 300 ms made
the TLS step read 303 ms: tests/test_timing_isolation.py). On a loop of their own nothing else
of the run is queued in front of them.
A daemon thread, not the executor: a step that hangs must not keep the process from ending;
cancelling the awaiting task cancels the coroutine in its loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_own_loop(work: Callable[[], Awaitable[T]]) -> T:
    main = asyncio.get_running_loop()
    result: asyncio.Future[T] = main.create_future()
    running: dict[str, Any] = {}

    def deliver(value: Any, error: BaseException | None) -> None:
        if result.done():
            return
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(value)

    def target() -> None:
        loop = asyncio.new_event_loop()
        value: Any = None
        error: BaseException | None = None
        try:
            task = loop.create_task(_awaited(work))
            running.update(loop=loop, task=task)
            value = loop.run_until_complete(task)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        finally:
            try:
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
        try:
            main.call_soon_threadsafe(deliver, value, error)
        except RuntimeError:  # the run's loop has closed: nobody waits any more
            pass

    threading.Thread(target=target, name="trtcdetect-isolated", daemon=True).start()
    try:
        return await asyncio.shield(result)
    except asyncio.CancelledError:
        loop, task = running.get("loop"), running.get("task")
        if loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # it ended meanwhile
                pass
        result.add_done_callback(lambda f: f.cancelled() or f.exception())
        raise


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()
