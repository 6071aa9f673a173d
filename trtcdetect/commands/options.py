"""The options of a run (`trtcdetect [options]`) and how they become a Config.

Defaults shown in --help are the default profile's (`defaults.Defaults`); an option not given
stays None here, so `profiles.apply` can tell "not given" from "given as the default".
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence

from .. import __version__, declared
from ..config import Config
from ..errors import Parser, UsageError
from ..profiles import BUILTIN, DEFAULT_PROFILE, load
from .option_values import (
    TRTC_DESCRIPTION,
    TRTC_TITLE,
    duration,
    interval,
    rounds,
    trtc_credentials,
)

EXIT_CODES = """\
exit codes (monitoring-plugin convention):
  0  every probe passed (skipped probes do not count)
  1  the worst probe result is a warning
  2  the worst probe result is a failure
  3  unknown: bad usage, an internal error, or a probe that could not finish (error);
     a failure elsewhere in the same run still gives 2
"""

EXAMPLES = """\
examples:
  trtcdetect                                   check qcloud.rtc.qq.com, write reports/*.html|json
  trtcdetect --json > result.json              JSON on stdout (for monitoring), no files
  trtcdetect --only ports --udp-ports 8000     one probe, one port
  trtcdetect --target media.example.com --ca-file corp-ca.pem
  trtcdetect serve --bind 0.0.0.0              run the reference endpoint on your own host
  trtcdetect demo                              serve on loopback + full diagnosis against it
  trtcdetect --only trtc --credentials creds.json   a test call through TRTC's cloud
  trtcdetect --only ports,domain --format nagios    one Nagios/Icinga plugin line
  trtcdetect exporter --config exporter.toml   serve /probe?module=&target= for Prometheus
"""



def of_run(first: str, last: str) -> tuple[declared.Option, ...]:
    """The run's declared options from `first` to `last` (flags), in declaration order: the
    places between them in --help are the command's own options."""
    run = declared.of("run", "")
    flags = [o.flags[-1] for o in run]
    return run[flags.index(first):flags.index(last) + 1]


def build_parser() -> argparse.ArgumentParser:
    P = BUILTIN[DEFAULT_PROFILE]  # noqa: N806 - the defaults --help shows are the profile's
    parser = Parser(
        prog="trtcdetect",
        description=(
            "Pre-call diagnostics for Tencent TRTC / TRTCCalling. Checks the firewall ports "
            "(TCP 8687; UDP 8000, 8080, 8800, 843, 443, 16285), the media domain "
            "(DNS, TCP, TLS, HTTPS), the camera and the microphone, and writes an HTML and a "
            "JSON report. A UDP port that "
            "does not answer is reported as 'no answer (open or filtered)', never as open. "
            "Other commands: 'trtcdetect probes' lists the probes, 'trtcdetect serve' runs "
            "the reference endpoint, 'trtcdetect demo' runs a full offline diagnosis, "
            "'trtcdetect render REPORT.json --lang zh' renders a saved report again, "
            "'trtcdetect credentials' makes short-lived test-room credentials for support, "
            "'trtcdetect exporter' serves the probes to Prometheus."
        ),
        epilog=EXIT_CODES + "\n" + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--profile", metavar="NAME|FILE", default=DEFAULT_PROFILE,
        help="what to check: 'legacy' (TRTCCalling / Web SDK before 4.12.0: TCP 8687; UDP "
             "8000,8080,8800,843,443,16285; qcloud.rtc.qq.com), 'current' (SDK 4.12.0 and "
             "later: TCP 443 on several domains), or a .toml file; see 'trtcdetect probes "
             "--profile NAME' (default: %(default)s)")
    declared.add(parser, of_run("--target", "--url"), P)
    add("--only", metavar="IDS", action="append", default=[],
        help="run only these probes (comma-separated; see 'trtcdetect probes')")
    add("--skip", metavar="IDS", action="append", default=[], help="do not run these probes")
    declared.add(parser, of_run("--timeout", "--https-port"), P)
    add("--repeat", metavar="N", type=rounds, default=None,
        help="run the probes N times (2-1000), like mtr, for faults that come and go: one line "
             "per round, and the report shows every figure as a series and the worst window "
             "(e.g. 'UDP 8000 stopped working for 40 s at 10:42:10'); best with --only "
             "ports,domain,nat")
    add("--for", dest="for_s", metavar="DURATION", type=duration, default=None,
        help="repeat for this long (90s, 10m, 1h; at most 24 h and 1000 rounds) instead of, "
             "or as well as, a number of rounds: whichever ends first")
    add("--interval", metavar="S", type=interval, default=10.0,
        help="seconds from the start of one round to the next with --repeat/--for (default: "
             "%(default)g; 0: back to back)")
    add("--call", action="store_true",
        help="with --repeat/--for: a short test call (the 'rtp' probe, 2 s unless a call "
             "length is given) in every round, its RTT and MOS as series and 'CALL' among the "
             "checks of the worst window")
    declared.add(parser, of_run("--json", "--output"), P)
    declared.add(parser, of_run("--ca-file", "--ca-file"), P)
    family = parser.add_mutually_exclusive_group()
    # -4 and -6 are accepted too (parse_run turns them into these): declared as options they
    # would make argparse read every negative number ("--timeout -1") as an option
    family.add_argument("--ipv4", dest="family", action="store_const", const=4,
                        help="(or -4) only IPv4: every name the network probes check resolves "
                             "to its IPv4 addresses (a name without one is a finding)")
    family.add_argument("--ipv6", dest="family", action="store_const", const=6,
                        help="(or -6) only IPv6, likewise (\"it works on IPv4, not on IPv6\")")
    declared.add(parser, of_run("--source", "--resolve"), P)
    declared.add(parser.add_argument_group("devices"), declared.of("run", "devices"), P)
    declared.add(parser.add_argument_group("test call"), declared.of("run", "test call"), P)
    declared.add(parser.add_argument_group(TRTC_TITLE, TRTC_DESCRIPTION),
                 declared.of("run", "trtc"), P)
    declared.add(parser, of_run("--quiet", "--quiet"), P)
    add("--version", action="version", version=f"trtcdetect {__version__}")
    return parser


def families(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """-4 / -6 as --ipv4 / --ipv6, except where they are an option's value. The options that
    take a value are read from the usage line ("[--timeout SECONDS]"), argparse's public text."""
    takes_value = set(re.findall(r"\[(-{1,2}[\w-]+) [^\]|]", parser.format_usage()))
    out: list[str] = []
    for index, token in enumerate(argv):
        if token in ("-4", "-6") and (index == 0 or argv[index - 1] not in takes_value):
            token = "--ipv4" if token == "-4" else "--ipv6"
        out.append(token)
    return out


def probe_ids(values: list[str]) -> list[str]:
    from ..probes import REGISTRY

    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if values and not ids:
        raise UsageError(f"--only/--skip want probe ids (known: {', '.join(REGISTRY)})")
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise UsageError(
            f"unknown probe id {unknown[0]!r} (known: {', '.join(REGISTRY)})")
    return ids


def config_from(args: argparse.Namespace) -> Config:
    """The run's configuration: the profile with the declared options given on top; the echo
    peer's token from $TRTCDETECT_TOKEN when not given (never an argv default)."""

    given = declared.given_by(args)
    if not given.get("echo_token"):
        given["echo_token"] = os.environ.get("TRTCDETECT_TOKEN") or given.get("echo_token")
    config = declared.apply(load(args.profile), given)
    if args.family is not None:
        config = config.but(family=args.family)
    return trtc_credentials(args, config)
