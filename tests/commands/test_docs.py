"""The documents a user reads: README stays short, every relative link in README, CHANGELOG and
docs/ leads somewhere, and every option of every command is in docs/options.md, which is
written from the parsers themselves (scripts/update-docs-options)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.paths import ROOT
from trtcdetect.commands.reference import markdown, parsers

PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, re.M)}


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, len(lines)
    assert lines[2:6] == ["```sh", "bash .ci/install && .venv/bin/trtcdetect demo", "bash .ci/run",
                          "```"]


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            found = (page.parent / path).resolve() if path else page
            if not found.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and found.suffix == ".md" and anchor not in anchors(found):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n[gone](nowhere.md) [here](#title) [there](#nothing)\n")
    targets = LINK.findall(page.read_text())
    assert targets == ["nowhere.md", "#title", "#nothing"]
    assert not (tmp_path / "nowhere.md").exists()
    assert "title" in anchors(page) and "nothing" not in anchors(page)


def test_options_page_is_written_from_the_parsers() -> None:
    assert (ROOT / "docs" / "options.md").read_text() == markdown(), \
        "run scripts/update-docs-options"


def test_every_option_of_every_command_is_documented() -> None:
    import argparse

    docs = "\n".join(page.read_text() for page in sorted((ROOT / "docs").glob("*.md")))
    missing = [f"{name} {option}" for name, build in parsers().items()
               for action in build()._actions if action.help != argparse.SUPPRESS
               for option in action.option_strings if option not in docs]
    assert missing == []
