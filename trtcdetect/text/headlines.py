"""The diagnosis' headlines, by id: one sentence per cause (see trtcdetect.diagnosis), as
(English, Chinese) templates; part of the one catalogue, `sentences.SENTENCES`."""

from __future__ import annotations

from collections.abc import Mapping

HEADLINES: Mapping[str, tuple[str, str]] = {
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
    "dx.dns-elsewhere": ("{host} resolves to {addresses} here ({kind}), not to TRTC's servers: a "
                         "DNS filter, a hosts file or security software points TRTC's names elsewhere",
                         "{host} 在此解析为 {addresses}（{kind}），而不是 TRTC 的服务器：DNS 过滤、hosts 文件或安全软件"
                         "把 TRTC 的域名指向了别处"),
    "dx.captive-portal": ("This network shows a login page before it lets anything out: http://{host}/ "
                          "is answered with {location}, and HTTPS to {host} does not get through",
                          "此网络在放行之前要求先登录网页：访问 http://{host}/ 得到的是 {location}，到 {host} 的 HTTPS 无法连通"),
    "dx.path-mtu": ("Datagrams of {size} bytes to {host} get no answer on UDP {port} while small ones "
                    "do ({error}): something on the way drops large packets (a VPN, a tunnel, a "
                    "PPPoE link), and calls lose their video",
                    "发往 {host} UDP {port} 的 {size} 字节数据报无响应，而小数据报有响应（{error}）：路径上有设备丢弃大包"
                    "（VPN、隧道或 PPPoE 链路），通话会丢失视频"),
    "dx.proxy-only": ("Only the HTTP proxy {proxy} gets out of this network: no direct TCP or UDP to "
                      "{host} ({blocked} get no answer)",
                      "此网络只有 HTTP 代理 {proxy} 能访问外网：到 {host} 的 TCP 和 UDP 都无法直连（{blocked} 均无响应）"),
    "dx.udp-none-fallback": ("No UDP answer from {host} on {ports} while TCP works: UDP is dropped "
                             "on the way. Calls fall back to TCP through a relay: the test call "
                             "over it had {rtt:.0f} ms RTT and {loss:.1f} % loss, against "
                             "{direct:.0f} ms for a direct TCP connect",
                             "{host} 的 {ports} 无 UDP 响应，而 TCP 正常：UDP 在路径上被丢弃。通话会经中继回退到 TCP："
                             "经中继的测试通话往返时延 {rtt:.0f} 毫秒、丢包 {loss:.1f}%，而直连 TCP 建连为 {direct:.0f} 毫秒"),
    "dx.nat64": ("This network has no IPv4: it reaches IPv4 servers through NAT64 (prefix {prefix}; "
                 "the target is {ipv4} behind it). Names work, but servers given as IPv4 "
                 "addresses -- a call's IPv4 candidates, the native SDK's built-in access servers "
                 "-- cannot be reached from here",
                 "此网络没有 IPv4：通过 NAT64 访问 IPv4 服务器（前缀 {prefix}；目标为其后的 {ipv4}）。"
                 "域名可以访问，但以 IPv4 地址给出的服务器（通话的 IPv4 候选地址、原生 SDK 内置的接入服务器）无法从本机访问"),
    "dx.path-loss": ("Packets to {host} are lost from hop {ttl} ({address}) on, {place}: "
                     "{loss} % of the path check's datagrams, and a call's packets take the "
                     "same way",
                     "发往 {host} 的数据包从第 {ttl} 跳（{address}）开始丢失，{place}：路径检测的数据报丢失 {loss}%，通话的数据包也走同一路径"),
    "dx.path-delay": ("The delay to {host} rises by {added} ms at hop {ttl} ({address}), {place}: "
                      "{rtt} ms in all",
                      "到 {host} 的延迟在第 {ttl} 跳（{address}）增加 {added} 毫秒，{place}：共 {rtt} 毫秒"),
    "dx.no-single-cause": ("No single cause explains these {count} network findings: each is "
                           "shown on its own, with its own advice",
                           "这 {count} 项网络问题没有单一原因可以解释：各自单独列出，并附各自的建议"),
    "dx.no-udp-evidence": ("No check crossed the network over UDP: whether call media gets "
                           "through is not known", "没有任何检测经由网络发送 UDP：无法确定通话媒体能否通过"),
}
