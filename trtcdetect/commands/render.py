"""`trtcdetect render REPORT.json`: the HTML report again from a saved JSON report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from .. import text
from ..errors import Parser, UsageError
from ..parse import read_text_file
from ..report.files import write_atomic


def build_parser() -> Parser:
    parser = Parser(prog="trtcdetect render",
                    description="Render the HTML report again from a saved JSON report, e.g. "
                                "in another language. Writes REPORT.html beside the JSON, or "
                                "--output FILE ('-' for stdout).")
    parser.add_argument("report", metavar="REPORT.json",
                        help="a JSON report trtcdetect wrote (checked against its schema)")
    parser.add_argument("--lang", choices=text.LANGS, default=None,
                        help="en or zh (default: from the locale)")
    parser.add_argument("--output", metavar="FILE", default=None,
                        help="where to write the HTML ('-': stdout; default: beside the JSON)")
    return parser


def cmd_render(argv: Sequence[str]) -> int:
    import json

    from ..report import html
    from ..report.json import validate

    args = build_parser().parse_args(argv)
    source = Path(args.report)
    content = read_text_file(source, "report")
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        validate(document)
    except Exception as exc:  # noqa: BLE001 - jsonschema.ValidationError and friends
        where = "/".join(str(p) for p in getattr(exc, "absolute_path", [])) or "top level"
        message = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        raise UsageError(f"{source} is not a trtcdetect report ({where}: {message})") from None
    page = html.render_document(document, args.lang or text.default_lang())
    if args.output == "-":
        sys.stdout.write(page)
        return 0
    target = Path(args.output) if args.output else source.with_suffix(".html")
    try:
        write_atomic(target, page)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"report: {target}")  # noqa: T201
    return 0


