"""Genray's JSON: the `{"detail": {"error", "message", ...}}` error body, job bodies, webhooks."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from ...core.errors import ApiError
from ...core.lifecycle import Phase, Task
from ...core.media import MediaStore
from . import pricing

# kind → (HTTP status, code). Documented ("Errors"): unauthorized 401, insufficient_credits
# 402, plan_required 403, not_found 404, rate_limit_exceeded 429, generation_failed 500.
# Every other pair is the emulator's choice (docs/fidelity-genray.md).
KINDS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "unauthorized"),
    "insufficient_credits": (402, "insufficient_credits"),
    "plan_required": (403, "plan_required"),
    "key_limit": (403, "key_limit_reached"),
    "ip_not_allowed": (403, "ip_not_allowed"),
    "not_found": (404, "not_found"),
    "method_not_allowed": (405, "method_not_allowed"),
    "not_completed": (409, "video_not_completed"),
    "already_upscaled": (409, "already_upscaled"),
    "too_large": (413, "request_too_large"),
    "file_too_large": (413, "file_too_large"),
    "invalid_file": (400, "invalid_file"),
    "unsupported_file": (415, "unsupported_file_type"),
    "invalid": (422, "validation_error"),
    "rate_limited": (429, "rate_limit_exceeded"),
    "internal": (500, "generation_failed"),
    "generation_failed": (500, "generation_failed"),
}

STATUS = {Phase.QUEUED: "queued", Phase.RUNNING: "processing", Phase.SUCCEEDED: "completed",
          Phase.FAILED: "failed", Phase.CANCELLED: "failed", Phase.EXPIRED: "failed"}


def error(kind: str, message: str, *, param: str | None = None, headers: dict[str, str] | None = None,
          retry_after: float | None = None, **extra: Any) -> ApiError:
    status, code = KINDS[kind]
    if kind == "unauthorized":
        message = f"Missing or invalid API key ({message})"  # the document's wording, then the reason
    elif kind == "rate_limited" and not message.startswith("Too many"):
        message = f"Too many requests: {message}. Check retry_after."
    headers = dict(headers or {})
    if retry_after is not None:
        seconds = max(1, math.ceil(retry_after))
        headers["Retry-After"] = str(seconds)
        extra["retry_after"] = seconds
    return ApiError(status, code, message, param=param, headers=headers, **extra)


def render_error(err: ApiError) -> Response:
    detail: dict[str, Any] = {"error": err.code, "message": err.message}
    if err.param:
        detail["field"] = err.param
    detail.update(err.extra)
    return Response(orjson.dumps({"detail": detail}), status_code=err.status, headers=err.headers,
                    media_type="application/json")


def timestamp(at: float) -> str:
    """"2026-04-02T12:00:00": UTC, whole seconds, no zone suffix, as the document's examples."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _base(task: Task, status: str, *, polled: bool = False) -> dict[str, Any]:
    data = task.data
    model = pricing.status_model(data["model"]) if polled else data["model"]
    body: dict[str, Any] = {"id": task.id, "generation_id": data["generation_id"], "status": status,
                            "model": model, "duration": data["duration"],
                            "aspect_ratio": data["aspect_ratio"], "created_at": timestamp(task.created_at)}
    if "upscaled_from" in data:
        body["upscaled_from"] = data["upscaled_from"]
    return body


def accepted(task: Task, credits_remaining: int) -> dict[str, Any]:
    """The 202 of a submit: `/videos` names the cost `estimated_cost`, `/from-person` `total_cost`."""
    body = _base(task, "queued")
    cost_field = "total_cost" if task.kind == "person" else "estimated_cost"
    body[cost_field] = task.data["cost"]
    body["credits_remaining"] = credits_remaining
    return body


def _completed(task: Task, origin: str) -> dict[str, Any]:
    data = task.data
    return {"video_url": MediaStore.url(origin, data["media"]), "width": data["width"],
            "height": data["height"], "duration_ms": task.outcome.output["duration_ms"],
            "cover_url": MediaStore.url(origin, data["cover"])}


def video(task: Task, now: float, origin: str) -> dict[str, Any]:
    phase = task.phase_at(now)
    body = _base(task, STATUS[phase], polled=True)
    if phase is Phase.SUCCEEDED:
        body["credits_spent"] = task.data["cost"]
        body.update(_completed(task, origin))
    elif phase.terminal:
        body["credits_spent"] = 0
        body["error"] = task.outcome.error_message or "generation failed"
    return body


def webhook(task: Task, phase: Phase, at: float, origin: str) -> tuple[str, bytes]:
    """The event name and the exact body bytes that are signed and sent."""
    if phase is Phase.SUCCEEDED:
        event = "video.completed"
        data: dict[str, Any] = {"id": task.id, "status": "completed", **_completed(task, origin)}
        data.pop("cover_url")
    else:
        event = "video.failed"
        data = {"id": task.id, "status": "failed", "error": task.outcome.error_message or "generation failed"}
    return event, orjson.dumps({"event": event, "data": data, "timestamp": timestamp(at)})


def account(plan: pricing.Plan, expires_at: float, credits_remaining: int) -> dict[str, Any]:
    return {"plan": plan.id, "plan_name": plan.name, "plan_expires_at": timestamp(expires_at),
            "credits_remaining": credits_remaining, "credits_per_month": plan.credits_per_month,
            "api_rpm": plan.rpm, "api_concurrent": plan.concurrent, "max_api_keys": plan.max_api_keys}


def key_info(key: Any) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "key_prefix": key.display.rstrip("…"),
            "webhook_url": key.webhook_url, "created_at": timestamp(key.created_at),
            "revoked_at": None if key.revoked_at is None else timestamp(key.revoked_at)}
