"""A name of aiortc's receiver module, replaced while the echo's receivers are made.

aiortc has no option for a receiver's jitter buffer or for what its decoder thread does; the
echo needs both changed (call/jitter.py, call/passthrough.py). While the echo's peer connection
creates its receivers (setRemoteDescription), `aiortc.rtcrtpreceiver.NAME` stands replaced: the
first echo creating receivers puts the replacement in, the last one done puts aiortc's own back
(serve answers calls concurrently, in one event loop; a caller in the same process, made
outside that window, keeps aiortc's). An aiortc without the name keeps its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: how many echo peer connections are creating their receivers now, per replaced name
_creating: Counter[str] = Counter()


@contextmanager
def replaced(name: str, replacement: Callable[[Any], Any]) -> Iterator[bool]:
    """`replacement(aiortc's own)` stands for `aiortc.rtcrtpreceiver.<name>` inside the block.
    Yields whether it does (False: this aiortc has no such name)."""
    import aiortc.rtcrtpreceiver as module

    current = getattr(module, name, None)
    if current is None:
        yield False
        return
    original = getattr(current, "aiortc_original", current)  # another echo's, already in place
    if _creating[name] == 0:
        stand_in = replacement(original)
        setattr(stand_in, "aiortc_original", original)  # noqa: B010
        setattr(module, name, stand_in)  # noqa: B010
    _creating[name] += 1
    try:
        yield True
    finally:
        _creating[name] -= 1
        if _creating[name] == 0:
            setattr(module, name, original)  # noqa: B010
