"""Media the emulator serves itself: real files with the promised size and duration.

A task registers what its output must be (a `MediaSpec`) and gets a name; the file is
rendered on first download and cached by spec, so a thousand tasks that are never
downloaded cost nothing, and identical outputs are rendered once.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from . import media_render
from .clock import Clock
from .ids import IdFactory

MEDIA_PATH = "/media"
MEDIA_TYPES = {"mp4": "video/mp4", "png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg",
               "webp": "image/webp", "m4a": "audio/mp4", "mp3": "audio/mpeg"}


@dataclass(frozen=True, slots=True)
class MediaSpec:
    kind: Literal["video", "image", "audio"]
    fmt: str
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    fps: int = 24
    seed: int = 0
    audio: bool = False

    def file_name(self) -> str:
        return (f"{self.kind}-{self.width}x{self.height}-{self.seconds:g}s-{self.fps}fps-"
                f"{self.seed}-{int(self.audio)}.{self.fmt}")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the emulator knows of a file it serves, without fetching or decoding anything."""

    kind: str  # video | image | audio
    format: str
    width: int
    height: int
    seconds: float
    has_audio: bool


def served_name(url: str) -> str | None:
    """The last path segment of an http(s) URL: the name under which the emulator serves a file."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[]": not a URL this emulator could have served
        return None
    if parts.scheme not in ("http", "https") or not parts.path:
        return None
    return parts.path.rsplit("/", 1)[-1] or None


class MediaStore:
    def __init__(self, ids: IdFactory, cache_dir: Path | None = None, clock: Clock | None = None):
        self._ids = ids
        self._clock = clock
        self.expires: dict[str, float] = {}  # name → emulated time after which the URL answers 403
        self._owned_tmp = None if cache_dir else tempfile.TemporaryDirectory(prefix="seedance-media-")
        self.cache_dir = Path(cache_dir or self._owned_tmp.name)  # type: ignore[union-attr]
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # name → (shape, seed): the spec without its seed is one object shared by every file of that
        # shape, so a registration costs a pair, not a spec (a task keeps its media until a reset, and
        # memory per task is an issue-8 target). A `MediaSpec` value is an older `--state` file's.
        self.items: dict[str, tuple[MediaSpec, int] | MediaSpec] = {}
        self._shapes: dict[tuple[Any, ...], MediaSpec] = {}
        self._render_locks: dict[MediaSpec, threading.Lock] = {}
        self._lock = threading.Lock()

    def register(self, spec: MediaSpec) -> str:
        name = f"{self._ids.token(24)}.{spec.fmt}"
        # Looked up by a plain tuple: hashing one is C, a frozen dataclass's hash is Python (a submit's path).
        key = (spec.kind, spec.fmt, spec.width, spec.height, spec.seconds, spec.fps, spec.audio)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = replace(spec, seed=0)
        self.items[name] = (shape, spec.seed)
        return name

    def spec(self, name: str) -> MediaSpec | None:
        """What was registered under `name`, or None."""
        item = self.items.get(name)
        if item is None or isinstance(item, MediaSpec):
            return item
        shape, seed = item
        return replace(shape, seed=seed)

    @staticmethod
    def url(origin: str, name: str) -> str:
        return f"{origin}{MEDIA_PATH}/{name}"

    def set_expiry(self, name: str, at: float) -> None:
        """The URL stops working at `at` (emulated time), as a vendor's signed links do."""
        self.expires[name] = at

    def expired(self, name: str) -> bool:
        at = self.expires.get(name)
        return at is not None and self._clock is not None and self._clock.now() >= at

    def info(self, name: str) -> MediaInfo | None:
        spec = self.spec(name)
        if spec is None:
            return None
        return MediaInfo(spec.kind, spec.fmt, spec.width, spec.height, spec.seconds,
                         spec.audio or spec.kind == "audio")

    def render(self, spec: MediaSpec) -> Path:
        """The file for `spec`, rendered now if it was never rendered (thread-safe, once)."""
        path = self.cache_dir / spec.file_name()
        if path.exists():
            return path
        with self._lock:
            lock = self._render_locks.setdefault(spec, threading.Lock())
        with lock:
            if not path.exists():
                if spec.kind == "video":
                    media_render.render_video(path, width=spec.width, height=spec.height,
                                              seconds=spec.seconds, fps=spec.fps, seed=spec.seed,
                                              audio=spec.audio)
                elif spec.kind == "image":
                    media_render.render_image(path, width=spec.width, height=spec.height,
                                              fmt=spec.fmt, seed=spec.seed)
                else:
                    media_render.render_audio(path, seconds=spec.seconds, seed=spec.seed)
        return path

    def mount(self) -> Mount:
        async def serve(request: Request) -> Response:
            name = request.path_params["name"]
            spec = self.spec(name)
            if spec is None:
                return JSONResponse({"error": "not_found", "message": "no such media"}, status_code=404)
            if self.expired(name):
                return JSONResponse({"error": "expired", "message": "this media URL has expired"}, status_code=403)
            path = await asyncio.to_thread(self.render, spec)
            return FileResponse(path, media_type=MEDIA_TYPES.get(spec.fmt, "application/octet-stream"))

        return Mount(MEDIA_PATH, routes=[Route("/{name}", serve, methods=["GET", "HEAD"])])

    def reset(self) -> None:
        self.items.clear()
        self._shapes.clear()
        self.expires.clear()

    def close(self) -> None:
        """Remove rendered files the store owns (a cache dir given to it is left alone)."""
        if self._owned_tmp is not None:
            self._owned_tmp.cleanup()
