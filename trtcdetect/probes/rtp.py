"""Probe `rtp`: a real test call through aiortc (ICE, DTLS-SRTP, Opus, VP8, RTCP).

Local loopback (default): a second RTCPeerConnection in this process echoes the media back; it
proves this machine's stack, codecs and CPU can carry a call. With --echo-url the far end is
`trtcdetect serve`'s echo peer and the media crosses the real network twice.

Numbers come from aiortc's stats, converted with care: jitter is in RTP clock units (48 kHz
audio, 90 kHz video); fractionLost is 0-255; only the sending side has RTT (from the far end's
receiver reports); a receiver's inbound-rtp entry can be overwritten by its RTX stream, so video
downlink samples from any SSRC other than the first seen are ignored.

aiortc reports RTT smoothed (new = 0.85 old + 0.15 sample), so its value stays close to the first
report's for the whole of a short call. The stats are read every CALL_POLL_S, faster than
receiver reports come (0.5-1.5 s apart), so each change of the smoothed value is one report: the
report's own RTT is recovered from it, and the call's RTT is the mean over the reports. RTT is
only taken while media flows: aiortc stamps a sender report with the time of the last RTP packet,
so once media stops every report carries the same stamp, and a receiver report answering an
older one is taken for an answer to the newest (a few such readings came out hundreds of ms
wrong, even negative). A call with no RTT yet when its time is up goes on until one comes.

Uplink loss is what the far end counted of every packet it got. When media stops, the far end
is asked directly (in this process for the local call; GET the `received` URL the echo peer
gave with its answer for an echo call): no waiting for its next receiver report. When it cannot
say (an echo peer without that URL), media stops and we wait up to RTCP_DRAIN_S for a receiver
report written after the last packet arrived; `uplink_counted_by` says which.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import thresholds
from ..config import Config
from ..models import Advice, Message, Metric, ProbeResult, Status
from ..server.echo import CLOCK
from .emodel import mos


class CallFailed(Exception):
    def __init__(self, stage: str, message: Message) -> None:
        super().__init__(message.text())
        self.stage, self.message = stage, message


@dataclass
class KindStats:
    """What one media kind (audio or video) has shown so far."""

    kind: str
    packets_sent: int = 0
    bytes_sent: int = 0
    rr_lost: int | None = None
    rr_jitter_ms: float | None = None
    rr_at: Any = None
    rtt_ms: float | None = None  # aiortc's smoothed value, as last read
    rtt_samples: list[float] = field(default_factory=list)  # one per receiver report
    rtt_row_from: int = 0  # samples before this index are in earlier series rows
    fraction_lost_pct: float | None = None
    received: int | None = None
    lost_down: int | None = None
    jitter_down_ms: float | None = None
    primary_ssrc: int | None = None
    sender_ssrc: int | None = None
    far_received: int | None = None
    far_lost: int | None = None


@dataclass
class Series:
    t: list[float] = field(default_factory=list)
    rows: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)

    def add(self, kind: str, **values: float | None) -> None:
        columns = self.rows.setdefault(kind, {})
        for name, value in values.items():
            columns.setdefault(name, []).append(None if value is None else round(value, 2))


async def collect(pc: Any, stats: dict[str, KindStats], rtt: bool = True) -> None:
    """Read every sender's and receiver's stats into `stats`, keyed by kind (RTT only with
    `rtt`: while media flows)."""
    for sender in pc.getSenders():
        if sender.track is None:
            continue
        kind = sender.track.kind
        entry = stats.setdefault(kind, KindStats(kind))
        for s in (await sender.getStats()).values():
            if s.type == "outbound-rtp":
                entry.packets_sent, entry.bytes_sent = s.packetsSent, s.bytesSent
                entry.sender_ssrc = s.ssrc
            elif s.type == "remote-inbound-rtp":
                entry.rr_lost = s.packetsLost
                entry.rr_jitter_ms = s.jitter / CLOCK[kind] * 1000
                entry.rr_at = s.timestamp
                entry.fraction_lost_pct = s.fractionLost / 256 * 100
                if rtt and s.roundTripTime is not None:
                    _rtt_sample(entry, s.roundTripTime * 1000)
    for receiver in pc.getReceivers():
        kind = receiver.track.kind
        entry = stats.setdefault(kind, KindStats(kind))
        for s in (await receiver.getStats()).values():
            if s.type != "inbound-rtp":
                continue
            if entry.primary_ssrc is None:
                entry.primary_ssrc = s.ssrc
            if s.ssrc != entry.primary_ssrc:
                continue  # the RTX stream overwrote the entry: keep the last primary sample
            entry.received, entry.lost_down = s.packetsReceived, s.packetsLost
            entry.jitter_down_ms = s.jitter / CLOCK[kind] * 1000


def _rtt_sample(entry: KindStats, smoothed: float) -> None:
    """Recover the newest receiver report's RTT from aiortc's smoothed value (see above)."""
    from aiortc import rtcrtpsender

    alpha = getattr(rtcrtpsender, "RTT_ALPHA", None)
    if entry.rtt_ms is None or not isinstance(alpha, float):
        entry.rtt_samples.append(smoothed)  # the first report, or an aiortc that changed
    elif smoothed != entry.rtt_ms:
        entry.rtt_samples.append(max((smoothed - alpha * entry.rtt_ms) / (1 - alpha), 0.0))
    entry.rtt_ms = smoothed


def _row_rtt(k: KindStats) -> float | None:
    """The mean RTT of the reports since the previous series row (None: no report)."""
    fresh = k.rtt_samples[k.rtt_row_from:]
    k.rtt_row_from = len(k.rtt_samples)
    return statistics.fmean(fresh) if fresh else None


def _summary(values: list[float | None]) -> dict[str, float] | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {"min": round(min(present), 2), "avg": round(statistics.fmean(present), 2),
            "max": round(max(present), 2)}


class Call:
    """One test call from this side: set-up timings, per-second samples, final counts."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.marks: dict[str, float] = {}
        self.start = time.monotonic()
        self.connected_at = self.start
        self.connected = asyncio.Event()
        self.failed = asyncio.Event()
        self.first_media = asyncio.Event()
        self.readers: list[asyncio.Task[None]] = []
        self.audio_power = 0.0
        self.audio_samples = 0
        self.frames: dict[str, int] = {}

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, round((time.monotonic() - self.start) * 1000, 1))

    def watch(self, pc: Any) -> None:
        @pc.on("iceconnectionstatechange")  # type: ignore[untyped-decorator]
        def on_ice() -> None:
            if pc.iceConnectionState in ("completed", "connected"):
                self.mark("ice_connected_ms")
            elif pc.iceConnectionState == "failed":
                self.failed.set()

        @pc.on("connectionstatechange")  # type: ignore[untyped-decorator]
        def on_connection() -> None:
            if pc.connectionState == "connected":
                self.mark("dtls_connected_ms")
                if not self.connected.is_set():
                    self.connected_at = time.monotonic()
                self.connected.set()
            elif pc.connectionState == "failed":
                self.failed.set()

        @pc.on("track")  # type: ignore[untyped-decorator]
        def on_track(track: Any) -> None:
            self.readers.append(asyncio.create_task(self._read(track)))

    async def _read(self, track: Any) -> None:
        """Consume the echoed media (else it piles up) and note when the first frame came."""
        from aiortc.mediastreams import MediaStreamError

        from .rtp_media import s16_power

        try:
            while True:
                frame = await track.recv()
                self.mark(f"first_{track.kind}_ms")
                self.mark("first_media_ms")
                self.first_media.set()
                count = self.frames[track.kind] = self.frames.get(track.kind, 0) + 1
                if track.kind == "audio" and count > 25:  # past the codec's first half second
                    power, samples = s16_power(frame)
                    self.audio_power += power
                    self.audio_samples += samples
        except MediaStreamError:
            pass

    def received(self) -> dict[str, Any]:
        """What came back: frame counts, and the level of the audio (it should be what was sent)."""
        from .scale import dbfs

        level = None
        if self.audio_samples:
            level = round(dbfs((self.audio_power / self.audio_samples) ** 0.5), 2)
        return {"frames": dict(self.frames), "audio_rms_dbfs": level}

    async def wait_connected(self) -> None:
        deadline = self.config.connect_deadline_s
        remaining = deadline - (time.monotonic() - self.start)
        waiter = asyncio.create_task(self.connected.wait())
        failer = asyncio.create_task(self.failed.wait())
        try:
            await asyncio.wait({waiter, failer}, timeout=max(remaining, 0),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            failer.cancel()
        if not self.connected.is_set():
            stage = "DTLS" if "ice_connected_ms" in self.marks else "ICE"
            how = (Message("call.failed") if self.failed.is_set()
                   else Message("call.not-within", {"seconds": deadline}))
            raise CallFailed(stage, Message("call.no-connect",
                                            {"stage": stage, "how": how.as_dict()}))
        remaining = deadline - (time.monotonic() - self.start)
        try:
            await asyncio.wait_for(self.first_media.wait(), max(remaining, 0.5))
        except TimeoutError:
            raise CallFailed("media", Message("call.no-media")) from None


async def _signal(client: Any, config: Config, sdp: str, type_: str) -> tuple[str, str, str | None]:
    """POST the offer to the echo peer: its answer, and the URL where it tells what it received
    (None from an echo peer that has none)."""
    import httpx

    assert config.echo_url is not None
    try:
        response = await client.post(config.echo_url, json={"sdp": sdp, "type": type_},
                                     headers=config.echo_headers())
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise CallFailed("signalling", Message("call.signal-unreachable", {"error": error})) \
            from None
    if response.status_code != 200:
        raise CallFailed("signalling", Message("call.signal-http", {
            "code": response.status_code, "body": response.text[:200]}))
    try:
        body = response.json()
        received = body.get("received")
        return (str(body["sdp"]), str(body["type"]),
                str(response.url.join(received)) if isinstance(received, str) else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CallFailed("signalling", Message("call.signal-no-sdp")) from None


async def _far_received(client: Any, config: Config, url: str) -> list[dict[str, Any]] | None:
    """What the echo peer says it received, or None when it cannot say (the caller then waits
    for receiver reports instead)."""
    import httpx

    try:
        response = await client.get(url, headers=config.echo_headers())
        streams = response.json()["streams"] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return streams if isinstance(streams, list) else None


async def ask_until_stable(ask: Callable[[], Awaitable[list[dict[str, Any]] | None]],
                           settle: float, limit: float) -> list[dict[str, Any]] | None:
    """Ask the far end what it received, `settle` s apart, until two answers agree (a busy far
    end may not have read every packet yet), it cannot say (None), or `limit` s have passed."""
    started = time.monotonic()
    streams: list[dict[str, Any]] | None = None
    while True:
        await asyncio.sleep(settle)
        before, streams = streams, await ask()
        if streams is None or streams == before or time.monotonic() - started >= limit:
            return streams


def _apply_far(stats: dict[str, KindStats], streams: list[dict[str, Any]] | None) -> None:
    """Take the far end's counts for the streams this side sent (matched by SSRC)."""
    for entry in streams or ():
        if not isinstance(entry, dict):
            continue
        k = stats.get(str(entry.get("kind")))
        received, lost = entry.get("packets_received"), entry.get("packets_lost")
        if k is not None and k.sender_ssrc is not None and entry.get("ssrc") == k.sender_ssrc \
                and isinstance(received, int) and isinstance(lost, int):
            k.far_received, k.far_lost = received, lost


def _codecs(sdp: str) -> dict[str, Any]:
    """The codec each m-line settled on, read with aiortc's own SDP parser."""
    from aiortc.sdp import SessionDescription

    found: dict[str, Any] = {}
    for media in SessionDescription.parse(sdp).media:
        if media.rtp.codecs:
            codec = media.rtp.codecs[0]
            found[media.kind] = {"mime_type": codec.mimeType, "payload_type": codec.payloadType,
                                 "clock_rate": codec.clockRate}
    return found


async def run_call(config: Config) -> dict[str, Any]:
    """Make the call and return its details; raises CallFailed with the stage that failed."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from ..server.echo import EchoPeer
    from .rtp_media import pause

    call = Call(config)
    pc = RTCPeerConnection()
    far: EchoPeer | None = None
    client: Any = None
    received_url: str | None = None
    local_id = ""
    tracks, media = choose_media(config)
    try:
        call.watch(pc)
        for track in tracks:
            pc.addTrack(track)
        await pc.setLocalDescription(await pc.createOffer())
        call.mark("ice_gathering_ms")
        offer = pc.localDescription
        if config.echo_url:
            import httpx

            # Plain-HTTP signalling has no certificate to check, and loading the trust store
            # takes ~50 ms before the call can start; HTTPS gets the full check.
            tls = config.echo_url.lower().startswith("https:")
            client = httpx.AsyncClient(verify=config.ssl_context() if tls else False,
                                       timeout=config.timeout_s, trust_env=False)
            answer_sdp, answer_type, received_url = await _signal(client, config, offer.sdp,
                                                                  offer.type)
        else:
            far = EchoPeer(max_calls=1, max_call_seconds=config.call_seconds + 30)
            answer = await far.answer(offer.sdp, offer.type)
            answer_sdp, answer_type, local_id = answer.sdp, answer.type, answer.call_id
        call.mark("answer_ms")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type=answer_type))
        await call.wait_connected()

        stats: dict[str, KindStats] = {}
        series = Series()
        previous: dict[str, tuple[float, int]] = {}
        # The call lasts call_seconds from the moment it connected: each side sends from then on
        # (the first frames take a few tens of ms to encode and arrive).
        media_start = call.connected_at
        ticks = max(1, round(config.call_seconds))  # a series row a second
        per_row = max(1, round(config.call_seconds / ticks / thresholds.CALL_POLL_S))
        polls = ticks * per_row
        for poll in range(1, polls + 1):
            await asyncio.sleep(media_start + poll * config.call_seconds / polls - time.monotonic())
            await collect(pc, stats)
            if poll % per_row:
                continue
            now = time.monotonic()
            series.t.append(round(now - media_start, 2))
            for kind, k in stats.items():
                last_t, last_bytes = previous.get(kind, (media_start, 0))
                series.add(kind, rtt_ms=_row_rtt(k), jitter_ms=k.rr_jitter_ms,
                           loss_pct=k.fraction_lost_pct,
                           bitrate_kbps=(k.bytes_sent - last_bytes) * 8 / (now - last_t) / 1000,
                           packets_sent=k.packets_sent, packets_received=k.received,
                           packets_lost=k.lost_down, downlink_jitter_ms=k.jitter_down_ms)
                previous[kind] = (now, k.bytes_sent)
        # A short call may have no RTT yet (reports come every 0.5-1.5 s): it goes on until one
        # comes, as RTT cannot be measured once media stops (see above).
        over = time.monotonic()
        while (not all(k.rtt_ms is not None for k in stats.values())
               and time.monotonic() - over < thresholds.RTCP_DRAIN_S):
            await asyncio.sleep(thresholds.CALL_POLL_S)
            await collect(pc, stats)
        # Stop media and let the last packets land; then ask the far end what it received,
        # again until two answers agree (ask_until_stable).
        pause(*tracks)
        stopped = time.monotonic()
        settle = thresholds.CALL_SETTLE_LOCAL_S if far is not None else thresholds.CALL_SETTLE_S
        if far is not None or received_url is not None:
            async def ask() -> list[dict[str, Any]] | None:
                if far is not None:
                    return await far.received(local_id)
                return await _far_received(client, config, str(received_url))

            _apply_far(stats, await ask_until_stable(ask, settle, thresholds.RTCP_DRAIN_S))
        await collect(pc, stats, rtt=False)
        # Where the far end could not say, wait for a receiver report written after the last
        # packet reached it: one that arrives at least one RTT after the stop.
        rtt_s = max((k.rtt_ms or 0.0 for k in stats.values()), default=0.0) / 1000
        covers_all = datetime.now(UTC) + timedelta(seconds=rtt_s + 0.02)

        def settled(k: KindStats) -> bool:
            return k.far_lost is not None or (k.rr_at is not None and k.rr_at >= covers_all)

        while (not all(map(settled, stats.values()))
               and time.monotonic() - stopped < thresholds.RTCP_DRAIN_S):
            await asyncio.sleep(thresholds.CALL_POLL_S)
            await collect(pc, stats, rtt=False)
        # One last row from the final reports (a short call may have had no report before).
        series.t.append(round(time.monotonic() - media_start, 2))
        for kind, k in stats.items():
            series.add(kind, rtt_ms=_row_rtt(k), jitter_ms=k.rr_jitter_ms,
                       loss_pct=k.fraction_lost_pct, bitrate_kbps=None,
                       packets_sent=k.packets_sent, packets_received=k.received,
                       packets_lost=k.lost_down, downlink_jitter_ms=k.jitter_down_ms)
        return {"marks": dict(call.marks), "stats": stats, "series": series,
                "media_seconds": round(stopped - media_start, 2), "media": media,
                "codecs": _codecs(answer_sdp), "received": call.received()}
    finally:
        for reader in call.readers:
            reader.cancel()
        for track in tracks:
            track.stop()
        await pc.close()
        if far is not None:
            await far.close()
        if client is not None:
            await client.aclose()


def _usable(result: ProbeResult | None) -> ProbeResult | None:
    """The result when its device works (pass or warn), else None."""
    return result if result is not None and result.status in (Status.PASS, Status.WARN) else None


def choose_media(config: Config) -> tuple[list[Any], str]:
    """The tracks a call from here would send: the camera and microphone the device probes
    found working in this run, else a generated tone and test pattern."""
    from .rtp_media import MicTrack, PatternTrack, ToneTrack, camera_track

    mic, cam = _usable(config.prior.get("microphone")), _usable(config.prior.get("camera"))
    tracks: list[Any] = []
    said: list[str] = []
    if mic is not None and mic.details.get("device"):
        device = mic.details["device"]
        try:
            tracks.append(MicTrack(int(device["id"])))
            said.append(f"microphone {device['name']!r}")
        except Exception as exc:  # noqa: BLE001 - fall back, and say so
            said.append(f"generated 440 Hz tone (microphone failed to open: {exc})")
    if not tracks:
        tracks.append(ToneTrack())
        said = said or ["generated 440 Hz tone"]
    if not config.audio_only:
        video = None
        if cam is not None and cam.details.get("source"):
            try:
                video = camera_track(str(cam.details["source"]), config.camera_size)
                said.append(f"camera {cam.details['source']!r}")
            except Exception as exc:  # noqa: BLE001
                said.append(f"test pattern (camera failed to open: {exc})")
        if video is None:
            video = PatternTrack()
            if not any("test pattern" in s for s in said):
                said.append("a moving test pattern (320x240, 30 fps)")
        tracks.append(video)
    return tracks, " and ".join(said)


def _kind_details(k: KindStats, series: Series) -> dict[str, Any]:
    uplink_loss: float | None = None
    counted_by: str | None
    up_lost: int | None
    if k.far_lost is not None and k.far_received is not None:
        counted_by, up_lost = "far end", k.far_lost
        if k.far_received + k.far_lost > 0:
            uplink_loss = 100 * k.far_lost / (k.far_received + k.far_lost)
    else:
        counted_by, up_lost = ("receiver reports" if k.rr_lost is not None else None), k.rr_lost
        if k.rr_lost is not None and k.packets_sent:
            uplink_loss = 100 * k.rr_lost / k.packets_sent
    downlink_loss = None
    if k.received is not None and k.lost_down is not None and k.received + k.lost_down > 0:
        downlink_loss = 100 * k.lost_down / (k.received + k.lost_down)
    rows = series.rows.get(k.kind, {})
    return {
        "packets_sent": k.packets_sent,
        "bytes_sent": k.bytes_sent,
        "uplink_packets_lost": up_lost,
        "uplink_loss_pct": None if uplink_loss is None else round(max(uplink_loss, 0), 3),
        "uplink_counted_by": counted_by,
        "packets_received": k.received,
        "downlink_packets_lost": k.lost_down,
        "downlink_loss_pct": None if downlink_loss is None else round(max(downlink_loss, 0), 3),
        "rtt_ms": _summary(list(k.rtt_samples)),
        "rtt_reports": len(k.rtt_samples),
        "jitter_ms": _summary(rows.get("jitter_ms", [])),
        "downlink_jitter_ms": _summary(rows.get("downlink_jitter_ms", [])),
        "bitrate_kbps": _summary(rows.get("bitrate_kbps", [])),
    }


def judge(
    details: dict[str, Any], local: bool = False
) -> tuple[Status, Message, tuple[Metric, ...], tuple[Advice, ...]]:
    audio = details["audio"]
    rtt = (audio["rtt_ms"] or {}).get("avg")
    jitter = (audio["jitter_ms"] or {}).get("avg")
    losses = [v for v in (audio["uplink_loss_pct"], audio["downlink_loss_pct"]) if v is not None]
    loss = max(losses) if losses else None
    bitrate = sum((details[k]["bitrate_kbps"] or {}).get("avg", 0.0)
                  for k in ("audio", "video") if k in details)
    score = mos(rtt or 0.0, jitter or 0.0, loss or 0.0) if rtt is not None else None
    setup = details["setup"].get("first_media_ms")
    t = thresholds
    metrics = (
        Metric("setup", setup, "ms", better="lower"),
        Metric("rtt", rtt, "ms", warn=t.CALL_RTT_WARN_MS, better="lower"),
        Metric("jitter", jitter, "ms", warn=t.CALL_JITTER_WARN_MS, better="lower"),
        Metric("loss", None if loss is None else round(loss, 2), "%", warn=t.CALL_LOSS_WARN_PCT,
               better="lower"),
        Metric("bitrate", round(bitrate, 1), "kbps", better="higher"),
        Metric("mos", None if score is None else round(score, 2), "MOS", warn=t.CALL_MOS_WARN,
               fail=t.CALL_MOS_FAIL, better="higher"),
    )
    if score is None or rtt is None or jitter is None or loss is None:
        return Status.WARN, Message("call.no-rtcp"), metrics, (Advice("call-poor"),)
    numbers = Message("call.numbers", {"rtt": rtt, "jitter": jitter, "loss": loss,
                                       "mos": score}).as_dict()
    if score < t.CALL_MOS_FAIL:
        return (Status.FAIL, Message("call.poor", {"numbers": numbers}), metrics,
                (Advice("call-poor"),))
    problems = [rtt > t.CALL_RTT_WARN_MS, jitter > t.CALL_JITTER_WARN_MS,
                loss > t.CALL_LOSS_WARN_PCT, score < t.CALL_MOS_WARN]
    if any(problems):
        return (Status.WARN, Message("call.degraded", {"numbers": numbers}), metrics,
                (Advice("call-poor"),))
    return Status.PASS, Message("call.ok-local" if local else "call.ok", {"numbers": numbers}), \
        metrics, ()


class RtpProbe:
    id = "rtp"
    #: a call sends what the camera and microphone probes found working, so it runs after them
    after = ("camera", "microphone", "speaker")
    title = "Test call"
    description = ("a real WebRTC call through aiortc (ICE, DTLS-SRTP, Opus, VP8): set-up, RTT, "
                   "jitter, loss, MOS")

    def deadline_s(self, config: Config) -> float:
        # set-up, the call, waiting for a first RTT, then for the far end's counts
        return (config.connect_deadline_s + config.call_seconds + 2 * thresholds.RTCP_DRAIN_S
                + thresholds.PROBE_DEADLINE_MARGIN_S + 3)

    async def run(self, config: Config) -> ProbeResult:
        mode = "echo" if config.echo_url else "local"
        details: dict[str, Any] = {"mode": mode, "echo_url": config.echo_url, "media": "none"}
        try:
            call = await run_call(config)
        except CallFailed as failure:
            details["failed_stage"] = failure.stage
            return ProbeResult(self.id, self.title, Status.FAIL, message=failure.message,
                               details=details,
                               advice=(Advice("call-no-connect", {"stage": failure.stage}),))
        details["media"] = call["media"]
        details["received"] = call["received"]
        details["setup"] = call["marks"]
        details["codecs"] = call["codecs"]
        details["media_seconds"] = call["media_seconds"]
        for kind, k in call["stats"].items():
            details[kind] = _kind_details(k, call["series"])
        details["series"] = {"t": call["series"].t, **call["series"].rows}
        status, message, metrics, advice = judge(details, local=mode == "local")
        return ProbeResult(self.id, self.title, status, message=message, metrics=metrics,
                           details=details, advice=advice)


PROBE = RtpProbe()
