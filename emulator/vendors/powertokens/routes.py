"""One handler per operationId of openapi/powertokens.yaml."""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from ...core.ledger import InsufficientCredits
from ...core.lifecycle import Phase, Task
from ...core.media import MediaSpec
from ...core.uploads import UploadedFile, UploadRejected
from ...core.vendor import JSON, Call, Handlers
from . import render, rules
from .render import error
from .rules import NAME

handlers = Handlers()


def _own_task(call: Call, task_id: str) -> Task:
    """The caller's video task of the last 7 days, or the Ark 404."""
    assert call.account is not None
    task = call.emulator.lifecycle.get(task_id, call.account.id)
    if task is None or task.vendor != NAME or task.kind != "video" or not rules.visible(task, call.now):
        raise rules.not_found(task_id)
    return task


def _task_id(call: Call) -> str:
    """Ark's shape: `cgt-<UTC yyyymmddHHMMSS>-<5 chars>`, e.g. `cgt-20250331175019-68d9t`."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(call.now))
    return f"cgt-{stamp}-{call.emulator.ids.token(5)}"


def _submit(call: Call, req: rules.Request) -> Task:
    emulator = call.emulator
    name = rules.scenario(call, rules.VIDEO_SCENARIOS, req.text, *(m.url for m in req.media))
    plan = rules.check_video(call, req)
    rules.check_callback(req)
    rules.raise_submit_scenario(name)
    rules.check_queue(call)
    assert call.account is not None and call.key is not None
    now = call.now
    task_id = _task_id(call)
    try:
        emulator.ledger.hold(call.account.id, task_id, plan.hold, now,
                             note=f"{plan.model.id} {plan.resolution} {plan.hold_duration}s "
                                  f"({plan.hold_tokens} tokens)")
    except InsufficientCredits as exc:
        raise error("insufficient_credits", f"your balance is not enough for this task: it needs "
                    f"{exc.required} credits, {exc.available} are available; top up") from None
    steps, outcome = rules.video_steps(now, plan, req.execution_expires_after, name)
    data: dict[str, Any] = {
        "model": plan.model.id, "mode": plan.mode, "seed": plan.seed, "resolution": plan.resolution,
        "ratio": plan.ratio, "duration": plan.duration, "service_tier": req.service_tier or "default",
        "execution_expires_after": req.execution_expires_after, "generate_audio": plan.generate_audio,
        "draft": plan.draft, "priority": req.priority or 0, "camera_fixed": req.camera_fixed,
        "watermark": req.watermark, "safety_identifier": req.safety_identifier,
        "callback_url": req.callback_url, "origin": call.origin, "interface": req.interface,
        "tokens": plan.tokens, "width": plan.width, "height": plan.height,
    }
    if steps[-1].phase is Phase.SUCCEEDED:
        seed = plan.seed % (2**31)
        data["video"] = emulator.media.register(MediaSpec(
            "video", "mp4", plan.width, plan.height, plan.duration, seed=seed, audio=plan.generate_audio))
        if req.return_last_frame:
            data["last_frame"] = emulator.media.register(MediaSpec("image", "png", plan.width, plan.height,
                                                                   seed=seed))
    task = Task(id=task_id, vendor=NAME, kind="video", account_id=call.account.id, key_id=call.key.id,
                created_at=now, steps=steps, outcome=outcome, params=dict(call.body), scenario=name, data=data)
    emulator.lifecycle.start(task)
    for name in (data.get("video"), data.get("last_frame")):
        if name:  # "The video URL is valid for 14 days", from the moment it exists
            emulator.media.set_expiry(name, task.final.at + rules.URL_VALIDITY_SECONDS)
    return task


# -- the official-compatible (Ark) interface ---------------------------------------------------


@handlers.operation("createContentGenerationTask")
async def create_content_generation_task(call: Call) -> Response:
    task = _submit(call, rules.read_ark(call.body))
    return JSON(render.task_id_body(task))


@handlers.operation("getContentGenerationTask")
async def get_content_generation_task(call: Call) -> Response:
    return JSON(render.ark_task(_own_task(call, call.params["id"]), call.now))


@handlers.operation("listContentGenerationTasks")
async def list_content_generation_tasks(call: Call) -> Response:
    assert call.account is not None
    now, q = call.now, call.params
    status, ids = q.get("filter.status"), q.get("filter.task_ids")
    model, tier = q.get("filter.model"), q.get("filter.service_tier")
    wanted = set(ids) if ids else None
    matched = []
    for task in call.emulator.lifecycle.of_account(call.account.id):
        if task.vendor != NAME or task.kind != "video" or not rules.visible(task, now):
            continue
        call.emulator.lifecycle.catch_up(task, now)
        if wanted is not None and task.id not in wanted:
            continue
        if status and task.phase_at(now).value != status:
            continue
        if model and task.data["model"] != model:
            continue
        if tier and task.data["service_tier"] != tier:
            continue
        matched.append(task)
    matched.reverse()  # newest first; a stable sort keeps that order among equal timestamps
    matched.sort(key=lambda t: t.created_at, reverse=True)
    page_num, page_size = q.get("page_num", 1), q.get("page_size", 10)
    page = matched[(page_num - 1) * page_size: page_num * page_size]
    return JSON({"total": len(matched), "items": [render.ark_task(t, now) for t in page]})


@handlers.operation("deleteContentGenerationTask")
async def delete_content_generation_task(call: Call) -> Response:
    task = _own_task(call, call.params["id"])
    phase = task.phase_at(call.now)
    if phase is Phase.QUEUED:
        call.emulator.lifecycle.interrupt(task, Phase.CANCELLED)
    elif phase is Phase.RUNNING:
        raise error("invalid", "the task is running: only queued tasks can be cancelled, and only finished "
                    "tasks deleted", param="id")
    elif phase is Phase.CANCELLED:
        raise error("invalid", "the task is already cancelled; cancelled tasks are removed after 24 hours",
                    param="id")
    else:
        call.emulator.lifecycle.remove(task.id)
    return JSON({})


# -- the OpenAI-style interface ----------------------------------------------------------------


@handlers.operation("createVideo")
async def create_video(call: Call) -> Response:
    task = _submit(call, rules.read_openai(call.body))
    return JSON(render.video_object(task, call.now))


@handlers.operation("getVideo")
async def get_video(call: Call) -> Response:
    return JSON(render.ark_task(_own_task(call, call.params["task_id"]), call.now))


# -- the asset library -------------------------------------------------------------------------


@handlers.operation("uploadAsset")
async def upload_asset(call: Call) -> Response:
    emulator = call.emulator
    body: dict[str, Any] = call.body or {}
    file = body.get("file")
    if not isinstance(file, UploadedFile):
        raise error("missing", "missing required parameter 'file': send the file as multipart/form-data",
                    param="file")
    name = rules.scenario(call, rules.ASSET_SCENARIOS, file.filename)
    rules.raise_submit_scenario(name)
    assert call.account is not None and call.key is not None
    now = call.now
    try:
        upload = emulator.uploads.put(vendor=NAME, account_id=call.account.id, data=file.data,
                                      filename=file.filename, declared_type=file.content_type,
                                      max_bytes=max(rules.ASSET_LIMITS.values()), now=now)
    except UploadRejected as exc:
        raise error("invalid", f"the file was not accepted ({exc.code}): {exc.reason}", param="file") from None
    limit = rules.ASSET_LIMITS[upload.kind]
    if upload.size > limit:
        call.emulator.uploads.discard(upload.name)
        raise error("invalid", f"the file was not accepted (too_large): a {upload.kind} may be at most "
                    f"{limit} bytes; this one is {upload.size}", param="file")
    token = emulator.ids.token(20)
    steps, outcome = rules.asset_steps(now, name)
    job = Task(id=f"asset-job-{token}", vendor=NAME, kind="asset", account_id=call.account.id,
               key_id=call.key.id, created_at=now, steps=steps, outcome=outcome,
               params={"group_id": body.get("group_id")}, scenario=name,
               data={"asset_id": f"asset-{token}", "upload": upload.name, "kind": upload.kind,
                     "width": upload.width, "height": upload.height, "seconds": upload.seconds,
                     "group_id": body.get("group_id")})
    emulator.lifecycle.start(job)
    return JSON(render.envelope(200, "success", {"task_id": job.id, "group_id": body.get("group_id")}))


@handlers.operation("getAssetId")
async def get_asset_id(call: Call) -> Response:
    task_id = call.params["task_id"]
    job = call.emulator.lifecycle.get(task_id)
    if job is None or job.vendor != NAME or job.kind != "asset":
        return JSON(render.envelope(404, f"no asset upload job {task_id!r}", None), status_code=404)
    return JSON(render.asset_job(job, call.now))
