"""SeeGen's JSON: the error body, task / upscale / asset bodies (openapi/seegen.yaml)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from ...core.errors import ApiError
from ...core.lifecycle import Phase, Task
from ...core.media import MediaStore

# kind → (HTTP status, symbolic code). The document lists statuses only ("Error Codes"):
# 400 Invalid parameters, 401 Invalid or missing API key, 402 Insufficient credits,
# 403 Access denied, 404 Task not found, 429 Concurrency limit reached, 500 Internal server
# error. The symbolic codes, 405 and 413 are the emulator's (docs/fidelity-seegen.md SA1).
KINDS: dict[str, tuple[int, str]] = {
    "invalid": (400, "INVALID_PARAMETERS"),
    "unauthorized": (401, "UNAUTHORIZED"),
    "insufficient_credits": (402, "INSUFFICIENT_CREDITS"),
    "forbidden": (403, "ACCESS_DENIED"),
    "ip_not_allowed": (403, "ACCESS_DENIED"),
    "model_not_allowed": (403, "ACCESS_DENIED"),
    "not_found": (404, "NOT_FOUND"),
    "method_not_allowed": (405, "METHOD_NOT_ALLOWED"),
    "too_large": (413, "PAYLOAD_TOO_LARGE"),
    "concurrency_limit": (429, "CONCURRENCY_LIMIT"),
    "rate_limited": (429, "RATE_LIMITED"),
    "internal": (500, "INTERNAL_ERROR"),
}

STATUS: dict[Phase, str] = {Phase.QUEUED: "PENDING", Phase.RUNNING: "PROCESSING",
                            Phase.SUCCEEDED: "COMPLETED", Phase.FAILED: "FAILED"}
UPSCALE_STATUS: dict[Phase, str] = {Phase.QUEUED: "validating", Phase.RUNNING: "processing",
                                    Phase.SUCCEEDED: "completed", Phase.FAILED: "failed"}
ASSET_STATUS: dict[Phase, str] = {Phase.QUEUED: "PROCESSING", Phase.SUCCEEDED: "ACTIVE",
                                  Phase.FAILED: "FAILED"}


def error(kind: str, message: str, *, param: str | None = None,
          headers: dict[str, str] | None = None, retry_after: float | None = None) -> ApiError:
    status, code = KINDS[kind]
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return ApiError(status, code, message, param=param, headers=headers)


def render_error(err: ApiError) -> Response:
    body = {"code": err.status, "error": err.code, "message": err.message, "param": err.param}
    return Response(orjson.dumps(body), status_code=err.status, headers=err.headers,
                    media_type="application/json")


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def iso(seconds: float) -> str:
    stamp = datetime.fromtimestamp(round(seconds, 3), tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def task_body(task: Task, now: float) -> dict[str, Any]:
    """The queryTask body (and the callback payload: "same format as queryTask response")."""
    step = task.step_at(now)
    phase = step.phase
    data = task.data
    output: list[dict[str, Any]] = []
    error_body = None
    credits = data["credits"]
    if phase is Phase.SUCCEEDED:
        output = [{"url": MediaStore.url(data["origin"], data["media"]),
                   "width": data["width"], "height": data["height"]}]
    elif phase is Phase.FAILED:
        credits = 0  # refunded in full
        error_body = {"code": task.outcome.error_code, "message": task.outcome.error_message}
    return {
        "taskId": task.id,
        "model": task.params["model"],
        "status": STATUS[phase],
        "creditsUsed": credits,
        "output": output,
        "error": error_body,
        "createTime": ms(task.created_at),
        "completeTime": ms(step.at) if phase.terminal else None,
    }


def upscale_body(task: Task, now: float) -> dict[str, Any]:
    step = task.step_at(now)
    phase = step.phase
    data = task.data
    result = error_body = None
    credits = None
    if phase is Phase.RUNNING:
        credits = data["credits"]
    elif phase is Phase.SUCCEEDED:
        credits = data["credits"]
        result = {"url": MediaStore.url(data["origin"], data["media"]),
                  "probedDurationSeconds": data["probed_seconds"],
                  "probedSourceResolution": data["probed_resolution"]}
    elif phase is Phase.FAILED:
        error_body = {"code": task.outcome.error_code, "message": task.outcome.error_message}
    return {
        "taskId": task.id,
        "status": UPSCALE_STATUS[phase],
        "targetResolution": data["target"],
        "creditsConsumed": credits,
        "result": result,
        "error": error_body,
        "createdAt": iso(task.created_at),
        "finishedAt": iso(step.at) if phase.terminal else None,
    }


def asset_body(task: Task, now: float) -> dict[str, Any]:
    phase = task.phase_at(now)
    data = task.data
    return {
        "assetId": data["asset_id"],
        "volcAssetId": task.id,
        "type": data["type"],
        "status": ASSET_STATUS[phase],
        "failReason": task.outcome.error_message if phase is Phase.FAILED else None,
        "url": data["url"],
        "name": data["name"],
        "createdAt": ms(task.created_at),
    }
