"""The trtc probe's logic as tables: SDK log lines and worker events in, verdicts out (no root,
no SDK, no network).

Two kinds of input, said per test:
- RECORDED: tests/data/trtc/*.log and *.events were recorded from the real SDK (liteav
  13.2.0.24212) in network namespaces with no route out (no route at all; TCP refused by the
  far host; packets dropped with NXDOMAIN; names resolving to a host that refuses).
- FROM THE DOCS: what the SDK says online (an answer, a test call) could not be recorded here
  (no internet); those sequences are written from Tencent's documented API and error table
  (error codes: trtc.io/document/35142; callbacks: liteav's __init__.pyi) and the log line
  shape the SDK was seen to use offline (`OnEnterRoom , code: [N]message, cost_time: Nms`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from trtcdetect.models import Status
from trtcdetect.probes import trtc as probe
from trtcdetect.probes.trtc import Relayed, TrtcObservation, judge
from trtcdetect.text.ids import R, S
from trtcdetect.text.remedies import PARTY
from trtcdetect.trtc import is_tencent
from trtcdetect.trtc.events import summarize
from trtcdetect.trtc.reading import OwnCheck, told_apart
from trtcdetect.trtc.sdklog import parse

DATA = Path(__file__).resolve().parents[1] / "data" / "trtc"
V6 = ("2402:4e00:1020:1203:0:936a:f913:842d", "240d:c000:2010:1301:0:9385:ac07:1a90")


def recorded(name: str) -> list[str]:
    return (DATA / f"{name}.log").read_text().splitlines(keepends=True)


def routes_v4_only(lines: list[str]) -> dict[str, str]:
    """The namespace's routes as they were: IPv4 reachable on-link, no IPv6."""
    return {a.host: ("no route: Network is unreachable" if ":" in a.host else "198.18.0.1")
            for a in parse(lines).tried()}


def reach(lines: list[str], routes: dict[str, str], ended_by: str = "exit",
          elapsed: float = 21.4, events: tuple[dict[str, Any], ...] = ()) -> TrtcObservation:
    return TrtcObservation(mode="reach", target="qcloud.rtc.qq.com", log=parse(lines),
                           events=events, ended_by=ended_by, returncode=0, deadline_s=12,
                           elapsed_s=elapsed, routes=routes)


# --- the SDK's log, RECORDED ---------------------------------------------------------------------

def test_recorded_log_lists_every_endpoint_the_sdk_tried() -> None:
    log = parse(recorded("offline-dropped-nxdomain"))
    assert log.version == "13.2.0.24212"
    assert log.enter_code == -3307 and log.enter_cost_ms == 21314
    assert log.exhausted_s is not None and 18.0 < log.exhausted_s < 18.6
    ports = {(a.transport, a.port) for a in log.tried()}
    assert ports == {("UDP", 8000), ("UDP", 8080), ("UDP", 16285),
                     ("TCP", 443), ("TCP", 13275), ("TCP", 23275)}
    assert {a.host for a in log.tried()} == {"162.14.22.165", "162.14.6.105", *V6}
    first = log.tried()[0]
    assert (first.endpoint, first.transport, first.outcome) == ("162.14.22.165:8000", "UDP",
                                                                "timeout")
    assert first.sends == 6  # the first try and five resends, 500 ms apart
    assert log.names["default-query.whyrtc.com"].error == "Name or service not known"


def test_recorded_tcp_refusal_is_told_from_silence() -> None:
    refused = {a.endpoint: a.outcome for a in parse(recorded("offline-refused")).tried()}
    dropped = {a.endpoint: a.outcome for a in parse(recorded("offline-dropped-nxdomain")).tried()}
    assert refused["162.14.22.165:443"] == "refused"
    assert dropped["162.14.22.165:443"] == "timeout"
    # UDP: the SDK does not log the ICMP refusal, both read as no answer (said in the module)
    assert refused["162.14.22.165:8000"] == dropped["162.14.22.165:8000"] == "timeout"


def test_recorded_udp_refusal_is_told_by_the_probes_own_check() -> None:
    """RECORDED log (offline-refused) with the probe's own checks of the endpoints the SDK left
    untold: the UDP ports refused there (ICMP port unreachable, which the SDK does not log) and
    TCP 13275 and 23275 (reset, but the SDK logged only a timeout) read "refused"; checks that
    got no answer leave them "no answer"; an answered check keeps the SDK's word. The checks'
    verdicts are net.ports' (tested against real sockets there); the lab run is in
    test_trtc_lab.py."""
    lines = recorded("offline-refused")
    routes = routes_v4_only(lines)
    untold = [a for a in parse(lines).tried() if a.outcome in ("timeout", None)
              and ":" not in a.host]
    closed = {"verdict": "closed", "refused_by": "host", "error": "Connection refused"}
    silent = {"verdict": "no_answer", "refused_by": None, "error": None}
    own = {"closed": OwnCheck(**closed), "silent": OwnCheck(**silent)}
    udp = "UDP 8000, 8080, 16285"
    for checked, word, other in ((closed, f"{udp}; TCP 443, 13275, 23275 refused", "no answer"),
                                 (silent, f"{udp}; TCP 13275, 23275 no answer",
                                  "13275, 23275 refused")):
        observation = replace(reach(lines, routes), checked={
            f"{a.endpoint} {a.transport}": own["closed" if checked is closed else "silent"]
            for a in untold})
        text = judge(observation).message.text("en")
        assert word in text and other not in text, text
        endpoints = {e["endpoint"]: e for e in observation.details()["endpoints"]
                     if e["transport"] == "UDP"}
        assert endpoints["162.14.22.165:8000"]["checked"] == checked
    assert told_apart("pending", OwnCheck(verdict="open")) == "pending"
    assert told_apart("refused", OwnCheck(verdict="no_answer")) == "refused"
    assert told_apart("timeout", None) == "timeout"


def test_recorded_names_that_resolved_are_asked_too() -> None:
    log = parse(recorded("offline-resolved-refused"))
    assert log.names["default-query.whyrtc.com"].addresses == ["198.18.0.2"]
    assert log.names["third_cloud_sdk_proxy.whyrtc.com"].addresses == ["198.18.0.2"]
    assert any(a.host == "198.18.0.2" for a in log.tried())


@pytest.mark.parametrize("name, says, not_says", [
    ("offline-dropped-nxdomain", ["no answer", "IPv6 no route",
                                  "default-query.whyrtc.com did not resolve"],
     ["refused"]),
    ("offline-refused", ["TCP 443 refused", "no answer", "default-query.whyrtc.com did not"],
     []),
    ("offline-resolved-refused", ["TCP 443 refused", "no answer"], ["did not resolve"]),
])
def test_recorded_offline_runs_fail_naming_how_each_ended(name: str, says: list[str],
                                                          not_says: list[str]) -> None:
    lines = recorded(name)
    verdict = judge(reach(lines, routes_v4_only(lines)))
    assert "reached_over" not in reach(lines, {}).details()
    assert verdict.status is Status.FAIL and verdict.message.id == S.TRTC_NO_ANSWER
    text = verdict.message.text("en")
    assert "did not answer within 21 s" in text
    for words in says:
        assert words in text
    for words in not_says:
        assert words not in text
    assert verdict.advice[0].id == R.TRTC_WHITELIST and PARTY[verdict.advice[0].id] == "network"
    assert "162.14.22.165" in verdict.advice[0].text()
    dns = {a.params["error"] for a in verdict.advice if a.id == R.DNS_FAILURE}
    if name == "offline-dropped-nxdomain":
        assert dns == {"Name or service not known"}  # NXDOMAIN, from the resolver's words
    elif name == "offline-refused":
        assert dns == {"Temporary failure in name resolution"}  # no DNS server answered
    assert verdict.message.text("zh").startswith("TRTC 接入服务器在 21 秒内无响应")


def test_recorded_no_route_at_all_blames_this_computer() -> None:
    lines = recorded("offline-no-route")
    routes = {a.host: "no route: Network is unreachable" for a in parse(lines).tried()}
    verdict = judge(reach(lines, routes))
    assert verdict.status is Status.FAIL and verdict.message.id == S.TRTC_NO_ROUTE
    assert [a.id for a in verdict.advice] == [R.TRTC_NO_ROUTE]
    assert PARTY[R.TRTC_NO_ROUTE] == "user"


def test_recorded_deadline_before_the_sdk_gave_up_says_so() -> None:
    lines = [line for line in recorded("offline-dropped-nxdomain") if "OnEnterRoom" not in line]
    verdict = judge(reach(lines, routes_v4_only(lines), ended_by="deadline", elapsed=12.04))
    assert verdict.status is Status.FAIL
    assert "within 12 s" in verdict.message.text("en")


def test_recorded_worker_events() -> None:
    events = [json.loads(x) for x in (DATA / "offline-refused.events").read_text().splitlines()]
    assert [e["event"] for e in events] == ["started", "enter", "connection", "error", "exited",
                                            "done"]
    assert events[1]["code"] == 0 and events[3]["code"] == -1  # the SDK's only callback: -1
    assert 21.0 < events[3]["t"] < 21.6


# --- an answer, FROM THE DOCS ------------------------------------------------------------------

def sdk_line(seconds: float, text: str) -> str:
    whole = int(seconds)
    return (f"[I][12-01/10:00:{whole:02d}.{int((seconds - whole) * 1000):03d}+0.0][1,2]"
            f"[transport_pipeline.cc:643]{text}\n")


ANSWER_START = [
    sdk_line(0.0, "============= SDK Version:13.2.0.24212 ============="),
    sdk_line(0.001, "QueryAccessServerInfo from server: 162.14.22.165:8000 [UDP]"),
    sdk_line(0.001, "C2SRequest: {cmd:RequestACCIPandSign, seq:1} Dst:162.14.22.165:8000 [UDP]"),
]


@pytest.mark.parametrize("code", [-100018, -3317, -100013, 0])
def test_from_the_docs_any_server_judgement_proves_the_cloud_answered(code: int) -> None:
    lines = [*ANSWER_START, sdk_line(0.043, f"OnEnterRoom , code: [{code}]whatever, "
                                            "cost_time: 43ms")]
    verdict = judge(reach(lines, {"162.14.22.165": "192.0.2.2"}, ended_by="done", elapsed=0.05))
    assert verdict.status is Status.PASS and verdict.message.id == S.TRTC_ANSWERED
    assert verdict.message.text("en") == ("TRTC's access servers answered in 43 ms (the SDK "
                                          "was asking 162.14.22.165:8000 over UDP 8000)")
    assert verdict.metrics[0].value == 43
    observation = reach(lines, {}, ended_by="done")
    assert observation.details()["reached_over"] == {"endpoint": "162.14.22.165:8000",
                                                     "transport": "UDP 8000"}


def test_from_the_docs_an_unlisted_code_is_not_claimed_either_way() -> None:
    lines = [*ANSWER_START, sdk_line(0.5, "OnEnterRoom , code: [-3301]Enter room failed, "
                                          "cost_time: 500ms")]
    verdict = judge(reach(lines, {}, ended_by="done"))
    assert verdict.status is Status.WARN and "-3301" in verdict.message.text("en")


def test_a_worker_that_died_is_an_error_with_its_last_words() -> None:
    observation = TrtcObservation(mode="reach", log=parse(ANSWER_START), ended_by="exit",
                                  returncode=-6, elapsed_s=0.2,
                                  tail=("Tried to call pure virtual function",))
    verdict = judge(observation)
    assert verdict.status is Status.ERROR
    assert "pure virtual" in verdict.message.text("en") and "-6" in verdict.message.text("en")


def test_through_a_proxy_the_sentence_says_so() -> None:
    lines = [*ANSWER_START, sdk_line(0.043, "OnEnterRoom , code: [-100018]x, cost_time: 43ms")]
    observation = reach(lines, {}, ended_by="done")
    observation = TrtcObservation(**{**observation.__dict__, "proxy": "10.0.0.1:1080"})
    assert "through the SOCKS5 proxy 10.0.0.1:1080" in judge(observation).message.text("en")
    assert "经 SOCKS5 代理 10.0.0.1:1080" in judge(observation).message.text("zh")


# --- the test call, FROM THE DOCS --------------------------------------------------------------

def call_events(quality: tuple[int, ...] = (1, 2), rtt_s: float = 0.08, lose_every: int = 0,
                audio_outage: tuple[float, float] | None = None, video: bool = True,
                error: int | None = None) -> list[dict[str, Any]]:
    """Two users entering, the uplink sending for 15 s; the downlink's frames, quality samples
    every 2 s (OnNetworkQuality), pings every 100 ms answered after `rtt_s`."""
    ev: list[dict[str, Any]] = [
        {"t": 0.01, "user": "up", "event": "enter", "code": 0},
        {"t": 0.01, "user": "down", "event": "enter", "code": 0}]
    if error is not None:
        ev.append({"t": 0.2, "user": "up", "event": "error", "code": error})
        return ev
    ev += [{"t": 0.31, "user": "up", "event": "entered"},
           {"t": 0.35, "user": "down", "event": "entered"},
           {"t": 0.40, "user": "up", "event": "audio_channel"}]
    start = 0.40
    for n in range(int(15 / 0.02)):
        t = start + 0.15 + n * 0.02
        if audio_outage and audio_outage[0] <= t - start < audio_outage[1]:
            continue
        ev.append({"t": t, "user": "down", "event": "audio_frame", "level_dbfs": -15.1, "ms": 20})
    if video:
        ev += [{"t": start + 0.3 + n / 15, "user": "down", "event": "video_frame",
                "width": 320, "height": 240} for n in range(15 * 15)]
    for n in range(150):
        t = start + n * 0.1
        ev.append({"t": t, "user": "up", "event": "ping", "seq": n})
        if not lose_every or n % lose_every:
            ev.append({"t": t + rtt_s, "user": "up", "event": "pong", "seq": n})
    for n in range(7):
        for user in ("up", "down"):
            ev.append({"t": start + 2 * (n + 1), "user": user, "event": "quality",
                       "local": quality[n % len(quality)], "remote": [1]})
    ev.append({"t": start + 15, "user": "up", "event": "call_over", "seconds": 15.0})
    return sorted(ev, key=lambda e: e["t"])


def call(events: list[dict[str, Any]]) -> TrtcObservation:
    return TrtcObservation(mode="call", target="qcloud.rtc.qq.com", events=tuple(events),
                           ended_by="done", elapsed_s=16, call=summarize(events))


def test_from_the_docs_a_good_call_passes_with_its_figures() -> None:
    figures = summarize(call_events(rtt_s=0.08, lose_every=10))
    assert figures.up.entered_ms == 300 and figures.down.entered_ms == 340
    assert figures.first_audio_ms == pytest.approx(150, abs=1)
    assert figures.first_video_ms == pytest.approx(300, abs=1)
    assert figures.rtt_median_ms == pytest.approx(80, abs=0.5)
    assert figures.ping_loss_pct == pytest.approx(10, abs=1)  # every 10th ping lost
    assert figures.audio_gaps == 0 and figures.audio_level_dbfs == -15.1
    assert figures.quality_mean == pytest.approx(10 / 7, abs=0.01)  # 1,2,1,2,1,2,1 per user
    assert figures.seen().up.quality_series[:2] == ((2.4, 1), (4.4, 2))  # every 2 s
    verdict = judge(call(call_events()))
    assert verdict.status is Status.PASS and verdict.message.id == S.TRTC_CALL
    assert "network quality excellent (mean 1.4" in verdict.message.text("en")
    assert "网络质量极佳" in verdict.message.text("zh")
    assert "RTT 80 ms" in verdict.message.text("en")


# seven samples per user, the pattern repeated: (2, 3) is 2,3,2,3,2,3,2 -- a mean of 2.43
@pytest.mark.parametrize("quality, status", [((1, 2), Status.PASS), ((3,), Status.WARN),
                                             ((2, 3), Status.PASS), ((2, 3, 3), Status.WARN),
                                             ((4,), Status.FAIL), ((3, 4), Status.WARN),
                                             ((3, 4, 4), Status.FAIL), ((1, 6), Status.FAIL),
                                             ((0,), Status.PASS)])
def test_from_the_docs_quality_on_tencents_scale(quality: tuple[int, ...],
                                                 status: Status) -> None:
    assert judge(call(call_events(quality=quality))).status is status


def test_unknown_quality_samples_do_not_count_as_good() -> None:
    assert summarize(call_events(quality=(0, 4))).quality_mean == 4
    verdict = judge(call(call_events(quality=(0,))))
    assert "network quality unknown (mean -" in verdict.message.text("en")


def test_from_the_docs_an_audio_outage_is_one_gap_of_its_length() -> None:
    figures = summarize(call_events(audio_outage=(5.0, 5.5)))
    assert figures.audio_gaps == 1
    assert figures.audio_longest_gap_ms == pytest.approx(520, abs=21)


def test_from_the_docs_no_video_fails_naming_it() -> None:
    verdict = judge(call(call_events(video=False)))
    assert verdict.status is Status.FAIL and verdict.message.id == S.TRTC_NO_MEDIA
    assert "no video arrived" in verdict.message.text("en")


def test_from_the_docs_rejected_credentials_are_the_owners_to_fix() -> None:
    verdict = judge(call(call_events(error=-100018)))
    assert verdict.status is Status.FAIL and verdict.message.id == S.TRTC_REJECTED
    assert [a.id for a in verdict.advice] == [R.TRTC_CREDENTIALS]
    assert PARTY[R.TRTC_CREDENTIALS] == "owner"


def test_recorded_call_that_could_not_enter_is_judged_as_reachability() -> None:
    lines = recorded("offline-dropped-nxdomain")
    events = [{"t": 0.01, "user": "up", "event": "enter", "code": 0},
              {"t": 0.01, "user": "down", "event": "enter", "code": 0},
              {"t": 21.3, "user": "up", "event": "error", "code": -1},
              {"t": 21.3, "user": "down", "event": "error", "code": -1}]
    observation = TrtcObservation(mode="call", log=parse(lines), events=tuple(events),
                                  ended_by="done", elapsed_s=21.4,
                                  routes=routes_v4_only(lines), call=summarize(events))
    verdict = judge(observation)
    assert verdict.status is Status.FAIL and verdict.message.id == S.TRTC_NO_ANSWER


# --- when it does not run ----------------------------------------------------------------------

def test_without_the_sdk_the_probe_is_skipped_with_the_install_command() -> None:
    verdict = judge(TrtcObservation(skipped=("no-sdk", "the Python package liteav is not "
                                                       "installed")))
    assert verdict.status is Status.SKIP
    assert "pip install 'trtcdetect[trtc]'" in verdict.advice[0].text()


def test_unavailable_names_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe.platform, "system", lambda: "Darwin")
    assert "Linux x86_64/aarch64 only" in (probe.unavailable() or "")
    monkeypatch.setattr(probe.platform, "system", lambda: "Linux")
    monkeypatch.setattr(probe.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(probe.importlib.util, "find_spec", lambda name: None)
    assert probe.unavailable() == "the Python package liteav is not installed"


@pytest.mark.parametrize("host, tencent", [
    ("qcloud.rtc.qq.com", True), ("yun.tim.qq.com", True), ("wss.my-imcloud.com", True),
    ("schedule.cloud-rtc.com", True), ("trtc.test", False), ("evilqq.com", False),
    ("qq.com.example.org", False), ("198.18.0.2", False)])
def test_which_targets_are_tencents(host: str, tencent: bool) -> None:
    assert is_tencent(host) is tencent


def test_the_generated_media_is_what_the_call_figures_expect() -> None:
    from trtcdetect.trtc import media

    tone = media.tone_frame(3)
    assert len(tone) == 2 * media.SAMPLE_RATE * media.FRAME_MS // 1000
    assert media.level_dbfs(tone) == pytest.approx(-15.1, abs=0.2)  # a 0.25 sine: -15.05 dBFS
    assert media.level_dbfs(bytes(960)) == -120.0
    frames = [media.pattern_frame(n) for n in range(3)]
    assert all(len(f) == media.VIDEO_W * media.VIDEO_H * 3 // 2 for f in frames)
    assert frames[0] != frames[1] != frames[2]  # the pattern moves: never a frozen picture


def test_secrets_are_replaced_in_the_kept_sdk_logs(tmp_path: Path) -> None:
    """--trtc-logs: the SDK's own .clog files (raw DEFLATE) and its console lines are written out
    with every secret replaced. (The offline SDK never logged a UserSig; this holds the
    mechanism to it whatever a later SDK logs.)"""
    import zlib

    from trtcdetect.trtc.session import _keep, scrub

    assert scrub("sig=eJwSECRET; again eJwSECRET", ["eJwSECRET"]) == "sig=***; again ***"
    home = tmp_path / "home" / ".cache" / "python3" / "liteav" / "log"
    home.mkdir(parents=True)
    packer = zlib.compressobj(wbits=-15)
    (home / "LiteAV_C_1.clog").write_bytes(
        packer.compress(b"EnterRoom user_sig: eJwSECRET\n") + packer.flush())
    kept = _keep(tmp_path / "home", ["console eJwSECRET\n"], tmp_path / "out", ["eJwSECRET"])
    texts = [Path(k).read_text() for k in kept]
    assert len(kept) == 2 and "EnterRoom user_sig: ***" in "".join(texts)
    assert not any("eJwSECRET" in t for t in texts)


def test_recorded_six_that_leaves_no_way_is_the_options_doing() -> None:
    """The recorded offline run with the routes -6 gives (IPv4 left out by the relay, no
    IPv6 route): the options' remedy, and each family said for what it was."""
    lines = recorded("offline-no-route")
    routes = {a.host: ("no route: Network is unreachable" if ":" in a.host else "excluded by -6")
              for a in parse(lines).tried()}
    observation = reach(lines, routes)
    observation = TrtcObservation(**{**observation.__dict__,
                                     "relayed": Relayed(which="-6", other_family=12)})
    verdict = judge(observation)
    assert verdict.message.id == S.TRTC_NO_ROUTE
    assert "IPv6 no route; IPv4 left out by -6" in verdict.message.text("en")
    assert "IPv4 因 -6 未尝试" in verdict.message.text("zh")
    assert [(a.id, dict(a.params)) for a in verdict.advice] == [
        (R.LOCAL_OPTIONS_LEFT_NOTHING, {"which": "-6"})]


def test_through_the_relay_the_sentence_names_the_options() -> None:
    lines = [*ANSWER_START, sdk_line(0.043, "OnEnterRoom , code: [-100018]x, cost_time: 43ms")]
    observation = reach(lines, {}, ended_by="done")
    observation = TrtcObservation(**{**observation.__dict__,
                                     "relayed": Relayed(which="--source 192.0.2.7")})
    assert "with --source 192.0.2.7 (trtcdetect relays the SDK's packets for it)" in \
        judge(observation).message.text("en")
