"""-4/-6, --source and --interface for a browser: its own network namespace, whose packets
slirp4netns sends from the chosen address.

Chromium has no setting for the local address or family of its connections (WebRTC's
IP-handling policies only narrow to the default route's interface), and its SOCKS5 client has no
login and never carries WebRTC's UDP. So the browser runs in a network namespace of its own
(`unshare --net --mount`, with `--user --map-root-user` when not root), whose only way out is
slirp4netns: a user-space network stack on this side that opens an ordinary socket for each of
the browser's connections and datagrams, bound with --outbound-addr/--outbound-addr6 to the
chosen address. A family left out has no route in the namespace. inside.py is what runs in
there (loopback, routes, resolver, the page's forwarder, then the browser).

--interface: the namespace's packets leave from the device's addresses (the first IPv4 and the
first global IPv6 one); slirp4netns binds to addresses, not to devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..call.local import interface_addresses, local_choice
from ..config import Config
from ..evidence import Held
from ..net.bind import ip_version
from ..net.local import usable_address
from .inside import IPV6_WAIT_S, NAME_SERVER, PREFIX

#: How long the namespace and slirp4netns may each take to be ready, s
READY_S = 5.0
#: The longest a namespace can take before the browser starts in it, s (a probe's deadline
#: allows for it)
SETUP_S = 2 * READY_S + IPV6_WAIT_S
TOOLS = ("unshare", "slirp4netns", "ip")


class NotHeld(Exception):
    """The browser could not be held to the chosen addresses: why (it did not run)."""


@dataclass(frozen=True)
class Hold:
    """What the browser's namespace allows: the options as typed, each family and its address
    (None: the one the kernel chooses)."""

    which: str
    ipv4: bool
    ipv6: bool
    v4: str | None = None
    v6: str | None = None

    def seen(self) -> Held:
        """As evidence: which options, the families and addresses it has, and through what."""
        return Held(which=self.which, ipv4=self.ipv4, ipv6=self.ipv6, v4=self.v4, v6=self.v6,
                    through="slirp4netns")


def missing() -> str | None:
    """Why a browser cannot be held here (a tool not installed), or None."""
    absent = [t for t in TOOLS if shutil.which(t) is None]
    if not absent:
        return None
    return f"{', '.join(absent)} not installed here (Debian: apt install slirp4netns iproute2)"


def hold_for(config: Config, device_addresses: Sequence[str] | None = None) -> Hold:
    """The namespace for the run's -4/-6, --source, --interface (config.network.local_chosen). NotHeld
    when they leave no address: an --interface without one of the family asked."""
    which = local_choice(config)
    if config.network.source:
        source = str(config.network.source)
        six = ip_version(source) == 6
        return Hold(which, ipv4=not six, ipv6=six, v4=None if six else source,
                    v6=source if six else None)
    if config.network.interface:
        mine = [a for a in (device_addresses if device_addresses is not None
                            else interface_addresses(config.network.interface)) if usable_address(a)]
        v4 = next((a for a in mine if ip_version(a) == 4 and config.network.family != 6), None)
        v6 = next((a for a in mine if ip_version(a) == 6 and config.network.family != 4), None)
        if v4 is None and v6 is None:
            raise NotHeld(f"{which}: the device has no address to send from")
        return Hold(which, ipv4=v4 is not None, ipv6=v6 is not None, v4=v4, v6=v6)
    return Hold(which, ipv4=config.network.family != 6, ipv6=config.network.family != 4)


def slirp_command(hold: Hold, pid: int, ready_fd: int, exit_fd: int) -> list[str]:
    return ["slirp4netns", "--configure", f"--ready-fd={ready_fd}", f"--exit-fd={exit_fd}",
            *(["--enable-ipv6"] if hold.ipv6 else []),
            *([f"--outbound-addr={hold.v4}"] if hold.v4 else []),
            *([f"--outbound-addr6={hold.v6}"] if hold.v6 else []), str(pid), "tap0"]


def inside_command(hold: Hold, port: int, resolv: Path, browser: Sequence[str]) -> list[str]:
    unshare = ["unshare", "--net", "--mount"] + \
        ([] if os.geteuid() == 0 else ["--user", "--map-root-user"])
    return [*unshare, "--", sys.executable, "-m", "trtcdetect.browser.inside", "--port",
            str(port), "--resolv", str(resolv), *(["--no-ipv4"] if not hold.ipv4 else []),
            *(["--ipv6"] if hold.ipv6 else []), "--", *browser]


def why_exited(log: Path) -> str | None:
    """inside.py's own line about what failed, from the namespace's log."""
    try:
        lines = log.read_text("utf-8", "replace").splitlines()
    except OSError:
        return None
    return next((line.removeprefix(PREFIX) for line in reversed(lines)
                 if line.startswith(PREFIX)), None)


def _said(path: Path) -> str:
    """What a tool wrote to its log, its warnings left out."""
    with contextlib.suppress(OSError):
        lines = [line.strip() for line in path.read_text("utf-8", "replace").splitlines()]
        said = [line for line in lines if line and not line.startswith("WARNING")]
        if said:
            return "; ".join(said[-3:])
    return "no reason given"


async def _read_byte(fd: int, within_s: float) -> bytes:
    """One byte from a pipe (b"": its writer closed), waited for in the event loop."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await asyncio.wait_for(readable, within_s)
        return os.read(fd, 1)
    finally:
        loop.remove_reader(fd)


@contextlib.asynccontextmanager
async def held_browser(hold: Hold, browser: Sequence[str], port: int, folder: Path,
                       env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start `browser` in a namespace of its own (its process group: the caller ends it) with
    slirp4netns attached; the process, once the browser runs. NotHeld when the namespace or
    slirp4netns could not be made. slirp4netns is ended on the way out."""
    resolv = folder / "resolv.conf"
    resolv.write_text(f"nameserver {NAME_SERVER}\n")
    log = folder / "namespace.log"
    with log.open("ab") as sink:
        proc = await asyncio.create_subprocess_exec(
            *inside_command(hold, port, resolv, browser), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=sink, start_new_session=True, env=env)
    slirp: asyncio.subprocess.Process | None = None
    exit_read, exit_write = os.pipe()
    try:
        assert proc.stdout is not None and proc.stdin is not None
        try:
            said = await asyncio.wait_for(proc.stdout.readline(), READY_S)
        except TimeoutError:
            said = b""
        if said.strip() != b"namespace":
            raise NotHeld(f"no network namespace for the browser: {_said(log)}")
        if os.stat(f"/proc/{proc.pid}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino:
            raise NotHeld("the browser's network namespace is this process's own")
        ready_read, ready_write = os.pipe()
        try:
            with (folder / "slirp4netns.log").open("ab") as slirp_log:
                slirp = await asyncio.create_subprocess_exec(
                    *slirp_command(hold, proc.pid, ready_write, exit_read),
                    stdout=slirp_log, stderr=slirp_log, pass_fds=(ready_write, exit_read),
                    start_new_session=True)
            os.close(ready_write)
            ready_write = -1
            try:
                ready = await _read_byte(ready_read, READY_S)
            except TimeoutError:
                ready = b""
            if not ready:
                raise NotHeld(f"slirp4netns: {_said(folder / 'slirp4netns.log')}")
        finally:
            os.close(ready_read)
            if ready_write >= 0:
                os.close(ready_write)
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        yield proc
    finally:
        os.close(exit_write)  # slirp4netns ends when this closes
        os.close(exit_read)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        if slirp is not None:
            with contextlib.suppress(ProcessLookupError):
                slirp.terminate()
            try:
                await asyncio.wait_for(slirp.wait(), 2)
            except TimeoutError:
                slirp.kill()
                await slirp.wait()
