"""The package's shape, checked: no import cycles (lazy imports included), no module reading
another's private names, probes that do not import each other, long modules flagged for a
look, and a text catalogue where every sentence and remedy renders in both languages with
the values it declares — and every place that makes one gives those values."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import trtcdetect
from trtcdetect import text

PACKAGE = Path(trtcdetect.__file__).parent
#: a module longer than this is flagged for a look (a warning), not failed: cohesion, not
#: length, decides a module's edges
LOOK_AT_LINES = 500


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The nodes under `if TYPE_CHECKING:`: imports for the type checker, never run."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    return skip


def imports(module: str, path: Path, top_level_only: bool,
            known: dict[str, Path] | None = None) -> set[str]:
    """The package's modules that `module` imports: at import time only when asked, else also
    inside functions (a lazy import is still a dependency); never those under TYPE_CHECKING."""
    tree = ast.parse(path.read_text("utf-8"))
    known = modules() if known is None else known
    top = next(iter(known)).split(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    skip = _type_checking_only(tree)
    found: set[str] = set()
    for node in nodes:
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith(top) and name != module:
                found.add(name)
    return found


def find_cycle(package: Path = PACKAGE) -> list[str] | None:
    """An import cycle among the package's modules, lazy imports included, or None."""
    known = modules(package)
    graph = {m: imports(m, p, top_level_only=False, known=known) for m, p in known.items()}
    # a package's __init__ importing its own modules is how packages work: not a cycle
    for m in graph:
        graph[m] = {d for d in graph[m] if not (m == d.rpartition(".")[0] and
                                                known[m].name == "__init__.py")}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in done:
            return None
        if node in visiting:
            return [*visiting[visiting.index(node):], node]
        visiting.append(node)
        for dep in sorted(graph[node]):
            found = visit(dep)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for module in sorted(graph):
        found = visit(module)
        if found:
            return found
    return None


def test_long_modules_are_flagged_for_a_look() -> None:
    import warnings

    for name, path in modules().items():
        lines = len(path.read_text("utf-8").splitlines())
        if lines > LOOK_AT_LINES:
            warnings.warn(f"{name} has {lines} lines: is it still one idea?", stacklevel=1)


def untyped_dicts(where: dict[str, Path] | None = None) -> dict[str, int]:
    found = {}
    for name, path in (modules() if where is None else where).items():
        if name == "trtcdetect.evidence":
            continue
        count = path.read_text("utf-8").count("dict[str, Any]")
        if count:
            found[name] = count
    return found


def test_a_dict_of_anything_is_only_an_edge_named_as_one() -> None:
    """`dict[str, Any]` appears only in trtcdetect/evidence.py, as its two names for the edges
    (JsonObject: JSON in and out; Foreign: someone else's shape); any other is a shape to type
    (an Evidence Struct, a TypedDict, a dataclass) or an edge to name."""
    found = untyped_dicts()
    assert found == {}, ("type the new shape (an Evidence Struct), or name the edge "
                         f"(evidence.JsonObject, evidence.Foreign): {found}")


def test_the_untyped_dict_count_sees_a_new_one(tmp_path: Path) -> None:
    """The count reads the files as they are: a new `dict[str, Any]` raises it."""
    extra = tmp_path / "extra.py"
    extra.write_text("from typing import Any\nseen: dict[str, Any] = {}\n")
    before = sum(untyped_dicts().values())
    after = sum(untyped_dicts({**modules(), "trtcdetect.extra": extra}).values())
    assert after == before + 1


def test_no_import_cycle() -> None:
    cycle = find_cycle()
    assert cycle is None, " -> ".join(cycle or ())


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(
                    "trtcdetect")):
                found += [f"{module}: {a.name} from {node.module}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []


def test_a_probe_never_imports_another_probe() -> None:
    from trtcdetect.probes import REGISTRY

    probe_modules = {f"trtcdetect.probes.{pid}" for pid in REGISTRY}
    for module, path in modules().items():
        if module in probe_modules:
            others = imports(module, path, top_level_only=False) & (probe_modules - {module})
            assert others == set(), f"{module} imports {others}"


def test_the_cycle_check_can_fail(tmp_path: Path) -> None:
    """The checker itself finds a cycle when there is one, a lazy one included (a test that
    cannot fail is none), and none where an import is only for the type checker."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    assert find_cycle(package) == ["pkg.a", "pkg.b", "pkg.a"]
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                  "    from . import a\n")
    assert find_cycle(package) is None


def _sample(field: str) -> object:
    return {"numbers": {"id": "call.numbers", "params": {"rtt": 1, "jitter": 1, "loss": 1,
                                                         "mos": 4}},
            "problems": [{"id": "camera.low-fps", "params": {"fps": 9.0}}],
            "how": {"id": "call.failed", "params": {}},
            "before": {"id": "browsers.ok", "params": {"list": "Chromium 120"}},
            "error": {"id": "domain.step-failed", "params": {"step": "TLS", "error": "x"}},
            }.get(field, 1.5)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_sentence_and_remedy_renders_with_its_declared_values(lang: str) -> None:
    for sentence_id, sentence in text.SENTENCES.items():
        params = {f: _sample(f) for f in sentence.fields}
        assert text.sentence(sentence_id, params, lang), sentence_id
        assert _fields(sentence.en) == _fields(sentence.zh), sentence_id
    for remedy_id, remedy in text.REMEDIES.items():
        params = {f: "x" for f in remedy.fields}
        assert text.remedy(remedy_id, params, lang), remedy_id
        assert _fields(remedy.en) == _fields(remedy.zh), remedy_id
    for key, words in text.WORDS.items():
        assert text.ui(key, lang, **{f: 1 for f in words.fields}), key


def _fields(template: str) -> set[str]:
    return set(text.Text(template, template).fields)


def test_a_message_or_advice_without_its_values_cannot_be_made() -> None:
    from trtcdetect.models import Advice, Message

    with pytest.raises(text.TextError, match="needs error"):
        Advice("speaker-cannot-open")
    with pytest.raises(text.TextError, match="no sentence"):
        Message("no.such.sentence")
    Advice("speaker-cannot-open", {"error": "busy"})  # with it: fine


def _id_of(node: ast.expr) -> str | None:
    """The text id a Message/Advice is made with, where the source names it: an id constant
    (S.X, R.X) or a string literal."""
    from trtcdetect.text import ids

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id in ("S", "R"):
        return str(getattr(getattr(ids, node.value.id), node.attr, f"<{node.attr}?>"))
    return None


def _literal_makers() -> list[tuple[str, int, str, str, set[str] | None]]:
    """Every Message(...) / Advice(...) in the package whose id the source names: where, which,
    and the literal keys of its values (None when the values are not a literal dict)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("Message", "Advice") and node.args):
                continue
            text_id = _id_of(node.args[0])
            if text_id is None:
                continue
            keys: set[str] | None = set()
            if len(node.args) > 1:
                values = node.args[1]
                if isinstance(values, ast.Dict) and all(isinstance(k, ast.Constant)
                                                         for k in values.keys):
                    keys = {str(k.value) for k in values.keys if isinstance(k, ast.Constant)}
                else:
                    keys = None
            found.append((str(path.relative_to(PACKAGE)), node.lineno, node.func.id,
                          text_id, keys))
    return found


def test_ids_are_constants_and_the_constants_are_the_catalogue() -> None:
    """Code names a text by its constant (S.CAMERA_NONE), never by a string: a misspelt
    constant fails at import and in mypy. The constants and the catalogue hold the same ids."""
    from trtcdetect.text import ids

    def constants(holder: type) -> set[str]:
        return {v for k, v in vars(holder).items() if k.isupper()}

    assert constants(ids.S) == set(text.SENTENCES)
    assert constants(ids.R) == set(text.REMEDIES)
    literal = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("Message", "Advice", "DeviceProblem") and node.args \
                    and isinstance(node.args[0], ast.Constant):
                literal.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert literal == []


def test_every_literal_message_and_advice_gives_the_values_its_text_needs() -> None:
    makers = _literal_makers()
    assert len(makers) > 80  # the scan sees the package's sentences and remedies
    problems = []
    for where, line, kind, text_id, keys in makers:
        catalogue = text.SENTENCES if kind == "Message" else text.REMEDIES
        if text_id not in catalogue:
            problems.append(f"{where}:{line} {kind}({text_id!r}): unknown id")
        elif keys is not None and catalogue[text_id].fields - keys:
            problems.append(f"{where}:{line} {kind}({text_id!r}) lacks "
                            f"{sorted(catalogue[text_id].fields - keys)}")
    assert problems == []


def test_each_probe_section_sits_beside_its_probe_and_the_report_names_no_probe() -> None:
    """A probe's part of the HTML report is `probes/<id>.html.j2`, beside `probes/<id>.py`,
    included by id: the report's template asks for it and names no probe itself."""
    from trtcdetect.probes import REGISTRY

    sections = {p.name.removesuffix(".html.j2") for p in (PACKAGE / "probes").glob("*.html.j2")}
    assert sections <= set(REGISTRY), sections - set(REGISTRY)
    assert all((PACKAGE / "probes" / f"{pid}.py").exists() for pid in sections)
    report = (PACKAGE / "report" / "templates" / "report.html.j2").read_text()
    # no `probe.id == "ports"`, no `probe.id in ("camera", ...)`
    assert re.findall(r"probe\.id\s*(?:==|!=)\s*[\"']|probe\.id\s+in\s*[(\[]", report) == []


def _ids_named(tree: ast.AST, ids: frozenset[str]) -> set[str]:
    """The probe ids a module names where it means a probe: a result looked up by id
    (`probes.get("ports")`, `prior["camera"]`, `REGISTRY["rtp"]`), an id compared
    (`probe.id == "rtp"`, `pid in ("camera", ...)`), or ids handed to a rule helper."""
    named: set[str] = set()

    def literals(node: ast.AST) -> set[str]:
        return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
                and isinstance(n.value, str) and n.value in ids}

    holders = {"probes", "prior", "REGISTRY", "results", "by_id"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "get" and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in holders and node.args:
            named |= literals(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id in holders:
            named |= literals(node.slice)
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "id"
                   or isinstance(s, ast.Name) and s.id in ("pid", "probe_id") for s in sides):
                named |= set().union(*(literals(s) for s in sides))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("_problems", "_severity", "severity_of", "problems"):
            named |= set().union(*(literals(a) for a in node.args[1:]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("_result", "ProbeResult") and node.args:
            named |= literals(node.args[0])  # a result made for a probe, by id
        elif isinstance(node, ast.Dict | ast.Tuple | ast.List | ast.Set):
            # a table keyed by ids, or a list of ids: two or more, and nothing else
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            words = [k.value for k in items if isinstance(k, ast.Constant)
                     and isinstance(k.value, str)]
            if len(words) >= 2 and len(words) == len(items) and set(words) <= ids:
                named |= set(words)
    return named


#: Modules that name another probe's id, and which: only probes reading the result of a probe
#: their own declaration names in `after` (its dependency, by the id `after` gives; a probe
#: does not import another, so it cannot name the other's declaration). Adding a probe touches
#: none of them. The list may only shrink (a stale entry fails too).
STILL_NAMING_IDS = {
    "trtcdetect.probes.path": {"ports"},
    "trtcdetect.probes.ports": {"trtc"},
    "trtcdetect.probes.rtp": {"camera", "microphone", "speaker"},
    "trtcdetect.probes.trtcweb": {"browsers", "trtc"},
}


def test_no_module_outside_a_probe_s_own_files_names_its_id() -> None:
    """Adding a probe touches its own files, the registry and its tests: the runner, the
    report, the metrics and the exporter ask the declarations (traits, titles, series, the
    report partial). Where ids are still named, STILL_NAMING_IDS says so, and only shrinks."""
    from trtcdetect.probes import REGISTRY

    ids = frozenset(REGISTRY)
    found: dict[str, set[str]] = {}
    for name, path in modules().items():
        own = name.removeprefix("trtcdetect.probes.")
        named = _ids_named(ast.parse(path.read_text()), ids) - {own}
        if named and name != "trtcdetect.probes":
            found[name] = named
    assert found == STILL_NAMING_IDS
