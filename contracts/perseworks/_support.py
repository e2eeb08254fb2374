"""What the Perseworks contract tests share: the document's facts as data (the target and the
control API wrappers are the suite-wide ones of contracts/_support.py, re-exported here).

Everything the tests assert about prices, models and codes comes from the tables below,
transcribed from ../shared/vendor-docs/perseworks.md (quoted where it helps), never from
the emulator's own code: the suite must be able to catch the emulator (or the vendor)
drifting from the document.
"""

from __future__ import annotations

from collections.abc import Callable

from client import Perseworks, VideoGeneration

from .._support import Account, Balance, Clock, Control, Target, async_hook

__all__ = ["Account", "Balance", "Clock", "Control", "Target", "async_hook"]

# -- the document, as data ------------------------------------------------------------

# "Models": id → resolutions ("1080p and 4K on Seedance 2.0 only; Fast/Mini are 720p").
VIDEO_MODELS: dict[str, tuple[str, ...]] = {
    "seedance-2.0": ("720p", "1080p", "4k"),
    "seedance-2.0-fast": ("720p",),
    "seedance-2.0-mini": ("720p",),
}
CHAT_MODELS: tuple[str, ...] = ("doubao-seed-2-0-pro", "seed-2.1-pro", "seed-2.0-mini")
# "Video (per output second): 720p $0.15 · 1080p $0.25 · 4K $0.60"; "1 credit = $0.01".
CREDITS_PER_USD = 100
USD_PER_SECOND: dict[str, float] = {"720p": 0.15, "1080p": 0.25, "4k": 0.60}
CREDITS_PER_SECOND: dict[str, int] = {r: round(usd * CREDITS_PER_USD) for r, usd in USD_PER_SECOND.items()}
# "Chat: billed per token (from $0.10 / 1M input tokens)".
CHAT_MIN_INPUT_USD_PER_MILLION = 0.10
# "doubao-seed-2-0-pro  chat  256K context": 256 000 or 256 × 1024, either reading.
DOUBAO_CONTEXT = (256_000, 262_144)
# "durationSec (integer, required) — 1 to 15"
MIN_SECONDS, MAX_SECONDS = 1, 15
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
# "Recharge tiers earn bonus credits (+5% / +10% / +15% at $50 / $200 / $1000)".
BONUS_TIERS: tuple[tuple[float, float], ...] = ((1000, 0.15), (200, 0.10), (50, 0.05))
TERMINAL = ("succeeded", "failed")


# An upper bound, not a price: the document prices chat only as "from $0.10 / 1M input tokens". A
# test's call is a two-line prompt with a terse answer (a few hundred tokens at most), far under
# a credit ($0.01) even at a hundred times that rate, so each chat call is estimated at 1 credit.
CHAT_CALL_CREDITS = 1


def bonus_rate(usd: float) -> float:
    return next((rate for floor, rate in BONUS_TIERS if usd >= floor), 0.0)


def video_credits(resolution: str, seconds: int) -> int:
    return CREDITS_PER_SECOND[resolution] * seconds


# `make_client(api_key=None, **options)` and `finish(client, task_id)` (see conftest.py).
MakeClient = Callable[..., Perseworks]
Finish = Callable[[Perseworks, str], VideoGeneration]
