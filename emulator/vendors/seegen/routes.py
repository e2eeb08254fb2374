"""One handler per operationId of openapi/seegen.yaml."""

from __future__ import annotations

import bisect

from starlette.responses import Response

from ...core.ledger import InsufficientCredits, as_number
from ...core.lifecycle import Task
from ...core.media import MediaSpec
from ...core.vendor import JSON, Call, Handlers
from . import render, rules
from .render import error

handlers = Handlers()
NAME = rules.NAME


def _insufficient(exc: InsufficientCredits) -> Exception:
    return error("insufficient_credits", f"insufficient credits: this task needs {as_number(exc.required)}, "
                 f"{as_number(exc.available)} available")


def _strict_query(call: Call) -> None:
    """A query parameter the operation does not document is refused (400 naming it)."""
    known = {p.name for p in call.operation.parameters if p.location == "query"}
    for name in call.request.query_params:
        if name not in known:
            raise error("invalid", f"unknown query parameter '{name}'", param=name)


def _owned(call: Call, task: Task | None, kind: str, what: str, ref: str) -> Task:
    """The caller's task: 404 when unknown, 403 when another account's ("can only query own tasks")."""
    assert call.account is not None
    if task is None or task.vendor != NAME or task.kind != kind:
        raise error("not_found", f"{what} {ref!r} not found")
    if task.account_id != call.account.id:
        raise error("forbidden", f"access denied: {what} {ref!r} belongs to another account")
    call.emulator.lifecycle.catch_up(task)
    return task


@handlers.operation("createTask")
async def create_task(call: Call) -> Response:
    emulator = call.emulator
    assert call.account is not None and call.key is not None
    name = rules.scenario(call, rules.TASK_SCENARIOS, call.body["inputs"].get("prompt"))
    plan = rules.check_task(call)
    rules.raise_submit_scenario(name)
    rules.require_concurrency(call)
    now = call.now
    task_id = f"task_{emulator.ids.token(20)}"
    try:
        emulator.ledger.hold(call.account.id, task_id, plan.credits, now,
                             note=f"{call.body['model']} {plan.mode} {plan.width}x{plan.height}")
    except InsufficientCredits as exc:
        raise _insufficient(exc) from None
    steps, outcome = rules.task_steps(now, plan, name)
    media = emulator.media.register(MediaSpec(
        plan.kind, plan.fmt, plan.width, plan.height, float(plan.seconds),
        seed=emulator.ids.randint(0, 2**31 - 1), audio=plan.audio))
    # Only what rendering and billing read: the rest of the plan follows from the request body, which is
    # kept, and up to 10 keys a dict takes 272 bytes, not 464 (memory per task is an issue-8 target).
    data = {"credits": plan.credits, "origin": call.origin, "media": media, "width": plan.width,
            "height": plan.height, "callback": call.body.get("callBackUrl")}
    task = Task(id=task_id, vendor=NAME, kind="generation", account_id=call.account.id, key_id=call.key.id,
                created_at=now, steps=steps, outcome=outcome, params=call.body, scenario=name, data=data)
    emulator.lifecycle.start(task)
    return JSON({"taskId": task.id})


@handlers.operation("queryTask")
async def query_task(call: Call) -> Response:
    _strict_query(call)
    ref = call.params["taskId"]
    task = _owned(call, call.emulator.lifecycle.tasks.get(ref), "generation", "task", ref)
    return JSON(render.task_body(task, call.now))


@handlers.operation("getCredits")
async def get_credits(call: Call) -> Response:
    _strict_query(call)
    assert call.account is not None
    balance = call.emulator.ledger.balance(call.account.id)
    return JSON({"credits": as_number(balance.credits), "availableCredits": as_number(balance.available)})


@handlers.operation("createUpscale")
async def create_upscale(call: Call) -> Response:
    emulator = call.emulator
    assert call.account is not None and call.key is not None
    plan, name = rules.check_upscale(call)
    rules.require_concurrency(call)
    now = call.now
    task_id = f"upscale_{emulator.ids.token(20)}"
    data = {"target": plan.target, "credits": plan.credits, "origin": call.origin,
            "probed_seconds": as_number_float(plan.facts.seconds),
            "probed_resolution": f"{plan.facts.width}x{plan.facts.height}",
            "probe": plan.facts.describe(), "callback": call.body.get("callBackUrl")}
    if plan.failure is None:
        try:
            emulator.ledger.hold(call.account.id, task_id, plan.credits, now,
                                 note=f"upscale {plan.target} {plan.facts.seconds:g}s")
        except InsufficientCredits:  # spent since the check: the job fails as documented
            plan.failure = ("INSUFFICIENT_CREDITS", f"this upscale needs {plan.credits} credits")
    if plan.failure is None:
        data["media"] = emulator.media.register(MediaSpec(
            "video", "mp4", plan.width, plan.height, plan.facts.seconds,
            seed=emulator.ids.randint(0, 2**31 - 1)))
        data["width"], data["height"] = plan.width, plan.height
    steps, outcome = rules.upscale_steps(now, plan, name)
    task = Task(id=task_id, vendor=NAME, kind="upscale", account_id=call.account.id, key_id=call.key.id,
                created_at=now, steps=steps, outcome=outcome, params=call.body, scenario=name, data=data)
    emulator.lifecycle.start(task)
    return JSON({"taskId": task.id, "orderId": f"order_{emulator.ids.token(16)}", "status": "validating"})


def as_number_float(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else round(seconds, 3)


@handlers.operation("queryUpscale")
async def query_upscale(call: Call) -> Response:
    _strict_query(call)
    ref = call.params["taskId"]
    task = _owned(call, call.emulator.lifecycle.tasks.get(ref), "upscale", "upscale task", ref)
    return JSON(render.upscale_body(task, call.now))


@handlers.operation("uploadAsset")
async def upload_asset(call: Call) -> Response:
    emulator = call.emulator
    assert call.account is not None and call.key is not None
    facts, name = rules.check_asset_upload(call)
    now = call.now
    steps, outcome = rules.asset_steps(now, name)
    body = call.body
    data = {"asset_id": rules.next_asset_number(emulator), "type": body["type"], "url": body["url"],
            "name": body.get("name"), "facts": facts}
    task = Task(id=rules.new_volc_id(emulator, now), vendor=NAME, kind="asset", account_id=call.account.id,
                key_id=call.key.id, created_at=now, steps=steps, outcome=outcome, params=body,
                scenario=name, data=data)
    emulator.lifecycle.start(task)
    rules.index_asset(emulator, task)
    return JSON(render.asset_body(task, now))


@handlers.operation("getAssetStatus")
async def get_asset_status(call: Call) -> Response:
    _strict_query(call)
    ref = call.params["assetId"]
    task = _owned(call, rules.find_asset(call.emulator, ref), "asset", "asset", ref)
    return JSON(render.asset_body(task, call.now))


@handlers.operation("listAssets")
async def list_assets(call: Call) -> Response:
    """Newest first by `assetId`. Asset numbers grow with creation, so the account's assets, kept in
    creation order, are sorted by them: the cursor is found by bisection and a page costs what it
    shows (plus what a `type` or `status` filter passes over)."""
    _strict_query(call)
    assert call.account is not None
    params, now = call.params, call.now
    limit = int(params.get("limit", 20))
    cursor = params.get("cursor")
    kind, status = params.get("type"), params.get("status")
    assets = call.emulator.lifecycle.of_kind(call.account.id, "asset")
    end = len(assets) if cursor is None else bisect.bisect_left(assets, int(cursor), key=_asset_number)
    matched: list[Task] = []
    for position in range(end - 1, -1, -1):
        task = assets[position]
        if task.vendor != NAME:
            continue
        if kind is not None and task.data["type"] != kind:
            continue
        if status is not None and rules.asset_status(task, now) != status:
            continue
        matched.append(task)
        if len(matched) > limit:
            break
    page = matched[:limit]
    next_cursor = page[-1].data["asset_id"] if len(matched) > limit else None
    return JSON({"items": [render.asset_body(t, now) for t in page], "nextCursor": next_cursor})


def _asset_number(task: Task) -> int:
    return int(task.data["asset_id"])
