"""Summary sentences, by id: what a probe found, as (English, Chinese) templates.

str.format fields name the values a sentence needs; `trtcdetect.text` checks them whenever a
Message is made. Values from the outside world are inserted as they are and escaped by the
renderers, never formatted into markup here.
"""

from __future__ import annotations

from collections.abc import Mapping

#: summary sentences: id -> (English, Chinese); str.format fields name the message's values
SENTENCES: Mapping[str, tuple[str, str]] = {
    # runner
    "error": ("error: {reason}", "错误：{reason}"),
    # ports
    "ports.none": ("no ports to check", "没有需要检测的端口"),
    "ports.dns": ("{host} did not resolve: {error}", "{host} 无法解析：{error}"),
    "ports.all-open": ("all {count} ports answered", "全部 {count} 个端口均有响应"),
    "ports.none-open": ("no port of {host} answered ({count} checked)",
                        "{host} 的端口均无响应（共检测 {count} 个）"),
    "ports.some-open": ("{open} of {count} ports answered; {which}",
                        "{count} 个端口中 {open} 个有响应；{which}"),
    "ports.group-closed": ("{ports} closed", "{ports} 关闭"),
    "ports.group-no_answer": ("{ports} no answer (open or filtered)", "{ports} 无响应（开放或被过滤）"),
    "ports.group-error": ("{ports} could not be checked", "{ports} 无法检测"),
    "ports.lossy": ("every port answered, but the quality trains lost packets: {which}",
                    "所有端口均有响应，但质量测试有丢包：{which}"),
    # nat
    "nat.no-server": ("no STUN server to ask", "没有可询问的 STUN 服务器"),
    "nat.dns": ("{host} did not resolve ({error}): no STUN server to ask",
                "{host} 无法解析（{error}）：没有可询问的 STUN 服务器"),
    "nat.ipv6-only": ("no IPv4 STUN server answered ({count} asked), but IPv6 works: public address {address}",
                      "IPv4 STUN 服务器均无响应（共询问 {count} 个），但 IPv6 可用：公网地址 {address}"),
    "nat.no-answer": ("no STUN server answered ({count} asked): the public address is unknown",
                      "STUN 服务器均无响应（共询问 {count} 个）：无法得知公网地址"),
    "nat.public": ("no NAT: this machine's address {address} is its public address",
                   "无 NAT：本机地址 {address} 即公网地址"),
    "nat.cone": ("behind NAT, public address {address}, mapping {mapping}: direct media should work",
                 "位于 NAT 之后，公网地址 {address}，映射方式 {mapping}：媒体应可直连"),
    "nat.symmetric": ("behind a NAT whose mapping changes per destination (public address {address}): a relay (TURN) will likely be needed",
                      "位于按目的地址改变映射的 NAT（对称型）之后（公网地址 {address}）：很可能需要中继（TURN）"),
    # url
    "url.none": ("no --url given", "未指定 --url"),
    "url.localhost": ("{url} is localhost: browsers allow camera and microphone there",
                      "{url} 是 localhost：浏览器允许使用摄像头和麦克风"),
    "url.plain-http": ("{url} is plain HTTP on another host: browsers will not give it camera or microphone",
                       "{url} 是其他主机上的 HTTP 地址：浏览器不会允许其使用摄像头或麦克风"),
    "url.unreachable": ("{url} cannot be reached securely: {error}", "{url} 无法安全访问：{error}"),
    "url.redirect-insecure": ("{url} {problem}: browsers will not give camera or microphone to the page",
                              "{url} 跳转到了不安全地址（{problem}）：浏览器不会允许页面使用摄像头或麦克风"),
    "url.fetch-failed": ("{url} could not be fetched: {problem}", "{url} 无法获取：{problem}"),
    "url.http-error": ("{url} answered HTTP {code}", "{url} 返回 HTTP {code}"),
    "url.ok": ("{url} is served over HTTPS (HTTP {code}, {ms:.0f} ms)",
               "{url} 通过 HTTPS 提供（HTTP {code}，{ms:.0f} 毫秒）"),
    "url.summary": ("{ok} of {count} pages can use camera and microphone; not: {which}",
                    "{count} 个页面中 {ok} 个可以使用摄像头和麦克风；不可以：{which}"),
    # domain
    "domain.step-failed": ("{step} step failed: {error}", "{step} 步骤失败：{error}"),
    "domain.cert-expiring": ("reachable, but the certificate expires in {days:.0f} days",
                             "可以访问，但证书将在 {days:.0f} 天后过期"),
    "domain.all-ok": ("all {count} hosts work over DNS, TCP, TLS and HTTPS",
                      "全部 {count} 个域名的 DNS、TCP、TLS 和 HTTPS 均正常"),
    "domain.hosts-bad": ("{bad} of {count} hosts have a problem: {which}",
                         "{count} 个域名中 {bad} 个有问题：{which}"),
    "domain.ok": ("DNS, TCP, TLS and HTTPS all work ({ms:.0f} ms in all)",
                  "DNS、TCP、TLS 和 HTTPS 均正常（共 {ms:.0f} 毫秒）"),
    # camera
    "camera.none": ("no camera found", "未找到摄像头"),
    "camera.not-at": ("no camera at {path}", "{path} 处没有摄像头"),
    "camera.unreachable": ("permission denied: this user may not reach {path}",
                           "权限不足：当前用户无法访问 {path}"),
    "camera.permission": ("permission denied: this user may not read {path}",
                          "权限不足：当前用户无法读取 {path}"),
    "camera.permission-group": (
        "permission denied: this user may not read {path} (join the group '{group}' and log in again)",
        "权限不足：当前用户无法读取 {path}（请加入 '{group}' 组并重新登录）"),
    "camera.cannot-open": (
        "the camera exists but cannot be opened (in use by another application, or not a video source)",
        "摄像头存在但无法打开（可能被其他应用占用，或不是视频源）"),
    "camera.no-frames": ("the camera opened but delivered no frames", "摄像头已打开但没有输出画面"),
    "camera.black": ("the camera delivers black frames ({ratio:.0%})", "摄像头输出黑屏画面（{ratio:.0%}）"),
    "camera.frozen": ("the picture is frozen ({ratio:.0%} of frames unchanged)",
                      "画面静止不动（{ratio:.0%} 的帧无变化）"),
    "camera.degraded": ("the camera works, but: {problems}", "摄像头可用，但：{problems}"),
    "camera.low-fps": ("{fps:.1f} fps", "{fps:.1f} 帧/秒"),
    "camera.low-resolution": ("{width}x{height} instead of {req_width}x{req_height}",
                              "实际 {width}x{height}，请求 {req_width}x{req_height}"),
    "camera.ok": ("the camera delivers {width}x{height} at {fps:.0f} fps",
                  "摄像头正常输出 {width}x{height}，{fps:.0f} 帧/秒"),
    # microphone
    "mic.portaudio": ("PortAudio is not installed, so no microphone can be opened",
                      "未安装 PortAudio，无法打开麦克风"),
    "mic.none": ("no microphone (input device) found", "未找到麦克风（输入设备）"),
    "mic.no-match": ("no input device matches {wanted!r}", "没有与 {wanted!r} 匹配的输入设备"),
    "mic.cannot-open": ("the microphone cannot be opened: {error}", "麦克风无法打开：{error}"),
    "mic.no-data": ("the microphone opened but delivered no audio", "麦克风已打开但没有采集到音频"),
    "audio.scan-hung": ("the audio system did not answer: listing the audio devices hung",
                        "音频系统无响应：列出音频设备时卡住"),
    "mic.no-data-stuck": ("the microphone opened but delivered no audio, and its driver would not let "
                          "go of it", "麦克风已打开但没有采集到音频，且其驱动无法释放该设备"),
    "mic.silent": ("the microphone is silent ({level:.0f} dBFS): muted or dead",
                   "麦克风无声（{level:.0f} dBFS）：已静音或损坏"),
    "mic.clipping": ("the microphone clips: {clipped} samples at full scale",
                     "麦克风削波：{clipped} 个采样达到满幅"),
    "mic.low": ("the microphone level is very low ({level:.0f} dBFS)", "麦克风音量很低（{level:.0f} dBFS）"),
    "mic.ok": ("the microphone captures sound ({level:.0f} dBFS RMS)", "麦克风采集正常（RMS {level:.0f} dBFS）"),
    # device probes
    "interrupted": ("interrupted", "已中断"),
    # speaker
    "speaker.no-sound": ("not played (--no-sound)", "未播放（--no-sound）"),
    "speaker.none": ("no speaker (output device) found", "未找到扬声器（输出设备）"),
    "speaker.portaudio": ("PortAudio is not installed, so no speaker can be opened",
                          "未安装 PortAudio，无法打开扬声器"),
    "speaker.cannot-open": ("the speaker cannot be opened: {error}", "扬声器无法打开：{error}"),
    "speaker.stalled": ("the speaker opened but did not take the sound", "扬声器已打开但未能播放声音"),
    "speaker.underruns": ("played, with {count} underruns (gaps in the sound)", "已播放，但有 {count} 次欠载（声音中断）"),
    "speaker.verified": ("played and heard back on {device} at {level:.0f} dBFS after {delay:.0f} ms",
                         "已播放，并在 {device} 上以 {level:.0f} dBFS 收到回声，延迟 {delay:.0f} 毫秒"),
    "speaker.not-verified": ("played, not verified: no input heard the sound",
                             "已播放，未验证：没有输入设备听到该声音"),
    # browsers
    "browsers.none": ("no browser found on this machine", "本机未发现浏览器"),
    "browsers.ok": ("supported: {list}", "均受支持：{list}"),
    "browsers.some-old": ("some browsers are too old or unknown: {list}", "部分浏览器版本过低或无法识别：{list}"),
    "browsers.none-supported": ("no browser here runs the TRTC Web SDK: {list}", "本机没有可运行 TRTC Web SDK 的浏览器：{list}"),
    "browsers.webrtc-ok": ("{before}; {browser}'s own WebRTC reached the echo peer", "{before}；{browser} 自身的 WebRTC 已连通回声服务"),
    "browsers.webrtc-failed": ("{before}; the browser's WebRTC failed at {stage}: {error}", "{before}；浏览器 WebRTC 在 {stage} 阶段失败：{error}"),
    # test call
    "call.no-connect": ("could not connect: {stage} {how}", "无法建立连接：{stage} {how}"),
    "call.failed": ("failed", "失败"),
    "call.not-within": ("not done within {seconds:g} s", "未在 {seconds:g} 秒内完成"),
    "call.no-media": ("connected, but no media came back", "已连接，但没有收到回传的媒体"),
    "call.signal-unreachable": ("echo peer unreachable: {error}", "无法访问回声服务：{error}"),
    "call.signal-http": ("echo peer answered HTTP {code}: {body}", "回声服务返回 HTTP {code}：{body}"),
    "call.signal-no-sdp": ("echo peer sent no SDP answer", "回声服务没有返回 SDP 应答"),
    "call.no-rtcp": ("call connected but no RTCP reports came back", "通话已建立，但没有收到 RTCP 报告"),
    "call.poor": ("call quality is poor: {numbers}", "通话质量差：{numbers}"),
    "call.degraded": ("call quality is degraded: {numbers}", "通话质量下降：{numbers}"),
    "call.video-stalled": ("the video that came back stalled: {fps:g} frames a second, "
                           "{freezes} freezes ({seconds:g} s frozen)",
                           "回传的视频卡顿：每秒 {fps:g} 帧，卡住 {freezes} 次（共 {seconds:g} 秒）"),
    "call.several": ("the test call has problems: {which}", "测试通话有问题：{which}"),
    "call.ok": ("test call works: {numbers}", "测试通话正常：{numbers}"),
    "call.ok-local": ("this machine's WebRTC stack works (a call inside this computer: it does "
                      "not cross the network): {numbers}",
                      "本机的 WebRTC 协议栈正常（在本机内部完成的通话，未经过网络）：{numbers}"),
    "call.no-network": ("no network interface besides loopback: the test call needs one",
                        "除回环接口外没有任何网络接口：测试通话需要一个可用的网络接口"),
    "ports.blocked-here": ("this computer blocks {which} (its firewall or security software)",
                           "本机拦截了 {which}（本机防火墙或安全软件）"),
    "call.numbers": ("RTT {rtt:.0f} ms, jitter {jitter:.1f} ms, loss {loss:.1f} %, MOS {mos:.2f}",
                     "往返时延 {rtt:.0f} 毫秒，抖动 {jitter:.1f} 毫秒，丢包 {loss:.1f}%，MOS {mos:.2f}"),
    # diagnosis: one headline per cause (see trtcdetect.diagnosis)
    "dx.no-network-loopback": ("No network: this computer has no address besides loopback",
                               "无网络：本机除回环地址外没有任何网络地址"),
    "dx.no-network-route": ("No network: there is no route out of this computer ({reason})",
                            "无网络：本机没有通往外部的路由（{reason}）"),
    "dx.local-firewall": ("This computer's firewall or security software blocks outgoing {which}",
                          "本机的防火墙或安全软件拦截了出站的 {which}"),
    "dx.dns-no-route": ("No route to the DNS server {server}: no name can be resolved",
                        "无法路由到 DNS 服务器 {server}：所有域名都无法解析"),
    "dx.dns-blocked-here": ("This computer blocks DNS to {server}: no name can be resolved",
                            "本机拦截了发往 DNS 服务器 {server} 的请求：所有域名都无法解析"),
    "dx.dns-timeout": ("The DNS server {server} does not answer: {host} cannot be resolved",
                       "DNS 服务器 {server} 没有响应：{host} 无法解析"),
    "dx.dns-refused": ("The DNS server {server} refuses to answer (REFUSED): {host} cannot be resolved",
                       "DNS 服务器 {server} 拒绝应答（REFUSED）：{host} 无法解析"),
    "dx.dns-servfail": ("The DNS server {server} fails to answer for {host} (SERVFAIL)",
                        "DNS 服务器 {server} 解析 {host} 时出错（SERVFAIL）"),
    "dx.dns-nxdomain": ("{host} does not exist in DNS (NXDOMAIN)", "DNS 中不存在 {host}（NXDOMAIN）"),
    "dx.dns-nodata": ("{host} has no address in DNS (no A or AAAA record)",
                      "{host} 在 DNS 中没有地址（没有 A 或 AAAA 记录）"),
    "dx.dns-filtered": ("The DNS server {server} says {host} does not exist ({error}): it filters "
                        "this public TRTC name", "DNS 服务器 {server} 称 {host} 不存在（{error}）：它屏蔽了这个公开的 TRTC 域名"),
    "dx.dns-failed": ("{host} cannot be resolved: {error}", "{host} 无法解析：{error}"),
    "dx.udp-none": ("No UDP answer from {host} on {ports} while TCP works: UDP is dropped on the "
                    "way or not answered there; calls fall back to TCP or a relay, with more delay",
                    "{host} 的 UDP 端口 {ports} 均无响应，而 TCP 正常：UDP 在途中被丢弃或对端不应答；"
                    "通话将回退到 TCP 或中转，延迟更高"),
    "dx.udp-some": ("UDP to {host} gets through on {open} but not on {blocked}",
                    "到 {host} 的 UDP 在 {open} 上可以通过，但在 {blocked} 上不通"),
    "dx.tls-untrusted": ("The HTTPS certificate of {host} is not trusted ({error}): a proxy or "
                         "security software may be intercepting HTTPS, or the clock is wrong",
                         "{host} 的 HTTPS 证书不受信任（{error}）：可能有代理或安全软件在拦截 HTTPS，"
                         "或系统时间不正确"),
    "dx.http-page": ("The deployment page {url} is plain HTTP: browsers block the camera and "
                     "microphone there", "部署页面 {url} 使用的是 HTTP：浏览器会禁止该页面使用摄像头和麦克风"),
    "dx.local-call": ("The test call ran inside this computer: it shows that this machine's WebRTC "
                      "stack works, not that the network carries calls",
                      "测试通话在本机内部完成：只能说明本机的 WebRTC 协议栈正常，不能说明网络可以承载通话"),
    "dx.no-udp-evidence": ("No check crossed the network over UDP: whether call media gets "
                           "through is not known", "没有任何检测经由网络发送 UDP：无法确定通话媒体能否通过"),
}
