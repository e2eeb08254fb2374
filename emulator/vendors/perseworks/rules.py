"""What Perseworks checks beyond the schema, and how its tasks unfold."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...core import scenarios
from ...core.lifecycle import Outcome, Phase, Step, plan_steps
from ...core.vendor import Call
from . import pricing
from .render import error

# Output pixel sizes: Perseworks resells Seedance 2.0, whose sizes are the Ark table
# (reference-ark-and-openai.md, "Output pixel sizes (2.0 series)").
PIXELS: dict[str, dict[str, tuple[int, int]]] = {
    "720p": {"16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "3:4": (834, 1112),
             "9:16": (720, 1280), "21:9": (1470, 630)},
    "1080p": {"16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440), "3:4": (1248, 1664),
              "9:16": (1080, 1920), "21:9": (2206, 946)},
    "4k": {"16:9": (3840, 2160), "4:3": (3326, 2494), "1:1": (2880, 2880), "3:4": (2494, 3326),
           "9:16": (2160, 3840), "21:9": (4398, 1886)},
}
DEFAULT_ASPECT = "16:9"  # assumption: the document gives no default; `adaptive` renders 16:9 too

# Timing profile in emulated seconds (assumption: the document gives none).
QUEUED_SECONDS = 5.0
RUNNING_BASE_SECONDS = 20.0
RUNNING_PER_OUTPUT_SECOND = {"720p": 4.0, "1080p": 8.0, "4k": 16.0}
SLOW_FACTOR = 10.0

VIDEO_SCENARIOS = {"fail", "output_moderation", "moderation_reject", "upstream_error",
                   "rate_limited", "slow", "short_output"}
CHAT_SCENARIOS = {"fail", "moderation_reject", "upstream_error", "rate_limited"}


def scenario(call: Call, supported: set[str], *texts: str | None) -> str | None:
    try:
        return scenarios.choose(call.scenario_header, texts, supported, "Perseworks")
    except scenarios.ScenarioRefused as refused:
        raise error("invalid", refused.message, param="scenario") from None


def raise_submit_scenario(name: str | None) -> None:
    """The scenarios that refuse the request itself: nothing is held or charged."""
    if name == "moderation_reject":
        raise error("content_rejected", "the prompt was blocked by content moderation")
    if name == "upstream_error":
        raise error("upstream_error", "the upstream model is temporarily unavailable")
    if name == "rate_limited":
        raise error("rate_limited", "too many requests", retry_after=1.0)


def require_model_scope(call: Call, model: str) -> None:
    assert call.key is not None
    if not call.key.scopes.allows_model(model):
        raise error("model_not_allowed", f"this key may not use model {model!r}", param="model")


@dataclass(frozen=True, slots=True)
class VideoPlan:
    model: pricing.VideoModel
    resolution: str
    seconds: int
    aspect: str
    width: int
    height: int
    hold: Decimal


def check_video(call: Call) -> VideoPlan:
    body: dict[str, Any] = call.body
    model = pricing.VIDEO_MODELS.get(body["model"])
    if model is None:
        kind = "a chat model" if body["model"] in pricing.CHAT_MODELS else "not a known model"
        raise error("model_not_found", f"{body['model']!r} is {kind}; video models: "
                    f"{', '.join(pricing.VIDEO_MODELS)}", param="model")
    require_model_scope(call, model.id)
    resolution = body["resolution"]
    if resolution not in model.resolutions:
        raise error("unsupported_resolution", f"{resolution} is not offered for {model.id}; "
                    f"it offers {', '.join(model.resolutions)}", param="resolution")
    aspect = body.get("aspectRatio") or DEFAULT_ASPECT
    width, height = PIXELS[resolution][DEFAULT_ASPECT if aspect == "adaptive" else aspect]
    seconds = int(body["durationSec"])  # JSON Schema's "integer" also admits 5.0
    return VideoPlan(model, resolution, seconds, aspect, width, height,
                     pricing.video_credits(call.emulator.prices[call.vendor.name], resolution, seconds))


def video_steps(now: float, plan: VideoPlan, name: str | None) -> tuple[list[Step], Outcome]:
    factor = SLOW_FACTOR if name == "slow" else 1.0
    running = (RUNNING_BASE_SECONDS + RUNNING_PER_OUTPUT_SECOND[plan.resolution] * plan.seconds) * factor
    queued = QUEUED_SECONDS * factor
    if name == "fail":
        outcome = Outcome("generation_failed", "video generation failed; credits refunded")
        return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.FAILED), outcome
    if name == "output_moderation":
        outcome = Outcome("content_rejected", "the output was blocked by content moderation; credits refunded")
        return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.FAILED), outcome
    seconds = plan.seconds
    if name == "short_output":
        seconds = max(1, plan.seconds - max(1, plan.seconds // 4))
    outcome = Outcome(output={"seconds": seconds})
    return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.SUCCEEDED), outcome


def chat_model(call: Call) -> pricing.ChatModel:
    name = call.body["model"]
    model = pricing.CHAT_MODELS.get(name)
    if model is None:
        kind = "a video model" if name in pricing.VIDEO_MODELS else "not a known model"
        raise error("model_not_found", f"{name!r} is {kind}; chat models: "
                    f"{', '.join(pricing.CHAT_MODELS)}", param="model")
    require_model_scope(call, model.id)
    return model


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def max_completion_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens")
    if value is None:
        value = body.get("max_tokens")
    return None if value is None else int(value)  # JSON Schema's "integer" also admits 3.0


def require_context(model: pricing.ChatModel, prompt_tokens: int, max_tokens: int | None) -> None:
    if prompt_tokens + (max_tokens or 0) > model.context_window:
        raise error("context_length_exceeded",
                    f"{prompt_tokens} prompt tokens (+{max_tokens or 0} requested) exceed "
                    f"{model.id}'s {model.context_window}-token context", param="messages")
