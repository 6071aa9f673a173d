"""The run command's own values: --repeat, --for and --interval, and the trtc probes'
credentials from files and the environment (the options themselves are declared in
trtcdetect/declared.py)."""

from __future__ import annotations

import argparse
import os

from ..config import Config
from ..declared import number_between, sdk_app_id_and_key
from ..errors import UsageError

TRTC_TITLE = "TRTC cloud (probes 'trtc' and 'trtcweb': Tencent's own SDKs)"
TRTC_DESCRIPTION = (
    "'trtc' runs Tencent's native SDK (pip install 'trtcdetect[trtc]'), 'trtcweb' its Web "
    "SDK in the Chrome/Chromium/Edge found here, headless. Without credentials each enters "
    "a room with a placeholder application: if TRTC's servers answer (even to say the "
    "credentials are wrong), the cloud is reachable from here. With credentials they make "
    "a two-user test call through the cloud. They run by default when the target is "
    "Tencent's (the built-in profiles); '--only trtc,trtcweb' runs them whatever the "
    "target.")


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


interval = number_between("--interval", 0, 3600, "s")


#: UserSigs trtcdetect makes itself from --sdk-app-id live this long: a run, with room to spare
RUN_SIG_EXPIRE_S = 600


def trtc_credentials(args: argparse.Namespace, config: Config) -> Config:
    """The trtc probe's credentials and proxy secrets, from files and the environment only."""

    from ..credentials import Secret, generate, load

    if args.credentials and args.sdk_app_id:
        raise UsageError("--credentials and --sdk-app-id are two ways to the same thing: "
                         "give one")
    minting = sdk_app_id_and_key(args)
    found = None
    if args.credentials:
        found = load(args.credentials)
    elif minting is not None:
        found = generate(*minting, RUN_SIG_EXPIRE_S)
    password = os.environ.get("TRTCDETECT_SOCKS5_PASSWORD", "")
    return config.but(trtc_credentials=found,
                      socks5_user=os.environ.get("TRTCDETECT_SOCKS5_USER", "")
                      if config.trtc.socks5 else "",
                      socks5_password=Secret(password) if config.trtc.socks5 and password
                      else None)


