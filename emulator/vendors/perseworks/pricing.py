"""Perseworks' prices as data (1 credit = $0.01), and the functions from a request to credits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CREDITS_PER_USD = 100
# "Video (per output second): 720p $0.15 · 1080p $0.25 · 4K $0.60"
VIDEO_CREDITS_PER_SECOND: dict[str, int] = {"720p": 15, "1080p": 25, "4k": 60}
# Assumption: the document prices chat only as "from $0.10 / 1M input tokens".
TRIAL_CREDITS = 100  # assumption: "New accounts get free trial credits" names no amount
CATALOG_CREATED = 1767225600  # 2026-01-01T00:00:00Z, the catalog's `created` stamp


@dataclass(frozen=True, slots=True)
class VideoModel:
    id: str
    resolutions: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class ChatModel:
    id: str
    context_window: int
    input_usd_per_million: Decimal
    output_usd_per_million: Decimal
    description: str


VIDEO_MODELS: dict[str, VideoModel] = {
    m.id: m
    for m in (
        VideoModel("seedance-2.0", ("720p", "1080p", "4k"), "720p / 1080p / 4K, text + image to video, audio"),
        VideoModel("seedance-2.0-fast", ("720p",), "720p, faster"),
        VideoModel("seedance-2.0-mini", ("720p",), "720p, lowest cost"),
    )
}
CHAT_MODELS: dict[str, ChatModel] = {
    m.id: m
    for m in (
        ChatModel("doubao-seed-2-0-pro", 256_000, Decimal("0.50"), Decimal("2.00"), "256K context"),
        ChatModel("seed-2.1-pro", 256_000, Decimal("1.00"), Decimal("4.00"), "strongest chat model"),
        ChatModel("seed-2.0-mini", 256_000, Decimal("0.10"), Decimal("0.40"), "fast + low cost"),
    )
}


def video_credits(resolution: str, seconds: int) -> int:
    return VIDEO_CREDITS_PER_SECOND[resolution] * seconds


def chat_credits(model: ChatModel, prompt_tokens: int, completion_tokens: int) -> Decimal:
    usd = (prompt_tokens * model.input_usd_per_million
           + completion_tokens * model.output_usd_per_million) / Decimal(1_000_000)
    return usd * CREDITS_PER_USD


def top_up_bonus(usd: float) -> float:
    """"Recharge tiers earn bonus credits (+5% / +10% / +15% at $50 / $200 / $1000)"."""
    if usd >= 1000:
        return 0.15
    if usd >= 200:
        return 0.10
    if usd >= 50:
        return 0.05
    return 0.0


def catalog_pricing_video() -> dict[str, object]:
    return {
        "unit": "output_second",
        "currency": "USD",
        "credits_per_second": dict(VIDEO_CREDITS_PER_SECOND),
        "usd_per_second": {r: c / CREDITS_PER_USD for r, c in VIDEO_CREDITS_PER_SECOND.items()},
    }


def catalog_pricing_chat(model: ChatModel) -> dict[str, object]:
    return {
        "unit": "token",
        "currency": "USD",
        "input_usd_per_million": float(model.input_usd_per_million),
        "output_usd_per_million": float(model.output_usd_per_million),
    }
