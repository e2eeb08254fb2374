"""Perseworks' JSON: OpenAI-style error bodies, task bodies, the catalog, chat completions."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response

from ...core.errors import ApiError
from ...core.lifecycle import Phase, Task
from ...core.media import MediaStore
from . import pricing

# kind → (HTTP status, documented or chosen code). Documented: invalid_api_key 401,
# insufficient_credits 402, model_not_allowed / ip_not_allowed 403, unsupported_resolution
# 400, content_rejected 422, rate_limited 429, upstream_error 502. The rest are assumptions.
KINDS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "invalid_api_key"),
    "insufficient_credits": (402, "insufficient_credits"),
    "model_not_allowed": (403, "model_not_allowed"),
    "ip_not_allowed": (403, "ip_not_allowed"),
    "unsupported_resolution": (400, "unsupported_resolution"),
    "content_rejected": (422, "content_rejected"),
    "rate_limited": (429, "rate_limited"),
    "upstream_error": (502, "upstream_error"),
    "invalid": (400, "invalid_request"),
    "model_not_found": (400, "model_not_found"),
    "context_length_exceeded": (400, "context_length_exceeded"),
    "not_found": (404, "not_found"),
    "method_not_allowed": (405, "method_not_allowed"),
    "too_large": (413, "request_too_large"),
    "internal": (500, "internal_error"),
}
TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
         403: "permission_error", 404: "invalid_request_error", 405: "invalid_request_error",
         413: "invalid_request_error", 422: "content_policy_error", 429: "rate_limit_error",
         500: "api_error", 502: "upstream_error"}


def error(kind: str, message: str, *, param: str | None = None,
          headers: dict[str, str] | None = None, retry_after: float | None = None) -> ApiError:
    status, code = KINDS[kind]
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        headers["retry-after-ms"] = str(max(1, math.ceil(retry_after * 1000)))
    return ApiError(status, code, message, param=param, headers=headers)


def render_error(err: ApiError) -> Response:
    body = {"error": {"message": err.message, "type": TYPES.get(err.status, "api_error"),
                      "param": err.param, "code": err.code}}
    return Response(orjson.dumps(body), status_code=err.status, headers=err.headers,
                    media_type="application/json")


def accepted(task: Task) -> dict[str, Any]:
    return {"id": task.id, "status": "queued", "model": task.params["model"]}


def video_generation(task: Task, now: float, origin: str) -> dict[str, Any]:
    phase = task.phase_at(now)
    if phase is Phase.SUCCEEDED:
        return {"id": task.id, "status": "succeeded",
                "video_url": MediaStore.url(origin, task.data["media"]),
                "duration": task.outcome.output["seconds"]}
    if phase is Phase.FAILED:
        return {"id": task.id, "status": "failed",
                "error": {"code": task.outcome.error_code, "message": task.outcome.error_message}}
    return {"id": task.id, "status": phase.value}


def catalog(prices: dict[str, Any]) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    for video in pricing.VIDEO_MODELS.values():
        data.append({"id": video.id, "object": "model", "created": pricing.CATALOG_CREATED,
                     "owned_by": "perseworks", "type": "video", "description": video.description,
                     "resolutions": list(video.resolutions),
                     "pricing": pricing.catalog_pricing_video(prices)})
    for chat in pricing.CHAT_MODELS.values():
        data.append({"id": chat.id, "object": "model", "created": pricing.CATALOG_CREATED,
                     "owned_by": "perseworks", "type": "chat", "description": chat.description,
                     "context_window": chat.context_window,
                     "pricing": pricing.catalog_pricing_chat(prices, chat)})
    return {"object": "list", "data": data}


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(cid: str, created: int, model: str, texts: list[tuple[str, bool]],
               prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": i, "message": {"role": "assistant", "content": text},
                     "finish_reason": "length" if cut else "stop"}
                    for i, (text, cut) in enumerate(texts)],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def chunk(cid: str, created: int, model: str, choices: list[dict[str, Any]],
          with_usage: bool, usage_body: dict[str, int] | None = None) -> bytes:
    body: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created,
                            "model": model, "choices": choices}
    if with_usage:
        body["usage"] = usage_body
    return b"data: " + orjson.dumps(body) + b"\n\n"


def stream_error(message: str, code: str) -> bytes:
    body = {"error": {"message": message, "type": TYPES[502], "param": None, "code": code}}
    return b"data: " + orjson.dumps(body) + b"\n\n"


DONE = b"data: [DONE]\n\n"
