"""Invitations to the check page: a link whose reference and expiry the server signed.

The signature is an HMAC-SHA256 over the reference and the expiry, keyed with serve's token
($TRTCDETECT_TOKEN): the link cannot be altered (another reference, a later expiry) without the
token, and after its expiry it is refused. The link carries no secret of its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse

#: A reference is a ticket number or a name support chose: letters, digits and . _ - : # /
REF_PATTERN = re.compile(r"^[A-Za-z0-9._:#/-]{1,80}$")
#: The longest an invitation may last, s
MAX_EXPIRE_S = 90 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class InvitationError(ValueError):
    """Why an invitation is refused (or cannot be made), in one line."""


def parse_expire(text: str) -> int:
    """"2d", "12h", "30m", "3600" (seconds) -> seconds."""
    match = re.fullmatch(r"\s*(\d{1,7})\s*([smhdw]?)\s*", text)
    if not match:
        raise InvitationError(f"--expire wants a duration such as 2d, 12h or 30m: {text!r}")
    seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not 60 <= seconds <= MAX_EXPIRE_S:
        raise InvitationError("--expire must be between 1 minute and 90 days")
    return seconds


def signature(token: str, ref: str, exp: int) -> str:
    mac = hmac.new(token.encode(), f"trtcdetect-check\n{ref}\n{exp}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def make(url: str, ref: str, expire_s: int, token: str, now: float | None = None) -> str:
    """The invitation link: `url` (the check page) with ref, exp and sig added."""
    if not REF_PATTERN.match(ref):
        raise InvitationError("--ref wants 1 to 80 letters, digits or . _ : # / -")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvitationError(f"--url wants the check page's http(s) URL: {url!r}")
    exp = int((time.time() if now is None else now) + expire_s)
    query = urllib.parse.urlencode({"ref": ref, "exp": exp, "sig": signature(token, ref, exp)})
    joined = f"{parts.query}&{query}" if parts.query else query
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/check", joined, ""))


def verify(token: str | None, ref: str, exp: int, sig: str, now: float | None = None) -> None:
    """Raise InvitationError unless (ref, exp, sig) is an unexpired invitation of `token`'s."""
    if token is None:
        raise InvitationError("this server has no token to check invitations with")
    if not REF_PATTERN.match(ref):
        raise InvitationError("the invitation's reference is malformed")
    expected = signature(token, ref, exp)
    if not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "surrogateescape")):
        raise InvitationError("the invitation's signature does not match (altered, or from "
                              "another server)")
    if (time.time() if now is None else now) > exp:
        raise InvitationError("the invitation has expired: ask support for a new link")
