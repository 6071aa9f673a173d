"""Command line entry: parse the command word, dispatch to `commands/`, and map every failure
to an exit code in one place. Bad input and internal errors print one line on stderr and
return 3; a finished run returns its worst status as a monitoring code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from .errors import ConfigError, UsageError, one_line


def _commands() -> dict[str, Callable[[Sequence[str]], int]]:
    from .commands import credentials, demo, exporter, invite, probes, render, serve

    return {"probes": probes.cmd_probes, "serve": serve.cmd_serve, "demo": demo.cmd_demo,
            "render": render.cmd_render, "credentials": credentials.cmd_credentials,
            "exporter": exporter.cmd_exporter, "invite": invite.cmd_invite}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in ("probes", "serve", "demo", "render", "credentials", "exporter",
                                "invite"):
            return _commands()[args[0]](args[1:])
        from .commands.run import cmd_run

        return cmd_run(args)
    except (UsageError, ConfigError) as exc:
        print(f"trtcdetect: error: {one_line(str(exc))}", file=sys.stderr)  # noqa: T201
        return 3
    except KeyboardInterrupt:
        print("trtcdetect: interrupted", file=sys.stderr)  # noqa: T201
        return 3
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit 3
        print(f"trtcdetect: internal error: {type(exc).__name__}: {one_line(str(exc))}",  # noqa: T201
              file=sys.stderr)
        return 3


def entry() -> None:
    """The console script: main(), then exit — at once when a device driver is stuck in a read
    (PortAudio would wait on it for ever at exit, after the reports are written)."""
    code = main()
    threads = sys.modules.get("trtcdetect.devices.threads")
    if threads is not None and threads.STUCK:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
