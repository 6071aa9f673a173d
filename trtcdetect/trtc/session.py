"""Run Tencent's native SDK in a child process (trtc/worker.py) and collect what it said.

Why a child: the SDK writes ~200 log lines per enter to fd 2 whatever its switches say, keeps
logs, settings and mmaps under $XDG_CACHE_HOME (and persists a log path for later processes),
aborts its process when a delegate lacks a callback, and cannot be stopped from outside while it
retries. In a child with its own temporary HOME/XDG_CACHE_HOME and piped stderr all of that is
contained, and the deadline can end it with a signal. The temporary home is deleted afterwards;
with `keep_logs` the SDK's logs are first copied out (decompressed, secrets replaced by ***).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..credentials import Secret
from ..evidence import Foreign, JsonObject
from .reading import PLACEHOLDER_SDK_APP_ID, PLACEHOLDER_SIG

#: After the parent closes the worker's stdin, how long it may take to leave its rooms (then
#: TERM, the same again, then KILL); when the run is interrupted, each step gets the shorter time
EXIT_GRACE_S = 2.0
INTERRUPTED_GRACE_S = 0.5
#: Environment variables the SDK process never gets (the child needs no secret of ours)
SECRET_ENV = ("TRTC_SECRET_KEY", "TRTCDETECT_TOKEN", "TRTCDETECT_SOCKS5_PASSWORD")


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    user: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class Job:
    """What the worker does: `reach` (one user, placeholder credentials: does the cloud
    answer?) or `call` (two users in one room for `seconds`)."""

    mode: str
    sdk_app_id: int
    room_id: int
    users: tuple[tuple[str, Secret], ...]
    seconds: float = 15.0
    proxy: Proxy | None = None

    def line(self) -> str:
        """The job as the worker reads it: the only place the secrets are revealed, on a pipe."""
        job: JsonObject = {
            "mode": self.mode, "sdk_app_id": self.sdk_app_id, "room_id": self.room_id,
            "seconds": self.seconds,
            "users": [{"user_id": uid, "user_sig": sig.reveal()} for uid, sig in self.users]}
        if self.proxy is not None:
            job["socks5"] = {"host": self.proxy.host, "port": self.proxy.port,
                             "user": self.proxy.user, "password": self.proxy.password.reveal()}
        return json.dumps(job) + "\n"

    def secrets(self) -> list[str]:
        found = [sig.reveal() for _, sig in self.users]
        if self.proxy is not None and self.proxy.password:
            found.append(self.proxy.password.reveal())
        return [s for s in found if s]


@dataclass
class WorkerRun:
    """What came back: the worker's events, the SDK's log lines, and how the process ended."""

    events: list[Foreign] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    returncode: int | None = None
    #: the parent ended it: "deadline", "done" (it had what it needed) or "cancelled"
    ended_by: str = "exit"
    elapsed_s: float = 0.0
    #: files the SDK wrote that were kept (--trtc-logs)
    kept: list[str] = field(default_factory=list)

    def has(self, event: str, user: str | None = None) -> bool:
        return any(e.get("event") == event and (user is None or e.get("user") == user)
                   for e in self.events)


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
               PYTHONDONTWRITEBYTECODE="1")
    return env


async def run_worker(job: Job, deadline_s: float, done: Callable[[WorkerRun], bool],
                     keep_logs: Path | None = None) -> WorkerRun:
    """Start the worker, feed it `job`, collect until `done(run)` says enough or the deadline
    passes, then make it leave its rooms and end; nothing of it is left afterwards."""
    home = Path(tempfile.mkdtemp(prefix="trtcdetect-sdk-"))
    run = WorkerRun()
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "trtcdetect.trtc.worker", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=child_env(home),
        cwd=str(home), start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    enough = asyncio.Event()

    async def events() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict):
                run.events.append(event)
                if done(run):
                    enough.set()

    async def log() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            run.log.append(scrub(raw.decode("utf-8", "replace"), job.secrets()))
            if done(run):
                enough.set()

    readers = [asyncio.create_task(events()), asyncio.create_task(log())]
    try:
        proc.stdin.write(job.line().encode())
        await proc.stdin.drain()
        waiter = asyncio.create_task(enough.wait())
        exited = asyncio.create_task(proc.wait())
        finished, _ = await asyncio.wait({waiter, exited}, timeout=deadline_s,
                                         return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        exited.cancel()
        run.ended_by = "done" if waiter in finished else "exit" if exited in finished \
            else "deadline"
    except asyncio.CancelledError:
        run.ended_by = "cancelled"
        raise
    finally:
        try:
            # interrupted: the runner waits INTERRUPT_GRACE_S (2.5 s) for every probe, so
            # leave quickly; cancelled again meanwhile: kill at once
            await _end(proc, INTERRUPTED_GRACE_S if run.ended_by == "cancelled"
                       else EXIT_GRACE_S)
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            shutil.rmtree(home, ignore_errors=True)
            raise
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 1.0)
        for reader in readers:
            reader.cancel()
        run.returncode = proc.returncode
        run.elapsed_s = time.monotonic() - started
        if keep_logs is not None:
            run.kept = _keep(home, run.log, keep_logs, job.secrets())
        shutil.rmtree(home, ignore_errors=True)
    return run


async def _end(proc: asyncio.subprocess.Process, grace_s: float) -> None:
    """Close stdin (the worker leaves its rooms and exits), then TERM, then KILL."""
    if proc.returncode is not None:
        return
    if proc.stdin is not None:
        with contextlib.suppress(OSError, RuntimeError):
            proc.stdin.close()
    for step in ("wait", "terminate", "kill"):
        if step == "terminate":
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        elif step == "kill":
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), grace_s)
            return
        except TimeoutError:
            continue


def _keep(home: Path, log: list[str], folder: Path, secrets: list[str]) -> list[str]:
    """The SDK's own log files (raw DEFLATE .clog, decompressed) and its console log, with
    every secret replaced, into `folder` for Tencent's support."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = []
    console = folder / f"trtc-sdk-{stamp}-console.log"
    console.write_text(scrub("".join(log), secrets), encoding="utf-8")
    kept.append(str(console))
    for index, clog in enumerate(sorted(home.rglob("*.clog"))):
        try:
            data = zlib.decompressobj(-15).decompress(clog.read_bytes())
        except (OSError, zlib.error):
            continue
        text = scrub(data.decode("utf-8", "replace"), secrets)
        target = folder / f"trtc-sdk-{stamp}-{index}.log"
        target.write_text(text, encoding="utf-8")
        kept.append(str(target))
    return kept


def through_relay(config: Config) -> bool:
    """-4/-6, --source, --interface: the SDK's traffic goes through trtcdetect's relay on
    127.0.0.1 (net/socksrelay.py), whose sockets are bound as every network probe's; a user's
    --socks5 wins."""
    return config.network.local_chosen and config.trtc.socks5 is None


def unbound(config: Config) -> str | None:
    """What the options do not reach (MeasuredProbe.unbound): the SDK through a user's proxy."""
    return None if through_relay(config) else (
        "Tencent's native SDK goes through the SOCKS5 proxy given (--socks5): -4/-6, --source "
        "and --interface do not reach it")


def job_for(config: Config) -> Job:
    """The worker's job for this run: the reachability check with placeholder credentials and
    a random room, or, with credentials, the two-user call."""
    proxy = None if config.trtc.socks5 is None else Proxy(
        config.trtc.socks5[0], config.trtc.socks5[1], config.trtc.socks5_user,
        config.trtc.socks5_password or Secret(""))
    found = config.trtc.trtc_credentials
    if found is None:
        return Job("reach", PLACEHOLDER_SDK_APP_ID, secrets.randbelow(2**31) + 1,
                   (("trtcdetect_" + secrets.token_hex(4), Secret(PLACEHOLDER_SIG)),),
                   proxy=proxy)
    return Job("call", found.sdk_app_id, found.room_id,
               tuple((u.user_id, u.user_sig) for u in found.users),
               seconds=config.trtc.trtc_seconds, proxy=proxy)


def reach_done(run: WorkerRun) -> bool:
    """The reachability check has its answer: the SDK logged the room-entry code, or said
    entered or failed (the remaining log lines are still read after this)."""
    if any("OnEnterRoom , code:" in line for line in run.log[-3:]):
        return True
    return run.has("entered") or run.has("error")


def call_done(run: WorkerRun) -> bool:
    """The call ran its length, or neither user can enter any more."""
    if run.has("call_over"):
        return True
    # both users failed to enter: nothing more will come
    failed = {e.get("user") for e in run.events if e.get("event") == "error"}
    return {"up", "down"} <= failed
