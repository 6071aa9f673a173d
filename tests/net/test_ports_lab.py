"""The ports probe against real servers in the namespace lab, behind real nftables rules."""

from __future__ import annotations

from typing import Any

from tests.conftest import COTURN, NOTHING, SERVE, Services
from tests.lab import Lab

UDP = [8000, 8080, 8800, 843, 443, 16285]


def ports_of(document: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    (probe,) = document["probes"]
    assert probe["id"] == "ports"
    return {(p["protocol"], p["port"]): p for p in probe["details"]["ports"]}


def test_every_port_open_against_the_reference_endpoint(services: Services) -> None:
    code, doc = services.lab.trtcdetect_json("--only", "ports", "--target", SERVE)
    ports = ports_of(doc)
    assert code == 0 and doc["status"] == "pass"
    assert set(ports) == {("tcp", 8687)} | {("udp", p) for p in UDP}
    for verdict in ports.values():
        assert verdict["verdict"] == "open"
        assert 0 < verdict["rtt_ms"] < 100


def test_independent_stun_server_answers_on_every_udp_port(services: Services) -> None:
    # coturn, not our own server, answers: the probe speaks standard STUN. Found through DNS.
    code, doc = services.lab.trtcdetect_json(
        "--only", "ports", "--target", "coturn.test", "--tcp-ports", "")
    assert code == 0, doc
    assert doc["probes"][0]["details"]["address"] == COTURN
    assert {k: v["verdict"] for k, v in ports_of(doc).items()} == {("udp", p): "open" for p in UDP}


def test_drop_reject_and_admin_prohibited_each_get_their_verdict(firewall: Lab) -> None:
    firewall.firewall([
        f"ip daddr {COTURN} udp dport 8000 drop",
        f"ip daddr {COTURN} udp dport 8080 reject with icmp type port-unreachable",
        f"ip daddr {COTURN} udp dport 8800 reject with icmp type admin-prohibited",
    ])
    code, doc = firewall.trtcdetect_json(
        "--only", "ports", "--target", COTURN, "--tcp-ports", "", "--timeout", "3")
    ports = ports_of(doc)
    assert ports[("udp", 8000)]["verdict"] == "no_answer"
    assert ports[("udp", 8080)]["verdict"] == "closed"
    assert "errno 111" in ports[("udp", 8080)]["error"]  # ICMP port unreachable -> refused
    assert ports[("udp", 8800)]["verdict"] == "closed"
    assert "errno 113" in ports[("udp", 8800)]["error"]  # admin-prohibited -> no route
    for port in (843, 443, 16285):
        assert ports[("udp", port)]["verdict"] == "open"
    assert code == 1 and doc["status"] == "warn"
    probe = doc["probes"][0]
    assert "8000, 8080, 8800" in probe["advice"][0]
    # Answers measured the path, so the silent port was given up on well before the timeout.
    assert probe["duration_s"] < 2.0, probe["duration_s"]


def test_tcp_drop_and_reject(firewall: Lab) -> None:
    firewall.firewall([
        f"ip daddr {SERVE} tcp dport 8687 drop",
        f"ip daddr {NOTHING} tcp dport 8687 reject with icmp type admin-prohibited",
    ])
    _, dropped = firewall.trtcdetect_json("--only", "ports", "--target", SERVE, "--udp-ports", "",
                                          "--timeout", "1")
    assert ports_of(dropped)[("tcp", 8687)]["verdict"] == "no_answer"
    _, prohibited = firewall.trtcdetect_json(
        "--only", "ports", "--target", NOTHING, "--udp-ports", "")
    assert ports_of(prohibited)[("tcp", 8687)]["verdict"] == "closed"
    assert "errno 113" in ports_of(prohibited)[("tcp", 8687)]["error"]


def test_nothing_listening_is_closed_and_fails(services: Services) -> None:
    code, doc = services.lab.trtcdetect_json("--only", "ports", "--target", NOTHING)
    assert {v["verdict"] for v in ports_of(doc).values()} == {"closed"}
    assert code == 2 and doc["status"] == "fail"


def test_everything_dropped_costs_one_timeout_not_one_per_port(firewall: Lab, tmp_path: Any) -> None:
    firewall.firewall([f"ip daddr {SERVE} drop"])
    proc = firewall.trtcdetect("--only", "ports", "--target", SERVE, "--timeout", "2",
                               "--output", str(tmp_path), "--quiet")
    assert proc.returncode == 2, proc.stderr
    from tests.conftest import load_valid

    (json_file,) = tmp_path.glob("*.json")
    doc = load_valid(json_file)
    probe = doc["probes"][0]  # type: ignore[index]
    assert {v["verdict"] for v in probe["details"]["ports"]} == {"no_answer"}
    # Seven ports, one timeout: no answer ever measured the path, so the ceiling applies once.
    assert 1.9 <= probe["duration_s"] <= 2.6, probe["duration_s"]
    # Honest wording: silence is never called open.
    (html_file,) = tmp_path.glob("*.html")
    html = html_file.read_text()
    assert html.count("no answer (open or filtered)") == 7
    assert ">open<" not in html


def test_probe_time_stays_near_one_round_trip_when_all_open(services: Services) -> None:
    _, doc = services.lab.trtcdetect_json("--only", "ports", "--target", SERVE)
    assert doc["probes"][0]["duration_s"] < 0.5
