"""The app matches vendor operations itself, ahead of Starlette's router (see `_OperationRoutes`):
it must pick exactly the endpoint and path parameters the router would, and leave everything
else (control API, media, uploads, catch-alls, a server's root_path) to the router."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Match, Mount

from emulator.app import EmulatorApp, create_app
from emulator.core.runtime import Settings
from emulator.vendors import NAMES, load


def _scope(path: str, method: str = "GET", root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": root_path, "headers": [],
            "query_string": b""}


def _router_choice(app: EmulatorApp, path: str) -> tuple[Any, dict[str, Any]] | None:
    """What Starlette's router would run for this path: (endpoint, path params), or None."""
    scope = _scope(path)
    for mount in app.router.routes:
        match, child = mount.matches(scope)
        if match is Match.FULL:
            assert isinstance(mount, Mount)
            inner = {**scope, **child}
            for route in mount.routes:
                match, grand = route.matches(inner)
                if match is Match.FULL:
                    return grand["endpoint"], grand["path_params"]
            return None
    return None


def _concrete_paths(vendor_name: str) -> list[str]:
    vendor = load(vendor_name)
    return [re.sub(r"\{[^}]+\}", "abc_123", op.path) for op in vendor.spec.operations.values()]


APPS = {"all vendors": None, **{name: [name] for name in NAMES}}


@pytest.fixture(params=list(APPS), scope="module")
def app(request: pytest.FixtureRequest) -> EmulatorApp:
    chosen = APPS[request.param] or NAMES
    return create_app(Settings(vendors=chosen, clock="manual", seed=1))


def test_every_operation_path_picks_the_routers_endpoint_and_params(app: EmulatorApp) -> None:
    checked = 0
    for name in app.emulator.vendors:
        vendor = app.emulator.vendors[name]
        prefixes = [vendor.prefix + vendor.spec.base_path]
        if len(app.emulator.vendors) == 1:
            prefixes.append(vendor.spec.base_path)  # a lone vendor is also served at its documented paths
        for prefix in prefixes:
            for path in _concrete_paths(name):
                full = prefix + path
                expected = _router_choice(app, full)
                assert expected is not None, full
                got = app.operation_routes.match(_scope(full))
                assert got is not None, full
                assert (got[1], got[2]) == expected, full
                assert got[0] == prefix
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("path", ["/_emulator/accounts", "/_emulator/ui", "/media/x.mp4", "/uploads/x.png",
                                  "/perseworks/v1/no/such/route", "/perseworks/v1/x\ny", "/nowhere"])
def test_what_is_not_an_operation_is_left_to_the_router(app: EmulatorApp, path: str) -> None:
    assert app.operation_routes.match(_scope(path)) is None


def test_a_server_root_path_is_left_to_the_router(app: EmulatorApp) -> None:
    name = next(iter(app.emulator.vendors))
    vendor = app.emulator.vendors[name]
    path = vendor.prefix + vendor.spec.base_path + _concrete_paths(name)[0]
    assert app.operation_routes.match(_scope(path)) is not None
    assert app.operation_routes.match(_scope("/behind-a-proxy" + path, root_path="/behind-a-proxy")) is None
