"""`trtcdetect probes`: the probe ids, one a line, and what a profile checks."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import Parser


def build_parser() -> Parser:
    parser = Parser(prog="trtcdetect probes",
                    description="List the probe ids, one a line; with --profile, what the "
                                "profile checks.")
    parser.add_argument("--profile", metavar="NAME|FILE", default=None,
                        help="also list the hosts, ports and wildcards of this profile "
                             "('legacy', 'current' or a .toml file)")
    return parser


def cmd_probes(argv: Sequence[str]) -> int:
    from ..probes import REGISTRY
    from ..profiles import describe, load

    args = build_parser().parse_args(argv)
    width = max(len(pid) for pid in REGISTRY)
    for pid, probe in REGISTRY.items():
        print(f"{pid:<{width}}  {probe.description}")  # noqa: T201
    if args.profile is not None:
        print()  # noqa: T201
        for line in describe(load(args.profile)):
            print(line)  # noqa: T201
    return 0


