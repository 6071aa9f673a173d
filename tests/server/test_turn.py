"""serve --turn's pure parts: coturn's REST-API credentials and the configuration that keeps the
relay from being an open one. The relay itself runs in the lab
(tests/scenarios/test_diagnosis_lab.py: UDP dropped, the test call over TCP through it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from trtcdetect.main import main
from trtcdetect.server.turn import TURN_TTL_S, TurnRelay, credentials


def test_credentials_are_coturns_rest_api_scheme() -> None:
    username, password = credentials("s3cret", now=1_000_000.0)
    assert username == f"{1_000_000 + TURN_TTL_S}:trtcdetect"
    expected = base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest())
    assert password == expected.decode()


def test_the_relay_carries_calls_to_serve_only_with_its_secret_in_a_file() -> None:
    relay = TurnRelay("198.18.0.12", 3478)
    conf = relay.configuration(Path("/nonexistent"))
    lines = conf.splitlines()
    assert "denied-peer-ip=0.0.0.0-255.255.255.255" in lines
    assert "allowed-peer-ip=198.18.0.12" in lines and "allow-loopback-peers" not in lines
    assert f"static-auth-secret={relay.secret}" in lines and len(relay.secret) == 64
    offer = relay.offer("198.18.0.12", now=0.0)
    assert offer["urls"] == ["turn:198.18.0.12:3478?transport=tcp"] and "no-udp" in lines
    assert "allow-loopback-peers" in TurnRelay("127.0.0.1").configuration(Path("/x"))
    assert "no-tls" in lines


def test_tls_is_offered_first_at_the_name_the_certificate_carries() -> None:
    relay = TurnRelay("198.18.0.12", 443, 5349, Path("/etc/x/cert.pem"), Path("/etc/x/key.pem"))
    lines = relay.configuration(Path("/x")).splitlines()
    assert "tls-listening-port=5349" in lines and "cert=/etc/x/cert.pem" in lines
    assert "pkey=/etc/x/key.pem" in lines and "no-tls" not in lines
    assert relay.offer("198.18.0.12", now=0.0, name="turn.test")["urls"] == [
        "turns:turn.test:5349?transport=tcp", "turn:198.18.0.12:443?transport=tcp"]


@pytest.mark.parametrize(("argv", "words"), [
    (["serve", "--bind", "0.0.0.0", "--turn"], "--turn needs --bind with one address"),
    (["serve", "--bind", "127.0.0.1", "--turn", "70000"], "--turn: port out of range"),
    (["serve", "--bind", "127.0.0.1", "--turn", "--turn-tls", "5349"],
     "--turn-tls goes with --turn and --cert/--key"),
])
def test_bad_turn_options_are_one_line_and_exit_3(argv: list[str], words: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
