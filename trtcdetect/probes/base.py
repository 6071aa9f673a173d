"""What a probe is: a module-level object satisfying :class:`Probe`, listed in the registry."""

from __future__ import annotations

from typing import Protocol

from ..config import Config
from ..models import ProbeResult


class Probe(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def description(self) -> str:
        """One line for `trtcdetect probes`."""
        ...

    def deadline_s(self, config: Config) -> float:
        """After this long the runner stops waiting and records `error`."""
        ...

    async def run(self, config: Config) -> ProbeResult:
        """Check, never print, never raise on a network failure: that is a finding."""
        ...
