"""`trtcdetect credentials`: a short-lived credentials file for a test room, for support staff.

The SecretKey comes from $TRTC_SECRET_KEY or --secret-key-file and never from the command line;
the file (two UserSigs, two user ids, a room) is what goes to the customer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from .. import declared
from ..errors import Parser, UsageError
from ..profiles import BUILTIN, DEFAULT_PROFILE


def build_parser() -> Parser:
    parser = Parser(
        prog="trtcdetect credentials",
        description=(
            "Write a credentials file for TRTC test calls: two UserSigs (Tencent's "
            "tls-sig-api-v2) for two generated user ids, and a room, valid for --expire. Run it "
            "on your own machine with the application's SecretKey in $TRTC_SECRET_KEY (or "
            "--secret-key-file); send the file, never the SecretKey, to the customer."),
        epilog="example:\n  TRTC_SECRET_KEY=... trtcdetect credentials --sdk-app-id 1400000000 "
               "--expire 2h > creds.json",
    )
    add = parser.add_argument
    declared.add(parser, declared.of("credentials"), BUILTIN[DEFAULT_PROFILE], "credentials")
    add("--expire", metavar="DURATION", default="2h",
        help="how long the UserSigs are valid: 30m, 2h, 1d ... at most 7d (default: %(default)s)")
    add("--room", metavar="N", help="room id to use (default: a random one)")
    return parser


def cmd_credentials(argv: Sequence[str]) -> int:
    from ..credentials import generate, parse_expire

    args = build_parser().parse_args(argv)
    minting = declared.sdk_app_id_and_key(args)
    if minting is None:  # argparse requires --sdk-app-id: not reached
        raise UsageError("the following arguments are required: --sdk-app-id")
    room = None
    if args.room is not None:
        if not args.room.isdigit() or not 0 < int(args.room) < 2**32 - 1:
            raise UsageError(f"--room wants a room number: {args.room!r}")
        room = int(args.room)
    found = generate(*minting, parse_expire(args.expire), room)
    sys.stdout.write(json.dumps(found.document(), indent=2) + "\n")
    if sys.stderr.isatty():
        sys.stderr.write("credentials written to standard output; redirect them to a file\n")
    return 0
