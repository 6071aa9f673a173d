"""The runner's guarantees, with stand-in probes (the runner is what is under test here)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from trtcdetect import runner
from trtcdetect.config import Config
from trtcdetect.models import ProbeResult, Status, worst
from trtcdetect.report.json import to_dict, validate


@dataclass
class StandIn:
    id: str
    behaviour: str  # "pass", "warn", "raise", "hang"
    title: str = "stand-in"
    description: str = "a stand-in probe"
    after: tuple[str, ...] = ()

    def deadline_s(self, config: Config) -> float:
        return 0.3

    async def run(self, config: Config, prior: Any = None) -> ProbeResult:
        if self.behaviour == "raise":
            raise RuntimeError("boom")
        if self.behaviour == "hang":
            await asyncio.sleep(3600)
        return ProbeResult(self.id, self.title, Status(self.behaviour), f"{self.behaviour}ed")


def test_crash_and_hang_become_errors_and_the_run_goes_on() -> None:
    probes = [StandIn("a", "pass"), StandIn("b", "raise"), StandIn("c", "hang"), StandIn("d", "warn")]
    start = time.perf_counter()
    report = asyncio.run(runner.run(Config(), probes))
    assert time.perf_counter() - start < 1.0
    by_id = {p.id: p for p in report.probes}
    assert by_id["a"].status is Status.PASS and by_id["d"].status is Status.WARN
    assert by_id["b"].status is Status.ERROR and by_id["b"].error == "RuntimeError: boom"
    assert by_id["c"].status is Status.ERROR and "timed out after 0.3 s" in (by_id["c"].error or "")
    assert [p.id for p in report.probes] == ["a", "b", "c", "d"]  # registry order, not finish order
    assert report.exit_code == 3
    validate(to_dict(report))


def test_stop_event_interrupts_within_a_second() -> None:
    async def go() -> runner.RunReport:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.1, stop.set)
        slow = StandIn("slow", "hang")
        slow.deadline_s = lambda config: 60.0  # type: ignore[method-assign]
        return await runner.run(Config(), [StandIn("fast", "pass"), slow], stop=stop)

    start = time.perf_counter()
    report = asyncio.run(go())
    assert time.perf_counter() - start < 1.0
    assert report.interrupted
    assert report.probes[0].status is Status.PASS
    assert report.probes[1].error == "interrupted"


def test_worst_status_and_exit_codes() -> None:
    assert worst([Status.PASS, Status.SKIP]) is Status.PASS
    assert worst([Status.PASS, Status.WARN]).exit_code == 1
    assert worst([Status.WARN, Status.ERROR]).exit_code == 3
    assert worst([Status.ERROR, Status.FAIL]).exit_code == 2  # a definite failure outranks
    assert worst([Status.SKIP]).exit_code == 0


def test_a_probe_runs_after_the_probes_it_uses_and_sees_their_results() -> None:
    seen: dict[str, object] = {}

    @dataclass
    class User(StandIn):
        after: tuple[str, ...] = ("slowdep", "absent")

        async def run(self, config: Config, prior: Any = None) -> ProbeResult:
            seen.update(prior)
            seen["started"] = time.perf_counter()
            return ProbeResult(self.id, self.title, Status.PASS, "used")

    @dataclass
    class SlowDep(StandIn):
        async def run(self, config: Config, prior: Any = None) -> ProbeResult:
            await asyncio.sleep(0.1)
            seen["dep_done"] = time.perf_counter()
            return ProbeResult(self.id, self.title, Status.WARN, "dep")

    report = asyncio.run(runner.run(Config(), [User("user", "pass"), SlowDep("slowdep", "pass")]))
    assert [p.id for p in report.probes] == ["user", "slowdep"]
    assert seen["started"] > seen["dep_done"]  # type: ignore[operator]
    assert set(seen) == {"slowdep", "started", "dep_done"}  # "absent" is not in this run
    assert seen["slowdep"].status is Status.WARN  # type: ignore[attr-defined]


def test_report_records_the_configuration_but_never_the_token() -> None:
    config = Config.of(echo_token="s3cret-token", echo_url="http://198.18.0.9:8089/call")
    report = asyncio.run(runner.run(config, [StandIn("a", "pass")],
                                    settings={**config.settings(), "probes": ["a"]}))
    document = to_dict(report)
    validate(document)
    assert document["config"]["echo_url"] == "http://198.18.0.9:8089/call"
    assert "echo_token" not in document["config"]
    assert "s3cret-token" not in json.dumps(document)


def test_results_of_other_stacks_say_the_local_options_did_not_reach_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from trtcdetect.browser import netns
    from trtcdetect.config import Config
    from trtcdetect.models import ProbeResult, Status
    from trtcdetect.probes import browsers, ports, trtc, trtcweb
    from trtcdetect.runner import _unbound

    seen = ProbeResult("trtc", "TRTC", Status.FAIL, summary="x", details={"a": 1})
    plain = _unbound(seen, Config(), trtc.PROBE)
    assert "local_options_not_applied" not in plain.details
    relayed = _unbound(seen, Config.of(source="192.0.2.7"), trtc.PROBE)  # through the relay
    assert "local_options_not_applied" not in relayed.details
    bound = _unbound(seen, Config.of(source="192.0.2.7", socks5=("192.0.2.9", 1080)), trtc.PROBE)
    assert "goes through the SOCKS5 proxy given" in bound.details["local_options_not_applied"]
    assert bound.details["a"] == 1
    skipped = ProbeResult("trtcweb", "W", Status.SKIP, summary="x")
    assert "local_options_not_applied" not in _unbound(skipped, Config.of(family=6),
                                                       trtcweb.PROBE).details
    # the browsers' own namespaces (browser/netns.py) need slirp4netns: here, and not
    web = ProbeResult("trtcweb", "W", Status.FAIL, summary="x")
    versions = ProbeResult("browsers", "B", Status.PASS, summary="x")
    monkeypatch.setattr(netns, "missing", lambda: None)
    assert "local_options_not_applied" not in _unbound(web, Config.of(family=6),
                                                       trtcweb.PROBE).details
    assert "local_options_not_applied" not in _unbound(
        versions, Config.of(source="192.0.2.7", browser_webrtc=True), browsers.PROBE).details
    monkeypatch.setattr(netns, "missing", lambda: "slirp4netns not installed here")
    unheld = _unbound(web, Config.of(family=6), trtcweb.PROBE).details["local_options_not_applied"]
    assert unheld.startswith("slirp4netns not installed here: Chromium with Tencent's Web SDK "
                             "chose its own"), unheld
    assert "local_options_not_applied" not in _unbound(versions, Config.of(family=4),
                                                       browsers.PROBE).details
    held = _unbound(versions, Config.of(family=4, browser_webrtc=True),
                    browsers.PROBE)  # the page holds it
    assert "local_options_not_applied" not in held.details
    webrtc = _unbound(versions, Config.of(source="192.0.2.7", browser_webrtc=True), browsers.PROBE)
    assert "Chromium chooses its own" in webrtc.details["local_options_not_applied"]
    opened = ProbeResult("ports", "P", Status.PASS, summary="x")
    assert "local_options_not_applied" not in _unbound(opened, Config.of(interface="eth0"),
                                                       ports.PROBE).details


def test_a_probe_declares_its_traits_and_waits_for_a_traits_probes() -> None:
    """The runner, the diagnosis, the exporter and the report ask the probes' declarations
    (traits) instead of lists of ids: "@network" in `after` is every other network probe."""
    from dataclasses import dataclass

    from trtcdetect.probes import REGISTRY, with_trait
    from trtcdetect.probes.base import MeasuredProbe
    from trtcdetect.runner import _after
    from trtcdetect.text.base import Text

    assert with_trait("target") == ("ports", "domain", "nat", "path")
    assert set(with_trait("device")) == {"camera", "microphone", "speaker", "rtp"}
    capacity = REGISTRY["capacity"]
    waits = _after(capacity, list(REGISTRY.values()))
    assert set(waits) == set(with_trait("network")) - {"capacity"}

    @dataclass
    class Stand:  # a test stand-in without traits waits for nobody's
        id: str
        after: tuple[str, ...] = ()

    assert _after(capacity, [Stand("ports"), capacity]) == []
    with pytest.raises(ValueError, match="unknown traits"):
        MeasuredProbe("x", Text("X", "X"), "", measure=None, judge=None, deadline=None,  # type: ignore[arg-type]
                      traits=frozenset({"networked"}))
