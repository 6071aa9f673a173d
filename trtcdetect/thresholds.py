"""Every pass/warn/fail limit, as a named constant, with the reason for its value.

Defaults (what is checked, for how long) are in `defaults`; internal tuning (resend timers,
poll intervals, GC timing) sits beside the code that uses it."""

from __future__ import annotations

# --- Domain probe ---
#: A certificate that expires within this many days is a warning: renewals are usually
#: automated 30 days ahead, so 14 days left means the automation has failed.
CERT_EXPIRY_WARN_DAYS = 14

# --- Camera (OpenCV) ---
#: A frame is black when its mean luma (0-255) is below this. Real dark rooms sit above 20.
BLACK_LUMA_MAX = 10.0
#: A frame is frozen when not one pixel of its grey copy differs from the frame before (an
#: exact repeat: a stuck driver or a still image). Noise-free slow motion (a virtual camera, a
#: synthetic clip) still changes some pixels every frame; a mean-difference limit (0.5 on a
#: 160x120 copy) called most such frames frozen (tests/probes/test_camera.py shows it on a clip).
#: More than this share of black or of frozen frames fails the camera.
BAD_FRAME_RATIO_FAIL = 1 / 3
#: Below this measured frame rate a video call looks jerky: warn.
CAMERA_FPS_WARN = 15.0

# --- Microphone (PortAudio via sounddevice) ---
#: RMS below this is silence (testrtc uses the same -60 dBFS).
SILENCE_DBFS = -60.0
#: RMS below this (but above silence) is a very low level: warn (mic gain or distance).
LOW_LEVEL_DBFS = -50.0
#: A sample at or above this fraction of full scale counts as clipped.
CLIP_LEVEL = 0.99
#: More clipped samples than this share of all samples: warn (gain too high).
CLIP_WARN_RATIO = 0.001

# --- Test call (aiortc) ---
#: Call quality limits (warn / fail). Loss above 3 % is audible even with Opus FEC/PLC;
#: ITU-T G.114 puts the limit of acceptable mouth-to-ear delay near 400 ms; 30 ms of jitter
#: is where jitter buffers start adding noticeable delay; MOS 3.1 is "fair", below 2.5 "poor".
CALL_LOSS_WARN_PCT = 3.0
CALL_RTT_WARN_MS = 400.0
CALL_JITTER_WARN_MS = 30.0
CALL_MOS_WARN = 3.1
CALL_MOS_FAIL = 2.5
#: The echoed video (sent at 30 fps) arriving at fewer frames a second than this looks like a
#: slide show: warn. A tenth of the call frozen (WebRTC's freeze definition: a frame interval of
#: 3x the average or +150 ms) is what users call "the video keeps freezing": warn.
CALL_VIDEO_FPS_WARN = 10.0
CALL_FROZEN_SHARE_WARN = 0.1

# --- Per-port quality trains (--port-quality) ---
QUALITY_LOSS_WARN_PCT = 3.0

# --- Speaker ---
#: The sound came back when the correlation peak stands this far above the correlation's
#: median (a ratio; noise alone stays near 1-3) and the recorded level is above silence.
SPEAKER_PEAK_RATIO_MIN = 8.0

# --- serve ---

# --- Measurement confidence ---
#: A wall-clock figure (DNS, TLS, HTTPS steps; the call's RTCP round trip) taken while the
#: event loop was this late, ms, carries a note: "this machine was busy: may be inflated by up
#: to N ms". A choice, not a measurement: 10 ms is well above the loop's own lag on an idle
#: run (its max was 0.6-2 ms in benchmarks/contamination.py's "alone" runs) and small beside
#: what a stall does (a full run's loop lagged 132-155 ms), so the note appears when it matters.
BUSY_NOTE_MS = 10.0

# --- TRTC cloud (Tencent's SDK) ---
#: Tencent's network quality scale: 1 excellent, 2 good, 3 poor, 4 bad, 5 very bad, 6 down.
#: The mean of a test call's known samples (both users) rounds to 3 ("poor") from 2.5: warn;
#: to 4 ("bad") or worse from 3.5: fail. A single "down" (6) fails the call.
TRTC_QUALITY_WARN = 2.5
TRTC_QUALITY_FAIL = 3.5

# --- Capacity (ramped train against `trtcdetect serve`) ---
#: What a TRTC call sends, from the Web SDK's own profiles (trtc.js 5.17.1, vendored): 720p
#: video 1,500 kbit/s, 360p 800 kbit/s, "standard" audio 40 kbit/s. The capacity test counts
#: IP-level bits, so each need adds what the packets carry around the codec's bits: about 4 %
#: for video (RTP/UDP/IP headers on ~1,200-byte packets) and 16 kbit/s for audio (40 bytes of
#: headers, 50 packets/s).
TRTC_VIDEO_720P_KBPS = 1500
TRTC_VIDEO_360P_KBPS = 800
TRTC_AUDIO_KBPS = 40
CAPACITY_AUDIO_NEED_KBPS = TRTC_AUDIO_KBPS + 16
#: below this in either direction a 720p call will not fit: warn (360p may)
CAPACITY_720P_NEED_KBPS = round(TRTC_VIDEO_720P_KBPS * 1.04) + CAPACITY_AUDIO_NEED_KBPS
#: below this a 360p call will not fit either: warn (audio only)
CAPACITY_360P_NEED_KBPS = round(TRTC_VIDEO_360P_KBPS * 1.04) + CAPACITY_AUDIO_NEED_KBPS
