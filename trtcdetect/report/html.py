"""The HTML report: one self-contained file (inline CSS, no external resource), autoescaped."""

from __future__ import annotations

import json
import math
from typing import Any

import jinja2

from .. import advice as advice_texts
from ..models import PORT_VERDICT_TEXT, Advice, RunReport
from .json import to_dict

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("trtcdetect.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2)


def _nice_max(values: list[float | None], floor: float = 1.0) -> float:
    """A round upper bound for a chart axis: 1, 2 or 5 times a power of ten."""
    top = max([v for v in values if v is not None] + [floor])
    scale = 10 ** math.floor(math.log10(top))
    bound: float = next(m * scale for m in (1, 2, 5, 10) if m * scale >= top)
    return bound


_ENV.filters["nice_max"] = _nice_max

VERDICT = {
    "pass": "Everything checked works: this machine is ready for TRTC calls.",
    "warn": "Calls should work, but something will make them worse: see the warnings below.",
    "fail": "Calls are likely to fail from this machine: see what failed below and what to do.",
    "error": "Some checks could not finish, so the result is incomplete: see below.",
}


def render(report: RunReport, lang: str = "en") -> str:
    return render_document(to_dict(report), lang)


def render_document(document: dict[str, Any], lang: str = "en") -> str:
    """Render a saved JSON document (advice is re-rendered from its ids where present)."""
    advice: list[list[str]] = []
    for probe in document["probes"]:
        ids = probe.get("advice_ids")
        if ids is not None:
            advice.append([
                advice_texts.render(Advice(a["id"], a["params"]), lang) for a in ids
                if a["id"] in advice_texts.REMEDIES
            ])
        else:
            advice.append(list(probe["advice"]))
    template = _ENV.get_template("report.html.j2")
    return template.render(
        doc=document, lang=lang, verdict=VERDICT[document["status"]], verdicts=PORT_VERDICT_TEXT,
        probes=list(zip(document["probes"], advice, strict=True)),
    )
