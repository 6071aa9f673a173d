"""The kernel's words for a socket error, whatever wrapped it."""

from __future__ import annotations

import errno
import os

#: Errors that mean "something on the path said no": a refusal or an ICMP unreachable.
REFUSALS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES,
                      errno.EPERM})


def os_error_text(exc: OSError) -> str:
    """'Connection refused (errno 111)': the kernel's words, whatever wrapped them."""
    if exc.errno is not None:
        return f"{os.strerror(exc.errno)} (errno {exc.errno})"
    return str(exc) or type(exc).__name__
