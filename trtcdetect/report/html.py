"""The HTML report: one self-contained file (inline CSS and SVG, no external resource), autoescaped,
in English or Chinese. It renders the JSON document, so a saved report renders the same again."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict

import jinja2
import msgspec

from .. import text, thresholds
from ..evidence import UNSET, Evidence, JsonObject, given, read_or_none
from ..models import RunReport
from ..net.https import StepSeen
from ..net.local import NetworkSeen
from ..probes import REGISTRY, title
from ..text.remedies import PARTIES
from .files import checks_target
from .json import to_dict

#: The report's template and its own partials, then each probe's section: `<probe id>.html.j2`
#: beside the probe's module (probes/), included by id, so a probe's view lives with the probe.
_ENV = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.PackageLoader("trtcdetect.report", "templates"),
                                jinja2.PackageLoader("trtcdetect", "probes")]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2)
#: `x is given`: a field of typed evidence the document has (not left out: UNSET)
_ENV.tests["given"] = lambda value: value is not UNSET


def _nice_max(values: list[float | None], floor: float = 1.0) -> float:
    """A round upper bound for a chart axis: 1, 2 or 5 times a power of ten."""
    top = max([v for v in values if v is not None] + [floor])
    scale = 10 ** math.floor(math.log10(top))
    bound: float = next(m * scale for m in (1, 2, 5, 10) if m * scale >= top)
    return bound


_ENV.filters["nice_max"] = _nice_max
_ENV.filters["int_or_none"] = lambda value: None if value is None else int(bool(value))
_ENV.filters["moved_port"] = lambda moved, t: t("moved-port", protocol=str(
    moved.get("protocol", "")).upper(), port=moved.get("port"), moved_to=moved.get("moved_to"))


def prepare() -> None:
    """Compile the template now (jinja2 keeps it), so rendering later is quick: a run calls
    this in a thread while its probes wait on the network."""
    _ENV.get_template("report.html.j2")


def render(report: RunReport, lang: str = "en") -> str:
    return render_document(to_dict(report), lang)


def _summary(probe: JsonObject, lang: str) -> str:
    message = probe.get("message")
    if message and message.get("id") in text.SENTENCES:
        try:
            return text.sentence(message["id"], message.get("params", {}), lang)
        except (KeyError, ValueError, TypeError, IndexError):
            pass  # a document from another version: its own English summary is still right
    return str(probe["summary"])


def _advice(probe: JsonObject, lang: str) -> list[str]:
    ids = probe.get("advice_ids")
    if ids is None:
        return [str(a) for a in probe["advice"]]
    texts: list[str] = []
    for entry in ids:
        try:
            texts.append(text.remedy(entry["id"], entry["params"], lang))
        except (KeyError, ValueError, TypeError, IndexError):
            continue
    return texts


def seen(entry: JsonObject) -> Evidence | None:
    """A probe entry's details as its probe's evidence type, for its section of the report;
    None when the probe declares none, or the details do not read as it (a document from
    another version, a probe that failed before it saw anything): the section is then left
    out, and the raw details are still shown."""
    probe = REGISTRY.get(str(entry.get("id")))
    kind = probe.evidence if probe is not None else None
    return None if kind is None else read_or_none(kind, entry.get("details"))


def _network(document: JsonObject) -> NetworkSeen | None:
    """The document's `system.network` as NetworkSeen, for the local network's section; None
    when the run did not read it (or it does not read as the type)."""
    return read_or_none(NetworkSeen, document["system"].get("network"))


def _message(value: object) -> object:
    """A message as the document writes it: typed evidence's (a Said) as its JSON."""
    return msgspec.to_builtins(value) if isinstance(value, msgspec.Struct) else value


def _worst_lag(steps: Iterable[StepSeen]) -> float:
    """How late the loop was at worst while the steps were timed, ms (0: not said)."""
    return max([given(s.loop_lag_ms) or 0.0 for s in steps] or [0.0])


def render_document(document: JsonObject, lang: str = "en") -> str:
    """Render a JSON document (a run's, or one saved earlier) in `lang` ("en" or "zh"). Each
    probe's section reads its typed evidence (`seen`); the rest reads the document."""
    template = _ENV.get_template("report.html.j2")
    probes = [
        {"doc": p, "seen": seen(p), "title": title(p["id"], p["title"], lang),
         "summary": _summary(p, lang), "advice": _advice(p, lang)}
        for p in document["probes"]
    ]
    findings = [
        {"doc": f, "headline": _summary({"message": f.get("message"), "summary": f["headline"]},
                                        lang),
         "advice": _advice(f, lang), "party": text.ui(f"party.{f['party']}", lang)
         if f.get("party") in PARTIES else str(f.get("party", "")),
         "note": f["severity"] in ("pass", "skip")}
        for f in document.get("diagnosis") or ()
    ]
    explained = {pid for f in findings if not f["note"] for pid in f["doc"]["explains"]}
    verdicts = {word: text.verdict(word, lang) for word in text.VERDICTS}
    known = [{"symptom": e.symptom if isinstance(e.symptom, str) else asdict(e.symptom),
              "cause": asdict(e.cause), "fix": asdict(e.fix)}
             for e in text.KNOWN_ERRORS]
    return template.render(
        doc=document, lang=lang, probes=probes, verdicts=verdicts, known_errors=known,
        findings=findings, explained=explained, network=_network(document),
        about=document["target"]["host"] if checks_target([p["id"] for p in document["probes"]])
        else None,
        t=lambda key, **values: text.ui(key, lang, **values),
        tt=lambda key, fallback: text.ui(key, lang) if key in text.WORDS else fallback,
        ev=lambda error: text.evidence(str(error), lang),
        busy_ms=thresholds.BUSY_NOTE_MS,
        worst_lag=_worst_lag,
        render_message=lambda m: _summary({"message": _message(m), "summary": ""}, lang),
    )
