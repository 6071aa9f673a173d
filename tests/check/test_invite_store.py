"""Invitations (signed, expiring) and the store of received checks (ids, age, quota)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path

import pytest

from tests.check.test_judging import judged
from trtcdetect.check import invite
from trtcdetect.check.store import KEEP_AT_LEAST_S, Store, StoreFull, new_id


def parts(link: str) -> tuple[str, int, str]:
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    return query["ref"], int(query["exp"]), query["sig"]


def test_an_invitation_verifies_until_it_expires() -> None:
    link = invite.make("https://check.example/check", "TICKET-123", 3600, "secret", now=1000)
    assert link.startswith("https://check.example/check?ref=TICKET-123&exp=4600&sig=")
    ref, exp, sig = parts(link)
    invite.verify("secret", ref, exp, sig, now=4600)
    with pytest.raises(invite.InvitationError, match="expired"):
        invite.verify("secret", ref, exp, sig, now=4601)


@pytest.mark.parametrize("change", ["ref", "exp", "sig", "token"])
def test_an_altered_invitation_is_refused(change: str) -> None:
    ref, exp, sig = parts(invite.make("https://h/check", "T-1", 3600, "secret", now=0))
    token = "secret"
    if change == "ref":
        ref = "T-2"
    elif change == "exp":
        exp += 86400
    elif change == "sig":
        sig = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    else:
        token = "another"
    with pytest.raises(invite.InvitationError, match="signature"):
        invite.verify(token, ref, exp, sig, now=1)


@pytest.mark.parametrize(("text", "seconds"), [("2d", 172800), ("12h", 43200), ("30m", 1800),
                                               ("1w", 604800), ("3600", 3600)])
def test_expiry_durations(text: str, seconds: int) -> None:
    assert invite.parse_expire(text) == seconds


@pytest.mark.parametrize("text", ["", "2y", "-1d", "10s", "91d", "1.5d"])
def test_bad_expiry_durations(text: str) -> None:
    with pytest.raises(invite.InvitationError):
        invite.parse_expire(text)


@pytest.mark.parametrize("ref", ["", "a b", "<script>", "x" * 81, "T\n1"])
def test_bad_references_are_refused(ref: str) -> None:
    with pytest.raises(invite.InvitationError):
        invite.make("https://h/check", ref, 3600, "secret")


def test_ids_are_128_random_bits() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 26 for i in ids)  # 26 base32 characters: 130 bits, 128 of them random


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_store_keeps_lists_and_ages_out(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path, keep_days=1, clock=clock)
    first = store.save(judged())
    clock.now += 10
    second = store.save(judged(camera__black_ratio=1.0))
    assert [e.id for e in store.entries()] == [second.id, first.id]
    assert second.status == "fail" and second.reference == "TICKET-1"
    assert store.load(first.id)["config"]["reference"] == "TICKET-1"
    with pytest.raises(KeyError):
        store.load("../../etc/passwd")
    # a stored document damaged on disk does not read as the document's types: refused
    # (the routes answer 404), not rendered from whatever is left
    damaged = tmp_path / f"{second.id}.json"
    damaged.write_text(damaged.read_text().replace('"started_at": "', '"started_at": "x'))
    with pytest.raises(ValueError, match="started_at"):
        store.load(second.id)
    clock.now += 86400 + 5
    assert store.prune() == 2
    assert store.entries() == []
    assert list(tmp_path.iterdir()) == []


def test_the_quota_removes_the_oldest_but_never_a_young_report(tmp_path: Path) -> None:
    clock = Clock()
    probe_store = Store(tmp_path / "probe", clock=clock)
    size = probe_store.save(judged()).bytes
    store = Store(tmp_path / "s", quota_bytes=int(size * 2.5), clock=clock)
    old = store.save(judged())
    clock.now += KEEP_AT_LEAST_S + 1
    store.save(judged())
    store.save(judged())  # the third: the oldest (over an hour old) makes room
    assert old.id not in [e.id for e in store.entries()]
    assert len(store.entries()) == 2
    with pytest.raises(StoreFull):  # both left are young: refused, nothing written
        store.save(judged())
    assert len(store.entries()) == 2 and len(list((tmp_path / "s").iterdir())) == 6


def test_received_at_is_the_servers_time() -> None:
    report = judged()
    assert report.system["received_at"] == dt.datetime(2026, 12, 3, tzinfo=dt.UTC).isoformat(
        timespec="seconds").replace("+00:00", "Z")
