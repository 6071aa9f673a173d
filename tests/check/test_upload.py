"""The check page's upload is validated in one step (msgspec): every refusal one line, with
where; hostile input is refused or kept as data."""

from __future__ import annotations

import json

import pytest

from tests.check.uploads import DELETE, good
from trtcdetect.check.upload import MAX_UPLOAD_BYTES, UploadError, clean, decode, json_schema


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_good_upload_decodes_into_the_typed_model() -> None:
    upload = decode(body(good()))
    assert upload.camera is not None and upload.camera.width == 640
    assert upload.call is not None and upload.call.rtt_ms == [21.0, 22.0, 20.0]


@pytest.mark.parametrize(("document", "said"), [
    (b"", "not a JSON object"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe{}", "not a JSON object"),
    (b"{\"schema\": 2}", "schema version 2 is not 1"),
    (b"{\"schema\": \"1\"}", "schema version 1 is not 1"),
    (body(good(camera__fps="fast")), "`$.camera.fps`"),
    (body(good(camera__fps=-1)), "`$.camera.fps`"),
    (body(good(camera__black_ratio=1.5)), "`$.camera.black_ratio`"),
    (body(good(camera__width=10**9)), "`$.camera.width`"),
    (body(good(call__rtt_ms=[1.0] * 121)), "`$.call.rtt_ms`"),
    (body(good(call__local__type="martian")), "`$.call.local.type`"),
    (body(good(page__user_agent="x" * 1001)), "`$.page.user_agent`"),
    (body(good(devices=[{"kind": "videoinput", "label": "x"}] * 33)), "`$.devices`"),
    (body(good(started_at="yesterday")), "`$.started_at`"),
    (body(good(lang="fr")), "`$.lang`"),
    (body(good(page=DELETE)), "`page`"),
    (body(good(extra=1)), "unknown field `extra`"),
    (body(good(camera__error={"name": "NotAllowedError", "stack": "..."})), "unknown field `stack`"),
    (body(good(tencent__checks={f"k{i}": True for i in range(65)})), "`$.tencent.checks`"),
    (b"{\"schema\": 1, \"x\": " + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
    (b"{\"schema\": 1, \"started_at\": NaN}", "JSON is malformed"),
    (b"x" * (MAX_UPLOAD_BYTES + 1), f"larger than {MAX_UPLOAD_BYTES}"),
])
def test_bad_uploads_are_refused_in_one_line_saying_where(document: bytes, said: str) -> None:
    with pytest.raises(UploadError) as refused:
        decode(document)
    text = str(refused.value)
    assert said in text
    assert "\n" not in text and len(text) <= 200


def test_markup_and_control_characters_stay_data() -> None:
    upload = decode(body(good(camera__label="<script>alert(1)</script>\x1b[2J\u202e")))
    assert upload.camera is not None
    assert clean(upload.camera.label) == "<script>alert(1)</script>\ufffd[2J\ufffd"


def test_the_schema_is_generated_from_the_types() -> None:
    schema = json_schema()
    upload = schema["$defs"]["Upload"]  # type: ignore[index]
    assert upload["additionalProperties"] is False
    assert set(upload["required"]) == {"schema", "started_at", "page"}
