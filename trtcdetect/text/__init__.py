"""One catalogue of every text trtcdetect shows, in English and Chinese.

Four kinds, one type (:class:`Text`): summary sentences (`sentences`, what a probe found, as a
:class:`~trtcdetect.models.Message`), remedies (`remedies`, what to do, as an
:class:`~trtcdetect.models.Advice`), the report's own words (`words`) and the FAQ's known errors
(`faq`). A Message or an Advice is checked against the catalogue when it is made — an unknown
id, or a value its text needs and was not given, raises :class:`TextError` there, in the probe
that made it, instead of in a renderer after the run.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping
from typing import Any

from ..evidence import JsonObject
from ..failures import Failure
from ..failures import say as evidence
from .base import LANGS, Text
from .faq import KNOWN_ERRORS, KnownError
from .remedies import REMEDIES
from .sentences import SENTENCES as _SENTENCES
from .words import TITLES as _TITLES
from .words import UI as _UI
from .words import VERDICTS as _VERDICTS

SENTENCES: Mapping[str, Text] = {k: Text(*v) for k, v in _SENTENCES.items()}
WORDS: Mapping[str, Text] = {k: Text(*v) for k, v in _UI.items()}
TITLES: Mapping[str, Text] = {k: Text(*v) for k, v in _TITLES.items()}
VERDICTS: Mapping[str, Text] = {k: Text(*v) for k, v in _VERDICTS.items()}

__all__ = ["KNOWN_ERRORS", "LANGS", "REMEDIES", "SENTENCES", "TITLES", "VERDICTS", "WORDS",
           "KnownError", "Text", "TextError", "check_remedy", "check_sentence", "default_lang",
           "evidence", "remedy", "sentence", "title", "ui", "verdict"]


#: values that carry what went wrong (the outside world's words): said in the reader's language
#: where trtcdetect wrote them, quoted where it did not (failures.say: each kind's own words)
EVIDENCE_PARAMS = frozenset({"error", "reason", "problem", "body"})


class TextError(ValueError):
    """A sentence or remedy id that does not exist, or one made without a value it needs."""


def words_of(text_id: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """A message's values as the document writes them: a Failure as its text, which the
    renderers say in the reader's language (EVIDENCE_PARAMS). A Failure under another name
    would be shown in English to every reader: refused here, in the probe that made it."""
    if not any(isinstance(v, Failure) for v in params.values()):
        return params
    words: JsonObject = {}
    for key, value in params.items():
        if isinstance(value, Failure):
            if key not in EVIDENCE_PARAMS:
                raise TextError(f"{text_id}: {key!r} holds a failure; name it one of "
                                f"{', '.join(sorted(EVIDENCE_PARAMS))}")
            value = str(value)
        words[key] = value
    return words


def _check(kind: str, catalogue: Mapping[str, Text], text_id: str,
           params: Mapping[str, Any]) -> None:
    text = catalogue.get(text_id)
    if text is None:
        raise TextError(f"no {kind} {text_id!r} in the catalogue")
    missing = sorted(text.fields - set(params))
    if missing:
        raise TextError(f"{kind} {text_id!r} needs {', '.join(missing)}")


def check_sentence(text_id: str, params: Mapping[str, Any]) -> None:
    _check("sentence", SENTENCES, text_id, params)


def check_remedy(text_id: str, params: Mapping[str, Any]) -> None:
    _check("remedy", REMEDIES, text_id, params)


def sentence(text_id: str, params: Mapping[str, Any], lang: str = "en") -> str:
    """A summary sentence in `lang`; nested messages ({"id", "params"}, or a list of them) are
    rendered in the same language."""
    values = dict(params)
    for key, value in values.items():
        if key in EVIDENCE_PARAMS and isinstance(value, str):
            values[key] = evidence(value, lang)
            continue
        if isinstance(value, dict) and value.get("id") in SENTENCES:
            values[key] = sentence(value["id"], value.get("params", {}), lang)
        elif isinstance(value, list) and all(
                isinstance(v, dict) and v.get("id") in SENTENCES for v in value):
            values[key] = ("；" if lang == "zh" else "; ").join(
                sentence(v["id"], v.get("params", {}), lang) for v in value)
    return SENTENCES[text_id].pick(lang).format_map(values)


def remedy(text_id: str, params: Mapping[str, Any], lang: str = "en") -> str:
    values = {k: evidence(v, lang) if k in EVIDENCE_PARAMS and isinstance(v, str) else v
              for k, v in params.items()}
    return REMEDIES[text_id].pick(lang).format_map(values)


def ui(key: str, lang: str = "en", **values: Any) -> str:
    return WORDS[key].pick(lang).format_map(values)


def title(probe_id: str, fallback: str, lang: str = "en") -> str:
    text = TITLES.get(probe_id)
    return text.pick(lang) if text else fallback


def verdict(word: str, lang: str = "en") -> str:
    """A port verdict in words: "no_answer" is "no answer (open or filtered)", never open."""
    text = VERDICTS.get(word)
    return text.pick(lang) if text else word


def default_lang() -> str:
    """zh when the locale says Chinese (LC_ALL, LC_MESSAGES, LANG), else en."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    code = locale.getlocale()[0] or ""
    return "zh" if code.lower().startswith("zh") else "en"
