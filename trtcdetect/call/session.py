"""One test call from this side: set-up, media for a fixed time, the far end's counts.

RTT is only taken while media flows: aiortc stamps a sender report with the time of the last RTP
packet, so once media stops every report carries the same stamp, and a receiver report answering
an older one is taken for an answer to the newest (a few such readings came out hundreds of ms
wrong, even negative). A call with no RTT yet when its time is up goes on until one comes.

When the far end cannot say what it received (an echo peer without a `received` URL), media
stops and we wait up to RTCP_DRAIN_S for a receiver report written after the last packet
arrived; `uplink_counted_by` says which.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..config import Config
from ..devices.threads import DEVICE_RELEASE_S
from ..evidence import UNSET, Evidence, JsonObject, Number, UnsetType
from ..models import Message
from ..text.ids import S
from .signalling import CallFailed, apply_far, ask_until_stable, far_received, signal
from .stats import CALL_POLL_S, KindStats, Series, collect, row_rtt

#: After the call, media stops and the far end's own counts are read this long later, so the
#: last packets (and their echoes, on a short path) have landed. Packets still in flight then are
#: neither received nor lost yet, so a short settle costs a few packets, never accuracy.
CALL_SETTLE_S = 0.05
#: ... and for the local call, whose far end is in this process (RTT about 1 ms)
CALL_SETTLE_LOCAL_S = 0.01
#: Where the far end cannot give its counts, or no RTT came yet, we wait up to this long for its
#: next RTCP receiver report, so the loss count covers every packet sent (RTCP every 0.5-1.5 s).
RTCP_DRAIN_S = 1.8

if TYPE_CHECKING:
    import httpx
    from aiortc import MediaStreamTrack, RTCPeerConnection


class VideoBack(Evidence, frozen=True, kw_only=True):
    """The video that came back, as a viewer would see it."""

    fps: Number
    freezes: int
    frozen_s: Number
    frozen_share: Number


class Received(Evidence, frozen=True, kw_only=True):
    frames: dict[str, int] = {}
    audio_rms_dbfs: Number | None | UnsetType = UNSET
    video: VideoBack | UnsetType = UNSET


class Codec(Evidence, frozen=True, kw_only=True):
    mime_type: str
    payload_type: int | UnsetType = UNSET
    clock_rate: int | UnsetType = UNSET


@dataclass(frozen=True)
class CallResult:
    """What a call showed: set-up marks (ms from the start), per-kind stats, the series."""

    marks: dict[str, float]
    stats: dict[str, KindStats]
    series: Series
    media_seconds: float
    codecs: dict[str, Codec]
    received: Received


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
        self.first_media_at: float | None = None  # monotonic: when media first came back
        self.readers: list[asyncio.Task[None]] = []
        self.kinds: set[str] = set()  # what this side sends
        self.audio_power = 0.0
        self.audio_samples = 0
        self.frames: dict[str, int] = {}
        self.video_arrivals: list[float] = []  # when each echoed video frame came, monotonic

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, round((time.monotonic() - self.start) * 1000, 1))

    def watch(self, pc: RTCPeerConnection) -> None:
        @pc.on("iceconnectionstatechange")
        def on_ice() -> None:
            if pc.iceConnectionState in ("completed", "connected"):
                self.mark("ice_connected_ms")
            elif pc.iceConnectionState == "failed":
                self.failed.set()

        @pc.on("connectionstatechange")
        def on_connection() -> None:
            if pc.connectionState == "connected":
                self.mark("dtls_connected_ms")
                if not self.connected.is_set():
                    self.connected_at = time.monotonic()
                self.connected.set()
            elif pc.connectionState == "failed":
                self.failed.set()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.readers.append(asyncio.create_task(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        """Consume the echoed media (else it piles up) and note when the first frame came."""
        import av
        from aiortc.mediastreams import MediaStreamError

        from .media import s16_power

        try:
            while True:
                frame = await track.recv()
                self.mark(f"first_{track.kind}_ms")
                self.mark("first_media_ms")
                self.first_media_at = self.first_media_at or time.monotonic()
                self.first_media.set()
                count = self.frames[track.kind] = self.frames.get(track.kind, 0) + 1
                if isinstance(frame, av.VideoFrame):
                    self.video_arrivals.append(time.monotonic())
                if isinstance(frame, av.AudioFrame) and count > 25:  # past Opus' first 0.5 s
                    power, samples = s16_power(frame)
                    self.audio_power += power
                    self.audio_samples += samples
        except MediaStreamError:
            pass

    def received(self, media_start: float, media_end: float) -> Received:
        """What came back: frame counts, the level of the audio (it should be what was sent),
        and the echoed video's frame rate and freezes over the media time."""
        from ..devices.scale import dbfs
        from .quality import video_freezes

        level = None
        if self.audio_samples:
            level = round(dbfs((self.audio_power / self.audio_samples) ** 0.5), 2)
        if "video" not in self.kinds:
            return Received(frames=dict(self.frames), audio_rms_dbfs=level)
        arrivals = [t for t in self.video_arrivals if media_start <= t <= media_end]
        seconds = max(media_end - media_start, 1e-3)
        freezes, frozen_s = video_freezes(arrivals, media_end)
        return Received(frames=dict(self.frames), audio_rms_dbfs=level, video=VideoBack(
            fps=round(len(arrivals) / seconds, 1), freezes=freezes, frozen_s=frozen_s,
            frozen_share=round(frozen_s / seconds, 3)))

    async def wait_connected(self) -> None:
        deadline = self.config.call.connect_deadline_s
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
            how = (Message(S.CALL_FAILED) if self.failed.is_set()
                   else Message(S.CALL_NOT_WITHIN, {"seconds": deadline}))
            raise CallFailed(stage, Message(S.CALL_NO_CONNECT,
                                            {"stage": stage, "how": how.as_dict()}))
        remaining = deadline - (time.monotonic() - self.start)
        try:
            await asyncio.wait_for(self.first_media.wait(), max(remaining, 0.5))
        except TimeoutError:
            raise CallFailed("media", Message(S.CALL_NO_MEDIA)) from None


def codecs(sdp: str) -> dict[str, Codec]:
    """The codec each m-line settled on, read with aiortc's own SDP parser."""
    from aiortc.sdp import SessionDescription

    found: dict[str, Codec] = {}
    for media in SessionDescription.parse(sdp).media:
        if media.rtp.codecs:
            codec = media.rtp.codecs[0]
            found[media.kind] = Codec(
                mime_type=codec.mimeType,
                payload_type=UNSET if codec.payloadType is None else codec.payloadType,
                clock_rate=codec.clockRate)
    return found


async def run_call(config: Config, tracks: list[MediaStreamTrack],
                   relay: JsonObject | None = None) -> CallResult:
    """Make the call and return its details; raises CallFailed with the stage that failed.
    With `relay` (signalling.turn_offer: urls, username, credential) the call goes through
    that TURN relay only, as a call does when UDP does not get out."""
    from aiortc import (
        RTCConfiguration,
        RTCIceServer,
        RTCIceTransportPolicy,
        RTCPeerConnection,
        RTCSessionDescription,
    )

    from .echo import EchoPeer
    from .local import gathering
    from .media import pause

    call = Call(config)
    if relay is None:  # not aiortc's default: Google's STUN
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    else:
        pc = RTCPeerConnection(RTCConfiguration(
            iceServers=[RTCIceServer(urls=relay["urls"][:1], username=relay["username"],
                                     credential=relay["credential"])],
            iceTransportPolicy=RTCIceTransportPolicy.RELAY))
    far: EchoPeer | None = None
    client: httpx.AsyncClient | None = None
    received_url: str | None = None
    local_id = ""
    try:
        call.watch(pc)
        for track in tracks:
            pc.addTrack(track)
            call.kinds.add(track.kind)
        with gathering(config):  # -4/-6, --source, --interface (call/local.py)
            await pc.setLocalDescription(await pc.createOffer())
        call.mark("ice_gathering_ms")
        offer = pc.localDescription
        if config.call.echo_url:
            import httpx

            # Plain-HTTP signalling has no certificate to check, and loading the trust store
            # takes ~50 ms before the call can start; HTTPS gets the full check.
            tls = config.call.echo_url.lower().startswith("https:")
            client = httpx.AsyncClient(verify=(await config.network.tls_context()) if tls else False,
                                       timeout=config.network.timeout_s, trust_env=False)
            answer_sdp, answer_type, received_url = await signal(client, config, offer.sdp,
                                                                  offer.type)
        else:
            far = EchoPeer(max_calls=1, max_call_seconds=config.call.call_seconds + 30)
            answer = await far.answer(offer.sdp, offer.type)
            answer_sdp, answer_type, local_id = answer.sdp, answer.type, answer.call_id
        call.mark("answer_ms")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type=answer_type))
        await call.wait_connected()

        stats: dict[str, KindStats] = {}
        series = Series()
        previous: dict[str, tuple[float, int]] = {}
        # The call lasts call_seconds from when media first came back: the far end echoes only
        # once its own DTLS handshake is done, seconds after ours on a lossy path (retransmits).
        media_start = call.first_media_at or call.connected_at
        ticks = max(1, round(config.call.call_seconds))  # a series row a second
        per_row = max(1, round(config.call.call_seconds / ticks / CALL_POLL_S))
        polls = ticks * per_row
        for poll in range(1, polls + 1):
            await asyncio.sleep(media_start + poll * config.call.call_seconds / polls - time.monotonic())
            await collect(pc, stats)
            if poll % per_row:
                continue
            now = time.monotonic()
            series.t.append(round(now - media_start, 2))
            for kind, k in stats.items():
                last_t, last_bytes = previous.get(kind, (media_start, 0))
                series.add(kind, rtt_ms=row_rtt(k), jitter_ms=k.rr_jitter_ms,
                           loss_pct=k.fraction_lost_pct,
                           bitrate_kbps=(k.bytes_sent - last_bytes) * 8 / (now - last_t) / 1000,
                           packets_sent=k.packets_sent, packets_received=k.received,
                           packets_lost=k.lost_down, downlink_jitter_ms=k.jitter_down_ms)
                previous[kind] = (now, k.bytes_sent)
        # A short call may have no RTT yet (reports come every 0.5-1.5 s): it goes on until one
        # comes, as RTT cannot be measured once media stops (see above).
        over = time.monotonic()
        while (not all(k.rtt_ms is not None for k in stats.values())
               and time.monotonic() - over < RTCP_DRAIN_S):
            await asyncio.sleep(CALL_POLL_S)
            await collect(pc, stats)
        # Stop media and let the last packets land; then ask the far end what it received,
        # again until two answers agree (ask_until_stable).
        pause(*tracks)
        stopped = time.monotonic()
        settle = CALL_SETTLE_LOCAL_S if far is not None else CALL_SETTLE_S
        if far is not None or received_url is not None:
            async def ask() -> list[JsonObject] | None:
                if far is not None:
                    return await far.received(local_id)
                assert client is not None  # received_url comes with the signalling client
                return await far_received(client, config, str(received_url))

            apply_far(stats, await ask_until_stable(ask, settle, RTCP_DRAIN_S))
        await collect(pc, stats, rtt=False)
        # Where the far end could not say, wait for a receiver report written after the last
        # packet reached it: one that arrives at least one RTT after the stop.
        rtt_s = max((k.rtt_ms or 0.0 for k in stats.values()), default=0.0) / 1000
        covers_all = datetime.now(UTC) + timedelta(seconds=rtt_s + 0.02)

        def settled(k: KindStats) -> bool:
            return k.far_lost is not None or (k.rr_at is not None and k.rr_at >= covers_all)

        while (not all(map(settled, stats.values()))
               and time.monotonic() - stopped < RTCP_DRAIN_S):
            await asyncio.sleep(CALL_POLL_S)
            await collect(pc, stats, rtt=False)
        # One last row from the final reports (a short call may have had no report before).
        series.t.append(round(time.monotonic() - media_start, 2))
        for kind, k in stats.items():
            series.add(kind, rtt_ms=row_rtt(k), jitter_ms=k.rr_jitter_ms,
                       loss_pct=k.fraction_lost_pct, bitrate_kbps=None,
                       packets_sent=k.packets_sent, packets_received=k.received,
                       packets_lost=k.lost_down, downlink_jitter_ms=k.jitter_down_ms)
        return CallResult(dict(call.marks), stats, series, round(stopped - media_start, 2),
                          codecs(answer_sdp), call.received(media_start, stopped))
    finally:
        for reader in call.readers:
            reader.cancel()
        for track in tracks:
            track.stop()
        releasing = [f for f in (getattr(t, "released", None) for t in tracks)
                     if isinstance(f, asyncio.Future)]
        if releasing:  # a microphone: closed in its own thread, waited for (bounded) here
            await asyncio.wait(releasing, timeout=DEVICE_RELEASE_S + 0.5)
        await pc.close()
        if far is not None:
            await far.close()
        if client is not None:
            await client.aclose()


