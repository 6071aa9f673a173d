"""The package's shape, checked: small modules, no import cycles, probes that do not import
each other, and a text catalogue where every sentence and remedy renders in both languages with
the values it declares — and every place that makes one gives those values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import trtcdetect
from trtcdetect import text

PACKAGE = Path(trtcdetect.__file__).parent
MAX_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, path: Path, top_level_only: bool) -> set[str]:
    """trtcdetect modules that `module` imports (at import time only, when asked: a function's
    own import or one under TYPE_CHECKING does not make a cycle)."""
    tree = ast.parse(path.read_text("utf-8"))
    known = modules()
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
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
            if name.startswith("trtcdetect") and name != module:
                found.add(name)
    return found


def test_no_module_is_over_300_lines() -> None:
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle() -> None:
    known = modules()
    graph = {m: imports(m, p, top_level_only=True) for m, p in known.items()}
    # a package's __init__ importing its own modules is how packages work: not a cycle
    for m in graph:
        graph[m] = {d for d in graph[m] if not (m == d.rpartition(".")[0] and
                                                known[m].name == "__init__.py")}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        assert node not in visiting, " -> ".join([*visiting[visiting.index(node):], node])
        visiting.append(node)
        for dep in sorted(graph[node]):
            visit(dep)
        visiting.pop()
        done.add(node)

    for module in sorted(graph):
        visit(module)


def test_a_probe_never_imports_another_probe() -> None:
    from trtcdetect.probes import REGISTRY

    probe_modules = {f"trtcdetect.probes.{pid}" for pid in REGISTRY}
    for module, path in modules().items():
        if module in probe_modules:
            others = imports(module, path, top_level_only=False) & (probe_modules - {module})
            assert others == set(), f"{module} imports {others}"


def test_the_cycle_check_can_fail() -> None:
    """The checker itself finds a cycle when there is one (a test that cannot fail is none)."""
    tree = {"a": {"b"}, "b": {"a"}}
    with pytest.raises(AssertionError):
        seen: list[str] = []

        def visit(node: str) -> None:
            assert node not in seen
            seen.append(node)
            for dep in tree[node]:
                visit(dep)

        visit("a")


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
