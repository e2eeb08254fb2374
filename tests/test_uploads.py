"""The upload store, multipart bodies in the request pipeline, and what the emulator knows of
media it serves (core pieces every vendor with an upload or a "probe" relies on)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount
from starlette.testclient import TestClient

from emulator.core import media_render
from emulator.core import vendor as vendor_module
from emulator.core.errors import ApiError
from emulator.core.ids import IdFactory
from emulator.core.media import MediaSpec
from emulator.core.runtime import Emulator, Settings
from emulator.core.spec import Spec
from emulator.core.uploads import UploadedFile, UploadRejected, UploadStore
from emulator.core.vendor import JSON, Call, Handlers, Pipeline, Vendor


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    media_render.render_video(path, width=320, height=240, seconds=3, fps=12, seed=1, audio=True)
    return path.read_bytes()


@pytest.fixture
def store(tmp_path: Path) -> UploadStore:
    return UploadStore(IdFactory(1), tmp_path / "uploads")


def stored_files(store: UploadStore) -> list[Path]:
    return sorted(store.root.iterdir())


def test_an_image_is_identified_by_decoding_not_by_its_name(store: UploadStore) -> None:
    upload = store.put(vendor="v", account_id="a", data=png(64, 48), filename="cat.mp4",
                       declared_type="video/mp4", max_bytes=1 << 20, now=5.0)
    assert (upload.kind, upload.format, upload.content_type) == ("image", "png", "image/png")
    assert (upload.width, upload.height, upload.size) == (64, 48, len(png(64, 48)))
    assert upload.name.endswith(".png") and "cat" not in upload.name
    assert upload.path.read_bytes() == png(64, 48)
    assert store.of_account("v", "a") == [upload] and store.of_account("v", "b") == []
    store.discard(upload.name)
    assert store.get(upload.name) is None and stored_files(store) == []


def test_a_video_records_its_real_duration_and_size(store: UploadStore, mp4: bytes) -> None:
    upload = store.put(vendor="v", account_id="a", data=mp4, max_bytes=1 << 24, now=0)
    assert (upload.kind, upload.width, upload.height, upload.has_audio) == ("video", 320, 240, True)
    assert upload.seconds == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize(("data", "kinds", "code"), [
    (b"", {"image"}, "empty"),
    (b"x" * 2000, {"image"}, "too_large"),
    (b"just some text, not an image", {"image"}, "unsupported_type"),
    (png()[:40], {"image"}, "corrupt"),
])
def test_refused_files_leave_nothing_behind(store: UploadStore, data: bytes, kinds: set[str], code: str) -> None:
    with pytest.raises(UploadRejected) as refused:
        store.put(vendor="v", account_id="a", data=data, kinds=kinds, max_bytes=1000, now=0)
    assert refused.value.code == code
    assert store.items == {} and stored_files(store) == []


def test_a_kind_or_format_not_allowed_is_refused(store: UploadStore, mp4: bytes) -> None:
    with pytest.raises(UploadRejected) as refused:
        store.put(vendor="v", account_id="a", data=mp4, kinds={"image"}, max_bytes=1 << 24, now=0)
    assert refused.value.code == "unsupported_type"
    with pytest.raises(UploadRejected):
        store.put(vendor="v", account_id="a", data=png(), kinds={"image"}, formats={"jpeg"}, max_bytes=1 << 20, now=0)
    assert store.items == {} and stored_files(store) == []


def test_served_files_are_found_by_name_only(store: UploadStore) -> None:
    upload = store.put(vendor="v", account_id="a", data=png(), max_bytes=1 << 20, now=0)
    (store.root.parent / "secret.txt").write_text("outside the store")
    app = Starlette(routes=[store.mount()])
    with TestClient(app) as http:
        ok = http.get(f"/uploads/{upload.name}")
        assert ok.status_code == 200 and ok.content == png() and ok.headers["content-type"] == "image/png"
        for path in ("/uploads/..%2Fsecret.txt", "/uploads/%2E%2E/secret.txt", "/uploads/../secret.txt",
                     f"/uploads/{upload.name[:-4]}", "/uploads/.%2E"):
            response = http.get(path)
            assert response.status_code == 404, path
            assert b"outside the store" not in response.content


def test_known_media_covers_outputs_and_uploads_and_nothing_else() -> None:
    emulator = Emulator(Settings(vendors=()), [])
    try:
        name = emulator.media.register(MediaSpec("video", "mp4", 1280, 720, 5.0, audio=True))
        info = emulator.known_media(f"https://example.test/media/{name}?sig=1")
        assert info is not None and (info.kind, info.width, info.height, info.seconds) == ("video", 1280, 720, 5.0)
        upload = emulator.uploads.put(vendor="v", account_id="a", data=png(30, 20), max_bytes=1 << 20, now=0)
        known = emulator.known_media(f"http://127.0.0.1:9/uploads/{upload.name}")
        assert known is not None and (known.kind, known.width, known.height) == ("image", 30, 20)
        assert emulator.known_media("https://cdn.example.com/cat.png") is None
        assert emulator.known_media("asset://abc") is None
        assert emulator.known_media("http://[]/media/x") is None  # malformed: unknown, not an error
        emulator.reset()
        assert emulator.known_media(f"http://127.0.0.1:9/uploads/{upload.name}") is None
    finally:
        emulator.uploads.close()
        emulator.media.close()


# -- multipart bodies through the pipeline, against a small spec of their own -------------

SPEC = """
openapi: 3.1.0
info: {title: uploads test, version: "1"}
servers: [{url: "https://t.example/api"}]
paths:
  /files:
    post:
      operationId: upload
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              additionalProperties: false
              properties:
                file: {type: string, format: binary}
                group_id: {type: string, maxLength: 8}
                copies: {type: integer, minimum: 1, maximum: 3}
          application/json:
            schema:
              type: object
              required: [data]
              additionalProperties: false
              properties:
                data: {type: string}
      responses:
        "200": {description: ok}
        "400": {description: bad}
        "413": {description: too large}
"""


def _error(kind: str, message: str, **extra: Any) -> ApiError:
    status = {"invalid": 400, "too_large": 413, "not_found": 404, "method_not_allowed": 405}.get(kind, 500)
    return ApiError(status, kind, message, **extra)


def _render(err: ApiError) -> Response:
    return JSON({"code": err.code, "message": err.message, "param": err.param}, status_code=err.status)


@pytest.fixture
def http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    spec_path = tmp_path / "uploads-test.yaml"
    spec_path.write_text(SPEC)
    monkeypatch.setattr(vendor_module, "load", lambda name: Spec(spec_path))
    handlers = Handlers()
    seen: list[Any] = []

    @handlers.operation("upload")
    async def upload(call: Call) -> Response:
        seen.append(call.body)
        body = call.body
        if isinstance(body.get("file"), UploadedFile):
            f = body["file"]
            return JSON({"filename": f.filename, "type": f.content_type, "size": len(f.data),
                         "group_id": body.get("group_id"), "copies": body.get("copies")})
        return JSON({"json": body})

    vendor = Vendor(name="t", prefix="", spec_name="t", handlers=handlers, auth="bearer", key_prefix="t-",
                    render_error=_render, error=_error, max_body_bytes=4096)
    emulator = Emulator(Settings(vendors=()), [vendor])
    app = Starlette(routes=[Mount("/api", routes=Pipeline(emulator, vendor).routes())])
    with TestClient(app) as client:
        client.seen = seen  # type: ignore[attr-defined]
        yield client
    emulator.uploads.close()
    emulator.media.close()


def test_multipart_fields_are_coerced_and_files_handed_over(http: TestClient) -> None:
    response = http.post("/api/files", files={"file": ("a.png", png(8, 8), "image/png")},
                         data={"group_id": "g1", "copies": "2"})
    assert response.status_code == 200, response.text
    assert response.json() == {"filename": "a.png", "type": "image/png", "size": len(png(8, 8)),
                               "group_id": "g1", "copies": 2}


def test_json_is_still_accepted_where_documented(http: TestClient) -> None:
    response = http.post("/api/files", json={"data": "aGVsbG8="})
    assert response.status_code == 200 and response.json() == {"json": {"data": "aGVsbG8="}}


@pytest.mark.parametrize(("files", "data", "param"), [
    (None, {"group_id": "g1"}, "file"),  # no file part at all
    ({"file": ("a.png", png(8, 8), "image/png")}, {"copies": "many"}, "copies"),
    ({"file": ("a.png", png(8, 8), "image/png")}, {"copies": "9"}, "copies"),
    ({"file": ("a.png", png(8, 8), "image/png")}, {"group_id": "far-too-long-id"}, "group_id"),
    ({"file": ("a.png", png(8, 8), "image/png")}, {"colour": "red"}, "colour"),
    ({"file": ("a.png", png(8, 8), "image/png"), "group_id": ("g.txt", b"g", "text/plain")}, None, "group_id"),
])
def test_bad_form_fields_get_a_400_naming_the_field(http: TestClient, files: Any, data: Any, param: str) -> None:
    if files is None:  # a multipart body of text fields only
        files = {name: (None, value) for name, value in data.items()}
        data = None
    response = http.post("/api/files", files=files, data=data)
    assert response.status_code == 400, response.text
    assert response.json()["param"] == param
    assert http.seen == []  # type: ignore[attr-defined]


def test_a_text_value_where_a_file_belongs_is_refused(http: TestClient) -> None:
    response = http.post("/api/files", data={"file": "not a file"},
                         headers={"content-type": "application/x-www-form-urlencoded"})
    # urlencoded is not documented for this operation: it is parsed as JSON and refused
    assert response.status_code == 400
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nnot a file\r\n"
            f"--{boundary}--\r\n").encode()
    response = http.post("/api/files", content=body,
                         headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 400 and response.json()["param"] == "file"


def test_malformed_and_oversized_multipart_bodies_are_refused(http: TestClient) -> None:
    broken = http.post("/api/files", content=b"--x\r\ngarbage",
                       headers={"content-type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 400
    no_boundary = http.post("/api/files", content=b"abc", headers={"content-type": "multipart/form-data"})
    assert no_boundary.status_code == 400
    big = http.post("/api/files", files={"file": ("big.png", b"x" * 5000, "image/png")})
    assert big.status_code == 413
    assert http.seen == []  # type: ignore[attr-defined]


def test_a_format_name_with_an_underscore_is_stored_not_a_500(store: UploadStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """FFmpeg names some formats with an underscore (`ea_cdata`, found by the PowerTokens fuzz run):
    the stored name keeps it, and the upload succeeds."""
    probed = {"kind": "audio", "format": "ea_cdata", "width": None, "height": None, "duration": 1.0,
              "has_audio": True}
    monkeypatch.setattr(media_render, "probe", lambda path: probed)
    upload = store.put(vendor="v", account_id="a", data=b"\x01" * 64, kinds={"audio"}, max_bytes=1 << 20, now=0.0)
    assert upload.name.endswith(".ea_cdata") and store.get(upload.name) is upload


def test_a_vendor_naming_that_is_not_a_plain_file_name_is_refused_and_leaves_nothing(store: UploadStore) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        store.put(vendor="v", account_id="a", data=png(8, 8), max_bytes=1 << 20, now=0.0,
                  naming=lambda token, fmt: f"../{token}.{fmt}")
    assert stored_files(store) == [] and store.items == {}
