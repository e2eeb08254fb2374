"""The Starlette application: control API, served media, and every vendor under its prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import vendors as vendor_registry
from .control import api as control
from .core.runtime import Emulator, Settings
from .core.vendor import ALL_METHODS, Pipeline, Vendor


def _vendor_routes(emulator: Emulator, vendor: Vendor) -> list[BaseRoute]:
    async def not_found(request: Request) -> Response:
        return vendor.render_error(vendor.error("not_found", f"no route {request.method} {request.url.path}"))

    return [*Pipeline(emulator, vendor).routes(), Route("/{rest:path}", not_found, methods=ALL_METHODS)]


def _fallback(mounts: list[tuple[str, Vendor]]) -> ASGIApp:
    """What answers a path no route matched, in the vendor's own error shape where it has one.

    Vendor mounts have catch-alls of their own; this covers what their patterns cannot match
    (Starlette's `{path:path}` stops at a line feed, e.g. `/perseworks/v1/x%0Ay`).
    """
    ordered = sorted(mounts, key=lambda m: len(m[0]), reverse=True)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        for prefix, vendor in ordered:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                response = vendor.render_error(vendor.error("not_found", "no such route"))
                break
        else:
            response = JSONResponse({"error": "not_found", "message": "no such route"}, status_code=404)
        await response(scope, receive, send)

    return app


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    vendors = [vendor_registry.load(name) for name in settings.vendors]
    emulator = Emulator(settings, vendors)
    # Vendor mounts first: a poll should not be matched against every control route first.
    mounts = [(vendor.prefix + vendor.spec.base_path, vendor) for vendor in vendors]
    routes: list[BaseRoute] = [Mount(path, routes=_vendor_routes(emulator, v)) for path, v in mounts]
    routes += [control.mount(emulator), emulator.media.mount(), emulator.uploads.mount()]
    if len(vendors) == 1:
        # A single vendor is also served at its documented paths, unchanged.
        vendor = vendors[0]
        mounts.append((vendor.spec.base_path, vendor))
        routes.append(Mount(vendor.spec.base_path, routes=_vendor_routes(emulator, vendor)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        emulator.scheduler.start()
        try:
            yield
        finally:
            await emulator.scheduler.stop()
            await emulator.outbox.close()
            emulator.media.close()
            emulator.uploads.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.default = _fallback(mounts)
    app.state.emulator = emulator
    return app
