"""What runs inside the browser's own network namespace (netns.py starts it under `unshare`).

It says "namespace" on stdout as soon as it runs (the namespace exists: slirp4netns may attach
to it), and waits for a line on stdin (slirp4netns has brought up tap0). Then it brings up
loopback, drops the IPv4 default route when only IPv6 is held (10.0.2.0/24 stays: the page and
the name server are reached there), waits for IPv6 when it is held, points the resolver at
slirp4netns's (a bind mount in the namespace's own mount table), forwards 127.0.0.1:PORT to the
page's server on the host's loopback (10.0.2.2 through slirp4netns: Tencent's SDK runs over
plain HTTP only on 127.0.0.1 or localhost) and runs the browser until it exits.

A step that fails is one line on stderr, "trtcdetect: ...", and exit code 3.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

from ..net.socksrelay import pipe

#: slirp4netns's addresses in the namespace: the host's loopback, and its name server
HOST_LOOPBACK = "10.0.2.2"
NAME_SERVER = "10.0.2.3"
#: How long IPv6 may take to be usable after slirp4netns is ready (its router advertisement), s
IPV6_WAIT_S = 3.0
PREFIX = "trtcdetect: "


class Failed(Exception):
    pass


def step(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Failed(f"{' '.join(command)}: {(done.stderr or done.stdout).strip() or done.returncode}")
    return done.stdout


def wait_ipv6() -> None:
    """Until the namespace has a usable (not tentative) global IPv6 address and a default route."""
    until = time.monotonic() + IPV6_WAIT_S
    while time.monotonic() < until:
        if "inet6" in step("ip", "-6", "addr", "show", "scope", "global", "-tentative") and \
                step("ip", "-6", "route", "show", "default").strip():
            return
        time.sleep(0.05)
    raise Failed(f"slirp4netns gave the browser's namespace no IPv6 route within {IPV6_WAIT_S:g} s")


async def forward_and_run(port: int, browser: list[str]) -> int:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            far_reader, far_writer = await asyncio.open_connection(HOST_LOOPBACK, port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(pipe(reader, far_writer), pipe(far_reader, writer))
        finally:
            for way in (writer, far_writer):
                way.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    # the browser's stdout is not ours: ours was only for the handshake with netns.py
    proc = await asyncio.create_subprocess_exec(*browser, stdin=subprocess.DEVNULL,
                                                stdout=sys.stderr)
    code = await proc.wait()
    server.close()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trtcdetect.browser.inside")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--resolv", required=True)
    parser.add_argument("--no-ipv4", action="store_true")
    parser.add_argument("--ipv6", action="store_true")
    parser.add_argument("browser", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.ipv6:  # usable at once: no duplicate detection on a link with one other end
            with open("/proc/sys/net/ipv6/conf/default/accept_dad", "w") as dad:
                dad.write("0")
        sys.stdout.write("namespace\n")
        sys.stdout.flush()
        if not sys.stdin.readline():
            raise Failed("slirp4netns did not attach to the browser's namespace")
        step("ip", "link", "set", "lo", "up")
        if args.ipv6:
            wait_ipv6()
        if args.no_ipv4:
            step("ip", "-4", "route", "del", "default")
        step("mount", "--bind", args.resolv, "/etc/resolv.conf")
    except (Failed, OSError) as exc:
        sys.stderr.write(f"{PREFIX}{exc}\n")
        sys.stderr.flush()
        return 3
    return asyncio.run(forward_and_run(args.port, args.browser))


if __name__ == "__main__":
    sys.exit(main())
