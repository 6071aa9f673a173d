"""Credentials for TRTC test rooms: UserSigs made with Tencent's generator and checked the way
Tencent's servers check them (HMAC-SHA256 over the documented fields); the SecretKey never on
the command line, and neither it nor a UserSig in anything but the credentials file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from trtcdetect.credentials import Secret, generate, load, parse_expire, secret_key
from trtcdetect.parse import ConfigError

KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
#: Tencent's generator, tls-sig-api-v2 1.1, for KEY, user trtcdetect_vector, SDKAppID 1400000000,
#: 3600 s, at Unix time 1_700_000_000 (the HMAC-SHA256 of the four signed fields, base64)
VECTOR_SIG = "jP+n2L0Vdqp2la+O7Cz7CpoJMLUdTjvxsIOXYMRgRDI="


def decode(sig: str) -> dict[str, Any]:
    """A UserSig's content: base64url (with '*', '-', '_' for '+', '/', '='), zlib, JSON."""
    raw = sig.replace("*", "+").replace("-", "/").replace("_", "=")
    return json.loads(zlib.decompress(base64.b64decode(raw)))  # type: ignore[no-any-return]


def test_user_sigs_verify_with_the_secret_key() -> None:
    found = generate(1400000000, Secret(KEY), 7200, now=time.time())
    ids = [u.user_id for u in found.users]
    assert len(set(ids)) == 2 and all(i.startswith("trtcdetect_") for i in ids)
    for user in found.users:
        content = decode(user.user_sig.reveal())
        assert content["TLS.identifier"] == user.user_id
        assert content["TLS.sdkappid"] == 1400000000 and content["TLS.expire"] == 7200
        signed = "".join(f"TLS.{k}:{content['TLS.' + k]}\n"
                         for k in ("identifier", "sdkappid", "time", "expire"))
        expected = base64.b64encode(hmac.new(KEY.encode(), signed.encode(),
                                             hashlib.sha256).digest()).decode()
        assert content["TLS.sig"] == expected  # what Tencent's servers recompute
    assert abs(found.expires_at - (time.time() + 7200)) < 5
    assert 100_000_000 <= found.room_id < 2**32


def test_secrets_do_not_show_when_printed() -> None:
    found = generate(1400000000, Secret(KEY), 600)
    shown = f"{found!r} {found} {found.users[0]} {Secret(KEY)} {Secret(KEY):>20}"
    assert KEY not in shown and found.users[0].user_sig.reveal() not in shown
    assert "***" in shown


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("2h", 7200), ("1d", 86400),
                                           ("600", 600)])
def test_expire(text: str, seconds: int) -> None:
    assert parse_expire(text) == seconds


@pytest.mark.parametrize("text", ["30x", "0", "59s", "8d", "-1h", ""])
def test_bad_expire_is_one_line(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_expire(text)
    assert "\n" not in str(raised.value)


def test_the_secret_key_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    assert secret_key(str(key_file), {}).reveal() == KEY
    assert secret_key(None, {"TRTC_SECRET_KEY": KEY}).reveal() == KEY
    with pytest.raises(ConfigError, match="TRTC_SECRET_KEY"):
        secret_key(None, {})


def test_a_credentials_file_loads_and_expires(tmp_path: Path) -> None:
    found = generate(1400000000, Secret(KEY), 600, now=1_000_000)
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(found.document()))
    assert load(str(path), now=1_000_100).users[1].user_id == found.users[1].user_id
    with pytest.raises(ConfigError, match="expired"):
        load(str(path), now=1_000_600)
    path.write_text('{"users": []}')
    with pytest.raises(ConfigError, match="not a trtcdetect credentials file"):
        load(str(path))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trtcdetect", "credentials", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_the_command_writes_the_file_and_nothing_else_shows_a_secret() -> None:
    proc = run("--sdk-app-id", "1400000000", "--expire", "2h", env={"TRTC_SECRET_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    sigs = [u["user_sig"] for u in document["users"]]
    assert len(sigs) == 2 and all(decode(s)["TLS.sdkappid"] == 1400000000 for s in sigs)
    assert KEY not in proc.stdout + proc.stderr  # the SecretKey is only used, never written


def test_a_secret_key_on_the_command_line_is_refused_without_repeating_it() -> None:
    proc = run("--sdk-app-id", "1400000000", "--secret-key", KEY)
    assert proc.returncode == 3 and proc.stdout == ""
    assert "--secret-key is refused" in proc.stderr and KEY not in proc.stderr
    proc = run("--help")
    assert "TRTC_SECRET_KEY" in proc.stdout and KEY not in proc.stdout


def test_a_fixed_vector_from_tencents_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tencent's tls-sig-api-v2 with its clock pinned: the same inputs give this UserSig's
    content (compared decoded: the compressed bytes depend on the zlib build)."""
    import TLSSigAPIv2

    monkeypatch.setattr(TLSSigAPIv2.time, "time", lambda: 1_700_000_000)
    sig = TLSSigAPIv2.TLSSigAPIv2(1400000000, KEY).gen_sig("trtcdetect_vector", 3600)
    assert decode(sig) == {
        "TLS.ver": "2.0", "TLS.identifier": "trtcdetect_vector", "TLS.sdkappid": 1400000000,
        "TLS.expire": 3600, "TLS.time": 1_700_000_000,
        "TLS.sig": VECTOR_SIG}
