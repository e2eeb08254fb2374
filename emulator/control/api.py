"""`/_emulator/...`: what tests and people use to drive the emulator (DESIGN.md, "Control API").

Answers loopback clients only unless the server was started with `--control-public`:
it mints keys and moves money, so it must not be reachable from a network by accident.
"""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from ..core import spec as spec_module
from ..core.faults import FaultError
from ..core.journal import prometheus
from ..core.ledger import as_number
from ..core.lifecycle import Task
from ..core.runtime import Emulator
from ..core.scenarios import SCENARIOS
from ..core.vendor import JSON
from . import ui

PREFIX = "/_emulator"
STARTED = time.time()
# This API's own OpenAPI document, kept beside the vendors' (a wheel installs it with them).
CONTROL_DOCUMENT = "control.yaml"


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in ("localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ControlError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


# Above this a figure is a mistake, not a test: larger integers do not fit JSON's usual 64 bits
# (orjson refuses them, so the account could never be shown) and floats stop being exact.
MAX_NUMBER = 10**15


def _number(body: dict[str, Any], name: str, *, default: Any = None, minimum: float = 0) -> Any:
    value = body.get(name, default)
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or not minimum <= value <= MAX_NUMBER):
        raise ControlError(400, f"'{name}' must be a number from {minimum} to {MAX_NUMBER}")
    return value


def _string(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, f"'{name}' must be a string")


def _string_list(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise ControlError(400, f"'{name}' must be a list of strings")


def describe_task(task: Task, now: float) -> dict[str, Any]:
    return {
        "id": task.id, "vendor": task.vendor, "kind": task.kind, "account_id": task.account_id,
        "created_at": task.created_at, "scenario": task.scenario,
        "state": task.phase_at(now).value, "progress": task.progress_at(now),
        "timeline": [{"state": s.phase.value, "at": s.at} for s in task.steps],
        "outcome": {"error_code": task.outcome.error_code, "error_message": task.outcome.error_message,
                    "output": task.outcome.output},
        "params": task.params,
    }


def mount(emulator: Emulator) -> Mount:
    settings = emulator.settings

    def refused(request: Request) -> Response | None:
        """The answer to a client the control API does not serve (not loopback, unless --control-public)."""
        client = request.client.host if request.client else None
        if settings.control_public or _is_loopback(client):
            return None
        return JSON({"error": "the control API answers loopback clients only "
                              "(start with --control-public to change that)"}, status_code=403)

    def guarded(fn: Callable[[Request], Awaitable[Any]], status: int = 200) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            refusal = refused(request)
            if refusal is not None:
                return refusal
            try:
                return JSON(await fn(request), status_code=status)
            except ControlError as err:
                return JSON({"error": err.message}, status_code=err.status)

        return endpoint

    def account_of(request: Request) -> Any:
        account = emulator.accounts.accounts.get(request.path_params["account_id"])
        if account is None:
            raise ControlError(404, "no such account")
        return account

    async def health(request: Request) -> dict[str, Any]:
        # `pid` lets a harness that started a server on a port it chose confirm that the answer is
        # from its own process, not from another server that took the port first.
        return {"status": "ok", "pid": os.getpid(), "vendors": list(emulator.vendors),
                "clock": emulator.clock.describe()}

    async def reset(request: Request) -> dict[str, Any]:
        emulator.reset()
        return {"status": "reset", "clock": emulator.clock.describe()}

    async def create_account(request: Request) -> dict[str, Any]:
        body = await _json(request)
        vendor = body.get("vendor")
        if vendor not in emulator.vendors:
            raise ControlError(400, f"'vendor' must be one of {sorted(emulator.vendors)}")
        _number(body, "credits")
        _number(body, "rate_limit_rpm")
        _string_list(body, "allowed_models")
        _string_list(body, "allowed_ips")
        for name in ("name", "plan", "webhook_url"):
            _string(body, name)
        if "api_key" in body and not isinstance(body["api_key"], str):
            raise ControlError(400, "'api_key' (a key to pin) must be a string")
        if "scenario" in body and body["scenario"] not in SCENARIOS:
            raise ControlError(400, f"'scenario' (the account's default) must be one of {sorted(SCENARIOS)}")
        try:
            return emulator.create_account(vendor, body)
        except ValueError as err:  # e.g. a malformed allowed_ips entry
            raise ControlError(400, str(err)) from None

    async def list_accounts(request: Request) -> list[dict[str, Any]]:
        vendor = request.query_params.get("vendor")
        return [emulator.describe_account(a) for a in emulator.accounts.accounts.values()
                if vendor is None or a.vendor == vendor]

    async def get_account(request: Request) -> dict[str, Any]:
        return emulator.describe_account(account_of(request))

    async def create_key(request: Request) -> dict[str, Any]:
        account = account_of(request)
        body = await _json(request)
        _number(body, "rate_limit_rpm")
        _string_list(body, "allowed_models")
        _string_list(body, "allowed_ips")
        _string(body, "name")
        if "api_key" in body and not isinstance(body["api_key"], str):
            raise ControlError(400, "'api_key' (a key to pin) must be a string")
        limit = emulator.vendors[account.vendor].max_keys(emulator, account)
        active = sum(1 for k in emulator.accounts.keys_of(account.id) if k.active)
        if limit is not None and active >= limit:
            raise ControlError(409, f"the account has {active} active keys; {account.vendor} allows {limit} "
                                    "(revoke one first)")
        try:
            key, plaintext = emulator.issue_key(account, body)
        except ValueError as err:
            raise ControlError(400, str(err)) from None
        return {"key_id": key.id, "api_key": plaintext, **key.describe()}

    async def revoke_key(request: Request) -> dict[str, Any]:
        account = account_of(request)
        key = emulator.accounts.keys.get(request.path_params["key_id"])
        if key is None or key.account_id != account.id:
            raise ControlError(404, "no such key on this account")
        emulator.accounts.revoke(key.id, emulator.clock.now())
        return key.describe()

    async def top_up(request: Request) -> dict[str, Any]:
        account = account_of(request)
        vendor = emulator.vendors[account.vendor]
        body = await _json(request)
        usd = _number(body, "usd")
        credits = _number(body, "credits")
        if (usd is None) == (credits is None):
            raise ControlError(400, "give exactly one of 'usd' (a recharge, with the vendor's bonus "
                                    "tiers) or 'credits' (a plain grant)")
        now = emulator.clock.now()
        entries = []
        if usd is not None:
            base = Decimal(str(usd)) * vendor.credits_per_usd
            entries.append(emulator.ledger.top_up(account.id, base, now, note=f"recharge ${usd}"))
            rate = vendor.top_up_bonus(float(usd))
            if rate:
                bonus = base * Decimal(str(rate))
                entries.append(emulator.ledger.top_up(account.id, bonus, now,
                                                      note=f"bonus +{rate:.0%} on ${usd}"))
        else:
            entries.append(emulator.ledger.top_up(account.id, Decimal(str(credits)), now, note="grant"))
        balance = emulator.ledger.balance(account.id)
        return {"account_id": account.id, "added": as_number(sum((e.amount for e in entries), Decimal(0))),
                "entries": [e.describe() for e in entries], "credits": as_number(balance.credits),
                "available": as_number(balance.available)}

    async def clock(request: Request) -> dict[str, Any]:
        return emulator.clock.describe()

    async def advance(request: Request) -> dict[str, Any]:
        body = await _json(request)
        seconds = _number(body, "seconds")
        if seconds is None:
            raise ControlError(400, "'seconds' is required")
        await emulator.advance(float(seconds))
        return emulator.clock.describe()

    async def webhooks(request: Request) -> list[dict[str, Any]]:
        return [d.describe() for d in emulator.outbox.deliveries]

    async def tasks(request: Request) -> list[dict[str, Any]]:
        now = emulator.clock.now()
        vendor = request.query_params.get("vendor")
        account = request.query_params.get("account_id")
        out = []
        for task in list(emulator.lifecycle.tasks.values()):
            if (vendor and task.vendor != vendor) or (account and task.account_id != account):
                continue
            emulator.lifecycle.catch_up(task, now)
            out.append(describe_task(task, now))
        return out

    async def assets(request: Request) -> list[dict[str, Any]]:
        vendor = request.query_params.get("vendor")
        account_id = request.query_params.get("account_id")
        chosen = [a for a in list(emulator.accounts.accounts.values())
                  if (vendor is None or a.vendor == vendor) and (account_id is None or a.id == account_id)]
        return list(ui.assets_of(emulator, chosen))

    async def ui_state(request: Request) -> dict[str, Any]:
        return ui.snapshot(emulator, request.query_params.get("account"))

    def ui_file(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            refusal = refused(request)
            if refusal is not None:
                return refusal
            return Response(ui.static_file(name), media_type=ui.STATIC_FILES[name], headers=ui.SECURITY_HEADERS)

        return endpoint

    async def faults(request: Request) -> list[dict[str, Any]]:
        return [f.describe() for f in list(emulator.faults.rules.values())]

    async def add_fault(request: Request) -> dict[str, Any]:
        body = await _json(request)
        try:
            return emulator.faults.add(body, emulator.clock.now(), vendors=emulator.vendors).describe()
        except FaultError as err:
            raise ControlError(400, str(err)) from None

    async def remove_fault(request: Request) -> dict[str, Any]:
        fault = emulator.faults.remove(request.path_params["fault_id"])
        if fault is None:
            raise ControlError(404, "no such fault rule")
        return fault.describe()

    async def clear_faults(request: Request) -> dict[str, Any]:
        removed = len(emulator.faults.rules)
        emulator.faults.reset()
        return {"removed": removed}

    async def requests(request: Request) -> list[dict[str, Any]]:
        limit = request.query_params.get("limit")
        if limit is not None and not (limit.isdigit() and int(limit) > 0):
            raise ControlError(400, "'limit' must be a positive integer")
        return emulator.journal.recent(int(limit) if limit else None, vendor=request.query_params.get("vendor"))

    async def metrics(request: Request) -> Response:
        refusal = refused(request)
        if refusal is not None:
            return refusal
        now = emulator.clock.now()
        tasks = Counter((t.vendor, t.phase_at(now).value) for t in list(emulator.lifecycle.tasks.values()))
        webhooks = Counter((d.vendor, d.state) for d in list(emulator.outbox.deliveries))
        text = prometheus(emulator.journal, tasks=tasks, webhooks=webhooks, started=STARTED)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def scenarios(request: Request) -> dict[str, str]:
        return dict(SCENARIOS)

    def document(as_json: bool) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            refusal = refused(request)
            if refusal is not None:
                return refusal
            # Read at each call (a rare one), from wherever the documents are found now (SEEDANCE_SPEC_DIR).
            folder = spec_module.SPEC_DIR
            try:
                text = (folder / CONTROL_DOCUMENT).read_bytes()
            except OSError:
                return JSON({"error": f"no {CONTROL_DOCUMENT} in {folder}"}, status_code=404)
            if as_json:
                return JSON(yaml.safe_load(text))
            return Response(text, media_type="application/yaml")

        return endpoint

    return Mount(PREFIX, routes=[
        Route("/health", guarded(health), methods=["GET"]),
        Route("/reset", guarded(reset), methods=["POST"]),
        Route("/accounts", guarded(create_account, 201), methods=["POST"]),
        Route("/accounts", guarded(list_accounts), methods=["GET"]),
        Route("/accounts/{account_id}", guarded(get_account), methods=["GET"]),
        Route("/accounts/{account_id}/keys", guarded(create_key, 201), methods=["POST"]),
        Route("/accounts/{account_id}/keys/{key_id}", guarded(revoke_key), methods=["DELETE"]),
        Route("/accounts/{account_id}/topups", guarded(top_up, 201), methods=["POST"]),
        Route("/clock", guarded(clock), methods=["GET"]),
        Route("/clock/advance", guarded(advance), methods=["POST"]),
        Route("/webhooks", guarded(webhooks), methods=["GET"]),
        Route("/tasks", guarded(tasks), methods=["GET"]),
        Route("/faults", guarded(faults), methods=["GET"]),
        Route("/faults", guarded(add_fault, 201), methods=["POST"]),
        Route("/faults", guarded(clear_faults), methods=["DELETE"]),
        Route("/faults/{fault_id}", guarded(remove_fault), methods=["DELETE"]),
        Route("/requests", guarded(requests), methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/scenarios", guarded(scenarios), methods=["GET"]),
        Route("/openapi.yaml", document(as_json=False), methods=["GET"]),
        Route("/openapi.json", document(as_json=True), methods=["GET"]),
        Route("/assets", guarded(assets), methods=["GET"]),
        Route("/ui", ui_file("index.html"), methods=["GET"]),
        Route("/ui/state", guarded(ui_state), methods=["GET"]),
        *(Route(f"/ui/{name}", ui_file(name), methods=["GET"]) for name in ui.STATIC_FILES if name != "index.html"),
    ])
