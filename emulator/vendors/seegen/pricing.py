"""SeeGen's prices as data (seegen.md, "Pricing"), and the functions from a request to credits.

Every figure below is transcribed from the document; tests reproduce each figure of its
tables (including the "5s output example" table) by running a task and reading `creditsUsed`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The price table (a config's `[vendors.seegen.prices]` may change any figure; the running
# emulator's table is `emulator.prices["seegen"]`).
PRICES: dict[str, Any] = {
    # "Credits per second (per output-second *and* per ceiled-input-second)": model → output tier
    # → without / with a reference video. sd2-fast has no native 1080p ("N/A").
    "video_credits_per_second": {
        "sd2": {"720p": {"no_video_ref": 40, "with_video_ref": 30},
                "1080p": {"no_video_ref": 100, "with_video_ref": 75}},
        "sd2-fast": {"720p": {"no_video_ref": 32, "with_video_ref": 24}},
    },
    # "WaveSpeed upscale addon (applied on top of 720P base, flat per-output-second regardless of
    # model or video ref): 1080P +20 credits/s · 2K +30 credits/s · 4K +40 credits/s".
    "upscale_addon_per_second": {"1080p": 20, "2k": 30, "4k": 40},
    # HappyHorse 1.0: "720P = 32 credits/sec, 1080P = 60 credits/sec"; reference images are not billed.
    "happyhorse_credits_per_second": {"720p": 32, "1080p": 60},
    # gpt-image-2, per image: resolution → quality → credits.
    "gpt_image_credits": {"1k": {"medium": 15, "high": 70}, "2k": {"medium": 35, "high": 125},
                          "4k": {"medium": 60, "high": 230}},
    # Standalone upscaler: "credits per billable second; 5s minimum: 1080p: 25/s - 2K: 38/s - 4K: 50/s".
    "standalone_upscale_credits_per_second": {"1080p": 25, "2k": 38, "4k": 50},
}
STANDALONE_MIN_SECONDS = 5

# "API Starter Pack (40% OFF) $500 → 125,000 credits; API XL Pack $2,000 → 500,000 credits":
# both packs are 250 credits per dollar.
PACKS: Mapping[str, tuple[int, int]] = {"starter": (500, 125_000), "xl": (2_000, 500_000)}
CREDITS_PER_USD = 250


def ceil_seconds(value: float) -> int:
    """⌈x⌉ to whole seconds, robust to float noise (5.000000001 s of a 5 s clip is 5)."""
    return math.ceil(round(value, 6))


def minimum_input_seconds(output_seconds: int) -> int:
    """The floor of the summed input seconds: ⌈2 × output_seconds / 3⌉."""
    return -(-2 * output_seconds // 3)


@dataclass(frozen=True, slots=True)
class VideoCost:
    rate: int
    input_seconds: int  # Σ⌈input video⌉ after the minimum; 0 without video refs
    addon: int  # upscale credits per output second, 0 without upscaleResolution
    credits: int


def sd2_credits(model: str, tier: str, output_seconds: int, input_video_seconds: Iterable[float],
                upscale: str | None = None, *, minimum_per_video: bool = False,
                prices: Mapping[str, Any] = PRICES) -> VideoCost:
    """`(output_seconds + Σ⌈input_video_duration_i⌉) × rate` (+ the upscale add-on per output second).

    The minimum ⌈2×output/3⌉ applies to the sum by default; `minimum_per_video` applies it to
    each video instead (the document's wording allows both; see docs/fidelity-seegen.md).
    """
    durations = [ceil_seconds(s) for s in input_video_seconds]
    with_video = bool(durations)
    rate = prices["video_credits_per_second"][model][tier]["with_video_ref" if with_video else "no_video_ref"]
    floor = minimum_input_seconds(output_seconds)
    if not with_video:
        inputs = 0
    elif minimum_per_video:
        inputs = sum(max(d, floor) for d in durations)
    else:
        inputs = max(sum(durations), floor)
    addon = prices["upscale_addon_per_second"][upscale] if upscale else 0
    return VideoCost(rate, inputs, addon, (output_seconds + inputs) * rate + output_seconds * addon)


def happyhorse_credits(tier: str, seconds: int, prices: Mapping[str, Any] = PRICES) -> int:
    return prices["happyhorse_credits_per_second"][tier] * seconds


def gpt_image_credits(resolution: str, quality: str, prices: Mapping[str, Any] = PRICES) -> int:
    return prices["gpt_image_credits"][resolution][quality]


def standalone_billable_seconds(duration: float) -> int:
    """Whole seconds, rounded up; "clips shorter than 5 s are accepted but billed as 5 s"."""
    return max(STANDALONE_MIN_SECONDS, ceil_seconds(duration))


def standalone_upscale_credits(target: str, duration: float, rates: Mapping[str, int] | None = None,
                               prices: Mapping[str, Any] = PRICES) -> int:
    """`rates` (the `seegen.upscale_rates` setting) wins over the price table, for the document's
    example figures (see SA22)."""
    table = rates or prices["standalone_upscale_credits_per_second"]
    return table[target] * standalone_billable_seconds(duration)
