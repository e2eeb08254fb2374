"""The Starlette application: control API, served media, and every vendor under its prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from . import vendors as vendor_registry
from .control import api as control
from .core.runtime import Emulator, Settings
from .core.vendor import ALL_METHODS, Pipeline, Vendor


def _vendor_routes(emulator: Emulator, vendor: Vendor) -> list[BaseRoute]:
    async def not_found(request: Request) -> Response:
        return vendor.render_error(vendor.error("not_found", f"no route {request.method} {request.url.path}"))

    return [*Pipeline(emulator, vendor).routes(), Route("/{rest:path}", not_found, methods=ALL_METHODS)]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    vendors = [vendor_registry.load(name) for name in settings.vendors]
    emulator = Emulator(settings, vendors)
    routes: list[BaseRoute] = [*control.routes(emulator), *emulator.media.routes()]
    for vendor in vendors:
        routes.append(Mount(vendor.prefix + vendor.spec.base_path, routes=_vendor_routes(emulator, vendor)))
    if len(vendors) == 1:
        # A single vendor is also served at its documented paths, unchanged.
        vendor = vendors[0]
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

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
