"""A network lab made of real Linux network namespaces (needs root, iproute2, nftables).

Two namespaces joined by a veth pair: the client at 198.18.0.1 and the server side at
198.18.0.2-.9 (198.18.0.0/15 is the range RFC 2544 sets aside for test labs). Nothing leaves
the pair: the namespaces have no other interface and no route out. Processes started in the
server namespace are killed and the namespaces deleted on teardown, also after a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CLIENT_ADDR = "198.18.0.1"
SERVER_ADDRS = [f"198.18.0.{i}" for i in range(2, 10)]


def lab_available() -> str | None:
    """None when a lab can be built here, else why not (for pytest.skip)."""
    if os.geteuid() != 0:
        return "the namespace lab needs root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"the namespace lab needs {tool}"
    return None


@contextmanager
def built(make: Callable[[], Any], *also: str | None) -> Iterator[Any]:
    """A lab made by `make`, brought up and torn down after use; or pytest.skip saying why no
    lab can be built here (lab_available, then the first of `also` that is not None)."""
    import pytest

    reason = lab_available() or next((r for r in also if r), None)
    if reason:
        pytest.skip(reason)
    lab = make().up()
    try:
        yield lab
    finally:
        lab.down()


def run(cmd: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


class Lab:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.client = f"tdc{tag}c"
        self.server = f"tdc{tag}s"
        self._procs: list[subprocess.Popen[bytes]] = []
        self._netns_etc = Path("/etc/netns") / self.client

    # --- life cycle -------------------------------------------------------------------------
    def up(self) -> Lab:
        run(["ip", "netns", "add", self.client])
        run(["ip", "netns", "add", self.server])
        cif, sif = f"{self.client}v", f"{self.server}v"
        run(["ip", "link", "add", cif, "type", "veth", "peer", "name", sif])
        run(["ip", "link", "set", cif, "netns", self.client])
        run(["ip", "link", "set", sif, "netns", self.server])
        run(["ip", "-n", self.client, "addr", "add", f"{CLIENT_ADDR}/24", "dev", cif])
        for addr in SERVER_ADDRS:
            run(["ip", "-n", self.server, "addr", "add", f"{addr}/24", "dev", sif])
        for ns, ifname in ((self.client, cif), (self.server, sif)):
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", ifname, "up"])
        # The client's resolver is the lab's DNS server (ip netns exec bind-mounts this file).
        self._netns_etc.mkdir(parents=True, exist_ok=True)
        (self._netns_etc / "resolv.conf").write_text(f"nameserver {SERVER_ADDRS[0]}\n")
        return self

    def down(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for ns in (self.client, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self._netns_etc, ignore_errors=True)
        for pid_file in Path("/tmp").glob(f"{self.server}-*.pid"):  # coturn leaves its own
            pid_file.unlink(missing_ok=True)

    # --- processes --------------------------------------------------------------------------
    def spawn(self, cmd: Sequence[str], ns: str | None = None, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["ip", "netns", "exec", ns or self.server, *cmd], **kwargs)  # type: ignore[call-overload]
        self._procs.append(proc)
        return proc  # type: ignore[no-any-return]

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()
        proc.wait(5)

    def serve(self, addr: str, *args: str) -> subprocess.Popen[bytes]:
        """`trtcdetect serve` on `addr`; returns once it printed its ready line."""
        proc = self.spawn(
            [sys.executable, "-m", "trtcdetect", "serve", "--bind", addr, "--quiet", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if "ready" not in line:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"serve did not start: {line!r} {err!r}")
        return proc

    def coturn(self, addr: str, port: int) -> subprocess.Popen[bytes]:
        """Debian's coturn as an independent STUN server: one process per port (UDP only)."""
        proc = self.spawn(
            ["turnserver", "-n", "--no-auth", f"--listening-ip={addr}", f"--relay-ip={addr}",
             f"--listening-port={port}", "--no-tls", "--no-dtls", "--no-cli", "--no-tcp",
             f"--pidfile=/tmp/{self.server}-turn-{port}.pid", "--log-file=stdout", "--simple-log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.wait_udp_listening(addr, port, proc)
        return proc

    def dnsmasq(self, records: dict[str, str | None],
                log: Path | None = None) -> subprocess.Popen[bytes]:
        """A real DNS server at the first server address: name -> IPv4, or None for NXDOMAIN;
        with `log`, every query is written there (read it with `names_asked`)."""
        args = [f"--address=/{name}/{addr or ''}" for name, addr in records.items()]
        if log is not None:
            args += ["--log-queries", f"--log-facility={log}"]
        proc = self.spawn(
            ["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
             f"--listen-address={SERVER_ADDRS[0]}", "--bind-interfaces", "--user=root",
             f"--pid-file=/tmp/{self.server}-dnsmasq.pid", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.wait_udp_listening(SERVER_ADDRS[0], 53, proc)
        return proc

    def wait_udp_listening(self, addr: str, port: int, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = run(["ip", "netns", "exec", self.server, "ss", "-Hlun", f"src {addr}:{port}"])
            if out.stdout.strip():
                return
            if proc.poll() is not None:
                raise RuntimeError(f"server for {addr}:{port} exited with {proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"nothing listens on udp {addr}:{port}")

    # --- firewall ---------------------------------------------------------------------------
    def firewall(self, rules: Sequence[str]) -> None:
        """Replace the server namespace's input filter with `rules` (nft rule statements)."""
        script = ["table inet lab", "delete table inet lab",
                  "table inet lab {", " chain input {",
                  "  type filter hook input priority 0; policy accept;",
                  *[f"  {rule}" for rule in rules], " }", "}"]
        run(["ip", "netns", "exec", self.server, "nft", "-f", "-"], input="\n".join(script) + "\n")

    @contextmanager
    def client_firewall(self, name: str, chains: str) -> Iterator[None]:
        """An nftables table `name` with `chains` in the client namespace -- this computer's
        own firewall -- removed afterwards."""
        script = f"table inet {name}\ndelete table inet {name}\ntable inet {name} {{\n{chains}}}\n"
        run(["ip", "netns", "exec", self.client, "nft", "-f", "-"], input=script)
        try:
            yield
        finally:
            run(["ip", "netns", "exec", self.client, "nft", "delete", "table", "inet", name])

    # --- the client -------------------------------------------------------------------------
    def trtcdetect(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the CLI in the client namespace."""
        return subprocess.run(
            ["ip", "netns", "exec", self.client, sys.executable, "-m", "trtcdetect", *args],
            capture_output=True, text=True, timeout=timeout,
        )

    def trtcdetect_json(self, *args: str) -> tuple[int, dict[str, object]]:
        """Run with --json --quiet: stdout must be a valid document and stderr empty."""
        from trtcdetect.report.json import validate

        proc = self.trtcdetect("--json", "--quiet", *args)
        assert proc.stderr == "", proc.stderr
        document = json.loads(proc.stdout)
        validate(document)
        return proc.returncode, document


def names_asked(log: Path) -> set[str]:
    """The names asked of a dnsmasq started with --log-queries --log-facility=`log`."""
    text = log.read_text() if log.exists() else ""
    return {line.split("] ", 1)[1].split(" from ", 1)[0]
            for line in text.splitlines() if " query[" in line}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
