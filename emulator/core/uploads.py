"""Files clients upload (assets, reference images, person photos), kept per account.

A file is identified by decoding it (Pillow for stills, PyAV for audio and video), never by
the name or content type the client sent; what does not decode as an allowed kind is refused
and nothing is kept. Stored files get generated names, and lookups go through a dictionary of
those names, never through a path built from client input, so nothing a client sends can
reach outside the store.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from . import media_render
from .ids import IdFactory

UPLOADS_PATH = "/uploads"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+\.[a-z0-9_]+")  # FFmpeg format names may have "_" (ea_cdata)


def _named(token: str, fmt: str, naming: Callable[[str, str], str] | None) -> str:
    name = naming(token, fmt) if naming is not None else f"{token}.{fmt}"
    if not _SAFE_NAME.fullmatch(name):  # names become paths in the store's folder
        raise ValueError(f"an upload name must be a plain file name, not {name!r}")
    return name
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
                 "bmp": "image/bmp", "tiff": "image/tiff", "mp4": "video/mp4", "mov": "video/quicktime",
                 "webm": "video/webm", "mkv": "video/x-matroska", "avi": "video/x-msvideo",
                 "m4a": "audio/mp4", "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg",
                 "flac": "audio/flac", "aac": "audio/aac"}


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request, as the Pipeline hands it to a handler."""

    filename: str | None
    content_type: str | None
    data: bytes


class UploadRejected(Exception):
    """Why a file was not stored: `code` is one of empty, too_large, unsupported_type, corrupt."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class Upload:
    id: str
    vendor: str
    account_id: str
    name: str  # generated: `<token>.<format>`; the only handle a URL carries
    filename: str | None  # the client's, informational only
    content_type: str
    kind: str  # image | video | audio
    format: str
    size: int
    width: int
    height: int
    seconds: float
    has_audio: bool
    created_at: float
    path: Path

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "vendor": self.vendor, "account_id": self.account_id, "name": self.name,
                "filename": self.filename, "content_type": self.content_type, "kind": self.kind,
                "format": self.format, "size": self.size, "width": self.width, "height": self.height,
                "seconds": self.seconds, "has_audio": self.has_audio, "created_at": self.created_at}


class UploadStore:
    def __init__(self, ids: IdFactory, root: Path | None = None):
        self._ids = ids
        self._owned_tmp = None if root else tempfile.TemporaryDirectory(prefix="seedance-uploads-")
        self.root = Path(root or self._owned_tmp.name)  # type: ignore[union-attr]
        self.root.mkdir(parents=True, exist_ok=True)
        self.items: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def put(self, *, vendor: str, account_id: str, data: bytes, filename: str | None = None,
            declared_type: str | None = None, kinds: frozenset[str] | set[str] = frozenset({"image", "video", "audio"}),
            formats: frozenset[str] | set[str] | None = None, max_bytes: int, now: float,
            naming: Callable[[str, str], str] | None = None) -> Upload:
        """Store `data` if it decodes as one of `kinds` (and `formats`, when given); else raise
        UploadRejected and keep nothing. `declared_type` is recorded nowhere: the bytes decide.
        `naming(token, format)` gives the stored name in a vendor's own pattern (default
        `<token>.<format>`); it must build the name only from those two."""
        if not data:
            raise UploadRejected("empty", "the file is empty")
        if len(data) > max_bytes:
            raise UploadRejected("too_large", f"the file is {len(data)} bytes; the limit is {max_bytes}")
        token = self._ids.token(24)
        staging = self.root / f".{token}.part"
        staging.write_bytes(data)
        try:
            info = media_render.probe(staging)
        except media_render.MediaProbeError:
            staging.unlink(missing_ok=True)
            if _looks_like_media(data):
                raise UploadRejected("corrupt", "the file looks like media but does not decode") from None
            raise UploadRejected("unsupported_type", "the file is not an image, video or audio file") from None
        fmt = "jpeg" if info["format"] == "jpg" else str(info["format"])
        if info["kind"] not in kinds or (formats is not None and fmt not in formats):
            staging.unlink(missing_ok=True)
            allowed = ", ".join(sorted(formats or kinds))
            raise UploadRejected("unsupported_type", f"a {info['kind']} file ({fmt}) is not accepted here; "
                                                     f"allowed: {allowed}")
        try:
            name = _named(token, fmt, naming)
            while name in self.items:  # a vendor's pattern may keep only part of the token
                name = _named(self._ids.token(24), fmt, naming)
        except ValueError:
            staging.unlink(missing_ok=True)
            raise
        path = self.root / name
        staging.replace(path)
        upload = Upload(
            id=f"upl_{token[:16]}", vendor=vendor, account_id=account_id, name=name, filename=filename,
            content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"), kind=str(info["kind"]),
            format=fmt, size=len(data), width=int(info.get("width") or 0), height=int(info.get("height") or 0),
            seconds=float(info.get("duration") or 0.0), has_audio=bool(info.get("has_audio")),
            created_at=now, path=path,
        )
        with self._lock:
            self.items[name] = upload
        return upload

    def discard(self, name: str) -> None:
        """Forget an upload and delete its file (a vendor rule refused it after it was identified)."""
        with self._lock:
            upload = self.items.pop(name, None)
        if upload is not None:
            upload.path.unlink(missing_ok=True)

    def get(self, name: str) -> Upload | None:
        return self.items.get(name)

    def of_account(self, vendor: str, account_id: str) -> list[Upload]:
        return [u for u in list(self.items.values()) if u.vendor == vendor and u.account_id == account_id]

    @staticmethod
    def url(origin: str, name: str) -> str:
        return f"{origin}{UPLOADS_PATH}/{name}"

    def file_response(self, name: str) -> FileResponse | None:
        upload = self.items.get(name)
        if upload is None:
            return None
        return FileResponse(upload.path, media_type=upload.content_type)

    def mount(self) -> Mount:
        async def serve(request: Request) -> Response:
            response = self.file_response(request.path_params["name"])
            if response is None:
                return JSONResponse({"error": "not_found", "message": "no such upload"}, status_code=404)
            return response

        return Mount(UPLOADS_PATH, routes=[Route("/{name}", serve, methods=["GET", "HEAD"])])

    def reset(self) -> None:
        with self._lock:
            items, self.items = self.items, {}
        for upload in items.values():
            upload.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove a store this process created; a directory the user named is left as it is."""
        if self._owned_tmp is not None:
            self._owned_tmp.cleanup()


def _looks_like_media(data: bytes) -> bool:
    """A file that starts like media but does not decode is corrupt rather than of a wrong type."""
    return (data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"GIF8", b"ID3", b"OggS", b"fLaC",
                             b"\x1aE\xdf\xa3")) or data[4:8] == b"ftyp")
