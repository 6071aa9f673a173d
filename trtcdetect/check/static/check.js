// trtcdetect check page: the pre-call check in the end user's own browser.
//
// One ES module, no build step, no third-party code but Tencent's vendored files (served by
// trtcdetect serve from /check/vendor/, never from a CDN). `runCheck` measures and returns the
// upload; `sendCheck` sends it and returns the server's verdict; `mount` is the page's UI.
// A deployment's own page can import it from its serve host:
//
//   import {mount} from "https://check.example.com/check/check.js";
//   mount(document.getElementById("check"));
//
// The server judges: the page only measures (figures, errors by name) and shows what it sends.

const SCHEMA = 1;
const BASE = new URL("./", import.meta.url);  // https://HOST/check/
const at = (path) => new URL(path, BASE).href;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const CAMERA = {width: 640, height: 480};

const WORDS = {
  en: {
    title: "Call check", lead: "This checks your browser, camera, microphone and network for video calls. It takes about 20 seconds; allow the camera and microphone when asked.",
    start: "Start the check", again: "Check again", send: "Send the result to support", sending: "Sending…",
    preview: "This will be sent to support:", "stage.env": "Checking the browser…", "stage.devices": "Checking the camera and microphone…",
    "stage.call": "Test call…", "stage.tencent": "Tencent's own checks…", "stage.ready": "Done. Please look at what will be sent, then send it.",
    busy: "The server is busy, retrying in {n} s…", noupload: "This server does not collect results: tell support what you see here.",
    invitation: "Open the link support sent you to send your result.", verdict: "Result", code: "Your check code (read it out to support):",
    download: "Download your report", "status.pass": "Everything needed for calls works.", "status.warn": "Calls may work, with problems:",
    "status.fail": "Calls will not work properly:", "status.error": "Some checks could not finish:", "status.skip": "Nothing was checked.",
    speaker: "Optional: play a test tone", heard: "I heard it", notheard: "I did not hear it", "row.browser": "Browser", "row.camera": "Camera",
    "row.microphone": "Microphone", "row.call": "Test call", "row.devices": "Devices", "row.address": "Addresses seen", "row.ref": "Reference", "row.schedule": "TRTC scheduling", noanswer: "no answer",
    raw: "Everything, as sent", failed: "failed", none: "none", "who.user": "You", "who.network": "Your network administrator",
    "who.owner": "The service's owner", "who.support": "Support",
  },
  zh: {
    title: "通话检测", lead: "检测您的浏览器、摄像头、麦克风和网络能否进行视频通话，约需 20 秒；请在浏览器询问时允许使用摄像头和麦克风。",
    start: "开始检测", again: "重新检测", send: "将结果发送给客服", sending: "正在发送…",
    preview: "以下内容将发送给客服：", "stage.env": "正在检测浏览器…", "stage.devices": "正在检测摄像头和麦克风…",
    "stage.call": "正在测试通话…", "stage.tencent": "正在运行腾讯的检测…", "stage.ready": "检测完成。请查看将要发送的内容，然后发送。",
    busy: "服务器繁忙，{n} 秒后重试…", noupload: "此服务器不收集检测结果：请把本页显示的内容告诉客服。",
    invitation: "请打开客服发给您的链接来发送结果。", verdict: "结果", code: "您的检测编号（请告诉客服）：",
    download: "下载您的报告", "status.pass": "通话所需的一切均正常。", "status.warn": "可以通话，但存在问题：",
    "status.fail": "无法正常通话：", "status.error": "部分检测未能完成：", "status.skip": "没有进行任何检测。",
    speaker: "可选：播放测试音", heard: "我听到了", notheard: "我没有听到", "row.browser": "浏览器", "row.camera": "摄像头",
    "row.microphone": "麦克风", "row.call": "测试通话", "row.devices": "设备", "row.address": "看到的地址", "row.ref": "工单号", "row.schedule": "TRTC 调度服务", noanswer: "无响应",
    raw: "发送的全部内容", failed: "失败", none: "无", "who.user": "您", "who.network": "您的网络管理员",
    "who.owner": "服务提供方", "who.support": "客服",
  },
};

export function pickLanguage(list = navigator.languages || [navigator.language || "en"]) {
  return list.some((l) => String(l).toLowerCase().startsWith("zh")) ? "zh" : "en";
}

function say(lang, key, values = {}) {
  const text = (WORDS[lang] || WORDS.en)[key] || WORDS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
}

function invitationFrom(search = location.search) {
  const q = new URLSearchParams(search);
  const ref = q.get("ref"), exp = q.get("exp"), sig = q.get("sig");
  return ref && exp && sig && /^\d{1,12}$/.test(exp) ? {ref, exp: Number(exp), sig} : null;
}

function loadScript(name) {
  return new Promise((done) => {
    const tag = document.createElement("script");
    tag.src = at(`vendor/${name}`);
    tag.onload = () => done(true);
    tag.onerror = () => done(false);
    document.head.appendChild(tag);
  });
}

function mediaError(e) {
  return {name: String((e && e.name) || "Error").slice(0, 60), message: String((e && e.message) || e).slice(0, 500)};
}

async function permission(name) {
  try { return (await navigator.permissions.query({name})).state; } catch (e) { return "unknown"; }
}

// The camera: frames drawn small into a canvas; black (mean luma below the server's limit) and
// frozen (not one pixel changed from the frame before) counted, the delivered frame rate timed.
async function analyseCamera(track, seconds, blackLuma) {
  const settings = track.getSettings ? track.getSettings() : {};
  const video = document.createElement("video");
  video.muted = true; video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  await video.play().catch(() => {});
  const canvas = document.createElement("canvas");
  canvas.width = 160; canvas.height = 120;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  let frames = 0, black = 0, frozen = 0, previous = null, lumaSum = 0;
  const stamps = [];
  const look = () => {
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0, same = previous !== null;
    const grey = new Uint8Array(data.length / 4);
    for (let i = 0, j = 0; i < data.length; i += 4, j++) {
      grey[j] = (data[i] * 299 + data[i + 1] * 587 + data[i + 2] * 114) / 1000;
      sum += grey[j];
      if (same && grey[j] !== previous[j]) same = false;
    }
    const mean = sum / grey.length;
    frames++; lumaSum += mean; stamps.push(performance.now());
    if (mean < blackLuma) black++;
    if (same) frozen++;
    previous = grey;
  };
  const end = performance.now() + seconds * 1000;
  if (video.requestVideoFrameCallback) {
    await new Promise((done) => {
      const next = () => { if (performance.now() >= end) return done(); look(); video.requestVideoFrameCallback(next); };
      video.requestVideoFrameCallback(next);
      setTimeout(done, seconds * 1000 + 500);
    });
  } else {
    while (performance.now() < end) { if (video.readyState >= 2) look(); await sleep(33); }
  }
  video.pause(); video.srcObject = null;
  const span = stamps.length > 1 ? (stamps[stamps.length - 1] - stamps[0]) / 1000 : 0;
  return {
    label: track.label, width: settings.width || video.videoWidth || 0, height: settings.height || video.videoHeight || 0,
    requested_width: CAMERA.width, requested_height: CAMERA.height,
    fps: span > 0 ? Math.min(1000, (frames - 1) / span) : 0, frames,
    black_ratio: frames ? black / frames : 0, frozen_ratio: frames > 1 ? frozen / (frames - 1) : 0,
    mean_luma: frames ? Math.min(255, lumaSum / frames) : null,
  };
}

const dbfs = (x) => (x > 0 ? Math.max(-200, Math.min(6, 20 * Math.log10(x))) : -200);

// The microphone: an AnalyserNode read every 100 ms; RMS, peak, noise floor (the quietest tenth
// of the windows), clipped samples, and the level over time.
async function analyseMicrophone(track, seconds, clipLevel) {
  const context = new AudioContext();
  await context.resume().catch(() => {});
  const source = context.createMediaStreamSource(new MediaStream([track]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const buffer = new Float32Array(analyser.fftSize);
  const windows = [];
  let squares = 0, count = 0, peak = 0, clipped = 0;
  const steps = Math.round(seconds * 10);
  for (let i = 0; i < steps; i++) {
    await sleep(100);
    analyser.getFloatTimeDomainData(buffer);
    let s = 0;
    for (const x of buffer) { s += x * x; const a = Math.abs(x); if (a > peak) peak = a; if (a >= clipLevel) clipped++; }
    squares += s; count += buffer.length;
    windows.push(Math.sqrt(s / buffer.length));
  }
  const rate = context.sampleRate;
  source.disconnect();
  await context.close().catch(() => {});
  const quiet = [...windows].sort((a, b) => a - b).slice(0, Math.max(1, Math.floor(windows.length / 10)));
  return {
    label: track.label, sample_rate: rate, seconds, rms_dbfs: dbfs(Math.sqrt(squares / Math.max(1, count))),
    peak_dbfs: dbfs(peak), noise_floor_dbfs: dbfs(quiet.reduce((a, b) => a + b, 0) / quiet.length),
    clipped_samples: clipped, clipped_ratio: count ? clipped / count : 0,
    level_series: windows.map((w) => Math.round(dbfs(w) * 10) / 10), step_s: 0.1,
  };
}

// Devices: both at once (one prompt); when that fails, each alone, so each gets its own error.
async function devices(result, settings) {
  result.camera = {permission: await permission("camera")};
  result.microphone = {permission: await permission("microphone")};
  const video = {width: {ideal: CAMERA.width}, height: {ideal: CAMERA.height}};
  let stream = null;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const e = {name: "NotSupportedError", message: "navigator.mediaDevices is missing (not a secure context?)"};
    result.camera.error = e; result.microphone.error = e;
    return null;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({audio: true, video});
  } catch (both) {
    const tracks = [];
    for (const [kind, ask] of [["camera", {video}], ["microphone", {audio: true}]]) {
      try { tracks.push(...(await navigator.mediaDevices.getUserMedia(ask)).getTracks()); }
      catch (e) { result[kind].error = mediaError(e); }
    }
    stream = tracks.length ? new MediaStream(tracks) : null;
  }
  try {
    result.devices = (await navigator.mediaDevices.enumerateDevices())
      .filter((d) => ["audioinput", "audiooutput", "videoinput"].includes(d.kind))
      .slice(0, 32).map((d) => ({kind: d.kind, label: String(d.label || "").slice(0, 200)}));
  } catch (e) { result.devices = []; }
  if (!stream) return null;
  const [videoTrack] = stream.getVideoTracks();
  const [audioTrack] = stream.getAudioTracks();
  const seconds = 2;
  const [camera, microphone] = await Promise.all([
    videoTrack ? analyseCamera(videoTrack, seconds, settings.black_luma_max) : null,
    audioTrack ? analyseMicrophone(audioTrack, seconds, settings.clip_level) : null,
  ]);
  if (camera) Object.assign(result.camera, camera);
  if (microphone) Object.assign(result.microphone, microphone);
  return stream;
}

function toneStream(stream) {
  const context = new AudioContext();
  const tone = context.createOscillator();
  const gain = context.createGain();
  gain.gain.value = 0.05;
  const out = context.createMediaStreamDestination();
  tone.connect(gain).connect(out);
  tone.start();
  const tracks = [...out.stream.getAudioTracks(), ...(stream ? stream.getVideoTracks() : [])];
  return new MediaStream(tracks);
}

const summary = (values) => values.filter((v) => typeof v === "number" && isFinite(v) && v >= 0);

// The test call: WebRTC to serve's echo peer over its media port, the same /call signalling as
// the command line; getStats read every second.
async function call(stream, options, progress) {
  const out = {connected: false, stage: "signalling", busy_retries: 0};
  const started = performance.now();
  const pc = new RTCPeerConnection();
  try {
    // without the user's devices the call still sends: a quiet generated tone (never played
    // here), so RTP and RTCP flow both ways and the network is measured all the same
    const sending = stream && stream.getAudioTracks().length ? stream : toneStream(stream);
    // video at a quarter of the camera's pixels, 15 fps, 300 kbit/s at most: enough to carry
    // the call's packets both ways, and what lets one serve echo many checks at once (it
    // decodes and re-encodes what it sends back)
    for (const track of sending.getTracks()) {
      if (track.kind === "video") {
        pc.addTransceiver(track, {direction: "sendrecv", streams: [sending],
          sendEncodings: [{maxBitrate: 300000, scaleResolutionDownBy: 2, maxFramerate: 15}]});
      } else {
        pc.addTrack(track, sending);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
      setTimeout(done, 3000);
    });
    const headers = {"content-type": "application/json"};
    if (options.invitation) headers["x-trtcdetect-invitation"] = `${options.invitation.ref} ${options.invitation.exp} ${options.invitation.sig}`;
    let answer = null;
    for (;;) {
      const response = await fetch(at("../call"), {method: "POST", headers, body: JSON.stringify({sdp: pc.localDescription.sdp, type: "offer"})});
      if (response.status === 503 && out.busy_retries < 4) {
        const wait = Math.min(30, Number(response.headers.get("Retry-After")) || 5);
        out.busy_retries++;
        progress("busy", {n: wait});
        await sleep(wait * 1000);
        continue;
      }
      const body = await response.json().catch(() => ({}));
      if (response.status === 503) { out.stage = "busy"; throw new Error(body.error || "busy"); }
      if (!response.ok || !body.sdp) throw new Error(body.error || `HTTP ${response.status}`);
      answer = body;
      break;
    }
    progress("stage.call");
    await pc.setRemoteDescription({type: "answer", sdp: answer.sdp});
    out.stage = "ICE";
    await new Promise((ok, bad) => {
      const timer = setTimeout(() => bad(new Error("not connected within 10 s")), 10000);
      const check = () => {
        if (pc.connectionState === "connected") { clearTimeout(timer); ok(); }
        if (pc.connectionState === "failed") { clearTimeout(timer); bad(new Error("connection failed")); }
      };
      pc.addEventListener("connectionstatechange", check);
      check();
    });
    out.connected = true;
    out.stage = "media";
    out.setup_ms = performance.now() - started;
    const rtt = [], jitter = [], back = [];
    let bytes0 = null, t0 = 0, last = null;
    for (let i = 0; i < (options.callSeconds || 5); i++) {
      await sleep(1000);
      last = await pc.getStats();
      let bytes = 0;
      last.forEach((s) => {
        if (s.type === "remote-inbound-rtp" && s.kind === "audio") {
          if (typeof s.roundTripTime === "number") rtt.push(s.roundTripTime * 1000);
          if (typeof s.jitter === "number") jitter.push(s.jitter * 1000);
        }
        if (s.type === "inbound-rtp" && s.kind === "audio" && typeof s.jitter === "number") back.push(s.jitter * 1000);
        if (s.type === "outbound-rtp") bytes += s.bytesSent || 0;
      });
      const now = performance.now();
      if (bytes0 === null) { bytes0 = bytes; t0 = now; }
      else out.bitrate_kbps = Math.max(0, (bytes - bytes0) * 8 / (now - t0));
    }
    out.seconds = (performance.now() - started - out.setup_ms) / 1000;
    out.rtt_ms = summary(rtt).slice(-120); out.jitter_ms = summary(jitter).slice(-120);
    out.downlink_jitter_ms = summary(back).slice(-120);
    let pairRtt = null;
    last.forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === "audio") out.packets_sent = s.packetsSent || 0;
      if (s.type === "remote-inbound-rtp" && s.kind === "audio") out.packets_lost_up = s.packetsLost || 0;
      if (s.type === "inbound-rtp" && s.kind === "audio") { out.packets_received = s.packetsReceived || 0; out.packets_lost_down = s.packetsLost || 0; }
    });
    const transport = [...last.values()].find((s) => s.type === "transport" && s.selectedCandidatePairId);
    const pair = transport ? last.get(transport.selectedCandidatePairId)
      : [...last.values()].find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
    const end = (id) => {
      const c = last.get(id) || {};
      return {type: c.candidateType || null, protocol: c.protocol || null, address: String(c.address || c.ip || "").slice(0, 64) || null,
              port: typeof c.port === "number" ? c.port : null, relay_protocol: c.relayProtocol || null};
    };
    if (pair) {
      out.local = end(pair.localCandidateId); out.remote = end(pair.remoteCandidateId);
      if (typeof pair.currentRoundTripTime === "number") pairRtt = pair.currentRoundTripTime * 1000;
    }
    if (!out.rtt_ms.length && pairRtt !== null) out.rtt_ms = [pairRtt];
    // what the echo itself received of this audio, asked at once: its receiver reports lag
    if (answer.received) {
      try {
        const outbound = [...last.values()].find((s) => s.type === "outbound-rtp" && s.kind === "audio");
        const far = await (await fetch(new URL(answer.received, at("../call")).href, {headers})).json();
        const row = (far.streams || []).find((r) => r.kind === "audio" && outbound && r.ssrc === outbound.ssrc);
        if (row) { out.far_received = row.packets_received; out.far_lost = row.packets_lost; }
      } catch (e) { /* the receiver reports stand */ }
    }
  } catch (e) {
    out.error = String((e && e.message) || e).slice(0, 500);
  } finally {
    pc.close();
  }
  return out;
}

async function tencent(loading) {
  const out = {errors: []};
  const [trtc, detect] = await Promise.race([loading, sleep(10000).then(() => [false, false])]);
  if (!trtc || typeof TRTC === "undefined") out.errors.push("trtc.js did not load");
  if (!detect || typeof RTCDetect === "undefined") out.errors.push("rtc-detect.js did not load");
  try {
    if (typeof TRTC !== "undefined") {
      if (TRTC.setLogLevel) TRTC.setLogLevel(5, false);  // no console output, no log upload
      out.sdk_version = TRTC.VERSION || null;
      const s = await TRTC.isSupported();
      out.is_supported = !!s.result;
      out.checks = Object.fromEntries(Object.entries(s.detail || {}).filter(([, v]) => typeof v === "boolean").slice(0, 40));
    }
  } catch (e) { out.errors.push("isSupported: " + String(e).slice(0, 300)); }
  try {
    if (typeof RTCDetect !== "undefined") {
      const d = new RTCDetect();
      out.is_trtc_supported = !!(await d.isTRTCSupported()).result;
      const codec = await d.getCodecAsync();
      for (const [k, v] of Object.entries(codec || {})) if (typeof v === "boolean" && Object.keys(out.checks || {}).length < 64) (out.checks = out.checks || {})[k] = v;
    }
  } catch (e) { out.errors.push("rtc-detect: " + String(e).slice(0, 300)); }
  return out;
}

// TRTC's scheduling service through Tencent's Web SDK: enterRoom with a placeholder application
// (the command line's trtcweb probe does the same); Tencent's refusal proves the service
// reachable from this browser. The SDK has no deadline of its own when packets are dropped.
async function schedule(loading, settings) {
  const deadline = settings.schedule_deadline_s || 10;
  const out = {entered: false, ms: 0, timed_out: false, deadline_s: deadline};
  await Promise.race([loading, sleep(10000)]);
  if (typeof TRTC === "undefined") return null;
  const trtc = TRTC.create();
  const started = performance.now();
  const entering = trtc.enterRoom({sdkAppId: settings.placeholder_sdk_app_id, userId: `trtcdetect_${Math.random().toString(36).slice(2, 10)}`,
                                   userSig: settings.placeholder_sig, roomId: 1 + Math.floor(Math.random() * 4e9), scene: "rtc"})
    .then(() => { out.entered = true; })
    .catch((e) => {
      out.error = {code: typeof (e && e.code) === "number" ? e.code : null, extra_code: typeof (e && e.extraCode) === "number" ? e.extraCode : null,
                   name: e && e.name ? String(e.name).slice(0, 60) : null, message: String((e && e.message) || e).slice(0, 500)};
    });
  const finished = await Promise.race([entering.then(() => true), sleep(deadline * 1000).then(() => false)]);
  out.ms = performance.now() - started;
  out.timed_out = !finished;
  try { trtc.exitRoom().catch(() => {}); trtc.destroy && trtc.destroy(); } catch (e) { /* the verdict is known */ }
  return out;
}

// Tencent's documented pre-call network test, with UserSigs serve minted for this check: an
// uplink client publishes camera and microphone, a downlink client in the same room subscribes;
// both report network quality every 2 s. Every event goes back with its time; serve judges it.
async function networkTest(loading, invitation) {
  const out = {events: []};
  await Promise.race([loading, sleep(10000)]);
  if (typeof TRTC === "undefined") { out.error = "trtc.js did not load"; return out; }
  const headers = {"content-type": "application/json"};
  if (invitation) headers["x-trtcdetect-invitation"] = `${invitation.ref} ${invitation.exp} ${invitation.sig}`;
  let job;
  try {
    const response = await fetch(at("credentials"), {method: "POST", headers, body: "{}"});
    job = await response.json();
    if (!response.ok) { out.error = String(job.error || `HTTP ${response.status}`).slice(0, 500); return out; }
  } catch (e) { out.error = String(e).slice(0, 500); return out; }
  const t0 = performance.now();
  const note = (client, event, data) => { if (out.events.length < 400) out.events.push({t: Math.round(performance.now() - t0), client, event, ...(data || {})}); };
  const clients = {up: TRTC.create(), down: TRTC.create()};
  for (const [name, trtc] of Object.entries(clients)) {
    trtc.on(TRTC.EVENT.NETWORK_QUALITY, (q) => note(name, "quality", {
      uplink: q.uplinkNetworkQuality, downlink: q.downlinkNetworkQuality,
      uplinkRTT: q.uplinkRTT, uplinkLoss: q.uplinkLoss, downlinkRTT: q.downlinkRTT, downlinkLoss: q.downlinkLoss}));
  }
  clients.down.on(TRTC.EVENT.REMOTE_AUDIO_AVAILABLE, () => note("down", "remote_audio"));
  clients.down.on(TRTC.EVENT.REMOTE_VIDEO_AVAILABLE, ({userId, streamType}) => {
    note("down", "remote_video");
    clients.down.startRemoteVideo({userId, streamType, view: document.createElement("div")})
      .catch((e) => note("down", "error", {step: "startRemoteVideo", message: String(e).slice(0, 500)}));
  });
  clients.down.on(TRTC.EVENT.FIRST_VIDEO_FRAME, () => note("down", "first_video_frame"));
  const enter = async (name, user) => {
    note(name, "enter");
    try {
      await clients[name].enterRoom({sdkAppId: job.sdkAppId, userId: user.userId, userSig: user.userSig, roomId: job.roomId, scene: "rtc"});
      note(name, "entered");
      return true;
    } catch (e) {
      note(name, "error", {step: "enterRoom", code: typeof (e && e.code) === "number" ? e.code : null, message: String((e && e.message) || e).slice(0, 500)});
      return false;
    }
  };
  const entering = Promise.all([enter("up", job.users[0]), enter("down", job.users[1])]);
  const [up, down] = await Promise.race([entering, sleep(15000).then(() => [false, false])]);
  if (up && down) {
    try {
      await clients.up.startLocalAudio();
      await clients.up.startLocalVideo();
      note("up", "publishing");
    } catch (e) { note("up", "error", {step: "publish", message: String(e).slice(0, 500)}); }
    await sleep((job.seconds || 15) * 1000);
  }
  note("page", "over");
  for (const trtc of Object.values(clients)) { try { trtc.exitRoom().catch(() => {}); } catch (e) { /* over */ } }
  return out;
}

// Everything the page measures, as the upload the server validates (upload.py's types).
export async function runCheck(options = {}) {
  const progress = options.progress || (() => {});
  const started = new Date();
  const t0 = performance.now();
  const settings = options.settings || await (await fetch(at("settings"))).json();
  const result = {schema: SCHEMA, started_at: started.toISOString(), lang: options.lang || pickLanguage()};
  progress("stage.env");
  result.page = {protocol: location.protocol, hostname: location.hostname.slice(0, 255), secure_context: !!window.isSecureContext,
                 user_agent: navigator.userAgent.slice(0, 1000), language: String(navigator.language || "").slice(0, 35),
                 width: Math.min(16384, window.innerWidth), height: Math.min(16384, window.innerHeight),
                 touch: (navigator.maxTouchPoints || 0) > 0};
  const invitation = options.invitation === undefined ? invitationFrom() : options.invitation;
  if (invitation) result.invitation = invitation;
  // Tencent's SDK (~1 MB) loads while the devices are checked
  const loading = Promise.all([loadScript("trtc.js"), loadScript("rtc-detect.js")]);
  progress("stage.devices");
  const stream = await devices(result, settings);
  progress("stage.call");
  // with the server's credentials, Tencent's own network test replaces the scheduling check
  // (it enters a real room: the scheduling service answers, or the test says why not)
  const [callResult, tencentResult, scheduleResult, networkResult] = await Promise.all([
    call(stream, {invitation, callSeconds: options.callSeconds}, progress),
    tencent(loading),
    settings.schedule === false || settings.network_test ? null : schedule(loading, settings),
    settings.network_test ? networkTest(loading, invitation) : null,
  ]);
  result.call = callResult;
  result.tencent = tencentResult;
  if (scheduleResult) result.schedule = scheduleResult;
  if (networkResult) result.network = networkResult;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  if (options.speaker !== undefined) result.speaker = {heard: options.speaker};
  result.duration_ms = performance.now() - t0;
  return result;
}

export async function sendCheck(upload) {
  const response = await fetch(at("upload"), {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(upload)});
  const body = await response.json().catch(() => ({error: `HTTP ${response.status}`}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return {...body, report: at(body.report)};
}

// A 440 Hz tone for a second, started by the user's click (autoplay rules allow it then).
export async function playTone() {
  const context = new AudioContext();
  await context.resume().catch(() => {});
  const tone = context.createOscillator();
  const gain = context.createGain();
  gain.gain.value = 0.2;
  tone.frequency.value = 440;
  tone.connect(gain).connect(context.destination);
  tone.start();
  await sleep(1000);
  tone.stop();
  await context.close().catch(() => {});
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  for (const child of children) node.append(child);  // strings become text: never markup
  return node;
}

function previewRows(upload, lang) {
  const camera = upload.camera || {}, mic = upload.microphone || {}, c = upload.call || {};
  const err = (x) => (x && x.error ? `${say(lang, "failed")}: ${x.error.name}` : null);
  const rows = [
    ["row.browser", `${upload.page.user_agent}`],
    ["row.camera", err(camera) || `${camera.label || "?"} · ${camera.width}x${camera.height} · ${Math.round(camera.fps || 0)} fps`],
    ["row.microphone", err(mic) || `${mic.label || "?"} · ${Math.round(mic.rms_dbfs)} dBFS`],
    ["row.call", c.connected ? `RTT ${Math.round((c.rtt_ms || [0]).reduce((a, b) => a + b, 0) / Math.max(1, (c.rtt_ms || []).length))} ms · ${c.local ? c.local.type + "/" + c.local.protocol : "?"}` : `${say(lang, "failed")}: ${c.stage} ${c.error || ""}`],
    ["row.schedule", upload.schedule ? (upload.schedule.timed_out ? say(lang, "noanswer") : upload.schedule.error ? `${upload.schedule.error.code || ""} ${upload.schedule.error.message.split("\n")[0]}` : "OK") + ` · ${Math.round(upload.schedule.ms)} ms` : "-"],
    ["row.devices", (upload.devices || []).map((d) => d.label || d.kind).join(", ") || say(lang, "none")],
    ["row.address", [c.local && c.local.address, c.remote && c.remote.address].filter(Boolean).join(" → ") || say(lang, "none")],
  ];
  if (upload.invitation) rows.push(["row.ref", upload.invitation.ref]);
  return rows;
}

// The page: a language switch, one button, the progress, what will be sent, the verdict.
export function mount(root, options = {}) {
  let lang = options.lang || pickLanguage();
  let heard;
  let tonePlayed = false;
  let upload = null;
  const state = {settings: null};
  const view = element("div", {class: "trtcdetect-check"});
  root.replaceChildren(view);

  const render = (parts) => { view.replaceChildren(...parts); };
  const header = () => {
    const other = lang === "zh" ? "en" : "zh";
    const switcher = element("button", {type: "button", class: "lang", id: "lang"}, other === "zh" ? "中文" : "English");
    switcher.onclick = () => { lang = other; draw(); };
    return [element("div", {class: "top"}, element("h1", {}, say(lang, "title")), switcher), element("p", {class: "lead"}, say(lang, "lead"))];
  };
  const speakerBox = () => {
    const play = element("button", {type: "button", id: "tone"}, say(lang, "speaker"));
    const yes = element("button", {type: "button", id: "heard"}, say(lang, "heard"));
    const no = element("button", {type: "button", id: "not-heard"}, say(lang, "notheard"));
    // the answers appear once the tone has played (the question means nothing before)
    const answers = [yes, no];
    if (!tonePlayed) answers.forEach((b) => { b.hidden = true; });
    play.onclick = () => { tonePlayed = true; answers.forEach((b) => { b.hidden = false; }); playTone(); };
    if (heard === true) yes.classList.add("chosen");
    if (heard === false) no.classList.add("chosen");
    yes.onclick = () => { heard = true; yes.classList.add("chosen"); no.classList.remove("chosen"); };
    no.onclick = () => { heard = false; no.classList.add("chosen"); yes.classList.remove("chosen"); };
    return element("div", {class: "speaker"}, play, yes, no);
  };
  const status = element("p", {id: "stage", class: "stage"}, "");
  const progress = (key, values) => { status.textContent = say(lang, key, values); };

  let phase = "start";
  let answer = null;
  const draw = () => {
    const parts = [...header()];
    if (phase === "start" || phase === "running") {
      const start = element("button", {type: "button", id: "start", class: "primary"}, say(lang, "start"));
      start.disabled = phase === "running";
      start.onclick = run;
      parts.push(start, status, speakerBox());
      if (state.settings && !state.settings.uploads) parts.push(element("p", {class: "note"}, say(lang, "noupload")));
    }
    if (phase === "preview" && upload) {
      status.textContent = "";
      const table = element("table", {id: "preview"});
      for (const [key, value] of previewRows(upload, lang)) table.append(element("tr", {}, element("th", {}, say(lang, key)), element("td", {}, value)));
      const raw = element("details", {}, element("summary", {}, say(lang, "raw")), element("pre", {}, JSON.stringify(upload, null, 2)));
      const send = element("button", {type: "button", id: "send", class: "primary"}, say(lang, "send"));
      send.onclick = submit;
      const blocked = state.settings && (!state.settings.uploads || (state.settings.invitation_required && !upload.invitation));
      send.disabled = !!blocked;
      parts.push(element("p", {}, say(lang, "stage.ready")), element("p", {}, say(lang, "preview")), table, raw, speakerBox());
      parts.push(blocked ? element("p", {class: "note"}, say(lang, state.settings.uploads ? "invitation" : "noupload")) : send, status);
    }
    if (phase === "done" && answer) {
      const box = element("div", {id: "verdict", class: `verdict v-${answer.status}`},
        element("h2", {}, say(lang, "verdict")), element("p", {class: "headline"}, say(lang, `status.${answer.status}`)));
      for (const cause of answer.causes || []) {
        const item = element("div", {class: "cause"}, element("p", {class: "cause-headline"}, cause.headline));
        for (const advice of cause.advice || []) item.append(element("p", {class: "advice"}, `${say(lang, "who." + cause.party)}: ${advice}`));
        box.append(item);
      }
      box.append(element("p", {class: "code"}, say(lang, "code"), " ", element("strong", {id: "code"}, answer.code)));
      const link = element("a", {href: `${answer.report}?lang=${lang}&download=1`, id: "download"}, say(lang, "download"));
      box.append(element("p", {}, link));
      const again = element("button", {type: "button", id: "again"}, say(lang, "again"));
      again.onclick = () => { phase = "start"; draw(); };
      parts.push(box, again);
    }
    render(parts);
  };

  async function run() {
    phase = "running"; draw();
    try {
      state.settings = state.settings || await (await fetch(at("settings"))).json();
      upload = await runCheck({lang, progress, settings: state.settings, invitation: options.invitation});
      phase = "preview";
    } catch (e) {
      status.textContent = String((e && e.message) || e);
      phase = "start";
    }
    draw();
  }

  async function submit() {
    if (heard !== undefined) upload.speaker = {heard};
    upload.lang = lang;
    status.textContent = say(lang, "sending");
    try {
      answer = await sendCheck(upload);
      phase = "done";
    } catch (e) {
      status.textContent = String((e && e.message) || e);
    }
    draw();
  }

  fetch(at("settings")).then((r) => r.json()).then((s) => { state.settings = s; if (phase === "start") draw(); }).catch(() => {});
  draw();
  return {get upload() { return upload; }, get answer() { return answer; }};
}

const auto = typeof document !== "undefined" && document.querySelector("[data-trtcdetect-check]");
if (auto) window.trtcdetectCheck = mount(auto);
