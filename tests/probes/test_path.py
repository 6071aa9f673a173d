"""The path probe's judging as tables (no network): where loss and delay start, which hops are
hidden, and what it says. The lab (test_path_lab.py) makes the same paths with real routers."""

from __future__ import annotations

import pytest

from tests.fixtures import hop, traced
from trtcdetect.models import Status
from trtcdetect.net.path import PathHop
from trtcdetect.probes.path import PathObservation, delay_start, judge, loss_start, place_of


def seen(*hops: PathHop, reached_at: int | None = None) -> PathObservation:
    return PathObservation("media.example.com", "192.0.2.9", 8000, traced(
        *hops, reached_at=reached_at))


GW, ISP, EDGE, SERVER = "192.168.1.1", "100.64.0.1", "203.0.113.1", "192.0.2.9"


@pytest.mark.parametrize(("answered", "reached", "start", "place", "certain"), [
    # answered of 5 (or 8) per hop: gateway, provider, server's edge, server
    ((5, 5, 5, 5), 4, None, None, None),              # clean
    ((3, 3, 3, 3), 4, 1, "here", True),               # this computer's link
    ((5, 3, 3, 3), 4, 2, "middle", True),             # past the gateway
    ((5, 5, 3, 3), 4, 3, "middle", True),
    ((5, 5, 5, 3), 4, 4, "server", True),             # only the server's own hop
    ((2, 5, 5, 5), 4, None, None, None),              # the gateway limits its answers only
    ((2, 5, 4, 4), 4, 3, "middle", False),            # ... a clean hop 2 of 5 at 20 % loss:
                                                      # no evidence the loss starts after it
    ((1, 1, 1, 4), 4, 1, "here", False),              # every router limits: not certain
    ((5, 3, 0, 3), 4, 2, "middle", True),             # a hidden hop is skipped over
    ((5, 4, 4, 0), None, 2, "middle", False),         # the server never answered: last hop
    ((8, 5, 5, 5), 4, 2, "middle", True),             # 8 clean before 37 % loss: evidence
    ((8, 7, 7, 7), 4, 2, "middle", False),            # ... before 12 % loss: none
])
def test_where_the_loss_starts(answered: tuple[int, ...], reached: int | None,
                               start: int | None, place: str | None,
                               certain: bool | None) -> None:
    sent = 8 if max(answered) > 5 else 5  # the rows of 8 are the probe's own count a hop
    hops = [hop(i + 1, a and addr, a, 10.0 * (i + 1) if a else None, sent=sent)
            for i, (a, addr) in enumerate(zip(answered, (GW, ISP, EDGE, SERVER), strict=True))]
    found = loss_start(hops, reached)
    if start is None:
        assert found is None
        return
    assert found is not None
    assert (found.ttl, found.place, found.certain) == (start, place, certain)


@pytest.mark.parametrize(("rtts", "start", "added"), [
    ((1.0, 10.0, 12.0, 14.0), None, None),
    ((1.0, 10.0, 110.0, 112.0), 3, 100.0),            # a long link after the provider
    ((60.0, 61.0, 62.0, 63.0), 1, 60.0),              # this computer's own link (Wi-Fi)
    ((1.0, 200.0, 12.0, 14.0), None, None),           # a router slow to answer ICMP alone
    ((1.0, 10.0, 12.0, 80.0), 4, 68.0),               # at the server's end
])
def test_where_the_delay_starts(rtts: tuple[float, ...], start: int | None,
                                added: float | None) -> None:
    hops = [hop(i + 1, addr, 5, rtt)
            for i, (rtt, addr) in enumerate(zip(rtts, (GW, ISP, EDGE, SERVER), strict=True))]
    found = delay_start(hops, 4)
    if start is None:
        assert found is None
    else:
        assert found is not None and (found.ttl, found.added_ms) == (start, added)


def test_the_place_of_a_hop() -> None:
    assert place_of(1, 4) == "here" and place_of(2, 4) == "middle" and place_of(4, 4) == "server"
    assert place_of(3, None) == "middle" and place_of(1, 1) == "here"


@pytest.mark.parametrize(("observation", "status", "words"), [
    (seen(hop(1, GW, 5, 1.0), hop(2, SERVER, 5, 9.0, said="answer"), reached_at=2),
     Status.PASS, "2 hops to media.example.com, 9.0 ms, no loss"),
    (seen(hop(1, GW, 5, 1.0), hop(2, ISP, 3, 9.0), hop(3, SERVER, 3, 9.0, said="answer"),
          reached_at=3), Status.WARN, "lost from hop 2 (100.64.0.1) on, in the middle"),
    (seen(hop(1, GW, 5, 1.0), hop(2, ISP, 5, 150.0), hop(3, SERVER, 5, 230.0, said="answer"),
          reached_at=3), Status.WARN, "rises by 149.0 ms at hop 2"),
    (seen(hop(1, GW, 5, 1.0), hop(2, ISP, 5, 9.0), hop(3, None, 0, None)),
     Status.PASS, "2 hops answered without loss; media.example.com itself does not answer"),
    (seen(hop(1, SERVER, 5, 0.4, said="answer"), reached_at=1),  # one hop: said as one
     Status.PASS, "media.example.com is the next hop, 0.4 ms, no loss"),
    (seen(hop(1, GW, 5, 1.0), hop(2, None, 0, None)),
     Status.PASS, "the first hop answered without loss; media.example.com itself does not"),
    (seen(hop(1, None, 0, None), hop(2, None, 0, None)), Status.WARN, "nothing on the way"),
    (seen(hop(1, GW, 1, 1.0), hop(2, ISP, 1, 9.0), hop(3, SERVER, 4, 9.0, said="answer"),
          reached_at=3), Status.WARN, "cannot be told"),
    (PathObservation("media.example.com", dns_error="NXDOMAIN"), Status.SKIP, "not traced"),
])
def test_what_the_path_probe_says(observation: PathObservation, status: Status,
                                  words: str) -> None:
    from trtcdetect.text import sentence

    verdict = judge(observation)
    assert verdict.status is status
    assert verdict.message is not None
    text = sentence(verdict.message.id, verdict.message.params, "en")
    assert words in text, text
    assert sentence(verdict.message.id, verdict.message.params, "zh")


def test_later_rounds_ask_only_as_far_as_the_path_answers() -> None:
    """The host answered at 4: rounds stop there. It did not, and hop 6 was the furthest to
    answer: three TTLs past it (hops that hide themselves), not all thirty."""
    from trtcdetect.net.path import Hop, Trace, _last_ttl

    hops = [Hop(ttl) for ttl in range(1, 31)]
    trace = Trace("192.0.2.9", 8000, hops)
    assert _last_ttl(trace, 30) == 30
    hops[5].rtts_ms.append(9.0)
    assert _last_ttl(trace, 30) == 9
    trace.reached_at = 4
    assert _last_ttl(trace, 30) == 4
