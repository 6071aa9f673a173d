"""The probe registry: every probe, in the order reports list them."""

from __future__ import annotations

from collections.abc import Mapping

from .. import text
from .base import Probe
from .browsers import PROBE as BROWSERS
from .camera import PROBE as CAMERA
from .capacity import PROBE as CAPACITY
from .domain import PROBE as DOMAIN
from .microphone import PROBE as MICROPHONE
from .nat import PROBE as NAT
from .path import PROBE as PATH
from .ports import PROBE as PORTS
from .rtp import PROBE as RTP
from .speaker import PROBE as SPEAKER
from .trtc import PROBE as TRTC
from .trtcweb import PROBE as TRTCWEB
from .url import PROBE as URL

REGISTRY: Mapping[str, Probe] = {
    probe.id: probe for probe in (PORTS, DOMAIN, NAT, PATH, TRTC, URL, CAMERA, MICROPHONE, SPEAKER, BROWSERS,
                                   TRTCWEB, RTP, CAPACITY)
}


def title(probe_id: str, fallback: str, lang: str = "en") -> str:
    """A probe's title in `lang`, from its declaration; what is not a registered probe (the
    repeat rounds) from the text catalogue, else `fallback` (a document's own title)."""
    probe = REGISTRY.get(probe_id)
    return probe.titles.pick(lang) if probe is not None else text.title(probe_id, fallback, lang)


def with_trait(trait: str) -> tuple[str, ...]:
    """The ids of the probes with `trait` (base.TRAITS), in the registry's order."""
    return tuple(pid for pid, probe in REGISTRY.items() if trait in probe.traits)


__all__ = ["REGISTRY", "Probe", "title", "with_trait"]
