"""serve in the lab, attacked from a forged source address (raw sockets, namespaces): what the
victim receives per byte the attacker sent, for every UDP request kind an unverified source can
make, is held to its limit. The table: benchmarks/amplification.py."""

from __future__ import annotations

import pytest

from tests.conftest import SERVE
from tests.lab import Lab, built
from tests.server.abuse import amplification, ratio
from trtcdetect.net import capacitywire as wire

pytestmark = pytest.mark.lab


def test_a_forged_source_gets_no_amplified_answer_and_no_train_without_a_fresh_proof() -> None:
    with built(Lab) as lab:
        lab.serve(SERVE, "--udp-ports", "8000", "--tcp-ports", "", "--https-port", "0")
        rows = amplification(lab, SERVE, 8000)
    # STUN: each request answered (within its rate), at most 1.5 times its bytes at IP level
    assert rows["stun binding"]["bytes_out"] > 0
    assert ratio(rows["stun binding"]) <= 1.5, rows
    # a HELLO: a WELCOME no larger than it
    assert 0 < ratio(rows["capacity hello"]) <= 1.0, rows
    # a DOWN with a cookie not made for the victim's address: nothing at all
    assert rows["capacity down, another address's cookie"]["bytes_out"] == 0, rows
    # with the victim's own fresh cookie (sniffed), but no echo of the trains: at most
    # MAX_UNECHOED trains of at most 1 s each, however many requests are forged
    fresh = rows["capacity down, the victim's fresh cookie (no echo)"]
    one_train = 20_000 * 1000 / 8 * 1.0 * 1.05  # 20 Mbit/s for 1 s, IP level, with slack
    assert fresh["bytes_out"] <= wire.MAX_UNECHOED * one_train, rows
    # the victim's own cookie, never used, replayed once it is older than 30 s: nothing
    assert rows["capacity down, the victim's own cookie, older than 30 s"]["bytes_out"] == 0
