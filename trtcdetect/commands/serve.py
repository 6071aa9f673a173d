"""`trtcdetect serve`: the reference endpoint (STUN, TCP, HTTPS, echo peer) on your own host."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import declared
from ..defaults import DEFAULTS
from ..errors import ConfigError, Parser, UsageError
from ..parse import parse_host, parse_hostport, parse_port, parse_ports
from ..profiles import BUILTIN, DEFAULT_PROFILE
from ..server.limits import CALLS_PER_ADDRESS, UPLOADS_PER_ADDRESS
from ..server.turn import TURN_PORT


def _join(ports: Sequence[int]) -> str:
    return ",".join(str(p) for p in ports)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="trtcdetect serve",
        description=(
            "Run the reference endpoint: a STUN responder on every UDP port, a TCP listener "
            "on every TCP port and an HTTPS server, so trtcdetect can be pointed at a host you "
            "control. Stops on Ctrl-C or SIGTERM. Without --cert it makes a throw-away CA; "
            "pass the file written by --ca-out to clients as --ca-file."
        ),
    )
    add = parser.add_argument
    add("--bind", metavar="ADDR", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    add("--tcp-ports", metavar="LIST", default=_join(DEFAULTS.tcp_ports),
        help="TCP ports to accept connections on (default: %(default)s)")
    add("--udp-ports", metavar="LIST", default=_join(DEFAULTS.udp_ports),
        help="UDP ports that answer STUN binding requests (default: %(default)s)")
    add("--https-port", metavar="PORT", default=str(DEFAULTS.https_port),
        help="HTTPS port, 0 for none (default: %(default)s)")
    add("--cert", metavar="PEM", help="certificate chain for HTTPS (default: a generated one)")
    add("--key", metavar="PEM", help="private key for --cert")
    add("--ca-out", metavar="PEM", help="write the generated CA certificate here")
    add("--name", metavar="HOST", action="append", default=[],
        help="host name for the generated certificate (repeatable; default: localhost)")
    add("--http-port", metavar="PORT", default="0",
        help="plain-HTTP port for the echo peer's signalling, 0 for none (default: %(default)s); "
             "the HTTPS port answers POST /call too")
    add("--token", metavar="TOKEN", default=None,
        help="require this shared token from callers (default: $TRTCDETECT_TOKEN, or none; "
             "prefer the variable: a command line is visible to other users)")
    add("--media-port", metavar="PORT", default=None,
        help="UDP port (one of --udp-ports) that carries the echo calls' media, shared by all "
             "calls as a TRTC media server's port is, so a firewall opened only for the TRTC "
             "ports carries them; 0: the echo's own ephemeral ports "
             "(default: the first UDP port)")
    add("--max-calls", metavar="N", type=int, default=4,
        help="echo calls at the same time (default: %(default)s)")
    add("--max-call-seconds", metavar="S", type=float, default=30.0,
        help="each echo call is closed after this long (default: %(default)s)")
    add("--no-capacity", action="store_true",
        help="do not answer the capacity test (by default every UDP port sends a paced train "
             "of at most 1 s and 20 Mbit/s back to a client that asks for it, one per client "
             "address, and only to an address that proved it receives: see the capacity probe)")
    add("--stun", metavar="HOST:PORT", default="none",
        help="STUN server the echo peer learns its public address from, for --media-port 0 "
             "behind a NAT (default: none, it asks no one; the media port needs none: it is "
             "offered on the address the caller dialled, a NAT's public one included)")
    add("--turn", metavar="PORT", nargs="?", const=str(TURN_PORT), default=None,
        help="front the echo with a TURN relay (Debian's coturn, started and stopped with "
             f"serve) on this TCP port (default: {TURN_PORT}; 443, where networks "
             "let TCP out, once --https-port is another): a caller whose network drops UDP "
             "then makes its test call over TCP "
             "through the relay, as TRTC's calls fall back, and its report gives that call's "
             "RTT and loss. It relays to this serve only; needs --bind with one address")
    add("--turn-tls", metavar="PORT", default=None,
        help="with --turn and --cert/--key: TURN over TLS on this TCP port too, with serve's "
             "certificate, offered to callers first (their systems' trust store must trust it)")
    add("--public-address", metavar="ADDR", action="append", default=[],
        help="an address this host is reached at from outside, e.g. a cloud machine's public "
             "address in front of its private one (repeatable): the echo calls' media port is "
             "offered there first (default: the IP address the caller dialled, if it dialled "
             "one, and the address its request arrived at; a host name a caller sends is never "
             "resolved)")
    add("--max-calls-per-address", metavar="N", type=int, default=None,
        help="echo calls one client address, and one /24 or /64, may hold at once "
             f"(default: {CALLS_PER_ADDRESS}, or --max-calls if fewer): one stranger cannot "
             "take every slot")
    add("--plain-http-token", action="store_true",
        help="allow --token with --http-port on an address other than loopback: the token "
             "then travels in clear (refused without this)")
    add("--check-reports", metavar="DIR", default=None,
        help="accept the check page's results (/check) and keep them here, for /reports/ "
             "(default: none: the page runs, but no result is accepted and the page says so)")
    add("--keep-days", metavar="N", type=float, default=30.0,
        help="remove received checks older than this (default: %(default)g)")
    add("--check-quota-mb", metavar="MB", type=float, default=500.0,
        help="disk space received checks may take; the oldest are removed first, but none "
             "younger than an hour: then uploads are refused (default: %(default)g)")
    add("--check-open", action="store_true",
        help="accept checks (and their test calls) without an invitation (trtcdetect invite); "
             "by default only an invitation signed with the token is accepted")
    add("--check-no-schedule", action="store_true",
        help="the check page does not ask TRTC's scheduling service from the user's browser "
             "(by default it does, through Tencent's Web SDK with a placeholder application, "
             "as the trtcweb probe does)")
    declared.add(parser, declared.of("serve"), BUILTIN[DEFAULT_PROFILE], "serve")
    add("--check-uploads-per-address", metavar="N", type=int, default=UPLOADS_PER_ADDRESS,
        help="checks one client address may send in 10 minutes; an office behind one NAT "
             "address counts as one (default: %(default)s)")
    add("-q", "--quiet", action="store_true",
        help="do not log each request (the default on an address other than loopback, where "
             "strangers' requests would fill the log; see --log-requests)")
    add("--log-requests", action="store_true",
        help="log each request even on an address other than loopback")
    return parser


def _turn_port(value: str | None, bind: str) -> int:
    if value is None:
        return 0
    try:
        port = parse_port(value)
    except ConfigError as exc:
        raise UsageError(f"--turn: {exc}") from None
    if bind in ("0.0.0.0", "::"):
        raise UsageError("--turn needs --bind with one address: the relay carries calls to "
                         "that address only")
    return port


def _turn_tls_port(args: argparse.Namespace) -> int:
    if args.turn_tls is None:
        return 0
    if args.turn is None or not args.cert:
        raise UsageError("--turn-tls goes with --turn and --cert/--key (a certificate callers' "
                         "systems trust)")
    try:
        return parse_port(args.turn_tls)
    except ConfigError as exc:
        raise UsageError(f"--turn-tls: {exc}") from None


def _media_port(text: str | None, udp_ports: tuple[int, ...]) -> int:
    if text is None:
        return udp_ports[0] if udp_ports else 0
    if text.strip() == "0":
        return 0
    port = parse_port(text)
    if port not in udp_ports:
        raise UsageError(f"--media-port {port} is not one of --udp-ports")
    return port


def _ip(text: str, option: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise UsageError(f"{option} wants an IP address: {text!r}") from None


def _loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def cmd_serve(argv: Sequence[str]) -> int:
    import logging

    from ..server.app import ServeConfig, ServeError, run

    args = build_parser().parse_args(argv)
    https_port = 0 if args.https_port.strip() == "0" else parse_port(args.https_port)
    http_port = 0 if args.http_port.strip() == "0" else parse_port(args.http_port)
    if not 1 <= args.max_calls <= 64:
        raise UsageError("--max-calls must be between 1 and 64")
    if not 1 <= args.max_call_seconds <= 3600:
        raise UsageError("--max-call-seconds must be between 1 and 3600")
    per_address = args.max_calls_per_address or min(CALLS_PER_ADDRESS, args.max_calls)
    if not 1 <= per_address <= args.max_calls:
        raise UsageError("--max-calls-per-address must be between 1 and --max-calls")
    udp_ports = parse_ports(args.udp_ports)
    if not 0 < args.keep_days <= 3650:
        raise UsageError("--keep-days must be between 0 and 3650")
    if not 1 <= args.check_uploads_per_address <= 10_000:
        raise UsageError("--check-uploads-per-address must be between 1 and 10000")
    if not 1 <= args.check_quota_mb <= 1_000_000:
        raise UsageError("--check-quota-mb must be between 1 and 1000000")
    from ..check.routes import CheckConfig

    minting = declared.sdk_app_id_and_key(args)
    reports = Path(args.check_reports).expanduser() if args.check_reports else None
    token = args.token or os.environ.get("TRTCDETECT_TOKEN") or None
    if reports is not None and not args.check_open and token is None:
        raise UsageError("--check-reports needs a token to sign invitations with "
                         "($TRTCDETECT_TOKEN), or --check-open to accept checks without one")
    if reports is not None:
        try:
            reports.mkdir(parents=True, exist_ok=True, mode=0o700)
            probe_file = reports / ".trtcdetect-write-check"
            probe_file.write_text("")
            probe_file.unlink()
        except OSError as exc:
            raise UsageError(f"--check-reports {reports}: {exc.strerror}") from None
    check = CheckConfig(reports=reports, keep_days=args.keep_days,
                        quota_bytes=int(args.check_quota_mb * 1024 * 1024), open=args.check_open,
                        max_call_seconds=args.max_call_seconds,
                        uploads_per_address=args.check_uploads_per_address,
                        schedule=not args.check_no_schedule, credentials=minting)
    config = ServeConfig(
        bind=parse_host(args.bind),
        tcp_ports=parse_ports(args.tcp_ports),
        udp_ports=udp_ports,
        https_port=https_port,
        cert=Path(args.cert) if args.cert else None,
        key=Path(args.key) if args.key else None,
        ca_out=Path(args.ca_out) if args.ca_out else None,
        names=tuple(parse_host(n) for n in args.name) or ("localhost",),
        http_port=http_port,
        token=token,
        media_port=_media_port(args.media_port, udp_ports),
        max_calls=args.max_calls,
        max_call_seconds=args.max_call_seconds,
        capacity=not args.no_capacity,
        stun=None if args.stun.strip().lower() == "none" else parse_hostport(args.stun, "--stun"),
        public=tuple(_ip(a, "--public-address") for a in args.public_address),
        calls_per_address=per_address,
        check=check,
        turn_port=_turn_port(args.turn, args.bind),
        turn_tls_port=_turn_tls_port(args),
    )
    public = not _loopback(config.bind)
    if public and config.token is not None and http_port and not args.plain_http_token:
        raise UsageError(f"--token with plain HTTP on {config.bind}: the token would travel in "
                         "clear; use the HTTPS port only (--http-port 0), or say "
                         "--plain-http-token")
    from ..server.privileges import privileged, refusal

    needing = privileged([("udp", p) for p in config.udp_ports]
                         + [("tcp", p) for p in (*config.tcp_ports, https_port, http_port,
                                                 config.turn_port, config.turn_tls_port)])
    if needing:
        raise UsageError(refusal(needing))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        stream=sys.stderr)
    # One line per request from us; aiortc/aioice's own chatter stays at warnings.
    quiet = args.quiet or (public and not args.log_requests)
    logging.getLogger("trtcdetect.serve").setLevel(logging.WARNING if quiet else logging.INFO)
    if public and config.token is None:
        logging.getLogger("trtcdetect.serve").warning(
            "serve on %s without a token: anyone who reaches it may make echo calls and "
            "capacity tests (set $TRTCDETECT_TOKEN)", config.bind)
    try:
        run(config)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    return 0


