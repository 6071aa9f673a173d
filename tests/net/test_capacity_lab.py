"""The capacity probe against `trtcdetect serve` across the user-space impairment link, whose
token bucket is the ground truth: the estimate lands within 20 % of the rate the link was set
to, each direction on its own (an asymmetric link: down 5 Mbit/s, up 1 Mbit/s, as on ADSL or
a crowded uplink), and random loss is not taken for a narrow link. `benchmarks/capacity.py`
puts the same runs beside iperf3 -u."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.impair import SERVER_ADDR, ImpairedLink, Impairment, serving_link
from trtcdetect.report.json import validate

#: a buffer of 100 ms and a two-packet burst: a home router's shaper, roughly
QUEUE_MS, BURST = 100.0, 3000


@pytest.fixture(scope="module")
def link() -> Iterator[ImpairedLink]:
    yield from serving_link("--udp-ports", "8000", "--tcp-ports", "8687")


def capacity(link: ImpairedLink, *args: str) -> dict[str, Any]:
    proc = link.client_run("--only", "capacity", "--target", SERVER_ADDR, "--udp-ports", "8000",
                           "--json", "--quiet", *args)
    assert proc.stderr == "", proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc)
    probe: dict[str, Any] = doc["probes"][0]
    assert probe["id"] == "capacity"
    return probe


def shaped(kbps: float) -> Impairment:
    return Impairment(delay_ms=10, rate_kbps=kbps, queue_ms=QUEUE_MS, burst_bytes=BURST)


def test_asymmetric_link_each_direction_within_20_percent(link: ImpairedLink) -> None:
    link.set(shaped(1000), shaped(5000))
    probe = capacity(link, "--capacity-max", "8000")
    up, down = probe["details"]["up"], probe["details"]["down"]
    assert up["bound"] == down["bound"] == "estimate", probe["details"]
    assert up["kbps"] == pytest.approx(1000, rel=0.20), up
    assert down["kbps"] == pytest.approx(5000, rel=0.20), down
    # 1 Mbit/s up is too little for 720p (1,616 kbit/s) but enough for 360p (888)
    assert probe["status"] == "warn"
    assert probe["message"]["id"] == "capacity.360p"
    assert probe["advice_ids"][0]["id"] == "capacity-low"
    metrics = {m["name"]: m for m in probe["metrics"]}
    assert metrics["capacity_up"]["unit"] == "kbit/s"
    assert metrics["capacity_up"]["value"] == up["kbps"]
    # the ramp stopped at the step that showed the bottleneck, and sent no faster than that
    assert up["steps"][-1]["congested"] and all(not s["congested"] for s in up["steps"][:-1])
    assert max(s["kbps"] for s in up["steps"]) < 1000 * 1.4 * 1.4


def test_five_megabit_up_and_one_down(link: ImpairedLink) -> None:
    link.set(shaped(5000), shaped(1000))
    details = capacity(link, "--capacity-max", "8000")["details"]
    assert details["up"]["kbps"] == pytest.approx(5000, rel=0.20), details["up"]
    assert details["down"]["kbps"] == pytest.approx(1000, rel=0.20), details["down"]


def test_random_loss_is_not_a_narrow_link(link: ImpairedLink) -> None:
    """5 % of every packet lost at random, no rate limit: nothing rises with the rate, so the
    ramp runs to its ceiling ("at least"), where a loss-only rule would have stopped at once."""
    link.set(Impairment(delay_ms=10, loss_pct=5), Impairment(delay_ms=10, loss_pct=5))
    probe = capacity(link, "--capacity-max", "2500")
    for name in ("up", "down"):
        direction = probe["details"][name]
        assert direction["bound"] == "at least", direction
        assert direction["kbps"] == 2500
        lost = sum(s["sent"] - s["received"] for s in direction["steps"])
        assert lost > 0  # the loss was there and was seen
    assert probe["status"] == "pass"


def test_a_host_that_is_not_a_serve_is_skipped_quickly(services: object) -> None:
    """coturn answers STUN on UDP 8000 but not the capacity test: skipped, not judged, and it
    costs the run at most the HELLO's two tries."""
    import subprocess
    import sys
    import time

    from tests.conftest import COTURN, Services

    assert isinstance(services, Services)
    started = time.monotonic()
    proc = subprocess.run(["ip", "netns", "exec", services.lab.client, sys.executable, "-m",
                           "trtcdetect", "--only", "capacity", "--target", COTURN,
                           "--udp-ports", "8000", "--json", "--quiet"],
                          capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    probe = json.loads(proc.stdout)["probes"][0]
    assert probe["status"] == "skip" and probe["message"]["id"] == "capacity.unsupported"
    assert probe["duration_s"] <= 2.5 and took < 10, (probe["duration_s"], took)
