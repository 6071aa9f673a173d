"""Every command's options as one Markdown page (docs/options.md): the parsers are the one
place an option is declared, and the page is written from them (scripts/update-docs-options),
so it cannot fall behind them (tests/commands/test_docs.py compares the two)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

#: the width the page's help text is wrapped at, whatever the terminal that writes it
WIDTH = 100

INTRO = """\
# Options, command by command

Written from the command line's own parsers by `scripts/update-docs-options`; the tests fail
when this page and the parsers disagree. What the options are for, with examples:
[usage.md](usage.md).
"""


def parsers() -> dict[str, Callable[[], argparse.ArgumentParser]]:
    """Each command's parser, by the word that starts it ('run' is the default command)."""
    from . import credentials, demo, exporter, invite, options, probes, render, serve

    return {"run": options.build_parser, "demo": demo.build_parser, "serve": serve.build_parser,
            "render": render.build_parser, "probes": probes.build_parser,
            "credentials": credentials.build_parser, "exporter": exporter.build_parser,
            "invite": invite.build_parser}


def markdown() -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        parts = [INTRO]
        for name, build in parsers().items():
            title = "trtcdetect [options]" if name == "run" else f"trtcdetect {name}"
            parts.append(f"## `{title}`\n\n```text\n{build().format_help().rstrip()}\n```\n")
        return "\n".join(parts)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
