"""Helpers for running the emulator inside a test process, and for checking responses
against the OpenAPI documents. Used by this project's tests and contract suite; usable by
anyone's tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import uvicorn

from .app import create_app
from .core import spec as spec_module
from .core.runtime import Emulator, Settings
from .vendors import NAMES

# Where each vendor's spec is mounted on a multi-vendor server: prefix + server base path.
_MOUNTS: dict[str, str] = {}


def vendor_mount(name: str) -> str:
    if name not in _MOUNTS:
        from .vendors import load

        vendor = load(name)
        _MOUNTS[name] = vendor.prefix + vendor.spec.base_path
    return _MOUNTS[name]


@dataclass
class RunningEmulator:
    base_url: str
    emulator: Emulator
    server: uvicorn.Server
    thread: threading.Thread

    def vendor_url(self, vendor: str) -> str:
        return self.base_url + vendor_mount(vendor)

    # One client for the helpers below: making an httpx.Client loads a TLS context (tens of ms),
    # which used to dominate a test that advances the clock in small steps.
    _shared: httpx.Client | None = field(default=None, init=False, repr=False)

    def control(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url + "/_emulator", **kwargs)

    def _control(self) -> httpx.Client:
        if self._shared is None:
            self._shared = self.control(timeout=60)
        return self._shared

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    def create_account(self, vendor: str, **body: Any) -> dict[str, Any]:
        response = self._control().post("/accounts", json={"vendor": vendor, **body})
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> dict[str, Any]:
        response = self._control().post("/clock/advance", json={"seconds": seconds})
        response.raise_for_status()
        return response.json()


@contextmanager
def serve_asgi_in_thread(app: Any, name: str) -> Iterator[tuple[int, uvicorn.Server, threading.Thread]]:
    """Serve an ASGI app on a free loopback port in a daemon thread for the block's duration."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", interface="asgi3"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=name)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"{name} failed to start")
        threading.Event().wait(0.01)
    try:
        yield sock.getsockname()[1], server, thread
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_in_thread(settings: Settings | None = None) -> Iterator[RunningEmulator]:
    """A real HTTP server on a free loopback port, in this process, for the block's duration."""
    app = create_app(settings or Settings(vendors=NAMES, clock="manual"))
    with serve_asgi_in_thread(app, "seedance-emulator") as (port, server, thread):
        running = RunningEmulator(f"http://127.0.0.1:{port}", app.state.emulator, server, thread)
        try:
            yield running
        finally:
            running.close()


@dataclass
class Received:
    path: str  # the part after the receiver's base URL, e.g. "/genray"
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return orjson.loads(self.body)


async def read_body(receive: Any) -> bytes:
    """The whole body of an ASGI HTTP request (for receivers written as bare ASGI apps)."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class WebhookReceiver:
    """A real webhook receiver on loopback for tests: records every POST and answers each path
    with the statuses it is told to, in order (200 once they run out), optionally after a delay.

        with WebhookReceiver.running() as hooks:
            hooks.answer("/a", 500, 503)                # first two attempts fail
            create(..., webhook_url=hooks.url("/a"))
            ...
            assert [r.json()["event"] for r in hooks.at("/a")] == [...]
    """

    def __init__(self) -> None:
        self.base_url = ""
        self.received: list[Received] = []
        self.delay_seconds = 0.0
        self._answers: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def answer(self, path: str, *statuses: int) -> None:
        with self._lock:
            self._answers[path] = list(statuses)

    def at(self, path: str) -> list[Received]:
        return [r for r in list(self.received) if r.path == path]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self._answers.clear()
        self.delay_seconds = 0.0

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]
                await send({"type": event + ".complete"})  # lifespan.startup / lifespan.shutdown
                if event == "lifespan.shutdown":
                    return
        body = await read_body(receive)
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self.received.append(Received(path, body, headers))
            queue = self._answers.get(path) or []
            status = queue.pop(0) if queue else 200
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[WebhookReceiver]:
        receiver = cls()
        with serve_asgi_in_thread(receiver._app, "webhook-receiver") as (port, _, _):
            receiver.base_url = f"http://127.0.0.1:{port}"
            yield receiver


@dataclass
class SpecCheck:
    """An httpx response hook that fails a call whose response the vendor's spec does not document.

    Every JSON body is validated against the response schema of its (operation, status,
    content type); every `data:` event of a text/event-stream against the media type's
    `x-item-schema`. Responses from outside any vendor mount (control API, media) pass.
    """

    mounts: dict[str, str] = field(default_factory=dict)  # path prefix → vendor
    checked: int = 0

    @classmethod
    def for_vendors(cls, *vendors: str, root: str | None = None) -> SpecCheck:
        mounts = {vendor_mount(v): v for v in vendors}
        if root is not None:
            mounts[spec_module.load(root).base_path] = root
        return cls(mounts)

    def _locate(self, path: str) -> tuple[spec_module.Spec, str] | None:
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if path == prefix or path.startswith(prefix + "/"):
                return spec_module.load(self.mounts[prefix]), path[len(prefix):]
        return None

    def __call__(self, response: httpx.Response) -> None:
        located = self._locate(urlsplit(str(response.request.url)).path)
        if located is None:
            return
        spec, rest = located
        op = spec.match(response.request.method, rest)
        if op is None:
            return  # an undocumented path; the vendor's 404 for it is checked elsewhere
        response.read()
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        try:
            if media_type == "text/event-stream":
                self._check_stream(spec, op, response)
            else:
                body = orjson.loads(response.content) if response.content else None
                spec.validate_response(op, response.status_code, media_type, body)
        except spec_module.SchemaError as err:
            raise AssertionError(f"{op.id} {response.status_code}: {err.param or ''} {err.message}\n"
                                 f"body: {response.text[:2000]}") from None
        self.checked += 1

    @staticmethod
    def _check_stream(spec: spec_module.Spec, op: spec_module.Operation, response: httpx.Response) -> None:
        spec.response_schema(op, response.status_code, "text/event-stream")
        entry = spec.resolve(op.responses[str(response.status_code)])["content"]["text/event-stream"]
        item = entry.get("x-item-schema")
        if item is None:
            return
        name = item["$ref"].rsplit("/", 1)[-1]
        for line in response.text.splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                spec.validate_schema(name, orjson.loads(line[6:]))
