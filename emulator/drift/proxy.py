"""A recording reverse proxy: everything sent to its origin goes to the upstream origin (same
path and query, so a vendor's base path, the emulator's /_emulator control API and its media
all pass), and each exchange is recorded, redacted, for the drift checker.

Responses are buffered (a text/event-stream too: the checker reads every event anyway). httpx
decodes content-encoding, so the proxy drops it and content-length along with the hop-by-hop
headers and lets the server recompute the length.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..testing import serve_asgi_in_thread
from .exchange import Exchange, now_iso

# RFC 9110 §7.6.1 connection-specific headers, plus what httpx has already undone or will recompute.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                         "transfer-encoding", "upgrade", "proxy-connection"})
_NOT_FORWARDED_REQUEST = _HOP_BY_HOP | {"host", "content-length"}
_NOT_RETURNED = _HOP_BY_HOP | {"content-encoding", "content-length"}
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
UPSTREAM_TIMEOUT = httpx.Timeout(300.0, connect=30.0)  # a live vendor may take its time to accept a job


@dataclass
class Recorder:
    """The exchanges one proxy saw, in order (thread-safe)."""

    vendor: str
    base_path: str  # where the vendor's spec server URL lies on the upstream, e.g. "/genray" or "/v1"
    exchanges: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            exchange.file = f"#{len(self.exchanges) + 1}"
            self.exchanges.append(exchange)

    def snapshot(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)


def proxy_app(upstream: str, recorder: Recorder) -> Starlette:
    """The ASGI app forwarding to `upstream` (an origin, `scheme://host[:port]`) and recording."""
    parts = urlsplit(upstream)
    origin = f"{parts.scheme}://{parts.netloc}"
    clients: list[httpx.AsyncClient] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT, follow_redirects=False) as client:
            clients.append(client)
            yield

    async def forward(request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        url = httpx.URL(origin).copy_with(raw_path=raw_path + (b"?" + query if query else b""))
        body = await request.body()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED_REQUEST]
        started_at, started = now_iso(), time.perf_counter()
        try:
            upstream_response = await clients[0].request(request.method, url, headers=headers, content=body)
        except httpx.HTTPError as err:
            # Nothing came back: the suite sees a 502 and fails; nothing is recorded to check.
            return Response(f"drift proxy: upstream {origin} failed: {err!r}", status_code=502,
                            media_type="text/plain")
        duration_ms = (time.perf_counter() - started) * 1000
        returned = [(k, v) for k, v in upstream_response.headers.multi_items() if k.lower() not in _NOT_RETURNED]
        recorder.add(Exchange.capture(
            vendor=recorder.vendor, method=request.method, url_path=raw_path.decode("latin-1").split("?")[0],
            base_path=recorder.base_path, query=query.decode("latin-1"), request_headers=request.headers.items(),
            request_body=body, status=upstream_response.status_code, response_headers=returned,
            response_body=upstream_response.content, started_at=started_at, duration_ms=duration_ms))
        response = Response(upstream_response.content, status_code=upstream_response.status_code)
        # Set after construction: a Response built with headers= would add its own content-type.
        for key, value in returned:
            response.raw_headers.append((key.lower().encode("latin-1"), value.encode("latin-1")))
        return response

    return Starlette(routes=[Route("/{path:path}", forward, methods=ALL_METHODS)], lifespan=lifespan)


@dataclass
class RunningProxy:
    origin: str  # http://127.0.0.1:PORT
    recorder: Recorder

    def url(self, path: str = "") -> str:
        return self.origin + path


@contextmanager
def recording_proxy(upstream: str, vendor: str, base_path: str) -> Iterator[RunningProxy]:
    """A recording proxy to `upstream`'s origin on a free loopback port, for the block's duration."""
    recorder = Recorder(vendor, base_path.rstrip("/"))
    with serve_asgi_in_thread(proxy_app(upstream, recorder), f"drift-proxy-{vendor}") as (port, _, _):
        yield RunningProxy(f"http://127.0.0.1:{port}", recorder)
