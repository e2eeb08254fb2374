"""Genray's plans and credit costs as data (genray.md, "Rate Limits" and "Credit Costs")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The cost table (a config's `[vendors.genray.prices]` may change any figure; the running
# emulator's table is `emulator.prices["genray"]`).
PRICES: dict[str, Any] = {
    # "Video (Pro model) 26 credits/sec", "Video (Fast model) 22 credits/sec".
    "credits_per_second": {"seedance-2.0": 26, "seedance-2.0-fast": 22},
    # "+ Video reference (omni) +18 cr/sec: Extra cost when using a video reference".
    "video_reference_credits_per_second": 18,
    # "Upscale (2x) Free".
    "upscale_credits": 0,
}
DEFAULT_MODEL = "seedance-2.0"
PRO_MODEL_ALIAS = "seedance-2.0-pro"  # what the document's "Response (completed)" example names


def status_model(model: str) -> str:
    """The model as `GET /api/v1/videos/{job_id}` names it. The document shows one job submitted
    as "seedance-2.0" (202) and polled as "seedance-2.0-pro" ("Response (completed)"; from-person
    calls it "(pro)"): the 202 echoes the request, the status names the Pro model by its full id."""
    return PRO_MODEL_ALIAS if model == DEFAULT_MODEL else model


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    usd_per_month: int
    api_access: bool
    max_api_keys: int
    rpm: int
    concurrent: int
    credits_per_month: int


# "Rate Limits" table, and "Standard plan ($39/mo) gives 4,850 credits", "Advanced plan
# ($80/mo) gives 9,900 credits". Basic ($19/mo): "No API access"; its credits are not given.
PLANS: dict[str, Plan] = {
    p.id: p
    for p in (
        Plan("basic", "Basic", 19, False, 0, 0, 0, 0),
        Plan("standard", "Standard", 39, True, 2, 10, 2, 4850),
        Plan("advanced", "Advanced", 80, True, 5, 30, 5, 9900),
    )
}
DEFAULT_PLAN = "standard"  # assumption: an account made without a plan is on the cheapest API plan
PLAN_PERIOD_SECONDS = 30 * 86400  # assumption: "/mo" is a 30-day period from the account's creation


def video_credits(prices: dict[str, Any], model: str, seconds: int, *, video_reference: bool) -> int | float:
    """The table's price: per second by model, plus the omni surcharge with a video reference."""
    per_second = prices["credits_per_second"][model]
    if video_reference:
        per_second += prices["video_reference_credits_per_second"]
    return per_second * seconds
