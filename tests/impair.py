"""A user-space impairment link: two network namespaces joined only by TUN devices, and a
forwarder thread that carries each IP packet across with a configurable one-way delay, jitter,
random loss and rate limit (a token bucket of `rate_kbps` and depth `burst_bytes`, behind a
buffer of `queue_ms`; packets beyond it are dropped). The kernel here has no netem; this is the
lab's replacement.

    client ns (198.19.0.1, tun) <-> forwarder (this process) <-> (tun, 198.19.0.2) server ns

Jitter: each packet's delay is uniform in [delay, delay + jitter]. For such i.i.d. delays the
RFC 3550 interarrival jitter converges to E|D_i - D_i-1| = jitter / 3.
The forwarder counts every packet it carries or drops, per direction and per RTP payload type
(RTP is told from RTCP/STUN/DTLS by RFC 5761/7983 rules; SRTP leaves the header in the clear),
so a test can compare a measurement with what was really done to the packets.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import random
import secrets
import select
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLIENT_ADDR, SERVER_ADDR = "198.19.0.1", "198.19.0.2"
UP, DOWN = "up", "down"  # client -> server, server -> client


@dataclass
class Impairment:
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    rate_kbps: float | None = None
    #: with rate_kbps: the link's buffer, as the time its content takes to send (tbf's
    #: "latency"); a packet that would wait longer is dropped (tail drop). None: unbounded
    queue_ms: float | None = None
    #: with rate_kbps: the bucket's depth beyond one packet, bytes (a burst this big leaves at
    #: once after a quiet spell, as through tbf's `burst`)
    burst_bytes: int = 0


@dataclass
class Counts:
    forwarded: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (direction, kind) -> [(RTP sequence number, dropped?)] in the order packets came
    sequence: dict[tuple[str, str], list[tuple[int, bool]]] = field(default_factory=dict)

    def loss_pct(self, direction: str, kind: str) -> float:
        """Every packet dropped, over every packet that came to the link."""
        total = self.forwarded[(direction, kind)] + self.dropped[(direction, kind)]
        return 100 * self.dropped[(direction, kind)] / total if total else 0.0

    def window_loss_pct(self, direction: str, kind: str) -> float:
        """Drops between the first and the last delivered packet, by sequence number: what a
        receiver can know of (RFC 3550 counts loss from the first packet it got to the
        highest; drops before and after that window are invisible to any receiver)."""
        packets = self.sequence.get((direction, kind), [])
        if not packets:
            return 0.0
        base = packets[0][0]
        unwrapped = [((seq - base) % 65536, dropped) for seq, dropped in packets]
        delivered = [offset for offset, dropped in unwrapped if not dropped]
        low, high = min(delivered), max(delivered)
        window = [dropped for offset, dropped in unwrapped if low <= offset <= high]
        return 100 * sum(window) / len(window)


def classify(packet: bytes) -> tuple[str, int | None]:
    """('rtp-PT', sequence number) for an RTP packet in an IPv4/UDP datagram, else ('other', None)."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 17:
        return "other", None
    payload = packet[(packet[0] & 0x0F) * 4 + 8:]
    if len(payload) >= 12 and 128 <= payload[0] <= 191 and not 192 <= payload[1] <= 223:
        return f"rtp-{payload[1] & 0x7F}", int.from_bytes(payload[2:4], "big")
    return "other", None


def _tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class ImpairedLink:
    def __init__(self, up: Impairment | None = None, down: Impairment | None = None,
                 seed: int = 1) -> None:
        tag = secrets.token_hex(3)
        self.client, self.server = f"tdi{tag}c", f"tdi{tag}s"
        self.settings = {UP: up or Impairment(), DOWN: down or Impairment()}
        self.counts = Counts()
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: dict[str, int] = {}
        self.procs: list[subprocess.Popen[bytes]] = []

    def set(self, up: Impairment, down: Impairment) -> None:
        """Change the impairment (takes effect for the next packet) and zero the counts."""
        self.settings = {UP: up, DOWN: down}
        self.counts = Counts()

    def __enter__(self) -> ImpairedLink:
        for ns in (self.client, self.server):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        for side, ns, local, peer in ((UP, self.client, CLIENT_ADDR, SERVER_ADDR),
                                      (DOWN, self.server, SERVER_ADDR, CLIENT_ADDR)):
            name = f"{ns}t"
            self._fds[side] = _tun(name)
            _ip("link", "set", name, "netns", ns)
            _ip("-n", ns, "addr", "add", local, "peer", peer, "dev", name)
            _ip("-n", ns, "link", "set", name, "up")
        self._thread = threading.Thread(target=self._forward, name="impaired-link", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for fd in self._fds.values():
            os.close(fd)
        for ns in (self.client, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def _forward(self) -> None:
        # packets read from the client's tun travel UP and are written to the server's, and back
        source = {self._fds[UP]: UP, self._fds[DOWN]: DOWN}
        target = {UP: self._fds[DOWN], DOWN: self._fds[UP]}
        queue: list[tuple[float, int, str, bytes]] = []
        link_free = {UP: 0.0, DOWN: 0.0}
        order = 0
        while not self._stop.is_set():
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, direction, packet = heapq.heappop(queue)
                try:
                    os.write(target[direction], packet)
                except OSError:
                    pass
            timeout = min(max(queue[0][0] - now, 0), 0.05) if queue else 0.05
            readable, _, _ = select.select(list(source), [], [], timeout)
            for fd in readable:
                try:
                    packet = os.read(fd, 65535)
                except OSError:
                    continue
                direction = source[fd]
                setting = self.settings[direction]
                kind, seq = classify(packet)
                drop = self._random.random() * 100 < setting.loss_pct
                if seq is not None:
                    self.counts.sequence.setdefault((direction, kind), []).append((seq, drop))
                if drop:
                    self.counts.dropped[(direction, kind)] += 1
                    continue
                self.counts.forwarded[(direction, kind)] += 1
                now = time.monotonic()
                delay_ms = setting.delay_ms + self._random.uniform(0, setting.jitter_ms)
                release = now + delay_ms / 1000
                if setting.rate_kbps:
                    # a token bucket as GCRA: the packet may leave once the bucket's
                    # theoretical time is within `burst` of now; it waits for that in the queue
                    bytes_per_s = setting.rate_kbps * 1000 / 8
                    leave = max(now, link_free[direction] - setting.burst_bytes / bytes_per_s)
                    if setting.queue_ms is not None and (leave - now) * 1000 > setting.queue_ms:
                        self.counts.forwarded[(direction, kind)] -= 1  # tail drop after all
                        self.counts.dropped[(direction, kind)] += 1
                        if seq is not None:
                            self.counts.sequence[(direction, kind)][-1] = (seq, True)
                        continue
                    sent = len(packet) / bytes_per_s
                    link_free[direction] = max(link_free[direction], leave) + sent
                    release = max(release, leave + sent)
                order += 1
                heapq.heappush(queue, (release, order, direction, packet))

    # --- processes in the namespaces -----------------------------------------------------------
    def spawn(self, ns: str, cmd: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kwargs)  # type: ignore[call-overload]
        self.procs.append(proc)
        return proc  # type: ignore[no-any-return]

    def serve_echo(self, *args: str) -> subprocess.Popen[bytes]:
        """`trtcdetect serve` in the server namespace with the echo peer on HTTP port 8089."""
        proc = self.spawn(self.server, [
            sys.executable, "-m", "trtcdetect", "serve", "--bind", SERVER_ADDR, "--quiet",
            "--http-port", "8089", "--https-port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if "ready" not in line:
            raise RuntimeError(f"serve did not start: {line!r}")
        return proc

    @contextlib.contextmanager
    def dns_heard(self, ns: str) -> Iterator[list[str]]:
        """A DNS "server" in namespace `ns` (its resolv.conf pointed at it) that answers nothing
        and keeps every query; the list holds the names asked for once the block ends."""
        etc = Path("/etc/netns") / ns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        listen = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                  "s.bind(('127.0.0.1', 53))\ns.settimeout(60)\n"
                  "try:\n    while True:\n        print(s.recvfrom(512)[0][12:].hex(), flush=True)\n"
                  "except OSError:\n    pass\n")
        heard: list[str] = []
        listener = self.spawn(ns, [sys.executable, "-c", listen], stdout=subprocess.PIPE)
        time.sleep(0.3)
        try:
            yield heard
        finally:
            listener.terminate()
            out, _ = listener.communicate(timeout=5)
            shutil.rmtree(etc, ignore_errors=True)
            heard += [bytes.fromhex(h).decode("latin-1") for h in out.decode().split()]

    def client_run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.client, sys.executable, "-m", "trtcdetect", *args],
            capture_output=True, text=True, timeout=timeout)


def serving_link(*serve_args: str) -> Iterator[ImpairedLink]:
    """A module fixture's body: the impaired link with `serve` (and its echo peer) on the server
    side, or a skip where the lab cannot run."""
    import pytest

    from tests.lab import lab_available

    reason = lab_available()
    if reason:
        pytest.skip(reason)
    with ImpairedLink() as link:
        link.serve_echo(*serve_args)
        yield link
