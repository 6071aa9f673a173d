"""`trtcdetect invite`: a signed link to serve's check page, for one end user."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import Parser, UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="trtcdetect invite",
        description=(
            "Print a link to serve's check page that a support person sends an end user: the "
            "user opens it, runs the check in their browser, and the result comes back to "
            "serve's --check-reports with the reference. The link is signed with serve's "
            "token ($TRTCDETECT_TOKEN, the same as serve's): it cannot be altered, and is "
            "refused after it expires."
        ),
    )
    add = parser.add_argument
    add("--url", metavar="URL", required=True,
        help="the check page, as the user will reach it, e.g. https://check.example.com/check")
    add("--ref", metavar="TEXT", required=True,
        help="the reference that travels into the report: a ticket number (letters, digits, "
             ". _ : # / -, at most 80)")
    add("--expire", metavar="DURATION", default="2d",
        help="how long the link works: 30m, 12h, 2d, 1w (default: %(default)s; at most 90d)")
    add("--token-file", metavar="FILE", default=None,
        help="read serve's token from this file instead of $TRTCDETECT_TOKEN")
    return parser


def cmd_invite(argv: Sequence[str]) -> int:
    from ..check import invite

    args = build_parser().parse_args(argv)
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            raise UsageError(f"--token-file {args.token_file}: {exc.strerror}") from None
    else:
        token = os.environ.get("TRTCDETECT_TOKEN", "").strip()
    if not token:
        raise UsageError("no token: set $TRTCDETECT_TOKEN (the same as serve's) or --token-file")
    try:
        link = invite.make(args.url, args.ref, invite.parse_expire(args.expire), token)
    except invite.InvitationError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(link + "\n")
    return 0
