"""Every pass/warn/fail limit and default, as a named constant, with the reason for its value."""

from __future__ import annotations

# --- Target (TRTCCalling Web, legacy SDK v4 firewall list: ../shared/seeds, "环境要求") ---
DEFAULT_TARGET = "qcloud.rtc.qq.com"
DEFAULT_TCP_PORTS: tuple[int, ...] = (8687,)
DEFAULT_UDP_PORTS: tuple[int, ...] = (8000, 8080, 8800, 843, 443, 16285)
#: The media domain is checked over HTTPS on this port.
DOMAIN_HTTPS_PORT = 443

# --- Time ---
#: Ceiling for one network step (DNS, TCP connect, TLS handshake, HTTP request, UDP probe), s.
DEFAULT_STEP_TIMEOUT_S = 3.0
#: A probe gets this many step timeouts plus PROBE_DEADLINE_MARGIN_S before the runner calls it
#: hung and records `error`. The domain probe has four sequential steps, hence 4.
PROBE_DEADLINE_STEPS = 4
PROBE_DEADLINE_MARGIN_S = 2.0
#: After Ctrl-C, how long unfinished probes get to clean up before the report is written, s.
#: Network probes end at once; a device probe waits up to DEVICE_RELEASE_S for its capture
#: thread to close the device, so this covers that.
INTERRUPT_GRACE_S = 2.5
#: A run this long prepares the HTML report (imports, template) in a thread while probes still
#: wait on the network; shorter runs prepare it when they end.
REPORT_PREPARE_AFTER_S = 1.0

# --- UDP port probe: adaptive retransmission, as nmap does ---
#: Until any answer has measured the path, STUN requests are resent this often, s.
UDP_INITIAL_RTO_S = 0.5
#: Once an answer has measured the RTT, silent ports are resent every RTT * this factor ...
UDP_RTO_RTT_FACTOR = 4.0
#: ... but never faster than this, s (an RTO below scheduler noise only adds packets).
UDP_MIN_RTO_S = 0.2
#: ... and a silent port is given up after this many resends at the measured RTO.
UDP_ADAPTIVE_RESENDS = 3

# --- Domain probe ---
#: A certificate that expires within this many days is a warning: renewals are usually
#: automated 30 days ahead, so 14 days left means the automation has failed.
CERT_EXPIRY_WARN_DAYS = 14

# --- Devices ---
#: Default capture lengths, s. Three seconds hold enough frames and 50 ms windows to judge.
DEFAULT_CAMERA_SECONDS = 3.0
DEFAULT_MIC_SECONDS = 3.0
DEFAULT_CAMERA_SIZE = (640, 480)
#: A device probe may take its capture time plus this (opening a device, warm-up), s.
DEVICE_DEADLINE_MARGIN_S = 8.0
#: Listing the audio devices (PortAudio opens each one) normally takes well under a second, s.
AUDIO_SCAN_S = 5.0
#: When a device probe is interrupted, how long it waits for its thread to close the device, s.
DEVICE_RELEASE_S = 2.0

# --- Camera (OpenCV) ---
#: A frame is black when its mean luma (0-255) is below this. Real dark rooms sit above 20.
BLACK_LUMA_MAX = 10.0
#: A frame is frozen when its mean absolute difference from the previous one, on a 160x120
#: grey copy (0-255), is below this: sensor noise alone keeps a live camera above ~1.
FROZEN_MAD_MAX = 0.5
#: More than this share of black or of frozen frames fails the camera.
BAD_FRAME_RATIO_FAIL = 1 / 3
#: Below this measured frame rate a video call looks jerky: warn.
CAMERA_FPS_WARN = 15.0
#: Width of the JPEG snapshot embedded in the report, px.
SNAPSHOT_WIDTH = 320

# --- Microphone (PortAudio via sounddevice) ---
MIC_SAMPLE_RATE = 48000
#: RMS below this is silence (testrtc uses the same -60 dBFS).
SILENCE_DBFS = -60.0
#: RMS below this (but above silence) is a very low level: warn (mic gain or distance).
LOW_LEVEL_DBFS = -50.0
#: A sample at or above this fraction of full scale counts as clipped.
CLIP_LEVEL = 0.99
#: More clipped samples than this share of all samples: warn (gain too high).
CLIP_WARN_RATIO = 0.001
#: Windows for the noise floor and the level series, s; the noise floor is the mean level of
#: the quietest NOISE_FLOOR_SHARE of the 50 ms windows.
LEVEL_WINDOW_S = 0.05
NOISE_FLOOR_SHARE = 0.10
LEVEL_SERIES_STEP_S = 0.1
#: Audio delivered right after opening is dropped: some backends start with a burst or a stall.
MIC_WARMUP_S = 0.2
#: Levels are floored here so that digital silence stays a finite number in JSON.
DBFS_FLOOR = -120.0

# --- Test call (aiortc) ---
DEFAULT_CALL_SECONDS = 5.0
#: ICE + DTLS must be up within this; with all UDP dropped aiortc itself would wait ~60 s.
DEFAULT_CONNECT_DEADLINE_S = 10.0
#: After the call, media stops and the far end's own counts are read this long later, so the
#: last packets (and their echoes, on a short path) have landed. Packets still in flight then are
#: neither received nor lost yet, so a short settle costs a few packets, never accuracy.
CALL_SETTLE_S = 0.05
#: During the call its stats are read this often: faster than receiver reports come, so each
#: report's RTT can be told apart (see probes/rtp.py).
CALL_POLL_S = 0.1
#: ... and for the local call, whose far end is in this process (RTT about 1 ms)
CALL_SETTLE_LOCAL_S = 0.01
#: Where the far end cannot give its counts, or no RTT came yet, we wait up to this long for its
#: next RTCP receiver report, so the loss count covers every packet sent (RTCP every 0.5-1.5 s).
RTCP_DRAIN_S = 1.8
#: Generated media: a 440 Hz tone at -20 dBFS and a moving test pattern.
CALL_VIDEO_SIZE = (320, 240)
CALL_VIDEO_FPS = 30
#: Call quality limits (warn / fail). Loss above 3 % is audible even with Opus FEC/PLC;
#: ITU-T G.114 puts the limit of acceptable mouth-to-ear delay near 400 ms; 30 ms of jitter
#: is where jitter buffers start adding noticeable delay; MOS 3.1 is "fair", below 2.5 "poor".
CALL_LOSS_WARN_PCT = 3.0
CALL_RTT_WARN_MS = 400.0
CALL_JITTER_WARN_MS = 30.0
CALL_MOS_WARN = 3.1
CALL_MOS_FAIL = 2.5

# --- Per-port quality trains (--port-quality) ---
#: 200 STUN requests at 100 per second: two seconds per port, all ports at once. 200 samples
#: put the loss estimate within about +-2 points at 5 % (binomial, 95 %).
QUALITY_TRAIN_COUNT = 200
QUALITY_TRAIN_RATE_PPS = 100.0
#: A request unanswered this long after it was sent is lost, s.
QUALITY_TRAIN_LOSS_AFTER_S = 1.0
QUALITY_LOSS_WARN_PCT = 3.0

# --- NAT probe ---
#: Local sockets the nat probe sends from; each asks every STUN destination.
NAT_SOCKETS = 2

# --- Speaker ---
#: The test sound: a 300-3000 Hz sweep (unambiguous to cross-correlate, unlike a pure tone),
#: 1 s at -20 dBFS RMS: clearly audible, not loud.
SPEAKER_SECONDS = 1.0
SPEAKER_DBFS = -20.0
SPEAKER_SWEEP_HZ = (300.0, 3000.0)
#: Recording goes on this long after the sound ends, for the path's delay (and a slow start), s.
SPEAKER_TAIL_S = 2.5
#: Output buffer asked of PortAudio for the test sound (its "high" latency is 32 ms through
#: ALSA's PulseAudio plugin). The check is whether the device plays, not how the machine keeps up
#: at low latency. (A larger buffer did not stop the occasional underrun seen in test runs.)
SPEAKER_LATENCY_S = 0.2
#: Silence played before the sweep: with that buffer the recording starts a little after the
#: playback, and the start of the sweep was missing from it (-1.9 dB)
SPEAKER_LEAD_S = 0.5
#: The sound came back when the correlation peak stands this far above the correlation's
#: median (a ratio; noise alone stays near 1-3) and the recorded level is above silence.
SPEAKER_PEAK_RATIO_MIN = 8.0

# --- serve ---
#: A TLS client that has not finished its handshake after this long is dropped. asyncio's
#: default is 60 s, and until then a half-open connection keeps ~300 KB of TLS buffers: junk
#: at a few hundred connections a second then grows the server by tens of MB (measured).
SERVE_TLS_HANDSHAKE_TIMEOUT_S = 5.0
#: asyncio's TLS transports end in reference cycles that hold OpenSSL's buffers (~300 KB a
#: connection) until the cyclic garbage collector runs, which an idle server seldom triggers:
#: junk connections then grew serve by ~60 MB per 200 (measured). serve collects this often, s.
SERVE_GC_INTERVAL_S = 5.0
