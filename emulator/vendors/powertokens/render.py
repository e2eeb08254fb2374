"""PowerTokens' JSON: Ark error bodies, the Ark task body, the OpenAI-style video object, and
the asset library's `{code, message, data}` envelope."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from ...core.errors import ApiError
from ...core.lifecycle import Phase, Task
from ...core.media import MediaStore

if TYPE_CHECKING:  # rules imports this module
    from .rules import VideoFacts

# kind → (HTTP status, Ark code). Documented (reference-ark-and-openai.md, "Errors"): 400
# BadRequest MissingParameter / InvalidParameter / …SensitiveContentDetected; 401 AuthenticationError;
# 403 AccountOverdueError / AccessDenied; 404 InvalidEndpointOrModel.NotFound / ResourceNotFound;
# 429 RateLimitExceeded.EndpointRPMExceeded / QuotaExceeded / ServerOverloaded; 500
# InternalServiceError. 405 and 413 are the emulator's (no documented code fits).
KINDS: dict[str, tuple[int, str]] = {
    "invalid": (400, "InvalidParameter"),
    "missing": (400, "MissingParameter"),
    "input_text_sensitive": (400, "InputTextSensitiveContentDetected"),
    "unauthorized": (401, "AuthenticationError"),
    "insufficient_credits": (403, "AccountOverdueError"),
    "ip_not_allowed": (403, "AccessDenied"),
    "model_not_allowed": (403, "AccessDenied"),
    "model_not_found": (404, "InvalidEndpointOrModel.NotFound"),
    "not_found": (404, "ResourceNotFound"),
    "method_not_allowed": (405, "MethodNotAllowed"),
    "too_large": (413, "RequestTooLarge"),
    "rate_limited": (429, "RateLimitExceeded.EndpointRPMExceeded"),
    "quota_exceeded": (429, "QuotaExceeded"),
    "upstream_error": (429, "ServerOverloaded"),
    "internal": (500, "InternalServiceError"),
}
_INDEX = re.compile(r"\.(\d+)(?=\.|$)")
TYPES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
         405: "MethodNotAllowed", 413: "RequestEntityTooLarge", 429: "TooManyRequests",
         500: "InternalServiceError"}


def error(kind: str, message: str, *, param: str | None = None,
          headers: dict[str, str] | None = None, retry_after: float | None = None) -> ApiError:
    if kind == "invalid" and message.startswith("missing required parameter"):
        kind = "missing"  # the pipeline's schema stage says "invalid"; Ark names a missing one apart
    status, code = KINDS[kind]
    if param:
        param = _INDEX.sub(r"[\1]", param)  # the schema stage's `content.0.type` → `content[0].type`
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return ApiError(status, code, message, param=param, headers=headers)


def render_error(err: ApiError) -> Response:
    # Ark appends the request id to every message: "… Request id: <id>".
    body = {"error": {"code": err.code, "message": err.message, "param": err.param or "",
                      "type": TYPES.get(err.status, "InternalServiceError")}}
    return Response(orjson.dumps(body), status_code=err.status, headers=err.headers,
                    media_type="application/json")


def envelope(code: int, message: str, data: dict[str, Any] | None) -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


# -- tasks --------------------------------------------------------------------------------


def updated_at(task: Task, now: float) -> int:
    return int(task.step_at(now).at)


def ark_task(task: Task, now: float, phase: Phase | None = None) -> dict[str, Any]:
    """The Ark GET body (reference-ark-and-openai.md, "GET /contents/generations/tasks/{id}");
    `phase` renders the task as of one step (a callback), else as of `now`."""
    d = task.data
    facts: VideoFacts = d["facts"]
    phase = task.phase_at(now) if phase is None else phase
    body: dict[str, Any] = {
        "id": task.id,
        "model": facts.model,
        "status": phase.value,
        "created_at": int(task.created_at),
        "updated_at": updated_at(task, now),
        "seed": d["seed"],
        "resolution": facts.resolution,
        "ratio": facts.ratio,
        "duration": facts.duration,
        "framespersecond": 24,
        "service_tier": facts.service_tier,
        "execution_expires_after": facts.execution_expires_after,
        "generate_audio": facts.generate_audio,
        "draft": facts.draft,
        "priority": facts.priority,
        "camera_fixed": facts.camera_fixed,
        "watermark": facts.watermark,
    }
    if d.get("safety_identifier"):
        body["safety_identifier"] = d["safety_identifier"]
    if phase is Phase.SUCCEEDED:
        origin = facts.origin
        content = {"video_url": MediaStore.url(origin, d["video"])}
        if d.get("last_frame"):
            content["last_frame_url"] = MediaStore.url(origin, d["last_frame"])
        body["content"] = content
        body["usage"] = {"completion_tokens": facts.tokens, "total_tokens": facts.tokens}
    elif phase is Phase.FAILED:
        body["error"] = {"code": task.outcome.error_code, "message": task.outcome.error_message}
    elif phase is Phase.EXPIRED:
        body["error"] = {"code": "TaskExpired",
                         "message": f"the task did not finish within execution_expires_after "
                                    f"({facts.execution_expires_after} s)"}
    return body


def task_id_body(task: Task) -> dict[str, Any]:
    body: dict[str, Any] = {"id": task.id}
    if task.data.get("safety_identifier"):
        body["safety_identifier"] = task.data["safety_identifier"]
    return body


def video_object(task: Task, now: float) -> dict[str, Any]:
    """The /v1/videos submit answer: `id`, `task_id`, `object: "video"`, `model`, `status`,
    `progress`, `created_at`."""
    return {"id": task.id, "task_id": task.id, "object": "video", "model": task.data["facts"].model,
            "status": task.phase_at(now).value, "progress": task.progress_at(now),
            "created_at": int(task.created_at)}


def asset_job(job: Task, now: float) -> dict[str, Any]:
    phase = job.phase_at(now)
    data: dict[str, Any] = {"task_id": job.id, "status": "processing", "asset_id": None}
    if phase is Phase.SUCCEEDED:
        data.update(status="succeeded", asset_id=job.data["asset_id"])
    elif phase.terminal:
        data.update(status="failed", error=job.outcome.error_message or "asset processing failed")
    return envelope(200, "success", data)
