"""Perseworks' prices as data (1 credit = $0.01), and the functions from a request to credits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CREDITS_PER_USD = 100
# The price table (a config's `[vendors.perseworks.prices]` may change any figure; the running
# emulator's table is `emulator.prices["perseworks"]`).
PRICES: dict[str, Any] = {
    # "Video (per output second): 720p $0.15 · 1080p $0.25 · 4K $0.60"
    "video_credits_per_second": {"720p": 15, "1080p": 25, "4k": 60},
    # Assumption: the document prices chat only as "from $0.10 / 1M input tokens".
    "chat_usd_per_million": {
        "doubao-seed-2-0-pro": {"input": 0.50, "output": 2.00},
        "seed-2.1-pro": {"input": 1.00, "output": 4.00},
        "seed-2.0-mini": {"input": 0.10, "output": 0.40},
    },
}
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
        ChatModel("doubao-seed-2-0-pro", 256_000, "256K context"),
        ChatModel("seed-2.1-pro", 256_000, "strongest chat model"),
        ChatModel("seed-2.0-mini", 256_000, "fast + low cost"),
    )
}


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def video_credits(prices: dict[str, Any], resolution: str, seconds: int) -> Decimal:
    return _decimal(prices["video_credits_per_second"][resolution]) * seconds


def chat_credits(prices: dict[str, Any], model: ChatModel, prompt_tokens: int, completion_tokens: int) -> Decimal:
    rates = prices["chat_usd_per_million"][model.id]
    usd = prompt_tokens * _decimal(rates["input"]) + completion_tokens * _decimal(rates["output"])
    return usd / Decimal(1_000_000) * CREDITS_PER_USD


def top_up_bonus(usd: float) -> float:
    """"Recharge tiers earn bonus credits (+5% / +10% / +15% at $50 / $200 / $1000)"."""
    if usd >= 1000:
        return 0.15
    if usd >= 200:
        return 0.10
    if usd >= 50:
        return 0.05
    return 0.0


def catalog_pricing_video(prices: dict[str, Any]) -> dict[str, object]:
    per_second = prices["video_credits_per_second"]
    return {
        "unit": "output_second",
        "currency": "USD",
        "credits_per_second": dict(per_second),
        "usd_per_second": {r: c / CREDITS_PER_USD for r, c in per_second.items()},
    }


def catalog_pricing_chat(prices: dict[str, Any], model: ChatModel) -> dict[str, object]:
    rates = prices["chat_usd_per_million"][model.id]
    return {
        "unit": "token",
        "currency": "USD",
        "input_usd_per_million": float(rates["input"]),
        "output_usd_per_million": float(rates["output"]),
    }
