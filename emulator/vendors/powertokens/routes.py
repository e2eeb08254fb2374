"""One handler per operationId of openapi/powertokens.yaml."""

from __future__ import annotations

import bisect
import functools
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


@functools.lru_cache(maxsize=4)
def _stamp(second: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(second))  # ~3 µs; thousands of submits share a second


def _task_id(call: Call) -> str:
    """Ark's shape: `cgt-<UTC yyyymmddHHMMSS>-<5 chars>`, e.g. `cgt-20250331175019-68d9t`."""
    stamp = _stamp(int(call.now))
    # Five characters are 36^5 ids a second: thousands of tasks in one (emulated) second can draw one
    # twice, so draw again until it is new.
    while (task_id := f"cgt-{stamp}-{call.emulator.ids.token(5)}") in call.emulator.lifecycle.tasks:
        pass
    return task_id


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
    facts = rules.VideoFacts(
        model=plan.model.id, mode=plan.mode, resolution=plan.resolution, ratio=plan.ratio,
        duration=plan.duration, service_tier=req.service_tier or "default",
        execution_expires_after=req.execution_expires_after, generate_audio=plan.generate_audio,
        draft=plan.draft, priority=req.priority or 0, camera_fixed=req.camera_fixed, watermark=req.watermark,
        origin=call.origin, interface=req.interface, tokens=plan.tokens, width=plan.width, height=plan.height)
    own: dict[str, Any] = {"safety_identifier": req.safety_identifier, "callback_url": req.callback_url}
    if steps[-1].phase is Phase.SUCCEEDED:
        seed = plan.seed % (2**31)
        own["video"] = emulator.media.register(MediaSpec(
            "video", "mp4", plan.width, plan.height, plan.duration, seed=seed, audio=plan.generate_audio))
        if req.return_last_frame:
            own["last_frame"] = emulator.media.register(MediaSpec("image", "png", plan.width, plan.height,
                                                                  seed=seed))
    data = rules.video_data(facts, plan.seed, own)
    task = Task(id=task_id, vendor=NAME, kind="video", account_id=call.account.id, key_id=call.key.id,
                created_at=now, steps=steps, outcome=outcome, params=dict(call.body), scenario=name, data=data)
    emulator.lifecycle.start(task)
    rules.note_queued(emulator, task)
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
    """Newest first. The account's video tasks are kept oldest first by `created_at`, so the last
    7 days are a suffix found by bisection: with no filter a page costs what it shows (plus the
    account's cancelled tasks); a filter reads every task of the 7 days, as `total` needs."""
    assert call.account is not None
    lifecycle, now, q = call.emulator.lifecycle, call.now, call.params
    status, ids = q.get("filter.status"), q.get("filter.task_ids")
    model, tier = q.get("filter.model"), q.get("filter.service_tier")
    wanted = set(ids) if ids else None
    page_num, page_size = q.get("page_num", 1), q.get("page_size", 10)
    skip = (page_num - 1) * page_size
    tasks = lifecycle.of_kind(call.account.id, "video")
    first = _first_visible(tasks, now)
    # Within the 7 days, only tasks cancelled over 24 hours ago are not shown; all were interrupted.
    hidden = {t.id for t in lifecycle.interrupted(call.account.id) if t.kind == "video"
              and not now - t.created_at > rules.RETENTION_SECONDS and not rules.visible(t, now)}
    page: list[Task] = []
    if wanted is None and not status and not model and not tier:
        total = len(tasks) - first - len(hidden)
        position = len(tasks) - 1 if hidden else len(tasks) - 1 - skip
        seen = 0 if hidden else skip
        while position >= first and len(page) < page_size:
            task = tasks[position]
            position -= 1
            if task.id in hidden or task.vendor != NAME:
                continue
            if seen >= skip:
                page.append(task)
            seen += 1
    else:
        total = 0
        for position in range(len(tasks) - 1, first - 1, -1):
            task = tasks[position]
            if task.id in hidden or task.vendor != NAME:
                continue
            if wanted is not None and task.id not in wanted:
                continue
            if status and task.phase_at(now).value != status:
                continue
            if model and rules.facts_of(task).model != model:
                continue
            if tier and rules.facts_of(task).service_tier != tier:
                continue
            if skip <= total < skip + page_size:
                page.append(task)
            total += 1
    for task in page:
        lifecycle.catch_up(task, now)
    return JSON({"total": total, "items": [render.ark_task(t, now) for t in page]})


def _first_visible(tasks: list[Task], now: float) -> int:
    """The index of the oldest task of the last 7 days (`rules.visible`'s own test at the edge)."""
    first = bisect.bisect_left(tasks, now - rules.RETENTION_SECONDS, key=_created_at)
    while first < len(tasks) and now - tasks[first].created_at > rules.RETENTION_SECONDS:
        first += 1
    while first > 0 and not now - tasks[first - 1].created_at > rules.RETENTION_SECONDS:
        first -= 1
    return first


def _created_at(task: Task) -> float:
    return task.created_at


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
