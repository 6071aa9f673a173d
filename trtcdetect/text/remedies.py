"""Remedies by cause, in English and Chinese, drawn from the TRTC documents.

Sources (docs/sources.md lists their addresses): "TRTCCalling Web 语音通话" (环境要求: the firewall port and
domain list; URL 域名协议限制: the HTTPS-or-localhost rule) and the TRTCCalling Web FAQ.
A probe names a cause by id with the values its text needs; renderers pick the language.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import Text as Remedy

#: Who can act on a remedy: the person at this computer, the network administrator, the
#: deployment's owner (who runs the page or the servers), or support (a bug, a rerun).
PARTIES = ("user", "network", "owner", "support")

REMEDIES: Mapping[str, Remedy] = {
    "whitelist-udp": Remedy(
        en=(
            "Ask the network administrator to whitelist outbound UDP to {host} on ports {ports}. "
            "Without them media falls back to TCP or a relay, with higher delay."
        ),
        zh=(
            "请网络管理员放通到 {host} 的出站 UDP 端口 {ports}（加入防火墙白名单）。"
            "否则媒体只能回退到 TCP 或中转，延迟更高。"
        ),
    ),
    "whitelist-tcp": Remedy(
        en="Ask the network administrator to whitelist outbound TCP to {host} on ports {ports}.",
        zh="请网络管理员放通到 {host} 的出站 TCP 端口 {ports}（加入防火墙白名单）。",
    ),
    "whitelist-domain": Remedy(
        en=(
            "Allow the domain {host} (DNS and HTTPS on TCP 443) through the firewall or proxy; "
            "TRTCCalling needs it to reach the media servers."
        ),
        zh="请在防火墙或代理上放通域名 {host}（DNS 解析及 TCP 443 的 HTTPS 访问），TRTCCalling 需要它连接媒体服务器。",
    ),
    "whitelist-page-host": Remedy(
        en=("Allow {host} (DNS, and HTTPS to it) through the firewall or proxy: the deployment "
            "page is served from there or redirects there, and browsers here must load it."),
        zh="请在防火墙或代理上放通 {host}（DNS 解析及到它的 HTTPS 访问）：部署页面由它提供或跳转到它，本机浏览器必须能加载。",
    ),
    "dns-failure": Remedy(
        en=(
            "The name {host} did not resolve ({error}). Check the DNS server settings of this "
            "machine, or ask the network administrator whether DNS for this domain is blocked."
        ),
        zh="域名 {host} 无法解析（{error}）。请检查本机的 DNS 设置，或询问网络管理员该域名的解析是否被拦截。",
    ),
    "tls-untrusted": Remedy(
        en=(
            "The TLS certificate of {host} was not accepted ({error}). A proxy that inspects "
            "HTTPS, a wrong system clock or a missing CA certificate are the usual causes: check "
            "the clock, and ask whether a proxy rewrites HTTPS."
        ),
        zh=(
            "{host} 的 TLS 证书未通过验证（{error}）。常见原因：中间代理解密 HTTPS、系统时间错误或缺少 CA 证书。"
            "请检查系统时间，并确认是否有代理改写 HTTPS。"
        ),
    ),
    "cert-expiring": Remedy(
        en="The certificate of {host} expires in {days} days; renew it before it does.",
        zh="{host} 的证书将在 {days} 天后过期，请及时续期。",
    ),
    "network-unreachable": Remedy(
        en=(
            "Nothing on {host} was reachable. Check that this machine is online and that a "
            "firewall does not block all traffic to the TRTC servers."
        ),
        zh="无法连通 {host} 的任何端口。请确认本机已联网，且防火墙未拦截到 TRTC 服务器的全部流量。",
    ),
    "portaudio-missing": Remedy(
        en="PortAudio, which trtcdetect uses to reach audio devices, is not installed. On Debian/Ubuntu install it with: apt-get install libportaudio2 (Fedora: dnf install portaudio; macOS: brew install portaudio).",
        zh="未安装 trtcdetect 访问音频设备所需的 PortAudio。Debian/Ubuntu 请执行：apt-get install libportaudio2（Fedora：dnf install portaudio；macOS：brew install portaudio）。",
    ),
    "browser-install": Remedy(
        en="No Chrome, Chromium or Edge was found, so the browser checks did not run. Install one: Debian/Ubuntu: apt-get install chromium; Fedora: dnf install chromium; macOS: brew install --cask google-chrome; Windows: Edge is built in, or install Chrome.",
        zh="未找到 Chrome、Chromium 或 Edge，浏览器检测未运行。请安装其一：Debian/Ubuntu：apt-get install chromium；Fedora：dnf install chromium；macOS：brew install --cask google-chrome；Windows：系统自带 Edge，或安装 Chrome。",
    ),
    "audio-scan-hung": Remedy(
        en="The audio system did not answer when asked for its devices: an audio driver or the sound service is stuck. Restart the sound service (Linux: systemctl --user restart pipewire pulseaudio; Windows: restart the Windows Audio service; macOS: sudo killall coreaudiod), unplug Bluetooth or USB audio devices, or reboot.",
        zh="查询音频设备时音频系统没有响应：某个音频驱动或声音服务已卡死。请重启声音服务（Linux：systemctl --user restart pipewire pulseaudio；Windows：重启 Windows Audio 服务；macOS：sudo killall coreaudiod），拔下蓝牙或 USB 音频设备，或重启电脑。",
    ),
    "mic-missing": Remedy(
        en="No microphone was found. Plug in a headset or microphone, check that the operating system lists it as an input device, and run the check again. TRTCCalling cannot start a call without one (\"获取用户设备权限失败\").",
        zh="未找到麦克风。请插入耳机或麦克风，确认操作系统已将其识别为输入设备后重新检测。没有麦克风时 TRTCCalling 无法发起通话（报错“获取用户设备权限失败”）。",
    ),
    "mic-cannot-open": Remedy(
        en="The microphone exists but could not be opened. Close other applications that may hold it (another call, a recorder), and grant microphone access: Windows Settings > Privacy > Microphone; macOS System Settings > Privacy & Security > Microphone; in Chrome, chrome://settings/content for the calling site.",
        zh="麦克风存在但无法打开。请关闭可能占用它的其他应用（其他通话、录音软件），并授予麦克风权限：Windows 设置 > 隐私 > 麦克风；macOS 系统设置 > 隐私与安全性 > 麦克风；Chrome 中访问 chrome://settings/content 为通话网站开启麦克风权限。",
    ),
    "mic-no-data": Remedy(
        en="The microphone opened but delivered no audio. Reconnect it, pick another input device, or restart the audio service; a driver problem is likely.",
        zh="麦克风已打开但没有采集到任何音频数据。请重新插拔、换用其他输入设备或重启音频服务，可能是驱动问题。",
    ),
    "mic-silent": Remedy(
        en="The microphone delivers silence: it is muted (a mute key or switch on the headset, or the input volume at zero) or not the one you speak into. Unmute it, raise the input volume, or choose the right input device.",
        zh="麦克风采集到的是静音：可能被静音（耳机上的静音键/开关，或输入音量为零），或者并非您正在使用的那个麦克风。请取消静音、调高输入音量或选择正确的输入设备。",
    ),
    "mic-low": Remedy(
        en="The microphone level is very low: the far end will hardly hear you. Raise the input volume or move closer to the microphone.",
        zh="麦克风音量很低，对方可能听不清。请调高输入音量或靠近麦克风。",
    ),
    "mic-clipping": Remedy(
        en="The microphone overloads (clips): your voice will sound distorted. Lower the input volume or turn off extra microphone boost.",
        zh="麦克风过载（削波），声音会失真。请调低输入音量或关闭麦克风增强。",
    ),
    "camera-missing": Remedy(
        en="No camera was found. Connect a camera and check that the operating system lists it; for an audio-only call none is needed. Starting a video call without one fails (\"getVideoTracks of null\").",
        zh="未找到摄像头。请连接摄像头并确认操作系统已识别；纯语音通话无需摄像头。没有摄像头时发起视频通话会失败（报错“getVideoTracks of null”）。",
    ),
    "camera-permission": Remedy(
        en="This user may not use the camera. On Linux add the user to the group that owns the device (usually 'video': sudo usermod -aG video USER, then log in again); on Windows allow camera access in Settings > Privacy > Camera; on macOS in System Settings > Privacy & Security > Camera; in Chrome allow the camera for the calling site at chrome://settings/content.",
        zh="当前用户无权使用摄像头。Linux：将用户加入设备所属的组（通常为 video：sudo usermod -aG video 用户名，然后重新登录）；Windows：设置 > 隐私 > 相机 中允许访问；macOS：系统设置 > 隐私与安全性 > 摄像头；Chrome：在 chrome://settings/content 中为通话网站开启摄像头权限。",
    ),
    "camera-busy": Remedy(
        en="The camera could not be opened: another application (another call, a meeting app, a browser tab) is probably using it. Close it and try again.",
        zh="摄像头无法打开，可能正被其他应用（其他通话、会议软件或浏览器标签页）占用。请关闭后重试。",
    ),
    "camera-no-frames": Remedy(
        en="The camera opened but sent no picture. Reconnect it, try another USB port, or restart the machine; a driver problem is likely.",
        zh="摄像头已打开但没有画面。请重新插拔、换一个 USB 口或重启电脑，可能是驱动问题。",
    ),
    "camera-black": Remedy(
        en="The camera sends black pictures: the lens is covered (privacy shutter or cover) or the camera is disabled by a key on the keyboard. Uncover or enable it.",
        zh="摄像头画面全黑：镜头可能被遮挡（隐私挡板或贴纸），或被键盘上的摄像头开关关闭。请移开遮挡或开启摄像头。",
    ),
    "camera-frozen": Remedy(
        en="The camera picture does not change (frozen). Reconnect the camera or restart the application that drives it.",
        zh="摄像头画面静止不动（卡住）。请重新插拔摄像头或重启驱动它的应用。",
    ),
    "camera-low-fps": Remedy(
        en="The camera delivers few frames per second: video will look jerky. Improve the lighting (cameras slow down in the dark), close other applications using the camera or the CPU, or use another USB port.",
        zh="摄像头帧率偏低，视频会卡顿。请改善光线（光线暗时摄像头会降帧）、关闭占用摄像头或 CPU 的应用，或换一个 USB 口。",
    ),
    "camera-low-resolution": Remedy(
        en="The camera delivers a lower resolution than requested: the far end will see a smaller picture. Use a better camera or request a resolution it supports.",
        zh="摄像头实际分辨率低于请求的分辨率，对方看到的画面会较小。请更换摄像头或选择其支持的分辨率。",
    ),
    "call-no-connect": Remedy(
        en="The test call could not connect ({stage} stage). For ICE and DTLS: a firewall drops the UDP media ports or the traffic between this machine and the media server; allow the UDP ports listed in the ports check. For signalling: check the echo peer's URL and token.",
        zh="测试通话无法建立（{stage} 阶段）。ICE/DTLS 阶段失败：防火墙拦截了 UDP 媒体端口或本机与媒体服务器之间的流量，请放通端口检测中列出的 UDP 端口。信令阶段失败：请检查回声服务的 URL 和令牌。",
    ),
    "call-poor": Remedy(
        en="The test call works, but its quality is low: high delay, jitter or packet loss. Use a wired connection instead of Wi-Fi, close downloads and other calls, and move closer to the access point; if it persists, ask the network administrator about congestion or a VPN in the path.",
        zh="测试通话可以建立，但质量较差：延迟、抖动或丢包偏高。请改用有线网络、关闭下载和其他通话、靠近无线路由器；若仍如此，请询问网络管理员是否存在拥塞或 VPN。",
    ),
    "https-required": Remedy(
        en="Browsers give a page the camera and microphone only in a secure context: HTTPS, or http://localhost / http://127.0.0.1 during development. {url} is plain HTTP on another host, so TRTCCalling cannot capture there: serve it over HTTPS.",
        zh="浏览器只在安全上下文中允许页面使用摄像头和麦克风：HTTPS，或开发时的 http://localhost、http://127.0.0.1。{url} 是其他主机上的 HTTP 地址，TRTCCalling 无法采集音视频：请改用 HTTPS。",
    ),
    "upgrade-trtccalling": Remedy(
        en="If calls fail with \"getVideoTracks of null\" or the user can join without devices, upgrade TRTCCalling to 1.0.0 or later: it acquires the devices before the call and refuses to start without them.",
        zh="如出现“getVideoTracks of null”或用户未授权设备也能进入通话，请将 TRTCCalling 升级至 1.0.0 及以上：新版本在通话前先获取设备，获取失败时不允许进入通话。",
    ),
    "nat-relay": Remedy(
        en="This network rewrites addresses per destination or blocks STUN, so peers cannot reach each other directly: calls will go through a relay (TURN), with more delay. Where possible use a network without such a NAT, or make sure TURN over UDP/TCP 443 is allowed.",
        zh="当前网络按目的地址改变映射或拦截了 STUN，通话双方无法直连，媒体将经中继（TURN）转发，延迟更高。请尽量使用没有此类 NAT 的网络，或确认允许经 UDP/TCP 443 的 TURN 中继。",
    ),
    "nat-ipv4-blocked": Remedy(
        en="STUN over IPv4 got no answer while IPv6 works: something on the IPv4 path (a firewall, or a proxy that passes only TCP) drops UDP. Calls from browsers that prefer IPv4 will fall back to TCP or a relay. Ask the network administrator to allow outbound UDP over IPv4 to the TRTC ports.",
        zh="IPv4 的 STUN 请求无响应，而 IPv6 正常：IPv4 路径上的某个设备（防火墙，或只转发 TCP 的代理）丢弃了 UDP。优先使用 IPv4 的浏览器将回退到 TCP 或中转。请网络管理员放通 IPv4 到 TRTC 端口的出站 UDP。",
    ),
    "capacity-low": Remedy(
        en="This network carries too little for 720p video in at least one direction (see the figures) (a call needs about {need} kbit/s each way; 360p about {need360}). Pause other large transfers (cloud backups, video streaming, downloads), use a cable or move closer to the Wi-Fi access point, or lower the call's resolution. On a managed network, ask its administrator whether traffic is rate-limited.",
        zh="当前网络至少一个方向的带宽不足以进行 720p 视频通话（见检测数值）（每个方向约需 {need} kbit/s；360p 约需 {need360}）。请暂停其他大流量传输（云备份、视频播放、下载），改用有线网络或靠近 Wi-Fi 路由器，或降低通话分辨率。如为单位网络，请咨询网络管理员是否有限速。",
    ),
    "speaker-missing": Remedy(
        en="No speaker or headset was found: the far end cannot be heard. Connect one and check that the operating system lists it as an output device.",
        zh="未找到扬声器或耳机，将听不到对方声音。请连接设备，并确认操作系统已将其识别为输出设备。",
    ),
    "speaker-cannot-open": Remedy(
        en="The speaker could not be opened ({error}). Close applications that may hold it exclusively, pick another output device, or restart the audio service.",
        zh="扬声器无法打开（{error}）。请关闭可能独占它的应用、换用其他输出设备或重启音频服务。",
    ),
    "speaker-underruns": Remedy(
        en="The sound had gaps (underruns): the machine is busy or the audio driver struggles. Close heavy applications, or use another output device.",
        zh="声音出现中断（欠载）：机器负载过高或音频驱动异常。请关闭占用资源的应用，或换用其他输出设备。",
    ),
    "speaker-check": Remedy(
        en="The test sound was played, but nothing recorded it back, so it is not verified. Ask the user whether they heard a short rising tone; if not, check the volume, mute and the chosen output device. In iPhone WeChat's browser, calls before TRTCCalling 1.0.0 stay silent because of autoplay limits: upgrade.",
        zh="测试声音已播放，但没有设备录到回声，因此无法验证。请询问用户是否听到一段上升的提示音；如果没有，请检查音量、静音和所选的输出设备。在 iPhone 微信浏览器中，TRTCCalling 1.0.0 之前的版本因自动播放限制而无声，请升级。",
    ),
    "browser-upgrade": Remedy(
        en="Use the latest Google Chrome: desktop Chrome has the most complete support for the TRTC Web SDK. The minimums are Chrome 56, Firefox 56, Edge 80, Safari 11 and QQ Browser 10.4.",
        zh="请使用最新版 Chrome 浏览器：桌面版 Chrome 对 TRTC Web SDK 的支持最完整。最低版本要求：Chrome 56、Firefox 56、Edge 80、Safari 11、QQ 浏览器 10.4。",
    ),
    "probe-error": Remedy(
        en="This check could not finish ({error}). Run it again; if it repeats, send this report to support.",
        zh="该项检测未能完成（{error}）。请重新运行；如仍出现，请将本报告发给技术支持。",
    ),
    "no-network": Remedy(
        en="Connect this computer to a network (cable, Wi-Fi or mobile hotspot) and check that it gets an address, then run the check again.",
        zh="请将本机连接到网络（网线、Wi-Fi 或手机热点）并确认已获得地址，然后重新检测。",
    ),
    "local-firewall": Remedy(
        en="Allow outgoing {which} in this computer's firewall or security software (or let the application through), then run the check again. This is a setting on this computer, not on the network.",
        zh="请在本机的防火墙或安全软件中放行出站的 {which}（或将应用加入允许列表），然后重新检测。这是本机上的设置，与网络无关。",
    ),
    "dns-no-route": Remedy(
        en="This computer cannot reach its DNS server {server}. Check the network connection and the DNS server in the network settings (or the VPN that set it).",
        zh="本机无法访问其 DNS 服务器 {server}。请检查网络连接以及网络设置中的 DNS 服务器（或设置它的 VPN）。",
    ),
    "dns-server": Remedy(
        en="The DNS server {server} does not resolve {host} ({error}). Ask the network administrator to fix or allow DNS for this name, or use another DNS server.",
        zh="DNS 服务器 {server} 无法解析 {host}（{error}）。请网络管理员修复或放行该域名的 DNS 解析，或改用其他 DNS 服务器。",
    ),
    "dns-name": Remedy(
        en="{host} has no address in DNS ({error}). Check the name (--target, the profile), or ask the deployment's owner to publish it.",
        zh="{host} 在 DNS 中没有地址（{error}）。请检查域名是否正确（--target、配置文件），或请部署方发布该域名的解析。",
    ),
    "ports-decisive": Remedy(
        en="Silence on every UDP port does not tell a firewall from a server that does not answer STUN (TRTC's own servers do not). Decisive checks: the trtc probe (Tencent's SDK: pip install 'trtcdetect[trtc]'), or 'trtcdetect serve' on a host outside the firewall, checked with --target.",
        zh="所有 UDP 端口均无响应，无法区分是防火墙拦截还是服务器不应答 STUN（TRTC 自己的服务器就不应答）。可确定结论的检测：trtc 检测（腾讯 SDK：pip install 'trtcdetect[trtc]'），或在防火墙外的主机上运行 'trtcdetect serve' 并用 --target 检测它。",
    ),
    "proxy-intercepts": Remedy(
        en="The proxy {proxy} replaces the certificate of {host} with one issued by {issuer}: it decrypts HTTPS. TRTC's signalling can break or slow down through such inspection; ask the network administrator to exempt TRTC's domains from it.",
        zh="代理 {proxy} 把 {host} 的证书替换成了由 {issuer} 签发的证书：它在解密 HTTPS。这类检查可能使 TRTC 信令中断或变慢；请网络管理员将 TRTC 的域名排除在解密检查之外。",
    ),
    "trtc-web-proxy": Remedy(
        en="Where browsers may reach the internet only through Tencent's documented enterprise proxy, give its address: trtcdetect --trtc-proxy HOST (the Web SDK's proxy.unifiedProxy).",
        zh="若浏览器只能经腾讯文档所述的企业代理访问外网，请指定其地址：trtcdetect --trtc-proxy 主机（即 Web SDK 的 proxy.unifiedProxy）。",
    ),
    "trtc-install": Remedy(
        en="To check TRTC's cloud with Tencent's own SDK, install it: pip install 'trtcdetect[trtc]' (Linux on x86_64 or aarch64; Tencent publishes no build for other systems).",
        zh="如需用腾讯自己的 SDK 检测 TRTC 云服务，请安装：pip install 'trtcdetect[trtc]'（仅支持 x86_64 或 aarch64 的 Linux；腾讯未提供其他系统的版本）。",
    ),
    "trtc-whitelist": Remedy(
        en="Ask the network administrator to allow outbound UDP 8000, 8080 and 16285 and TCP 443, 13275 and 23275 to TRTC's access servers ({addresses}; names the SDK looks up: {names}). Where traffic may leave only through a SOCKS5 proxy, run trtcdetect --socks5 HOST:PORT.",
        zh="请网络管理员放通到 TRTC 接入服务器（{addresses}；SDK 查询的域名：{names}）的出站 UDP 8000、8080、16285 和 TCP 443、13275、23275。若网络只允许经 SOCKS5 代理出网，请运行 trtcdetect --socks5 主机:端口。",
    ),
    "trtc-no-route": Remedy(
        en="This computer has no route to TRTC's access servers ({addresses}): connect it to a network, or check its default route, and run again.",
        zh="本机没有到 TRTC 接入服务器（{addresses}）的路由：请连接网络或检查默认路由后重试。",
    ),
    "trtc-credentials": Remedy(
        en="TRTC's servers refused the test credentials (code {code}, Tencent's error table). Make a new credentials file with 'trtcdetect credentials' (UserSigs expire) and check the SDKAppID and the account's status in the TRTC console.",
        zh="TRTC 服务器拒绝了测试凭据（代码 {code}，见腾讯错误码表）。请用 'trtcdetect credentials' 重新生成凭据文件（UserSig 会过期），并在 TRTC 控制台检查 SDKAppID 和账号状态。",
    ),
    "trtc-proxy": Remedy(
        en="Nothing came back through the SOCKS5 proxy {proxy}: check that it runs, that it allows UDP (UDP ASSOCIATE) as well as TCP, and the user and password in $TRTCDETECT_SOCKS5_USER and $TRTCDETECT_SOCKS5_PASSWORD.",
        zh="经 SOCKS5 代理 {proxy} 没有收到任何响应：请确认代理在运行、同时允许 UDP（UDP ASSOCIATE）和 TCP，并检查 $TRTCDETECT_SOCKS5_USER 和 $TRTCDETECT_SOCKS5_PASSWORD 中的用户名和密码。",
    ),
    "browser-namespace": Remedy(
        en="trtcdetect holds the browser to {which} by running it in a network namespace of its own (unshare, then slirp4netns sends its packets). Install slirp4netns and iproute2; when not root, allow user namespaces (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces above 0) and let the user open /dev/net/tun (Debian makes it 0666), or run as root; or run without these options to check the way this computer normally calls.",
        zh="trtcdetect 通过让浏览器在独立的网络命名空间中运行（unshare，由 slirp4netns 发送其数据包）来按 {which} 检测。请安装 slirp4netns 和 iproute2；非 root 运行时，请允许用户命名空间（sysctl kernel.unprivileged_userns_clone=1，且 user.max_user_namespaces 大于 0）并允许该用户打开 /dev/net/tun（Debian 默认权限为 0666），或以 root 运行；或去掉这些选项，按本机平时的方式检测。",
    ),
    "browser-permission-chrome": Remedy(
        en="Allow the camera and microphone for this site: click the camera icon or the site settings icon at the left of the address bar and choose Allow, or open chrome://settings/content/camera and chrome://settings/content/microphone; then reload the page.",
        zh="为此网站允许摄像头和麦克风：点击地址栏左侧的摄像头图标或网站设置图标并选择“允许”，或打开 chrome://settings/content/camera 和 chrome://settings/content/microphone；然后刷新页面。",
    ),
    "browser-permission-edge": Remedy(
        en="Allow the camera and microphone for this site: click the lock icon at the left of the address bar > Permissions for this site, or open edge://settings/content/camera and edge://settings/content/microphone; then reload the page.",
        zh="为此网站允许摄像头和麦克风：点击地址栏左侧的锁形图标 > 此站点的权限，或打开 edge://settings/content/camera 和 edge://settings/content/microphone；然后刷新页面。",
    ),
    "browser-permission-firefox": Remedy(
        en="Allow the camera and microphone for this site: click the permissions icon (a crossed-out camera or microphone) in the address bar and remove the block, then reload the page and choose Allow.",
        zh="为此网站允许摄像头和麦克风：点击地址栏中的权限图标（带斜线的摄像头或麦克风）并取消阻止，然后刷新页面并选择“允许”。",
    ),
    "browser-permission-safari": Remedy(
        en="Allow the camera and microphone for this site: on a Mac, Safari > Settings for This Website (or Settings > Websites > Camera and Microphone) > Allow; on an iPhone or iPad, tap 'aA' in the address bar > Website Settings > Camera and Microphone > Allow. Then reload the page.",
        zh="为此网站允许摄像头和麦克风：Mac 上选择 Safari > 此网站的设置（或 设置 > 网站 > 摄像头、麦克风）> 允许；iPhone 或 iPad 上点地址栏的“大小”图标 > 网站设置 > 摄像头、麦克风 > 允许。然后刷新页面。",
    ),
    "browser-permission": Remedy(
        en="Allow the camera and microphone for this site in the browser's site settings (usually an icon at the left of the address bar), then reload the page.",
        zh="请在浏览器的网站设置中（通常是地址栏左侧的图标）为此网站允许摄像头和麦克风，然后刷新页面。",
    ),
    "browser-permission-system": Remedy(
        en="The operating system keeps the browser from the camera or microphone. macOS: System Settings > Privacy & Security > Camera and Microphone, turn the browser on, then quit and reopen it. Windows: Settings > Privacy & security > Camera and Microphone, turn on access and 'Let desktop apps access'. Android: Settings > Apps > the browser > Permissions.",
        zh="操作系统禁止浏览器使用摄像头或麦克风。macOS：系统设置 > 隐私与安全性 > 摄像头、麦克风，打开浏览器的开关，然后退出并重新打开浏览器。Windows：设置 > 隐私和安全性 > 相机、麦克风，开启访问权限及“允许桌面应用访问”。Android：设置 > 应用 > 浏览器 > 权限。",
    ),
    "dns-elsewhere": Remedy(
        en="TRTC's names must resolve to Tencent's public addresses. Ask the network administrator whether a DNS filter or firewall policy rewrites {host}, check this computer's hosts file (/etc/hosts; C:\\Windows\\System32\\drivers\\etc\\hosts on Windows) for an entry for it, and whether security or ad-blocking software redirects it; then remove the rule or entry.",
        zh="TRTC 的域名必须解析为腾讯的公网地址。请询问网络管理员是否有 DNS 过滤或防火墙策略改写了 {host}，检查本机 hosts 文件（/etc/hosts；Windows 为 C:\\Windows\\System32\\drivers\\etc\\hosts）中是否有它的条目，以及安全或广告拦截软件是否重定向了它；然后删除该规则或条目。",
    ),
    "captive-portal": Remedy(
        en="Sign in to the network first: open any web page (for example http://example.com/) in the browser, complete the login or accept the terms on the page that appears (hotel, airport, guest or company Wi-Fi), then run the check again.",
        zh="请先登录网络：在浏览器中打开任意网页（例如 http://example.com/），在弹出的页面上完成登录或接受条款（酒店、机场、访客或公司 Wi-Fi），然后重新检测。",
    ),
    "path-mtu": Remedy(
        en="Large UDP datagrams are lost on the way while small ones pass. If this computer uses a VPN or another tunnel, try the call without it, or ask its administrator to lower the tunnel's MTU; the network administrator should let ICMP 'fragmentation needed' (IPv4 type 3 code 4, IPv6 'packet too big') through and look for a link with a smaller MTU (PPPoE: 1492 bytes) that drops instead of reporting it.",
        zh="大的 UDP 数据报在路径上丢失，而小的可以通过。如果本机使用 VPN 或其他隧道，请断开后再试，或请其管理员调小隧道的 MTU；网络管理员应放行 ICMP“需要分片”（IPv4 类型 3 代码 4，IPv6“数据包过大”），并排查 MTU 较小（PPPoE：1492 字节）且直接丢包而不报告的链路。",
    ),
    "call-fallback": Remedy(
        en="Calls get through here only over TCP through a relay: they work, but with more delay, and a lost packet holds up the ones after it. Ask the network administrator to let UDP out to the call servers (TRTC: UDP 8000, 8080, 8800, 843, 443 and 16285).",
        zh="此处通话只能经中继走 TCP：可以通话，但延迟更高，且一个包丢失会拖住其后的包。请网络管理员放通到通话服务器的 UDP 出站（TRTC：UDP 8000、8080、8800、843、443 和 16285）。",
    ),
    "nat64": Remedy(
        en="Calls need to reach TRTC's servers at their IPv4 addresses. Ask the network administrator for IPv4 on this network (dual stack), or for 464XLAT: a CLAT on this computer translates IPv4 addresses through the network's NAT64 (mobile networks that are IPv6-only usually provide it; on a computer it has to be switched on).",
        zh="通话需要访问 TRTC 服务器的 IPv4 地址。请网络管理员为此网络提供 IPv4（双栈），或提供 464XLAT：本机上的 CLAT 会通过网络的 NAT64 转换 IPv4 地址（仅 IPv6 的移动网络通常已提供；电脑上需要另行开启）。",
    ),
    "path-here": Remedy(
        en="It starts on this computer's own link, before its router: on Wi-Fi, move closer to the access point or use a cable; stop large downloads and other calls on this network; restart the router if it persists.",
        zh="问题始于本机自己的链路（路由器之前）：使用 Wi-Fi 时请靠近无线接入点或改用网线；停止本网络中的大文件下载和其他通话；若仍如此，请重启路由器。",
    ),
    "path-middle": Remedy(
        en="It starts past this computer's router, at the internet provider or beyond: nothing on this computer fixes it. Send this report to the network administrator or the provider: the hop and its address are in the path check.",
        zh="问题始于本机路由器之后，在互联网服务商或更远处：本机无法解决。请将本报告发给网络管理员或服务商：路径检测中列出了出问题的一跳及其地址。",
    ),
    "path-server": Remedy(
        en="It starts at the server's end: this network is not the cause. Tell the deployment's owner (with this report): the server's network or the server itself loses or delays the packets.",
        zh="问题始于服务器一端：并非本网络的原因。请告知部署方（附上本报告）：服务器所在网络或服务器本身造成丢包或延迟。",
    ),
    "proxy-only": Remedy(
        en="Calls cannot go through an HTTP proxy as it is. Ask the network administrator to let this computer reach TRTC's servers directly: UDP 8000, 8080, 8800, 843, 443 and 16285 (best), or at least TCP 443 and 8687 (calls then fall back to TCP: slower); or set up TRTC's enterprise proxy and give its address to the calling application (the Web SDK's proxy setting, the native SDK's setNetworkProxy).",
        zh="通话无法直接经过现有的 HTTP 代理。请网络管理员放通本机到 TRTC 服务器的直连：UDP 8000、8080、8800、843、443 和 16285（最佳），或至少 TCP 443 和 8687（通话将回退到 TCP，速度较慢）；或部署 TRTC 企业代理，并在通话应用中配置其地址（Web SDK 的 proxy 设置，原生 SDK 的 setNetworkProxy）。",
    ),
    "check-speak": Remedy(
        en="Nothing was heard from the microphone while the check listened. Check that it is not muted (a key on the headset or keyboard, or the operating system's input level), speak while the check runs, and run it again.",
        zh="检测期间麦克风没有声音。请确认麦克风未被静音（耳机或键盘上的静音键、操作系统的输入音量），检测时说几句话，然后重新检测。",
    ),
    "check-speaker": Remedy(
        en="The test tone was not heard. Check the volume and mute, the output device the browser uses (headset or speakers), and that the tab is not muted.",
        zh="没有听到测试音。请检查音量和静音、浏览器使用的输出设备（耳机或扬声器），以及该标签页是否被静音。",
    ),
    "local-options-left-nothing": Remedy(
        en="The call had no address to use after {which}. Run without these options to test the way this computer normally calls, or give this computer (or, when its answer had none, the echo server) an address of that family or on that device.",
        zh="使用 {which} 后，通话没有可用的地址。请去掉这些选项，按本机平时的方式检测；或为本机（若回声服务的应答中没有，则为回声服务器）配置该地址族或该网卡上的地址。",
    ),
}

#: Who each remedy is addressed to (see PARTIES)
PARTY: Mapping[str, str] = {
    "whitelist-udp": "network", "whitelist-tcp": "network", "whitelist-domain": "network",
    "whitelist-page-host": "network",
    "dns-failure": "network", "tls-untrusted": "network", "cert-expiring": "owner",
    "network-unreachable": "user", "portaudio-missing": "user", "audio-scan-hung": "user",
    "mic-missing": "user", "mic-cannot-open": "user", "mic-no-data": "user", "mic-silent": "user",
    "mic-low": "user", "mic-clipping": "user", "camera-missing": "user",
    "camera-permission": "user", "camera-busy": "user", "camera-no-frames": "user",
    "camera-black": "user", "camera-frozen": "user", "camera-low-fps": "user",
    "camera-low-resolution": "user", "call-no-connect": "network", "call-poor": "network",
    "https-required": "owner", "upgrade-trtccalling": "owner", "nat-relay": "network",
    "nat-ipv4-blocked": "network", "speaker-missing": "user", "speaker-cannot-open": "user",
    "speaker-underruns": "user", "speaker-check": "user", "browser-upgrade": "user",
    "probe-error": "support", "no-network": "user", "local-firewall": "user",
    "dns-no-route": "user", "dns-server": "network", "dns-name": "owner",
    "ports-decisive": "user", "proxy-intercepts": "network", "trtc-web-proxy": "network", "trtc-install": "user", "browser-install": "user", "trtc-whitelist": "network", "trtc-no-route": "user",
    "trtc-credentials": "owner", "trtc-proxy": "network", "capacity-low": "user",
    "local-options-left-nothing": "user", "browser-namespace": "user",
    "browser-permission-chrome": "user", "browser-permission-edge": "user",
    "browser-permission-firefox": "user", "browser-permission-safari": "user",
    "browser-permission": "user", "browser-permission-system": "user", "check-speak": "user",
    "check-speaker": "user", "dns-elsewhere": "network", "proxy-only": "network",
    "captive-portal": "user", "path-mtu": "network",
    "path-here": "user", "path-middle": "network", "path-server": "owner", "nat64": "network",
    "call-fallback": "network",
}
