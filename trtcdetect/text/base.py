"""The one bilingual type every text of the catalogue is."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cached_property

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Text:
    """One text in English and Chinese; str.format fields name the values it needs."""

    en: str
    zh: str

    def pick(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @cached_property
    def fields(self) -> frozenset[str]:
        """The values the text needs (both languages must need the same)."""
        return _fields(self.en) | _fields(self.zh)


def _fields(template: str) -> frozenset[str]:
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            names.add(name.split(".")[0].split("[")[0])
    return frozenset(names)
