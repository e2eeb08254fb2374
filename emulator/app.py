"""The Starlette application: control API, served media, and every vendor under its prefix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import vendors as vendor_registry
from .control import api as control
from .core.runtime import Emulator, Settings
from .core.vendor import ALL_METHODS, Pipeline, Vendor

CATCH_ALL = "/{rest:path}"


def _vendor_routes(emulator: Emulator, vendor: Vendor) -> list[BaseRoute]:
    async def not_found(request: Request) -> Response:
        return vendor.render_error(vendor.error("not_found", f"no route {request.method} {request.url.path}"))

    return [*Pipeline(emulator, vendor).routes(), Route(CATCH_ALL, not_found, methods=ALL_METHODS)]


Endpoint = Callable[[Request], Awaitable[Response]]


class _OperationRoutes:
    """Every vendor's operation routes under their mounts, matched in one step.

    What Starlette's router does for these requests (its two middlewares, the walk over every
    mount, the mount's own router, the route's request wrapper) cost a poll about as much as
    the emulator's own work on it. The endpoints catch every error themselves, so this answers
    the same; whatever it does not match exactly as the router would (a `root_path` set by the
    server, a path with a line feed, no operation route) goes through the router unchanged.
    """

    def __init__(self, router_routes: list[BaseRoute], vendor_mounts: dict[int, list[BaseRoute]]):
        # In the router's order: (prefix, operation routes) for a vendor's mount, (prefix, None) for
        # anything else (control API, media, uploads), which the router would try at that point.
        self._mounts: list[tuple[str, list[Route] | None]] = []
        for mount in router_routes:
            assert isinstance(mount, Mount)
            routes = vendor_mounts.get(id(mount))
            own = None if routes is None else [r for r in routes if isinstance(r, Route) and r.path != CATCH_ALL]
            self._mounts.append((mount.path, own))

    def match(self, scope: Scope) -> tuple[str, Endpoint, dict[str, Any]] | None:
        if scope.get("root_path"):
            return None
        path: str = scope["path"]
        if "\n" in path:
            return None
        for prefix, routes in self._mounts:
            if path.startswith(prefix) and path[len(prefix):len(prefix) + 1] == "/":
                if routes is None:
                    return None
                rest = path[len(prefix):]
                for route in routes:
                    found = route.path_regex.match(rest)
                    if found is not None:
                        convert = route.param_convertors
                        params = {k: convert[k].convert(v) for k, v in found.groupdict().items()}
                        return prefix, route.endpoint, params
                return None
        return None


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


class EmulatorApp(Starlette):
    """Starlette, plus what sees every request from the outside: the request journal and the
    fault rule that drops a connection (which needs the server's own `send`)."""

    emulator: Emulator
    operation_routes: _OperationRoutes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        state = self.emulator.state

        async def observed(message: Message) -> None:
            nonlocal status
            if scope.get("emulator.drop"):
                return  # nothing of a dropped request's answer leaves the server
            if message["type"] == "http.response.start":
                status = message["status"]
                if state is not None:  # what is acknowledged is on disk before the answer leaves
                    state.checkpoint(self.emulator, force=scope.get("method") not in ("GET", "HEAD"))
            await send(message)

        try:
            fast = self.operation_routes.match(scope)
            if fast is None:
                await super().__call__(scope, receive, observed)
            else:  # as the router and the route would have set the scope
                prefix, endpoint, params = fast
                scope["app"] = self
                scope["path_params"] = params
                scope["app_root_path"] = scope.get("app_root_path", "")
                scope["root_path"] = prefix
                scope["endpoint"] = endpoint
                response = await endpoint(Request(scope, receive, observed))
                await response(scope, receive, observed)
        finally:
            dropped = bool(scope.get("emulator.drop"))
            if dropped:
                await _drop_connection(send)
            if state is not None:
                state.checkpoint(self.emulator)  # what a stream billed after its first byte
            self._record(scope, status, started, dropped)

    def _record(self, scope: Scope, status: int, started: float, dropped: bool) -> None:
        path = scope.get("path", "")
        if path.startswith(control.PREFIX):
            return  # the journal is of what clients asked the vendors, not of test plumbing
        vendor, operation = scope.get("emulator.op") or (None, None)
        emulator = self.emulator
        emulator.journal.record_fields(emulator.clock.now(), time.time(), scope.get("method", ""), path, status,
                                       round((time.perf_counter() - started) * 1000, 3), vendor, operation,
                                       scope.get("emulator.key"), scope.get("emulator.faults", ()), dropped)


async def _drop_connection(send: Send) -> None:
    """Close the client's connection with no answer at all. Uvicorn's `send` is a bound method of
    its request cycle, which holds the transport; once the transport is aborted, uvicorn sees a
    client that went away and sends nothing. Under any other server the request ends in an
    error instead (the server's own 500)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("fault: connection dropped")
    transport.abort()
    await asyncio.sleep(0)  # let the server notice the disconnect before it looks for a response


def create_app(settings: Settings | None = None) -> EmulatorApp:
    settings = settings or Settings()
    vendors = [vendor_registry.load(name) for name in settings.vendors]
    emulator = Emulator(settings, vendors)
    # Vendor mounts first: a poll should not be matched against every control route first.
    mounts = [(vendor.prefix + vendor.spec.base_path, vendor) for vendor in vendors]
    routes: list[BaseRoute] = [Mount(path, routes=_vendor_routes(emulator, v)) for path, v in mounts]
    vendor_mounts = {id(m): m.routes for m in routes}
    routes += [control.mount(emulator), emulator.media.mount(), emulator.uploads.mount()]
    if len(vendors) == 1:
        # A single vendor is also served at its documented paths, unchanged.
        vendor = vendors[0]
        mounts.append((vendor.spec.base_path, vendor))
        routes.append(Mount(vendor.spec.base_path, routes=_vendor_routes(emulator, vendor)))
        vendor_mounts[id(routes[-1])] = routes[-1].routes

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
            emulator.journal.stop_logging()
            if emulator.state is not None:
                emulator.state.checkpoint(emulator, force=True)
                emulator.state.close()

    app = EmulatorApp(routes=routes, lifespan=lifespan)
    app.emulator = emulator
    app.operation_routes = _OperationRoutes(routes, vendor_mounts)
    app.router.default = _fallback(mounts)
    app.state.emulator = emulator
    return app
