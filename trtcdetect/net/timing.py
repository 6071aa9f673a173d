"""Timings the kernel took, so that a busy event loop does not inflate them.

A reply waits in the socket until the loop gets to it: with aiortc, OpenCV and a browser
starting in the same process, the run's loop lagged up to 155 ms (benchmarks/contamination.py;
the issue that asked for this saw a TCP connect read 129 ms on loopback). The kernel knows when the
packet really arrived (SIOCGSTAMP: the receive time of the last datagram read) and what a TCP
handshake's round trip was (TCP_INFO's tcpi_rtt, measured on the SYN/SYN-ACK). Where neither
is available (not Linux), the wall clock stands, and the figure says so.
"""

from __future__ import annotations

import socket
import struct
import time

_SIOCGSTAMP = 0x8906
_TCPI_RTT_OFFSET = 68  # struct tcp_info: 8 bytes of u8 fields, then u32 tcpi_rto ... tcpi_rtt


def enable_receive_stamps(sock: socket.socket) -> None:
    """Ask the kernel to stamp what this socket receives (the first SIOCGSTAMP does)."""
    try:
        import fcntl

        fcntl.ioctl(sock.fileno(), _SIOCGSTAMP, bytes(16))
    except (ImportError, OSError):
        pass


def received_at(sock: socket.socket, perf_now: float) -> tuple[float, bool]:
    """When the datagram just read arrived, on the perf_counter clock: the kernel's stamp
    when it has a plausible one (True), else `perf_now` (False)."""
    try:
        import fcntl

        raw = fcntl.ioctl(sock.fileno(), _SIOCGSTAMP, bytes(16))
    except (ImportError, OSError):
        return perf_now, False
    seconds, micros = struct.unpack("qq", raw)
    waited = time.time() - (seconds + micros / 1e6)  # how long it sat in the socket
    if not 0 <= waited < 30:  # unstamped (stamped when asked), or a clock step
        return perf_now, False
    return perf_now - waited, True


def tcp_rtt_ms(sock: socket.socket | None) -> float | None:
    """The handshake's round trip as the kernel measured it (TCP_INFO tcpi_rtt), in ms."""
    level = getattr(socket, "IPPROTO_TCP", None)
    option = getattr(socket, "TCP_INFO", None)
    if sock is None or level is None or option is None:
        return None
    try:
        info = sock.getsockopt(level, option, 104)
    except OSError:
        return None
    if len(info) < _TCPI_RTT_OFFSET + 4:
        return None
    (micros,) = struct.unpack_from("I", info, _TCPI_RTT_OFFSET)
    return micros / 1000 if micros else None
