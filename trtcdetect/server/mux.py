"""Echo calls' media on a TRTC port: one UDP port shared by every call, as a media server's is.

TRTC's media servers take every call on a few fixed UDP ports (8000 ...), so a firewall opened
for exactly those ports carries calls. aiortc's echo peer gathers ICE candidates on ephemeral
ports instead; this module puts a demultiplexer in front of it on the media port (which already
answers plain STUN for the ports probe):

- the echo's answer advertises host candidates on the media port above its own: at the address
  the caller dialled (its Host header; a NAT in front of this machine: the public address) and
  at the address the request arrived at;
- a STUN request whose USERNAME starts with a call's ICE ufrag (RFC 8445 7.2.2: "receiver's
  ufrag:sender's ufrag") and whose MESSAGE-INTEGRITY holds under the echo's ICE password (only
  the caller that got the answer knows it) ties the sender's address to that call;
- every datagram from a tied address (ICE, DTLS, SRTP, RTCP) is relayed to the echo's own
  candidate through a per-caller socket, and what the echo sends back leaves from the media
  port to the caller;
- a plain STUN Binding request from anyone else is answered as before (the ports probe).

The echo's ICE agent sees the relay as a peer-reflexive candidate and answers through it; the
caller nominates the media-port pair when nothing else gets through (a firewall open only for
the TRTC ports) or when it ranks first (the advertised candidate has the highest priority).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import cast

from aioice import stun

log = logging.getLogger("trtcdetect.serve")

#: Callers (addresses) one call may tie to the media port: ICE tries a few candidates each.
MAX_CALLERS_PER_CALL = 8
#: Priority of the advertised media-port candidate: above any host candidate aioice makes
#: (RFC 8445 5.1.2.1 with type preference 126 and local preference 65535, component 1).
MEDIA_PRIORITY = 2130706431
DEMOTE_BY = 1 << 24  # the echo's own candidates are advertised one type-preference step lower


class _Relay(asyncio.DatagramProtocol):
    """One caller's path to the echo: a socket connected to the echo's candidate; what comes
    back is sent to the caller from the media port."""

    def __init__(self, mux: MediaMux, caller: tuple[str, int]) -> None:
        self.mux, self.caller = mux, caller
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []  # what came before the socket was ready (a few checks)
        self.closed = False  # its call ended: a socket that opens now is closed at once

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        if self.closed:
            self.transport.close()
            return
        for data in self.pending:
            self.transport.sendto(data)
        self.pending.clear()

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        if self.transport is not None:
            self.transport.sendto(data)
        elif len(self.pending) < 16:
            self.pending.append(data)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.mux.transport is not None:
            self.mux.transport.sendto(data, self.caller)

    def error_received(self, exc: Exception) -> None:
        log.debug("media relay for %s: %s", self.caller, exc)


@dataclass
class _Call:
    ufrag: str
    pwd: str
    echo_address: tuple[str, int]
    relays: dict[tuple[str, int], _Relay] = field(default_factory=dict)


class MediaMux:
    def __init__(self, port: int) -> None:
        self.port = port
        self.transport: asyncio.DatagramTransport | None = None
        self.calls: dict[str, _Call] = {}  # by call id
        self.by_caller: dict[tuple[str, int], _Call] = {}
        self.relayed = 0
        self.forged = 0  # checks with a call's ufrag but no valid MESSAGE-INTEGRITY

    # --- calls ------------------------------------------------------------------------------
    def register(self, call_id: str, answer_sdp: str, advertise: tuple[str, ...]) -> str:
        """Tie call `call_id` (its answer) to the media port; the answer to send instead.
        `advertise`: the addresses to offer the media port on, best first; the last is this
        machine's own (where the call's request arrived)."""
        ufrag, pwd = _ice(answer_sdp, "ufrag"), _ice(answer_sdp, "pwd")
        echo = _echo_candidate(answer_sdp, advertise[-1])
        if ufrag is None or pwd is None or echo is None:
            return answer_sdp  # nothing to tie to: the call keeps its own ports
        self.calls[call_id] = _Call(ufrag, pwd, echo)
        return advertise_media_port(answer_sdp, advertise, self.port)

    def unregister(self, call_id: str) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        for caller, relay in call.relays.items():
            self.by_caller.pop(caller, None)
            relay.closed = True
            if relay.transport is not None:
                relay.transport.close()

    # --- datagrams --------------------------------------------------------------------------
    def handle(self, data: bytes, caller: tuple[str, int],
               message: stun.Message | None) -> bool:
        """Relay `data` if it belongs to a call; False leaves it to the STUN responder."""
        call = self.by_caller.get(caller)
        if call is None and message is not None:
            username = message.attributes.get("USERNAME")
            if isinstance(username, str):
                call = self._tie(username.split(":", 1)[0], caller, message)
        if call is None:
            return False
        relay = call.relays.get(caller)
        if relay is not None:
            relay.send(data)
            self.relayed += 1
        return True

    def _tie(self, ufrag: str, caller: tuple[str, int], message: stun.Message) -> _Call | None:
        call = next((c for c in self.calls.values() if c.ufrag == ufrag), None)
        if call is None or len(call.relays) >= MAX_CALLERS_PER_CALL:
            return None
        if not message.check_message_integrity(call.pwd.encode()):
            # the ufrag travels in clear in every check: without the password it proves nothing
            self.forged += 1
            return None
        relay = _Relay(self, caller)
        call.relays[caller] = relay
        self.by_caller[caller] = call
        loop = asyncio.get_running_loop()
        task = loop.create_task(loop.create_datagram_endpoint(
            lambda: relay, remote_addr=call.echo_address))
        task.add_done_callback(_log_failure)
        log.info("udp/%d %s:%d media tied to a call", self.port, caller[0], caller[1])
        return call


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("media relay could not open: %s", task.exception())


def _ice(sdp: str, which: str) -> str | None:
    """The SDP's ICE ufrag or pwd (a=ice-ufrag:, a=ice-pwd:)."""
    found = re.search(rf"^a=ice-{which}:(\S+)", sdp, re.M)
    return found.group(1) if found else None


def _echo_candidate(sdp: str, advertise: str) -> tuple[str, int] | None:
    """The echo's own UDP host candidate to relay to: on the advertised address if it has
    one there, else the first of the same address family."""
    found = [(m.group(1), int(m.group(2))) for m in re.finditer(
        r"^a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", sdp, re.M)]
    family = [c for c in found if (":" in c[0]) == (":" in advertise)]
    same = [c for c in family if c[0] == advertise]
    chosen = same or family or found
    return chosen[0] if chosen else None


def advertise_media_port(sdp: str, addresses: tuple[str, ...], port: int) -> str:
    """The answer with ADDRESS:PORT for each of `addresses` as its first and highest candidates
    in every media section (in that order), and the echo's own candidates one preference step
    lower (still there: where the media port cannot be reached, or is busy, the call uses them
    as before)."""

    def demote(match: re.Match[str]) -> str:
        priority = max(int(match.group(2)) - DEMOTE_BY, 1)
        return f"{match.group(1)}{priority}{match.group(3)}"

    lines = sdp.split("\r\n")
    out: list[str] = []
    added = False
    for line in lines:
        if line.startswith("m="):
            added = False
        if line.startswith("a=candidate:"):
            if not added:
                out += [f"a=candidate:media{port}x{i} 1 udp {MEDIA_PRIORITY - i} {address} "
                        f"{port} typ host" for i, address in enumerate(addresses)]
                added = True
            line = re.sub(r"^(a=candidate:\S+ \d+ \S+ )(\d+)( .*)$", demote, line)
        out.append(line)
    return "\r\n".join(out)
