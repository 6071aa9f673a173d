"""`trtcdetect credentials`: a short-lived credentials file for a test room, for support staff.

The SecretKey comes from $TRTC_SECRET_KEY or --secret-key-file and never from the command line;
the file (two UserSigs, two user ids, a room) is what goes to the customer.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from ..errors import Parser, UsageError


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
    add("--sdk-app-id", metavar="N", required=True, help="the application's SDKAppID")
    add("--secret-key-file", metavar="FILE",
        help="read the SecretKey from this file (default: $TRTC_SECRET_KEY)")
    add("--secret-key", metavar="KEY", help="refused: a command line is visible to other "
        "users of the machine; use $TRTC_SECRET_KEY or --secret-key-file")
    add("--expire", metavar="DURATION", default="2h",
        help="how long the UserSigs are valid: 30m, 2h, 1d ... at most 7d (default: %(default)s)")
    add("--room", metavar="N", help="room id to use (default: a random one)")
    return parser


def cmd_credentials(argv: Sequence[str]) -> int:
    from ..credentials import generate, parse_expire, parse_sdk_app_id, secret_key

    args = build_parser().parse_args(argv)
    if args.secret_key is not None:
        raise UsageError("--secret-key is refused: a command line is visible to other users "
                         "of the machine; set $TRTC_SECRET_KEY or use --secret-key-file")
    room = None
    if args.room is not None:
        if not args.room.isdigit() or not 0 < int(args.room) < 2**32 - 1:
            raise UsageError(f"--room wants a room number: {args.room!r}")
        room = int(args.room)
    found = generate(parse_sdk_app_id(args.sdk_app_id), secret_key(args.secret_key_file,
                                                                   os.environ),
                     parse_expire(args.expire), room)
    sys.stdout.write(json.dumps(found.document(), indent=2) + "\n")
    if sys.stderr.isatty():
        sys.stderr.write("credentials written to standard output; redirect them to a file\n")
    return 0
