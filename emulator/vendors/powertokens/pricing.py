"""PowerTokens' models and prices as data, and the functions from a request to tokens and credits.

The documents say video generation is "pay-per-use and requires account balance" and that
users "purchase Credits", but give no price. Ark bills Seedance by output tokens
(`usage.completion_tokens`), so the emulator prices per million tokens per model; every
figure below is an assumption (docs/fidelity-powertokens.md, PTA-pricing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CREDITS_PER_USD = 100  # assumption: 1 credit = $0.01 (the documents name "Credits" only)
TRIAL_CREDITS = 0  # "Top up: ... purchase Credits" — no free credits are mentioned
FPS = 24  # "framespersecond": 24 in the success example


@dataclass(frozen=True, slots=True)
class VideoModel:
    id: str
    series: str  # "2.0" | "1.5" | "1.0"
    resolutions: tuple[str, ...]  # what the model can render at all
    default_resolution: str
    min_seconds: int
    max_seconds: int
    auto_seconds: bool  # "-1" lets the model pick
    audio: bool  # generate_audio is offered
    draft: bool  # draft mode is offered

    @property
    def is_v2(self) -> bool:
        return self.series == "2.0"

    @property
    def fast(self) -> bool:
        return "fast" in self.id


STANDARD_V2 = "dreamina-seedance-2-0-260128"
FAST_V2 = "dreamina-seedance-2-0-fast-260128"
PRO_15 = "seedance-1-5-pro-251215"
PRO_10 = "seedance-1-0-pro-250528"
PRO_FAST_10 = "seedance-1-0-pro-fast-251015"

MODELS: dict[str, VideoModel] = {
    m.id: m
    for m in (
        # "Seedance 2.0 ... supports 1080p (image-to-video / first-last frame / multimodal reference)"
        VideoModel(STANDARD_V2, "2.0", ("480p", "720p", "1080p"), "720p", 4, 15, True, True, False),
        # "Seedance 2.0 Fast ... up to 720p"
        VideoModel(FAST_V2, "2.0", ("480p", "720p"), "720p", 4, 15, True, True, False),
        # "seedance-1-5-pro-251215 accepts "-1" (auto-select) or "4" to "12"; 1.5-pro defaults to 720p"
        VideoModel(PRO_15, "1.5", ("480p", "720p", "1080p"), "720p", 4, 12, True, True, True),
        # "other models accept "2" to "12"; 1.0-pro and 1.0-pro-fast default to 1080p"
        VideoModel(PRO_10, "1.0", ("480p", "720p", "1080p"), "1080p", 2, 12, False, False, False),
        VideoModel(PRO_FAST_10, "1.0", ("480p", "720p", "1080p"), "1080p", 2, 12, False, False, False),
    )
}


def tokens(width: int, height: int, seconds: float) -> int:
    """Ark's usage: `floor(W × H × (24·seconds + 1) / 1024)`; 720p 16:9 5 s → 108900 as documented.

    `seconds` is the output length plus any input (reference) video seconds."""
    return int(width * height * (FPS * seconds + 1) // 1024)


# The price table (assumptions, see above; a config's `[vendors.powertokens.prices]` may change
# any figure; the running emulator's table is `emulator.prices["powertokens"]`).
PRICES: dict[str, Any] = {
    "usd_per_million_tokens": {STANDARD_V2: 7.00, FAST_V2: 5.60, PRO_15: 2.40, PRO_10: 2.50, PRO_FAST_10: 1.00},
}


def credits_for(prices: dict[str, Any], model: VideoModel, token_count: int) -> Decimal:
    usd_per_million = Decimal(str(prices["usd_per_million_tokens"][model.id]))
    return Decimal(token_count) * usd_per_million / Decimal(1_000_000) * CREDITS_PER_USD
