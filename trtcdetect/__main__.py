from __future__ import annotations

from .main import entry

entry()
