"""What the SeeGen contract tests share: the document's facts as data, transcribed from
../shared/vendor-docs/seegen.md (quoted where it helps), never from the emulator's code, so
the suite can catch the emulator (or the vendor) drifting from the document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# "Credits per second (per output-second *and* per ceiled-input-second)":
# (model, tier) → (no video ref, with video ref)
RATES: dict[tuple[str, str], tuple[int, int]] = {
    ("sd2", "720p"): (40, 30), ("sd2", "1080p"): (100, 75), ("sd2-fast", "720p"): (32, 24),
}
# "WaveSpeed upscale addon ... 1080P +20 credits/s · 2K +30 credits/s · 4K +40 credits/s"
UPSCALE_ADDON: dict[str, int] = {"1080p": 20, "2k": 30, "4k": 40}
# "Credits per task (5s output example)": (config, sd2, sd2-fast); None = "—".
FIVE_SECOND_TABLE: list[tuple[str, int, int | None]] = [
    ("720P, no ref video", 200, 160),
    ("720P, 5s ref video", 300, 240),
    ("720P, 10s ref video", 450, 360),
    ("1080P, no ref video", 500, None),
    ("1080P, 5s ref video", 750, None),
    ("1080P, 10s ref video", 1125, None),
    ("720P + 2K upscale, no ref", 350, 310),
    ("720P + 4K upscale, no ref", 400, 360),
]
# "Example — sd2-fast with 1080p upscale, 5s output, no ref video: ... = 260 credits."
FAST_1080P_UPSCALE_EXAMPLE = 260
# "Example — sd2 1080P native, 5s output + 5s ref video: (5+5) × 75 = 750 credits."
SD2_1080P_REF_EXAMPLE = 750
# HappyHorse: "720P = 32 credits/sec, 1080P = 60 credits/sec"; "5s examples: 720P = 160 credits,
# 1080P = 300 credits. 15s examples: 720P = 480 credits, 1080P = 900 credits."
HAPPYHORSE_RATES = {"720p": 32, "1080p": 60}
HAPPYHORSE_EXAMPLES = [("720p", 5, 160), ("1080p", 5, 300), ("720p", 15, 480), ("1080p", 15, 900)]
# gpt-image-2 per image: (resolution, quality) → credits
GPT_IMAGE = {("1k", "medium"): 15, ("1k", "high"): 70, ("2k", "medium"): 35, ("2k", "high"): 125,
             ("4k", "medium"): 60, ("4k", "high"): 230}
# Standalone upscaler: "credits per billable second; 5s minimum: 1080p: 25/s - 2K: 38/s - 4K: 50/s"
STANDALONE_RATES = {"1080p": 25, "2k": 38, "4k": 50}
STANDALONE_MIN_SECONDS = 5
UPSCALE_ERROR_CODES = ("DURATION_EXCEEDS_LIMIT", "SOURCE_RESOLUTION_TOO_HIGH", "FILE_TOO_LARGE",
                       "UNSUPPORTED_MEDIA_TYPE", "URL_NOT_REACHABLE", "URL_RESOLVES_TO_PRIVATE_IP",
                       "PROBE_FAILED", "UPSTREAM_FAILED", "INSUFFICIENT_CREDITS", "SERVICE_DISABLED")
# "resolution: Aspect ratio via pixel string: 720x720, 720x960, 960x720, 1280x720, 720x1280, 1280x540"
PIXEL_RESOLUTIONS = ("720x720", "720x960", "960x720", "1280x720", "720x1280", "1280x540")
# "Reference constraints: max 9 images, 3 videos, 3 audio files; max 12 total; each video/audio ≤ 15s"
MAX_IMAGES, MAX_VIDEOS, MAX_AUDIOS, MAX_TOTAL, MAX_REF_SECONDS = 9, 3, 3, 12, 15
TASK_STATES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")
UPSCALE_STATES = ("validating", "processing", "completed", "failed")
# "Retry policy: up to 3 retries (1s, 5s, 30s delays) on non-2xx."
CALLBACK_RETRY_DELAYS = (1, 5, 30)


def sd2_credits(model: str, tier: str, output: int, videos: list[int], upscale: str | None = None) -> int:
    """The document's formula: (output + Σ⌈input video⌉) × rate, minimum ⌈2×output/3⌉ on the sum."""
    rate = RATES[model, tier][1 if videos else 0]
    inputs = max(sum(videos), -(-2 * output // 3)) if videos else 0
    return (output + inputs) * rate + (output * UPSCALE_ADDON[upscale] if upscale else 0)


def video_url(seconds: float, width: int = 1280, height: int = 720, name: str = "clip") -> str:
    """An external video the emulator "probes" by its URL-fragment convention (never fetched)."""
    return f"https://cdn.example.com/{name}.mp4#duration={seconds:g}&width={width}&height={height}"


def image_url(width: int = 1024, height: int = 1024, fmt: str = "jpg", name: str = "photo") -> str:
    return f"https://cdn.example.com/{name}.{fmt}#width={width}&height={height}"


Body = dict[str, Any]
MakeClient = Callable[..., Any]
