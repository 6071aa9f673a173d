"""The run's less common options: Tencent's SDKs and their credentials, --source, --repeat;
how their text becomes values (options.py holds the rest)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from ..config import Config
from ..errors import UsageError


def add_trtc_options(parser: argparse.ArgumentParser, D: Any) -> None:  # noqa: N803
    trtc = parser.add_argument_group(
        "TRTC cloud (probes 'trtc' and 'trtcweb': Tencent's own SDKs)",
        "'trtc' runs Tencent's native SDK (pip install 'trtcdetect[trtc]'), 'trtcweb' its Web "
        "SDK in the Chrome/Chromium/Edge found here, headless. Without credentials each enters "
        "a room with a placeholder application: if TRTC's servers answer (even to say the "
        "credentials are wrong), the cloud is reachable from here. With credentials they make "
        "a two-user test call through the cloud. They run by default when the target is "
        "Tencent's (the built-in profiles); '--only trtc,trtcweb' runs them whatever the "
        "target.")
    add = trtc.add_argument
    add("--credentials", metavar="FILE",
        help="a credentials file from 'trtcdetect credentials' (support makes it; no "
             "SecretKey reaches this machine)")
    add("--sdk-app-id", metavar="N",
        help="the application's SDKAppID; its SecretKey from $TRTC_SECRET_KEY or "
             "--secret-key-file: trtcdetect makes 10-minute UserSigs itself")
    add("--secret-key-file", metavar="FILE", help="read the SecretKey from this file")
    add("--secret-key", metavar="KEY", help=argparse.SUPPRESS)
    add("--socks5", metavar="HOST:PORT",
        help="send the SDK's traffic through this SOCKS5 proxy (user and password from "
             "$TRTCDETECT_SOCKS5_USER and $TRTCDETECT_SOCKS5_PASSWORD)")
    add("--trtc-proxy", metavar="HOST",
        help="probe 'trtcweb': Tencent's enterprise proxy for the Web SDK (its "
             "proxy.unifiedProxy): schedule and report requests go to https://HOST/")
    add("--trtc-deadline", metavar="S", default=None,
        help="how long the SDK may try to reach the cloud (default: "
             f"{D.trtc_deadline_s:g}; offline the SDK itself gives up after 21 s)")
    add("--trtc-seconds", metavar="S", default=None,
        help=f"length of the test call with credentials (default: {D.trtc_seconds:g}, "
             "Tencent's own pre-call test)")
    add("--trtc-logs", metavar="DIR", default=None,
        help="keep the SDK's logs in DIR, secrets removed, for Tencent's support")


def rounds(text: str) -> int:
    if not text.strip().isdigit() or not 2 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"--repeat wants a number of rounds, 2-1000: {text!r}")
    return int(text)


def duration(text: str) -> float:
    """--for: '90', '90s', '10m', '1h' -> seconds (1 s to 24 h)."""
    import re

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not found:
        raise argparse.ArgumentTypeError(
            f"--for wants a duration such as 90s, 10m or 1h: {text!r}")
    seconds = float(found[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[found[2]]
    if not 1 <= seconds <= 86_400:
        raise argparse.ArgumentTypeError(f"--for must be 1 s to 24 h: {text!r}")
    return seconds


def number_between(option: str, low: float, high: float,
                   unit: str) -> Callable[[str], float]:
    """An argparse type: a number from `low` to `high` (inclusive), else one line saying so."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} is not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} must be {low:g}-{high:g} {unit}: "
                                             f"{text!r}")
        return value
    return parse


interval = number_between("--interval", 0, 3600, "s")
capacity_max = number_between("--capacity-max", 500, 20_000, "kbit/s")


def parse_interface(text: str) -> str:
    from ..net.bind import check_interface

    try:
        return check_interface(text.strip())
    except ValueError as exc:
        raise UsageError(f"--interface: {exc}") from None


def parse_source(text: str) -> str:
    """A local address of this machine (bindable), as --source wants it."""
    import ipaddress
    import socket

    try:
        address = str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise UsageError(f"--source wants an IP address of this machine: {text!r}") from None
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as exc:
            raise UsageError(f"--source {address} is not an address of this machine "
                             f"({exc.strerror or exc})") from None
    return address


#: UserSigs trtcdetect makes itself from --sdk-app-id live this long: a run, with room to spare
RUN_SIG_EXPIRE_S = 600


def trtc_credentials(args: argparse.Namespace, config: Config) -> Config:
    """The trtc probe's credentials and proxy secrets, from files and the environment only."""
    from dataclasses import replace

    from ..credentials import Secret, generate, load, parse_sdk_app_id, secret_key

    if args.secret_key is not None:
        raise UsageError("--secret-key is refused: a command line is visible to other users "
                         "of the machine; set $TRTC_SECRET_KEY or use --secret-key-file")
    if args.credentials and args.sdk_app_id:
        raise UsageError("--credentials and --sdk-app-id are two ways to the same thing: "
                         "give one")
    if args.secret_key_file and not args.sdk_app_id:
        raise UsageError("--secret-key-file needs --sdk-app-id")
    found = None
    if args.credentials:
        found = load(args.credentials)
    elif args.sdk_app_id:
        found = generate(parse_sdk_app_id(args.sdk_app_id),
                         secret_key(args.secret_key_file, os.environ), RUN_SIG_EXPIRE_S)
    password = os.environ.get("TRTCDETECT_SOCKS5_PASSWORD", "")
    return replace(config, trtc_credentials=found,
                   socks5_user=os.environ.get("TRTCDETECT_SOCKS5_USER", "") if config.socks5
                   else "",
                   socks5_password=Secret(password) if config.socks5 and password else None)


