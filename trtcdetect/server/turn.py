"""serve --turn: Debian's coturn in front of the echo, so a caller whose network drops UDP still
makes its test call -- over TCP through a relay, as TRTC's calls fall back -- and the report
gives that fallback's RTT and loss instead of "calls fall back".

coturn (`turnserver`) runs as serve's child on serve's address, TURN over TCP on one port (its
relayed side is UDP to the echo, on this host). Its configuration is a file in a private
directory: the shared secret is never on a command line. It relays only to serve's own address
(the echo), never elsewhere: not an open relay for whoever reaches it. It ends with serve: on
a clean stop, and through PR_SET_PDEATHSIG should serve be killed. Credentials follow coturn's REST API scheme
(`use-auth-secret`): user "EXPIRY:trtcdetect", password base64(HMAC-SHA1(secret, user)),
minted per request for TURN_TTL_S.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..evidence import JsonObject

#: how long the credentials /call/turn gives are valid, s
TURN_TTL_S = 600
#: coturn's start-up, at most, s
TURN_START_S = 10.0
#: the TCP port TURN listens on by default: the IANA one (serve's HTTPS holds 443)
TURN_PORT = 3478
_PR_SET_PDEATHSIG = 1


class TurnError(Exception):
    """coturn is missing or did not start."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def credentials(secret: str, now: float, ttl_s: int = TURN_TTL_S) -> tuple[str, str]:
    """(username, password) coturn accepts with `static-auth-secret=secret` until now+ttl."""
    username = f"{int(now) + ttl_s}:trtcdetect"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


class TurnRelay:
    """`port`: TURN over TCP; `tls_port` (with the operator's certificate and key, which
    callers' systems trust): TURN over TLS as well, offered first."""

    def __init__(self, bind: str, port: int = TURN_PORT, tls_port: int = 0,
                 cert: Path | None = None, key: Path | None = None) -> None:
        self.bind, self.port = bind, port
        self.tls_port, self.cert, self.key = tls_port, cert, key
        self.secret = secrets.token_hex(32)
        self.process: subprocess.Popen[bytes] | None = None
        self.folder: Path | None = None

    def configuration(self, folder: Path) -> str:
        loopback = ipaddress.ip_address(self.bind).is_loopback
        lines = [
            f"listening-ip={self.bind}", f"relay-ip={self.bind}", f"listening-port={self.port}",
            "use-auth-secret", f"static-auth-secret={self.secret}", "realm=trtcdetect",
            # TCP only: the relay is for callers whose UDP does not get out, and serve's own
            # UDP ports (443 among them) stay serve's
            "no-udp", "fingerprint", "no-dtls", "no-cli", "no-multicast-peers",
            "no-software-attribute",
            # the echo only: every other peer is refused (allowed-peer-ip wins over denied)
            "denied-peer-ip=0.0.0.0-255.255.255.255",
            "denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            f"allowed-peer-ip={self.bind}",
            f"pidfile={folder / 'turnserver.pid'}", "log-file=stdout", "simple-log",
            "min-port=49152", "max-port=65535", "total-quota=64", "user-quota=8",
        ]
        if loopback:
            lines.append("allow-loopback-peers")
        if self.tls_port and self.cert is not None:
            lines += [f"tls-listening-port={self.tls_port}", f"cert={self.cert}",
                      f"pkey={self.key or self.cert}", "no-tlsv1", "no-tlsv1_1"]
        else:
            lines.append("no-tls")
        return "\n".join(lines) + "\n"

    async def start(self) -> None:
        program = shutil.which("turnserver")
        if program is None:
            raise TurnError("--turn needs coturn's turnserver (Debian: apt-get install coturn)")
        self.folder = Path(tempfile.mkdtemp(prefix="trtcdetect-turn-"))
        conf = self.folder / "turnserver.conf"
        conf.touch(mode=0o600)
        conf.write_text(self.configuration(self.folder))
        errors = self.folder / "stderr"
        with errors.open("wb") as sink:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed program and our own file
                [program, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=sink,
                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)  # noqa: PLW1509
        deadline = time.monotonic() + TURN_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = errors.read_text(errors="replace").strip().splitlines()
                await self.stop()
                raise TurnError(f"coturn ended at start-up: {error[-1] if error else '?'}")
            if await asyncio.to_thread(self._listening):
                return
            await asyncio.sleep(0.05)
        await self.stop()
        raise TurnError(f"coturn did not listen on TCP {self.bind}:{self.port} within "
                        f"{TURN_START_S:g} s")

    def _listening(self) -> bool:
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            return probe.connect_ex((self.bind, self.port)) == 0

    def offer(self, host: str, now: float | None = None, name: str | None = None) -> JsonObject:
        """What /call/turn answers: the relay at `host` (the address the caller dialled), over
        TLS first (at `name`, the host name the caller used, which the certificate names) and
        then plain TCP, and credentials for it."""
        username, password = credentials(self.secret, time.time() if now is None else now)
        where = f"[{host}]" if ":" in host else host
        urls = [f"turn:{where}:{self.port}?transport=tcp"]
        if self.tls_port and self.cert is not None:
            urls.insert(0, f"turns:{name or where}:{self.tls_port}?transport=tcp")
        return {"urls": urls,
                "username": username, "credential": password, "ttl": TURN_TTL_S}

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
