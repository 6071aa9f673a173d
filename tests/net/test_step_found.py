"""What a step of the HTTPS chain records while it runs (net.https.Found, a TypedDict that mypy
checks at each write) is what its evidence (StepSeen) reads: the same names, the same types."""

from __future__ import annotations

import typing

import pytest

from trtcdetect.evidence import UnsetType
from trtcdetect.net.https import Found, Nat64, Step, StepSeen


def _without_unset(hint: object) -> object:
    args = tuple(a for a in typing.get_args(hint) if a is not UnsetType)
    return args[0] if len(args) == 1 else typing.Union[args]  # noqa: UP007


def test_found_names_every_field_stepseen_has_beyond_the_common_four() -> None:
    seen = typing.get_type_hints(StepSeen)
    found = typing.get_type_hints(Found)
    beyond = {k: v for k, v in seen.items() if k not in {"name", "ok", "ms", "error"}}
    assert set(found) == set(beyond)
    for name, hint in beyond.items():
        assert _without_unset(hint) == found[name], name


def test_a_step_reads_as_its_evidence_with_the_nested_nat64() -> None:
    step = Step("dns", ok=True, ms=1.234)
    step.info = {"source": "dns", "a": (), "aaaa": ("64:ff9b::c000:201",),
                 "nat64": Nat64(prefix="64:ff9b::/96", ipv4=("192.0.2.1",))}
    seen = step.seen()
    assert seen.ms == 1.23 and seen.aaaa == ("64:ff9b::c000:201",)
    assert seen.nat64 == Nat64(prefix="64:ff9b::/96", ipv4=("192.0.2.1",))


def test_a_key_stepseen_lacks_is_refused_not_lost() -> None:
    step = Step("tcp", ok=True, ms=1.0)
    step.info["bogus"] = 1  # type: ignore[typeddict-unknown-key]
    with pytest.raises(ValueError, match="bogus"):
        step.seen()
