"""The check page's HTTP side with hostile input, as an exporter is tested: every refusal a
4xx with one line, nothing stored, the server still serving (aiohttp on loopback, no root)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer

from tests.check.uploads import good, strings
from trtcdetect.check import invite
from trtcdetect.check.routes import PAGE_CSP, REPORT_CSP, CheckConfig, UploadLimit, setup
from trtcdetect.check.upload import MAX_UPLOAD_BYTES
from trtcdetect.credentials import Secret

TOKEN = "s3cret-token"
Test = Callable[[TestClient[Any, Any], Path], Awaitable[None]]


SECRET_KEY = "a-secret-key-for-tests-only-0123456789abcdef"


def serve(tmp_path: Path, test: Test, *, open_: bool = False, quota: int = 50_000_000,
          reports: bool = True, minting: bool = False) -> None:
    async def main() -> None:
        app = web.Application()
        setup(app, CheckConfig(reports=tmp_path / "r" if reports else None, open=open_,
                               quota_bytes=quota,
                               credentials=(1400000000, Secret(SECRET_KEY)) if minting else None),
              TOKEN)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await test(client, tmp_path / "r")

    asyncio.run(main())


def invited(**changes: Any) -> dict[str, Any]:
    link = invite.make("https://h/check", "TICKET-9", 3600, TOKEN)
    query = dict(p.split("=", 1) for p in link.split("?", 1)[1].split("&"))
    return good(invitation={"ref": query["ref"], "exp": int(query["exp"]), "sig": query["sig"]},
                **changes)


def stored(root: Path) -> list[Path]:
    return sorted(root.glob("*.json")) if root.exists() else []


def basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"support:{password}".encode()).decode()}


def test_an_invited_upload_is_judged_stored_and_listed(tmp_path: Path) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        answer = await client.post("/check/upload", json=invited(camera__black_ratio=1.0))
        assert answer.status == 200, await answer.text()
        body = await answer.json()
        assert body["status"] == "fail" and len(body["id"]) == 26
        assert "black" in body["causes"][0]["headline"]
        assert body["code"] == f"{body['id'][:4]}-{body['id'][4:8]}".upper()
        own = await client.get(f"/check/{body['report']}?download=1")
        assert own.status == 200 and own.headers["Content-Security-Policy"] == REPORT_CSP
        assert "attachment" in own.headers["Content-Disposition"]
        assert "<script" not in (await own.text())
        listing = await client.get("/reports/", headers=basic(TOKEN))
        text = await listing.text()
        assert listing.status == 200 and "TICKET-9" in text and body["code"] in text
        as_json = await client.get(f"/reports/{body['id']}.json",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
        assert (await as_json.json())["config"]["reference"] == "TICKET-9"
        zh = await client.get(f"/reports/{body['id']}?lang=zh", headers=basic(TOKEN))
        assert "摄像头" in await zh.text()
        metrics = await (await client.get("/metrics", headers=basic(TOKEN))).text()
        assert 'trtcdetect_checks_total{cause="camera.black",status="fail"} 1.0' in metrics
        assert "trtcdetect_check_call_rtt_seconds_count 1.0" in metrics

    serve(tmp_path, test)


@pytest.mark.parametrize(("path", "headers"), [
    ("/reports/", {}), ("/reports/", basic("wrong")), ("/reports/", {"Authorization": "Basic %%%"}),
    ("/reports/", {"Authorization": "Bearer wrong"}), ("/metrics", {}),
    ("/reports/aaaaaaaaaaaaaaaaaaaaaaaaaa.json", {}),
])
def test_support_pages_need_the_token(tmp_path: Path, path: str, headers: dict[str, str]) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        answer = await client.get(path, headers=headers)
        assert answer.status == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic")

    serve(tmp_path, test)


def _refusals() -> list[tuple[str, Any, dict[str, str], int, str]]:
    expired = invited()
    expired["invitation"]["exp"] = 1000
    expired["invitation"]["sig"] = invite.signature(TOKEN, "TICKET-9", 1000)
    forged = invited()
    forged["invitation"]["ref"] = "TICKET-10"
    return [
        ("oversize", b"{" + b" " * (MAX_UPLOAD_BYTES + 10) + b"}", {}, 413, "larger than"),
        ("not json", b"schema=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
         "application/json"),
        ("wrong type", invited(camera__fps="fast"), {}, 400, "$.camera.fps"),
        ("schema version", invited(schema=7), {}, 400, "schema version 7"),
        ("unknown field", invited(camera__script="x"), {}, 400, "unknown field"),
        ("no invitation", good(), {}, 403, "invitation only"),
        ("expired", expired, {}, 403, "expired"),
        ("forged", forged, {}, 403, "signature"),
    ]


@pytest.mark.parametrize(("name", "document", "headers", "status", "said"), _refusals(),
                         ids=[r[0] for r in _refusals()])
def test_bad_uploads_get_their_4xx_and_nothing_is_stored(
        tmp_path: Path, name: str, document: Any, headers: dict[str, str], status: int,
        said: str) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        answer = await client.post("/check/upload", data=data,
                                   headers={"Content-Type": "application/json", **headers})
        assert answer.status == status
        body = await answer.json()
        assert said in body["error"] and "\n" not in body["error"]
        assert "Traceback" not in body["error"]
        assert stored(root) == []
        assert (await client.post("/check/upload", json=invited())).status == 200  # serving on

    serve(tmp_path, test)


def test_markup_in_every_string_field_is_stored_as_data(tmp_path: Path) -> None:
    hostile = "<img src=x onerror=alert(1)>\x1b[31m"
    document = invited()
    for path in strings(document):
        if path[-1] in ("started_at", "sig", "ref", "lang", "kind", "type", "protocol",
                        "permission", "relay_protocol") or path == ("schema",):
            continue  # fields with a fixed form: refused when not in it (test above)
        where: Any = document
        for key in path[:-1]:
            where = where[key]
        where[path[-1]] = hostile
    document["camera"]["error"] = {"name": "NotAllowedError", "message": hostile}

    async def test(client: TestClient[Any, Any], root: Path) -> None:
        answer = await client.post("/check/upload", json=document)
        assert answer.status == 200, await answer.text()
        body = await answer.json()
        for page in (await client.get(f"/check/{body['report']}"),
                     await client.get("/reports/", headers=basic(TOKEN))):
            text = await page.text()
            assert "<img src=x" not in text and "\x1b" not in text
        assert "\x1b" not in (root / f"{body['id']}.json").read_text()
        stored_page = (root / f"{body['id']}.html").read_text()
        assert "<img src=x" not in stored_page and "&lt;img src=x" in stored_page

    serve(tmp_path, test)


def test_too_many_uploads_from_one_address(tmp_path: Path) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        answers = [await client.post("/check/upload", json=invited()) for _ in range(12)]
        assert [a.status for a in answers] == [200] * 10 + [429] * 2
        assert "too many uploads" in (await answers[-1].json())["error"]
        assert answers[-1].headers["Retry-After"]
        assert len(stored(root)) == 2 * 10  # a report and its list entry each

    serve(tmp_path, test)


def test_a_full_quota_refuses_and_keeps_what_it_has(tmp_path: Path) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        first = await client.post("/check/upload", json=invited())
        assert first.status == 200
        size = json.loads((root / f"{(await first.json())['id']}.entry.json").read_text())["bytes"]
        assert size < 40_000 < 2 * size  # the quota below holds one report, not two
        second = await client.post("/check/upload", json=invited())
        assert second.status == 429
        assert "as many check reports" in (await second.json())["error"]
        assert len(stored(root)) == 2

    serve(tmp_path, test, quota=40_000)


def test_the_rate_limit_alone() -> None:
    clock = [0.0]
    limit = UploadLimit(per_address=2, total=3, window=60, clock=lambda: clock[0])
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]
    assert limit.allow("b") and not limit.allow("c")  # the total
    clock[0] = 61
    assert limit.allow("a") and limit.allow("c")


def test_without_a_reports_folder_the_page_runs_and_says_uploads_are_off(tmp_path: Path) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        settings = await (await client.get("/check/settings")).json()
        assert settings["uploads"] is False
        answer = await client.post("/check/upload", json=invited())
        assert answer.status == 403 and "--check-reports" in (await answer.json())["error"]
        page = await client.get("/check")
        assert page.status == 200 and page.headers["Content-Security-Policy"] == PAGE_CSP
        assert "script-src 'self';" in PAGE_CSP
        assert (await client.get("/check/vendor/trtc.js")).status == 200
        assert (await client.get("/check/vendor/..%2fpage.py")).status == 404

    serve(tmp_path, test, reports=False)


def test_an_open_server_takes_uploads_without_an_invitation(tmp_path: Path) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        answer = await client.post("/check/upload", json=good())
        assert answer.status == 200
        assert json.loads((root / f"{(await answer.json())['id']}.json").read_text())[
            "config"]["reference"] is None

    serve(tmp_path, test, open_=True)


def test_the_page_needs_https_except_on_loopback(tmp_path: Path) -> None:
    """The test server is on 127.0.0.1: the page is served in plain HTTP there (a browser
    allows the camera on http://127.0.0.1); another address gets 403 (tests/check lab)."""
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        async with ClientSession() as session:
            answer = await session.get(client.make_url("/check"))
            assert answer.status == 200

    serve(tmp_path, test)


def invitation_header() -> dict[str, str]:
    inv = invited()["invitation"]
    return {"X-Trtcdetect-Invitation": f"{inv['ref']} {inv['exp']} {inv['sig']}"}


def test_usersigs_are_minted_for_an_invited_check_and_the_key_stays(tmp_path: Path) -> None:
    from tests.commands.test_credentials import decode as usersig

    async def test(client: TestClient[Any, Any], root: Path) -> None:
        settings = await (await client.get("/check/settings")).json()
        assert settings["network_test"] is True and SECRET_KEY not in json.dumps(settings)
        refused = await client.post("/check/credentials", json={})
        assert refused.status == 403
        answer = await client.post("/check/credentials", json={}, headers=invitation_header())
        assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
        text = await answer.text()
        assert SECRET_KEY not in text
        job = json.loads(text)
        assert job["sdkAppId"] == 1400000000 and len(job["users"]) == 2
        for user in job["users"]:
            content = usersig(user["userSig"])
            assert content["TLS.identifier"] == user["userId"]
            assert content["TLS.expire"] == 300

    serve(tmp_path, test, minting=True)


def test_without_credentials_no_usersig_is_minted(tmp_path: Path) -> None:
    async def test(client: TestClient[Any, Any], root: Path) -> None:
        assert (await (await client.get("/check/settings")).json())["network_test"] is False
        answer = await client.post("/check/credentials", json={}, headers=invitation_header())
        assert answer.status == 404

    serve(tmp_path, test)


@pytest.mark.parametrize(("secure", "arrived", "served"), [
    (True, "198.18.0.2", True), (False, "127.0.0.1", True), (False, "::1", True),
    (False, "198.18.0.2", False), (False, "10.0.0.1", False)])
def test_the_page_is_served_over_https_or_on_loopback_only(secure: bool, arrived: str,
                                                            served: bool) -> None:
    """A browser gives a plain-HTTP page the camera only on localhost: elsewhere serve answers
    /check with a 403 that says to use HTTPS (the request's transport: where it arrived)."""
    from types import SimpleNamespace

    from trtcdetect.check.routes import _secure

    transport = SimpleNamespace(get_extra_info=lambda name: (arrived, 8080))
    request = SimpleNamespace(secure=secure, transport=transport)
    assert _secure(request) is served  # type: ignore[arg-type]
