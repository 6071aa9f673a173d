"""The probe registry: every probe, in the order reports list them."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Probe
from .domain import PROBE as DOMAIN
from .ports import PROBE as PORTS

REGISTRY: Mapping[str, Probe] = {probe.id: probe for probe in (PORTS, DOMAIN)}

__all__ = ["REGISTRY", "Probe"]
