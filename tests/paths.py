"""Where things are, for tests anywhere under tests/: the repository, its reports folder, the
test data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REPORTS = ROOT / "reports"
