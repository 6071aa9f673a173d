"""Bad input and the one-line errors the command line prints for it (exit 3)."""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

from .parse import ConfigError

__all__ = ["ConfigError", "Parser", "UsageError", "one_line"]


class UsageError(Exception):
    """Bad input: printed as one line, exit 3."""


def one_line(text: str) -> str:
    """Control characters from the command line shown escaped: an error stays one line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


class Parser(argparse.ArgumentParser):
    """argparse, with its errors raised as UsageError (one line, exit 3) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(one_line(message))
