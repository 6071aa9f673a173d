"""The domain probe against a real DNS server (dnsmasq) and real HTTPS servers with a test CA."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SERVE, Services


def domain(services: Services, target: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, doc = services.lab.trtcdetect_json(
        "--only", "domain", "--target", target, "--ca-file", str(services.ca_file), *extra)
    (probe,) = doc["probes"]
    return code, probe


def steps(probe: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in probe["details"]["steps"]}


def test_all_four_steps_pass_and_are_timed(services: Services) -> None:
    code, probe = domain(services, "trtc.test")
    assert code == 0 and probe["status"] == "pass", probe
    s = steps(probe)
    assert [st["ok"] for st in s.values()] == [True] * 4
    assert all(st["ms"] > 0 for st in s.values())
    assert s["dns"]["a"] == [SERVE] and s["dns"]["source"] == "dns"
    assert s["tcp"]["address"] == SERVE
    assert s["tls"]["verified"] is True and s["tls"]["version"].startswith("TLS")
    assert "trtc.test" in s["tls"]["dns_names"]
    assert s["https"]["status_code"] == 200
    names = {m["name"] for m in probe["metrics"]}
    assert {"dns_time", "tcp_time", "tls_time", "https_time", "cert_days_left"} <= names


def test_pinned_address_skips_dns(services: Services) -> None:
    code, probe = domain(services, "pinned.test", "--resolve", f"pinned.test:{SERVE}")
    # Pinned to the right server, but its certificate names trtc.test, not pinned.test.
    assert steps(probe)["dns"]["source"] == "pinned"
    assert steps(probe)["tcp"]["ok"] is True
    assert steps(probe)["tls"]["ok"] is False
    code, probe = domain(services, "trtc.test", "--resolve", f"trtc.test:{SERVE}")
    assert code == 0 and steps(probe)["dns"]["source"] == "pinned"


@pytest.mark.parametrize(
    ("target", "step", "words"),
    [
        ("nx.test", "dns", "NXDOMAIN"),
        ("refused.test", "tcp", "Connection refused"),
        ("wrong.test", "tls", "Hostname mismatch"),
        ("expired.test", "tls", "expired"),
    ],
)
def test_failing_step_is_named(services: Services, target: str, step: str, words: str) -> None:
    code, probe = domain(services, target)
    assert code == 2 and probe["status"] == "fail"
    assert probe["summary"].startswith(f"{step.upper()} step failed"), probe["summary"]
    s = steps(probe)
    assert s[step]["ok"] is False and words in s[step]["error"]
    order = ["dns", "tcp", "tls", "https"]
    for later in order[order.index(step) + 1:]:
        assert s[later]["ok"] is None  # not run
    assert probe["advice"], "a failure must come with a remedy"


def test_untrusted_certificate_still_shows_what_was_presented(services: Services) -> None:
    _, probe = domain(services, "wrong.test")
    tls = steps(probe)["tls"]
    assert tls["dns_names"] == ["other.test"]  # evidence: the certificate the server sent
    assert tls["verified"] is False


def test_unknown_ca_fails_without_ca_file(services: Services) -> None:
    code, doc = services.lab.trtcdetect_json("--only", "domain", "--target", "trtc.test")
    assert code == 2
    assert "certificate not trusted" in steps(doc["probes"][0])["tls"]["error"]


def test_certificate_expiring_soon_warns(services: Services) -> None:
    code, probe = domain(services, "soon.test")
    assert code == 1 and probe["status"] == "warn"
    days = next(m for m in probe["metrics"] if m["name"] == "cert_days_left")
    assert 4 <= days["value"] <= 5 and days["warn"] == 14
    assert "expires in" in probe["advice"][0]
