"""TRTC credentials for a test room, made so that no SecretKey reaches a customer's machine.

Support staff, on their own machine, with the application's SDKAppID and SecretKey:

    TRTC_SECRET_KEY=... trtcdetect credentials --sdk-app-id 1400000000 --expire 2h > creds.json

writes two short-lived UserSigs (Tencent's official generator, tls-sig-api-v2) for two
generated user ids and a room hint. The file is what a customer gets; the SecretKey never
leaves. The SecretKey is read from $TRTC_SECRET_KEY or --secret-key-file, never from the
command line (argv is visible to every user of a machine), and is held in a :class:`Secret`
whose str/repr never show it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from .evidence import JsonObject
from .parse import ConfigError, read_text_file

SECRET_ENV = "TRTC_SECRET_KEY"
#: a room id in TRTC's numeric range (1 .. 4294967294); generated ones avoid small numbers a
#: real application is likely to use
ROOM_RANGE = (100_000_000, 4_294_967_294)
#: the longest a credentials file may live: a file sent to a customer should expire soon
MAX_EXPIRE_S = 7 * 86400


class Secret:
    """A secret string that says '***' wherever it is printed, logged or formatted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class User:
    user_id: str
    user_sig: Secret


@dataclass(frozen=True)
class Credentials:
    sdk_app_id: int
    room_id: int
    expires_at: int  # Unix time
    users: tuple[User, User]

    def document(self) -> JsonObject:
        """The credentials file's content (the only place a UserSig is written out)."""
        return {"sdk_app_id": self.sdk_app_id, "room_id": self.room_id,
                "expires_at": self.expires_at,
                "users": [{"user_id": u.user_id, "user_sig": u.user_sig.reveal()}
                          for u in self.users]}


def parse_sdk_app_id(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", text.strip()) or not 0 < int(text) < 2**32:
        raise ConfigError(f"--sdk-app-id wants the application's numeric SDKAppID: {text!r}")
    return int(text)


def parse_expire(text: str) -> int:
    """'90m', '2h', '1d' or seconds -> seconds, at most MAX_EXPIRE_S."""
    found = re.fullmatch(r"\s*([0-9]+)\s*([smhd]?)\s*", text)
    if not found:
        raise ConfigError(f"--expire wants a duration such as 30m, 2h or 1d: {text!r}")
    seconds = int(found[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[found[2]]
    if not 60 <= seconds <= MAX_EXPIRE_S:
        raise ConfigError("--expire must be between 1 minute and 7 days "
                          "(a file sent to a customer should expire soon)")
    return seconds


def secret_key(file: str | None, environ: dict[str, str] | os._Environ[str]) -> Secret:
    """The SecretKey from --secret-key-file, else $TRTC_SECRET_KEY; a ConfigError when neither
    is given (never a prompt: the command runs in scripts too)."""
    if file is not None:
        value = read_text_file(Path(file), "SecretKey file").strip()
        if not value:
            raise ConfigError(f"the SecretKey file {file} is empty")
        return Secret(value)
    value = environ.get(SECRET_ENV, "").strip()
    if not value:
        raise ConfigError(f"no SecretKey: set ${SECRET_ENV} or pass --secret-key-file FILE "
                          "(never on the command line: other users can read it there)")
    return Secret(value)


def generate(sdk_app_id: int, key: Secret, expire_s: int,
             room_id: int | None = None, now: float | None = None) -> Credentials:
    """Two users with UserSigs valid for `expire_s`, and a room for them."""
    try:
        from TLSSigAPIv2 import TLSSigAPIv2
    except ImportError:
        raise ConfigError("UserSigs need Tencent's generator: pip install tls-sig-api-v2") from None
    api = TLSSigAPIv2(sdk_app_id, key.reveal())
    tag = secrets.token_hex(4)
    users = tuple(User(f"trtcdetect_{tag}_{side}", Secret(api.gen_sig(f"trtcdetect_{tag}_{side}",
                                                                      expire_s)))
                  for side in ("a", "b"))
    room = room_id if room_id is not None else secrets.randbelow(
        ROOM_RANGE[1] - ROOM_RANGE[0]) + ROOM_RANGE[0]
    started = int(now if now is not None else time.time())
    return Credentials(sdk_app_id, room, started + expire_s, (users[0], users[1]))


def load(path: str, now: float | None = None) -> Credentials:
    """A credentials file, checked: its shape, and that it has not expired."""
    text = read_text_file(Path(path), "credentials file")
    try:
        data = json.loads(text)
        users = tuple(User(str(u["user_id"]), Secret(str(u["user_sig"])))
                      for u in data["users"])
        found = Credentials(int(data["sdk_app_id"]), int(data["room_id"]),
                            int(data["expires_at"]), (users[0], users[1]))
    except (ValueError, KeyError, TypeError, IndexError):
        raise ConfigError(f"{path} is not a trtcdetect credentials file "
                          "(made by 'trtcdetect credentials')") from None
    if len(users) != 2 or not all(u.user_id and u.user_sig for u in users):
        raise ConfigError(f"{path} must hold two users, each with a user id and a UserSig")
    if found.expires_at <= int(now if now is not None else time.time()):
        raise ConfigError(f"the credentials in {path} have expired: ask support for new ones")
    return found
