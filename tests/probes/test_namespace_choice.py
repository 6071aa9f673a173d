"""Which network namespace -4/-6, --source and --interface give Tencent's Web SDK in Chromium
(browser/netns.py), and how the trtcweb judge says a held run: pure, no root, no browser (the
unit part runs them). The real Chromium and slirp4netns in the lab are
tests/scenarios/test_browser_netns.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trtcdetect.browser import netns
from trtcdetect.config import Config
from trtcdetect.evidence import Held
from trtcdetect.models import Status
from trtcdetect.probes.trtcweb import Schedule, TrtcWebObservation, judge
from trtcdetect.text.ids import R, S

SECOND = "198.18.0.100"


def config(**options: Any) -> Config:
    return Config.of(**options)


# --- which namespace for which options (no root) ---------------------------------------------

@pytest.mark.parametrize(("options", "device", "expected"), [
    ({"family": 4}, None, (True, False, None, None)),
    ({"family": 6}, None, (False, True, None, None)),
    ({"source": SECOND}, None, (True, False, SECOND, None)),
    ({"source": "fd00:18::1"}, None, (False, True, None, "fd00:18::1")),
    ({"interface": "eth1"}, ["fe80::1", "10.1.1.5", "2001:db8::5"],
     (True, True, "10.1.1.5", "2001:db8::5")),
    ({"interface": "eth1", "family": 6}, ["10.1.1.5", "2001:db8::5"],
     (False, True, None, "2001:db8::5")),
    ({"interface": "eth1", "family": 4}, ["10.1.1.5", "fe80::1"], (True, False, "10.1.1.5", None)),
])
def test_the_namespace_allows_what_the_options_chose(
        options: dict[str, Any], device: list[str] | None,
        expected: tuple[bool, bool, str | None, str | None]) -> None:
    hold = netns.hold_for(config(**options), device)
    assert (hold.ipv4, hold.ipv6, hold.v4, hold.v6) == expected
    slirp = netns.slirp_command(hold, 1234, 5, 6)
    assert ("--enable-ipv6" in slirp) is hold.ipv6
    assert (f"--outbound-addr={hold.v4}" in slirp) is (hold.v4 is not None)
    assert (f"--outbound-addr6={hold.v6}" in slirp) is (hold.v6 is not None)
    inside = netns.inside_command(hold, 8000, Path("/x/resolv.conf"), ["chromium", "page"])
    assert ("--no-ipv4" in inside) is (not hold.ipv4)
    assert inside[-2:] == ["chromium", "page"]


def test_an_interface_without_an_address_of_the_family_holds_nothing() -> None:
    with pytest.raises(netns.NotHeld, match="--interface eth1: the device has no address"):
        netns.hold_for(config(interface="eth1", family=6), ["10.1.1.5", "fe80::1"])


def test_not_held_is_an_error_that_blames_no_network() -> None:
    verdict = judge(TrtcWebObservation(browser="chromium", ended_by="hold",
                                       error="slirp4netns: setns failed",
                                       held=Held(which="--source 10.0.0.9")))
    assert verdict.status is Status.ERROR and verdict.message.id == S.TRTCWEB_NOT_HELD
    assert [a.id for a in verdict.advice] == [R.BROWSER_NAMESPACE]


def test_held_runs_say_so_in_the_summary() -> None:
    held = netns.Hold("-6", ipv4=False, ipv6=True).seen()
    verdict = judge(TrtcWebObservation(browser="chromium", held=held, proxy="10.0.0.7",
                                       schedule=Schedule(ms=80, error={"code": 5400})))
    via = verdict.message.params["via"]
    assert verdict.status is Status.PASS and via["id"] == S.TRTCWEB_HELD
    assert via["params"]["which"] == "-6" and via["params"]["proxy"]["id"] == S.TRTC_VIA_PROXY_WEB



def test_without_slirp4netns_the_result_says_the_options_were_not_applied(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the tool is missing the browser runs as before, and the runner puts this note in
    the result (the lab runs above show such an unheld run's packets: the control)."""
    from trtcdetect.probes import trtcweb

    real = netns.shutil.which
    monkeypatch.setattr(netns.shutil, "which",
                        lambda name: None if name == "slirp4netns" else real(name))
    note = trtcweb.unbound(config(source=SECOND))
    assert note is not None and note.startswith("slirp4netns not installed here"), note
    assert "did not reach it" in note
    monkeypatch.setattr(netns.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert trtcweb.unbound(config(source=SECOND)) is None
