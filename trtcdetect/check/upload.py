"""What the check page sends back: a typed document, decoded and validated in one step.

msgspec (not pydantic) reads it: the constraints are declared on the types themselves (lengths,
ranges, literals), decoding and validation are one pass over the bytes with no intermediate
dict, an unknown field or a wrong type is refused with the path to it ("at `$.camera.fps`"),
and the JSON Schema for check.js's authors is generated from the same types. The upload is the
one document of trtcdetect that comes from strangers on the internet; everything in it is data.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

#: The upload's version; a page of another version is refused with both numbers.
SCHEMA_VERSION = 1
#: An upload larger than this is refused before it is read, bytes (a real one: ~6 kB)
MAX_UPLOAD_BYTES = 64 * 1024

Short = Annotated[str, Meta(max_length=120)]
Label = Annotated[str, Meta(max_length=200)]
Text = Annotated[str, Meta(max_length=500)]
Ratio = Annotated[float, Meta(ge=0.0, le=1.0)]
Ms = Annotated[float, Meta(ge=0.0, le=600_000.0)]
Count = Annotated[int, Meta(ge=0, le=100_000_000)]
Pixels = Annotated[int, Meta(ge=0, le=16_384)]
Dbfs = Annotated[float, Meta(ge=-200.0, le=6.0)]
Permission = Literal["granted", "denied", "prompt", "unknown"]


class Strict(Struct, forbid_unknown_fields=True):
    """Every upload type: an unknown field is an error, not ignored."""


class MediaError(Strict):
    """What getUserMedia rejected with: the DOMException's name and message."""

    name: Annotated[str, Meta(max_length=60)]
    message: Text = ""


class Camera(Strict):
    permission: Permission = "unknown"
    error: MediaError | None = None
    label: Label = ""
    width: Pixels = 0
    height: Pixels = 0
    requested_width: Pixels = 0
    requested_height: Pixels = 0
    fps: Annotated[float, Meta(ge=0.0, le=1000.0)] = 0.0
    frames: Count = 0
    black_ratio: Ratio = 0.0
    frozen_ratio: Ratio = 0.0
    mean_luma: Annotated[float, Meta(ge=0.0, le=255.0)] | None = None


class Microphone(Strict):
    permission: Permission = "unknown"
    error: MediaError | None = None
    label: Label = ""
    sample_rate: Annotated[int, Meta(ge=0, le=384_000)] = 0
    seconds: Annotated[float, Meta(ge=0.0, le=60.0)] = 0.0
    rms_dbfs: Dbfs = -200.0
    peak_dbfs: Dbfs = -200.0
    noise_floor_dbfs: Dbfs = -200.0
    clipped_samples: Count = 0
    clipped_ratio: Ratio = 0.0
    #: the level every `step_s`, dBFS
    level_series: Annotated[list[Dbfs], Meta(max_length=200)] = []
    step_s: Annotated[float, Meta(ge=0.01, le=10.0)] = 0.1


class Speaker(Strict):
    #: the user's answer after the tone: True "I heard it", False "I did not", None not asked
    heard: bool | None = None
    error: Text | None = None


class Device(Strict):
    kind: Literal["audioinput", "audiooutput", "videoinput"]
    label: Label = ""


class Candidate(Strict):
    type: Literal["host", "srflx", "prflx", "relay"] | None = None
    protocol: Literal["udp", "tcp"] | None = None
    address: Annotated[str, Meta(max_length=64)] | None = None
    port: Annotated[int, Meta(ge=0, le=65535)] | None = None
    relay_protocol: Literal["udp", "tcp", "tls"] | None = None


class Call(Strict):
    """The WebRTC call to serve's echo peer, from the page's getStats."""

    connected: bool
    #: where it stopped when it did not connect: signalling, busy, ice, ...
    stage: Short = ""
    error: Text | None = None
    setup_ms: Ms | None = None
    seconds: Annotated[float, Meta(ge=0.0, le=600.0)] = 0.0
    #: samples a second of the round trip (RTCP) and of the jitter the echo reported back, ms
    rtt_ms: Annotated[list[Ms], Meta(max_length=120)] = []
    jitter_ms: Annotated[list[Ms], Meta(max_length=120)] = []
    #: the jitter of what came back, as this browser received it, ms
    downlink_jitter_ms: Annotated[list[Ms], Meta(max_length=120)] = []
    packets_sent: Count = 0
    packets_lost_up: Annotated[int, Meta(ge=-1_000_000, le=100_000_000)] = 0
    packets_received: Count = 0
    packets_lost_down: Annotated[int, Meta(ge=-1_000_000, le=100_000_000)] = 0
    bitrate_kbps: Annotated[float, Meta(ge=0.0, le=1_000_000.0)] = 0.0
    #: what the echo itself counted of this page's audio when the call ended (GET
    #: call/ID/received): exact, where the receiver reports lag by up to a second
    far_received: Count | None = None
    far_lost: Annotated[int, Meta(ge=-1_000_000, le=100_000_000)] | None = None
    local: Candidate | None = None
    remote: Candidate | None = None
    #: how many times the server said busy before the call got a slot
    busy_retries: Annotated[int, Meta(ge=0, le=100)] = 0


class Tencent(Strict):
    """Tencent's own checks in this browser: TRTC.isSupported() and rtc-detect (vendored)."""

    sdk_version: Short | None = None
    is_supported: bool | None = None
    #: isSupported's detail and rtc-detect's codec answers, by Tencent's own names
    checks: Annotated[dict[Annotated[str, Meta(max_length=60)], bool], Meta(max_length=64)] = {}
    is_trtc_supported: bool | None = None
    errors: Annotated[list[Text], Meta(max_length=20)] = []


class SdkError(Strict):
    """What enterRoom rejected with (TRTC's RtcError)."""

    code: Annotated[int, Meta(ge=-(2**31), le=2**31)] | None = None
    extra_code: Annotated[int, Meta(ge=-(2**31), le=2**31)] | None = None
    name: Annotated[str, Meta(max_length=60)] | None = None
    message: Text = ""


class Schedule(Strict):
    """TRTC's scheduling service through Tencent's Web SDK: enterRoom with a placeholder
    application; Tencent's refusal proves the service reachable from this browser."""

    entered: bool = False
    ms: Annotated[float, Meta(ge=0.0, le=120_000.0)] = 0.0
    #: the page stopped waiting (the SDK has no deadline of its own when packets are dropped)
    timed_out: bool = False
    deadline_s: Annotated[float, Meta(ge=0.0, le=120.0)] = 0.0
    error: SdkError | None = None


Quality = Annotated[int, Meta(ge=0, le=6)]
Figure = Annotated[float, Meta(ge=-1.0, le=1_000_000.0)]


class TencentEvent(Strict):
    """One event of Tencent's two-client network test, as the page noted it (the names are
    TRTC.EVENT's and the command line's page's: trtc/webevents.py reads them)."""

    t: Annotated[float, Meta(ge=0.0, le=600_000.0)]
    client: Literal["up", "down", "page"]
    event: Annotated[str, Meta(max_length=40)]
    uplink: Quality | None = None
    downlink: Quality | None = None
    uplinkRTT: Figure | None = None  # noqa: N815 - Tencent's own field names
    downlinkRTT: Figure | None = None  # noqa: N815
    uplinkLoss: Figure | None = None  # noqa: N815
    downlinkLoss: Figure | None = None  # noqa: N815
    rtt: Figure | None = None
    upLoss: Figure | None = None  # noqa: N815
    downLoss: Figure | None = None  # noqa: N815
    step: Annotated[str, Meta(max_length=40)] | None = None
    code: Annotated[int, Meta(ge=-(2**31), le=2**31)] | None = None
    message: Text | None = None


class NetworkTest(Strict):
    """Tencent's documented pre-call network test in this browser: an uplink client publishes,
    a downlink client in the same room subscribes, both report network quality every 2 s."""

    events: Annotated[list[TencentEvent], Meta(max_length=400)] = []
    error: Text | None = None


class Page(Strict):
    """Where the page ran: the browser's own words."""

    protocol: Annotated[str, Meta(max_length=16)]
    hostname: Annotated[str, Meta(max_length=255)]
    secure_context: bool
    user_agent: Annotated[str, Meta(max_length=1000)]
    language: Annotated[str, Meta(max_length=35)] = ""
    width: Pixels = 0
    height: Pixels = 0
    touch: bool = False


class Invitation(Strict):
    ref: Annotated[str, Meta(max_length=80)]
    exp: Annotated[int, Meta(ge=0, le=2**40)]
    sig: Annotated[str, Meta(max_length=128)]


class Upload(Strict):
    schema: int
    started_at: Annotated[str, Meta(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")]
    page: Page
    lang: Literal["en", "zh"] = "en"
    duration_ms: Ms = 0.0
    invitation: Invitation | None = None
    devices: Annotated[list[Device], Meta(max_length=32)] = []
    camera: Camera | None = None
    microphone: Microphone | None = None
    speaker: Speaker | None = None
    call: Call | None = None
    tencent: Tencent | None = None
    schedule: Schedule | None = None
    network: NetworkTest | None = None


class _Version(Struct):
    schema: object = None


class UploadError(ValueError):
    """Why an upload was refused, in one line for the page (and the log)."""


#: C0 and C1 control characters (a terminal's escape sequences among them) and the bidi overrides
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """A string from the browser as it may be shown anywhere: control characters (terminal
    escapes, bidi overrides) become a visible U+FFFD; markup stays text and is escaped by
    each renderer (HTML autoescape, rich's escape)."""
    return _CONTROL.sub("\ufffd", text)


def decode(body: bytes) -> Upload:
    """The upload in `body`, validated; UploadError with the first problem otherwise."""
    if len(body) > MAX_UPLOAD_BYTES:
        raise UploadError(f"the upload is larger than {MAX_UPLOAD_BYTES} bytes")
    try:
        version = msgspec.json.decode(body, type=_Version).schema
    except msgspec.DecodeError as exc:
        raise UploadError(f"not a JSON object: {_first_line(exc)}") from None
    except RecursionError:  # msgspec's own guard against deep nesting
        raise UploadError("the JSON is nested too deeply") from None
    if version != SCHEMA_VERSION:
        raise UploadError(f"schema version {str(version)[:20]!s} is not {SCHEMA_VERSION}, the "
                          "one this server reads: reload the check page")
    try:
        return msgspec.json.decode(body, type=Upload)
    except msgspec.ValidationError as exc:
        raise UploadError(_first_line(exc)) from None
    except msgspec.DecodeError as exc:
        raise UploadError(f"not JSON: {_first_line(exc)}") from None
    except RecursionError:
        raise UploadError("the JSON is nested too deeply") from None


def _first_line(exc: Exception) -> str:
    return clean(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:200]


def json_schema() -> dict[str, object]:
    """The upload's JSON Schema, generated from the types above (docs/check.md links it)."""
    schema: dict[str, object] = msgspec.json.schema(Upload)
    return schema
