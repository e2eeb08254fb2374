"""One handler per operationId of openapi/genray.yaml."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.responses import Response

from ...core.ledger import InsufficientCredits, as_number
from ...core.lifecycle import Phase, Task
from ...core.media import MediaSpec
from ...core.uploads import UploadedFile, UploadRejected
from ...core.vendor import JSON, Call, Handlers
from . import render, rules
from .render import error

handlers = Handlers()

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # "Max 10 MB"
# "file" is the document's (multipart); JSON may use the usual alternatives too (assumption).
UPLOAD_FIELDS = ("file", "image", "data", "base64", "file_base64", "image_base64", "content")
# Optional JSON metadata: the file's name (the bytes decide its type; a declared type is ignored).
UPLOAD_NAME_FIELDS = ("filename", "file_name", "name")
UPLOAD_KINDS = frozenset({"image"})  # "Upload Reference Image": images only
UPLOAD_ERRORS = {"empty": "invalid_file", "corrupt": "invalid_file", "too_large": "file_too_large",
                 "unsupported_type": "unsupported_file"}


def _uuid(call: Call) -> str:
    h = call.emulator.ids.hex(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def _available(call: Call, account_id: str) -> int:
    return int(as_number(call.emulator.ledger.balance(account_id).available))


def _mount_root(call: Call) -> str:
    """Where this vendor is mounted on this server ("/genray", or "" at the root)."""
    return str(call.request.scope.get("root_path", "")).rstrip("/")


def _ensure_webhook_secret(call: Call) -> str:
    key = call.key
    assert key is not None
    if key.webhook_secret is None:  # a key the control API made without one
        key.webhook_secret = "whsec_" + call.emulator.ids.secret(32)
    return key.webhook_secret


def _start(call: Call, job: rules.JobPlan, name: str | None, *, upscaled_from: int | None = None,
           params: dict[str, Any] | None = None) -> Task:
    """Charge (a hold, settled on success and refunded on failure), then plan and start the job."""
    emulator = call.emulator
    account, key = call.account, call.key
    assert account is not None and key is not None
    now = call.now
    task_id = _uuid(call)
    if job.cost:
        try:
            emulator.ledger.hold(account.id, task_id, job.cost, now,
                                 note=f"{job.kind} {job.model} {job.duration}s")
        except InsufficientCredits as exc:
            required, available = int(exc.required), int(exc.available)
            raise error("insufficient_credits", f"Not enough credits. Need {required}, have {available}.",
                        credits_required=required, credits_available=available) from None
        if name == "upstream_error":
            # "500 generation_failed: Internal error. Credits are refunded automatically."
            emulator.ledger.refund(account.id, task_id, now, note="generation_failed")
            raise error("generation_failed", "Internal error. Credits have been refunded.")
    elif name == "upstream_error":
        raise error("generation_failed", "Internal error.")
    steps, outcome = rules.job_steps(now, job, name)
    seed = emulator.ids.randint(0, 2**31 - 1)
    data: dict[str, Any] = {
        "generation_id": rules.next_generation_id(emulator, task_id),
        "model": job.model, "duration": job.duration, "aspect_ratio": job.aspect_ratio,
        "width": job.width, "height": job.height, "cost": job.cost,
        "media": emulator.media.register(MediaSpec("video", "mp4", job.width, job.height,
                                                   job.duration + rules.EXTRA_MS / 1000, fps=rules.FPS,
                                                   seed=seed, audio=job.audio)),
        "cover": emulator.media.register(MediaSpec("image", "jpeg", job.width, job.height, seed=seed)),
        "media_origin": call.origin,
    }
    secret = _ensure_webhook_secret(call)
    if webhook_url := job.webhook_url or key.webhook_url:
        # Only a task that has a webhook keeps where and how to sign it: without these two keys the
        # dict holds 10, which CPython stores in 272 bytes rather than 464 (issue 8, memory per task).
        data["webhook_url"], data["webhook_secret"] = webhook_url, secret
    if upscaled_from is not None:
        data["upscaled_from"] = upscaled_from
    task = Task(id=task_id, vendor=rules.NAME, kind=job.kind, account_id=account.id, key_id=key.id,
                created_at=now, steps=steps, outcome=outcome, params=params or {}, scenario=name, data=data)
    emulator.lifecycle.start(task)
    return task


@handlers.operation("createVideo")
async def create_video(call: Call) -> Response:
    _, plan = rules.authorize(call)
    name = rules.scenario(call, call.body["prompt"])
    job = rules.check_video(call)
    rules.raise_submit_scenario(name)
    rules.require_concurrency(call, plan)
    task = _start(call, job, name, params=call.body)
    return JSON(render.accepted(task, _available(call, task.account_id)), status_code=202)


@handlers.operation("createVideoFromPerson")
async def create_video_from_person(call: Call) -> Response:
    _, plan = rules.authorize(call)
    name = rules.scenario(call, call.body["prompt"], call.body.get("clothing_details"))
    job = rules.check_person(call)
    rules.raise_submit_scenario(name)
    rules.require_concurrency(call, plan)
    task = _start(call, job, name, params=call.body)
    return JSON(render.accepted(task, _available(call, task.account_id)), status_code=202)


def _own_task(call: Call, task_id: str | None) -> Task:
    account = call.account
    assert account is not None
    task = None if task_id is None else call.emulator.lifecycle.get(task_id, account.id)
    if task is None or task.vendor != rules.NAME:
        raise error("not_found", "Job not found or doesn't belong to your account")
    return task


@handlers.operation("getVideo")
async def get_video(call: Call) -> Response:
    rules.authorize(call)
    task = _own_task(call, call.params["job_id"])
    return JSON(render.video(task, call.now, call.origin))


@handlers.operation("upscaleVideo")
async def upscale_video(call: Call) -> Response:
    account, _ = rules.authorize(call)
    number = int(call.params["video_id"])
    source = _own_task(call, rules.task_of_generation(call.emulator, number))
    if source.kind == "upscale":
        raise error("already_upscaled", f"Video {number} is already an upscale (1440p)")
    if source.phase_at(call.now) is not Phase.SUCCEEDED:
        raise error("not_completed", f"Video {number} is not completed; only a completed video can be upscaled")
    name = rules.scenario(call)
    rules.raise_submit_scenario(name)
    data = source.data
    job = rules.JobPlan("upscale", data["model"], data["duration"], data["aspect_ratio"],
                        data["width"] * rules.UPSCALE_FACTOR, data["height"] * rules.UPSCALE_FACTOR,
                        call.emulator.prices["genray"]["upscale_credits"], None, audio=False)
    task = _start(call, job, name, upscaled_from=number, params={"video_id": number})
    body = render.accepted(task, _available(call, account.id))
    return JSON(body, status_code=202)


def _decode_base64(text: str, field: str) -> bytes:
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise error("invalid_file", f"'{field}' must be base64 (a data: URL must be ';base64')", param=field)
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise error("invalid_file", f"'{field}' is not valid base64", param=field) from None


@handlers.operation("uploadFile")
async def upload_file(call: Call) -> Response:
    account, _ = rules.authorize(call)
    body: dict[str, Any] = call.body
    given = [name for name in UPLOAD_FIELDS if body.get(name) is not None]
    parts = [name for name in given if isinstance(body[name], UploadedFile)]
    given = parts or given  # multipart: the file part, whatever text fields come with it
    if len(given) != 1:
        others = ", ".join(f"'{name}'" for name in UPLOAD_FIELDS[1:])
        raise error("invalid", f"give the file in exactly one field: 'file' (or {others})", param="file")
    field = given[0]
    value = body[field]
    if isinstance(value, UploadedFile):
        data, filename, declared = value.data, value.filename, value.content_type
    else:
        filename = next((body[n] for n in UPLOAD_NAME_FIELDS if isinstance(body.get(n), str)), None)
        data, declared = _decode_base64(str(value), field), None
    try:
        upload = call.emulator.uploads.put(vendor=rules.NAME, account_id=account.id, data=data, filename=filename,
                                           declared_type=declared, kinds=UPLOAD_KINDS,
                                           max_bytes=MAX_UPLOAD_BYTES, now=call.now,
                                           naming=rules.upload_naming(account))
    except UploadRejected as exc:
        message = exc.reason
        if exc.code == "unsupported_type":
            message = "Only image files can be uploaded (JPEG, PNG, WebP, ...): " + exc.reason
        elif exc.code == "too_large":
            message = f"The file is over the 10 MB limit ({len(data)} bytes)"
        raise error(UPLOAD_ERRORS[exc.code], message, param=field) from None
    path = rules.FILES_PREFIX + upload.name
    return JSON({"url": path, "full_url": call.origin + _mount_root(call) + path, "size_bytes": upload.size})


@handlers.operation("getFile")
async def get_file(call: Call) -> Response:
    # Looked up by its generated name in the store's dictionary: no path is ever built from input.
    name = call.params["filename"]
    upload = call.emulator.uploads.get(name)
    response = None if upload is None or upload.vendor != rules.NAME else call.emulator.uploads.file_response(name)
    if response is None:
        raise error("not_found", "File not found")
    return response


@handlers.operation("getAccount")
async def get_account(call: Call) -> Response:
    account, plan = rules.authorize(call)
    return JSON(render.account(plan, rules.period_end(account), _available(call, account.id)))


@handlers.operation("createApiKey")
async def create_api_key(call: Call) -> Response:
    account, plan = rules.authorize(call)
    body: dict[str, Any] = call.body or {}
    emulator = call.emulator
    active = [k for k in emulator.accounts.keys_of(account.id) if k.active]
    if len(active) >= plan.max_api_keys:
        raise error("key_limit", f"The {plan.name} plan allows {plan.max_api_keys} API keys; revoke one first")
    rules.webhook_url(call, body.get("webhook_url"))
    secret = "whsec_" + emulator.ids.secret(32)
    key, plaintext = emulator.issue_key(account, {"name": body.get("name")}, webhook_url=body.get("webhook_url"),
                                        webhook_secret=secret)
    return JSON({**render.key_info(key), "key": plaintext, "webhook_secret": secret}, status_code=201)


@handlers.operation("listApiKeys")
async def list_api_keys(call: Call) -> Response:
    account, _ = rules.authorize(call)
    keys = sorted(call.emulator.accounts.keys_of(account.id), key=lambda k: k.created_at)
    return JSON({"keys": [render.key_info(k) for k in keys]})


@handlers.operation("revokeApiKey")
async def revoke_api_key(call: Call) -> Response:
    account, _ = rules.authorize(call)
    key = call.emulator.accounts.keys.get(call.params["id"])
    if key is None or key.account_id != account.id:
        raise error("not_found", "API key not found")
    call.emulator.accounts.revoke(key.id, call.now)
    return JSON({"id": key.id, "revoked": True})
