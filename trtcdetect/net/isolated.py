"""Run a coroutine on an event loop of its own, in a daemon thread, and await it from this one.

The TLS and HTTPS steps are read on an event loop: on the run's main loop, a reply waits while
that loop imports aiortc, starts a browser or runs the test call (a loop held for 300 ms made
the TLS step read 303 ms: tests/net/test_timing_isolation.py). On a loop of their own nothing else
of the run is queued in front of them.
A daemon thread, not the executor: a step that hangs must not keep the process from ending;
cancelling the awaiting task cancels the coroutine in its loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..offloop import in_thread

T = TypeVar("T")


async def in_own_loop(work: Callable[[], Awaitable[T]]) -> T:
    #: the loop and its task, once the thread made them
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[T]]] = []

    def target() -> T:
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(_awaited(work))
            running.append((loop, task))
            return loop.run_until_complete(task)
        finally:
            try:
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    def cancel() -> None:  # cancelling the awaiting task cancels the coroutine in its loop
        for loop, task in running:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # it ended meanwhile
                pass

    return await in_thread(target, name="trtcdetect-isolated", on_cancel=cancel)


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()
