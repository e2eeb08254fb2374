"""What Genray checks beyond the schema (plans, references, webhooks, concurrency), how its
jobs unfold in time, and the per-emulator bookkeeping of numeric generation ids."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...core import scenarios
from ...core.accounts import Account
from ...core.lifecycle import Outcome, Phase, Step, plan_steps
from ...core.outbox import callback_url_allowed
from ...core.runtime import Emulator
from ...core.vendor import Call
from . import pricing
from .render import error

NAME = "genray"
FILES_PREFIX = "/v1/files/"
UPLOAD_EXTENSIONS = {"jpeg": "jpg"}  # the document's example name ends in .jpg


def user_number(account: Account) -> int:
    """The account's number in Genray's upload names (`upload_u42_…`): given when the account is made;
    an account from an older `--state` file gets one from its id."""
    number = account.extras.get("genray_user")
    if isinstance(number, int):
        return number
    return int.from_bytes(hashlib.sha256(account.id.encode()).digest()[:3], "big") % 100_000


def upload_naming(account: Account) -> Callable[[str, str], str]:
    """Stored names in the document's pattern: `upload_u42_abc123_xyz.jpg`."""
    user = user_number(account)
    return lambda token, fmt: f"upload_u{user}_{token[:6]}_{token[6:9]}.{UPLOAD_EXTENSIONS.get(fmt, fmt)}"
GENERATION_KINDS = ("video", "person")  # the jobs that count toward "Concurrent Jobs"

# 720p output sizes by aspect ratio: the example's 16:9 is 1280x720; the others are the
# Seedance 2.0 720p sizes (assumption: the document gives only the 16:9 one).
PIXELS_720P: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960), "4:3": (1112, 834),
    "3:4": (834, 1112), "21:9": (1470, 630),
}
UPSCALE_FACTOR = 2  # "Upscale a completed video to 2x resolution (720p → 1440p)"
FPS = 25
# "duration_ms": 5040 for a 5-second video: one extra 40 ms frame at 25 fps.
EXTRA_MS = 40

# Timing in emulated seconds. "Generation takes 30-120 seconds": 30 + 6 s per output second
# (54 s for 4 s, 120 s for 15 s). From person: "Processing time: ~2–5 minutes end-to-end":
# 120 + 12 s per output second (168 s … 300 s). Fast: three quarters of that ("faster").
# Upscale: 30 s (assumption: no figure given).
QUEUED_SECONDS = 5.0
SLOW_FACTOR = 10.0
FAST_FACTOR = 0.75
UPSCALE_SECONDS = 30.0
MODERATION_SECONDS = 5.0  # a rejected input fails this long after submit, never running

VIDEO_SCENARIOS = {"fail", "moderation_reject", "output_moderation", "upstream_error", "rate_limited", "slow"}
MODERATION_MESSAGE = "Content moderation rejected this request. Credits have been refunded."
FAILED_MESSAGE = "Generation failed. Credits have been refunded."


# -- per-emulator state: numeric generation ids ------------------------------------------------


@dataclass
class State:
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    by_generation: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def state(emulator: Emulator) -> State:
    return emulator.vendor_state(NAME, "generations", State)


def next_generation_id(emulator: Emulator, task_id: str) -> int:
    """The account-visible numeric id of a new generation (1, 2, …; restarts after a reset)."""
    st = state(emulator)
    with st.lock:
        number = next(st.counter)
        st.by_generation[number] = task_id
        return number


def restore_generations(emulator: Emulator) -> None:
    """Rebuild the numeric ids from the tasks after `--state` was loaded, so numbering goes on."""
    st = state(emulator)
    with st.lock:
        found = {t.data["generation_id"]: t.id for t in emulator.lifecycle.tasks.values()
                 if t.vendor == "genray" and "generation_id" in t.data}
        st.by_generation = dict(found)
        st.counter = itertools.count(max(found, default=0) + 1)


def task_of_generation(emulator: Emulator, number: int) -> str | None:
    return state(emulator).by_generation.get(number)


# -- plans ---------------------------------------------------------------------------------


_RENEW_LOCK = threading.Lock()


def plan_of(account: Account) -> pricing.Plan:
    return pricing.PLANS.get(account.plan or pricing.DEFAULT_PLAN, pricing.PLANS[pricing.DEFAULT_PLAN])


def period_end(account: Account) -> float:
    return float(account.extras.get("genray_period_end", account.created_at + pricing.PLAN_PERIOD_SECONDS))


def renew(emulator: Emulator, account: Account, now: float) -> None:
    """Monthly credits: each plan period that has ended adds the plan's credits (balances carry over)."""
    if now < period_end(account):
        return  # the hot path: no lock
    with _RENEW_LOCK:
        end = period_end(account)
        plan = plan_of(account)
        while end <= now:
            if plan.credits_per_month:
                emulator.ledger.top_up(account.id, plan.credits_per_month, end, note=f"{plan.name} monthly credits")
            end += pricing.PLAN_PERIOD_SECONDS
        account.extras["genray_period_end"] = end


def authorize(call: Call) -> tuple[Account, pricing.Plan]:
    """Every authenticated operation: the plan must include API access."""
    account = call.account
    assert account is not None
    plan = plan_of(account)
    if not plan.api_access:
        raise error("plan_required", f"API access requires Standard or Advanced plan; this account is on "
                                     f"{plan.name}")
    renew(call.emulator, account, call.now)
    return account, plan


def rate_limit_for(emulator: Emulator, account: Account, key: Any) -> int:
    """"Rate limits apply per API key": the plan's requests per minute (Basic: refused later, uncounted)."""
    return plan_of(account).rpm


def concurrent_limit(account: Account, plan: pricing.Plan) -> int:
    """The plan's concurrent jobs, unless the control API set `concurrent_jobs` (0 = unlimited)."""
    value = account.extras.get("concurrent_jobs")
    return plan.concurrent if value is None else int(value)


def require_concurrency(call: Call, plan: pricing.Plan) -> None:
    """"Concurrent Jobs" per key: a new generation waits until one of the key's jobs ends."""
    assert call.key is not None
    limit = concurrent_limit(call.account, plan) if call.account is not None else plan.concurrent
    if not limit:
        return
    now = call.now
    active = [t for t in call.emulator.lifecycle.unfinished(call.key.account_id)
              if t.vendor == NAME and t.key_id == call.key.id and t.kind in GENERATION_KINDS
              and not t.phase_at(now).terminal]
    if len(active) >= limit:
        soonest = min(t.final.at for t in active)
        raise error("rate_limited", f"Too many concurrent jobs: the {plan.name} plan allows {limit} "
                                    f"per API key. Check retry_after.", retry_after=max(1.0, soonest - now))


# -- scenarios -------------------------------------------------------------------------------


def scenario(call: Call, *texts: str | None) -> str | None:
    try:
        return scenarios.choose(call.scenario_header, texts, VIDEO_SCENARIOS, "Genray")
    except scenarios.ScenarioRefused as refused:
        raise error("invalid", refused.message, param="scenario") from None


def raise_submit_scenario(name: str | None) -> None:
    if name == "rate_limited":
        raise error("rate_limited", "Too many requests. Check retry_after.", retry_after=1.0)


# -- inputs ----------------------------------------------------------------------------------


def media_ref(call: Call, value: str, where: str, kinds: tuple[str, ...], *, https_only: bool = False) -> None:
    """A URL the job would read. Never fetched: an upload path must name a stored upload, an
    emulator-served URL must be of the right kind, and anything else is taken on trust."""
    emulator = call.emulator
    if value.startswith(FILES_PREFIX):
        upload = emulator.uploads.get(value[len(FILES_PREFIX):])
        if upload is None or upload.vendor != NAME:
            raise error("invalid", f"'{where}': no uploaded file at {value}", param=where)
        kind = upload.kind
    else:
        try:
            urlsplit(value)
        except ValueError:  # e.g. "http://[]": not a URL (core's known_media would raise on it)
            raise error("invalid", f"'{where}' is not a valid URL", param=where) from None
        info = emulator.known_media(value)
        if info is None:
            if https_only and not value.startswith("https://"):
                raise error("invalid", f"'{where}' must be a public https:// URL or a /v1/files/... path",
                            param=where)
            return
        kind = info.kind
    if kind not in kinds:
        raise error("invalid", f"'{where}' points at a {kind} file; expected {' or '.join(kinds)}", param=where)


def webhook_url(call: Call, url: str | None) -> None:
    if url is None:
        return
    if not callback_url_allowed(url, https_only=True,
                                allow_http_loopback=call.emulator.settings.allow_http_callbacks):
        raise error("invalid", "'webhook_url' must be an HTTPS URL", param="webhook_url")


@dataclass(frozen=True, slots=True)
class JobPlan:
    kind: str
    model: str
    duration: int
    aspect_ratio: str
    width: int
    height: int
    cost: int
    webhook_url: str | None
    audio: bool


def check_video(call: Call) -> JobPlan:
    body: dict[str, Any] = call.body
    first, end = body.get("first_frame_url"), body.get("end_frame_url")
    if end is not None and first is None:
        raise error("invalid", "'end_frame_url' requires 'first_frame_url'", param="end_frame_url")
    for name in ("first_frame_url", "end_frame_url"):
        if body.get(name) is not None:
            media_ref(call, body[name], name, ("image",))
    for name, kinds in (("reference_images", ("image",)), ("reference_videos", ("video",)),
                        ("reference_audios", ("audio", "video"))):
        for i, url in enumerate(body.get(name) or ()):
            media_ref(call, url, f"{name}.{i}", kinds)
    webhook_url(call, body.get("webhook_url"))
    model = body.get("model") or pricing.DEFAULT_MODEL
    duration = int(body.get("duration") or 5)  # JSON Schema's integer admits 5.0
    aspect = body.get("aspect_ratio") or "16:9"
    width, height = PIXELS_720P[aspect]
    cost = pricing.video_credits(call.emulator.prices["genray"], model, duration,
                                 video_reference=bool(body.get("reference_videos")))
    return JobPlan("video", model, duration, aspect, width, height, cost, body.get("webhook_url"),
                   audio=bool(body.get("reference_audios")))


def check_person(call: Call) -> JobPlan:
    body: dict[str, Any] = call.body
    media_ref(call, body["person_image_url"], "person_image_url", ("image",), https_only=True)
    for i, url in enumerate(body.get("extra_reference_images") or ()):
        media_ref(call, url, f"extra_reference_images.{i}", ("image",))
    webhook_url(call, body.get("webhook_url"))
    model = body.get("model") or pricing.DEFAULT_MODEL
    duration = int(body.get("duration") or 5)
    aspect = body.get("aspect_ratio") or "9:16"  # "Default "9:16""
    width, height = PIXELS_720P[aspect]
    # "142 credits for a 5-second video" disagrees with the table (26/s → 130): the table wins.
    cost = pricing.video_credits(call.emulator.prices["genray"], model, duration, video_reference=False)
    return JobPlan("person", model, duration, aspect, width, height, cost, body.get("webhook_url"), audio=False)


def job_steps(now: float, plan: JobPlan, name: str | None) -> tuple[list[Step], Outcome]:
    factor = SLOW_FACTOR if name == "slow" else 1.0
    if plan.kind == "upscale":
        total = UPSCALE_SECONDS
    elif plan.kind == "person":
        total = 120.0 + 12.0 * plan.duration
    else:
        total = 30.0 + 6.0 * plan.duration
    if plan.model == "seedance-2.0-fast" and plan.kind != "upscale":
        total *= FAST_FACTOR
    queued, running = QUEUED_SECONDS * factor, (total - QUEUED_SECONDS) * factor
    if name == "moderation_reject":
        return (plan_steps(now, queued_for=MODERATION_SECONDS, running_for=0, terminal=Phase.FAILED),
                Outcome("moderation_rejected", MODERATION_MESSAGE))
    if name == "output_moderation":
        return (plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.FAILED),
                Outcome("moderation_rejected", MODERATION_MESSAGE))
    if name == "fail":
        return (plan_steps(now, queued_for=queued, running_for=running / 2, terminal=Phase.FAILED),
                Outcome("generation_failed", FAILED_MESSAGE))
    outcome = Outcome(output={"duration_ms": plan.duration * 1000 + EXTRA_MS})
    return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.SUCCEEDED), outcome
