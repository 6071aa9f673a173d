"""Running a piece of a test as `nobody`: root reads every file, so a permission check needs a
process that is not root. A forked child drops its user and groups, runs the work and sends
back one string through a pipe; whatever it raises is sent back as text."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NOBODY = 65534


def run_as_nobody(work: Callable[[], str]) -> str:
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nobody, no groups; modules it needs must be imported already
        result = ""
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            result = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(write_end, result.encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        output = pipe.read()
    os.waitpid(pid, 0)
    return output


@contextmanager
def locked_file(name: str, data: bytes) -> Iterator[Path]:
    """A file with mode 000 in a folder everyone may enter (pytest's tmp_path is root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="trtcdetect-locked-"))
    folder.chmod(0o755)
    path = folder / name
    path.write_bytes(data)
    path.chmod(0o000)
    try:
        yield path
    finally:
        shutil.rmtree(folder)
