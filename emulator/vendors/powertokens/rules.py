"""What PowerTokens checks beyond the schema, and how its tasks and asset jobs unfold.

Both interfaces (Ark `content`, OpenAI-style `media` / `prompt`) are read into one `Request`
and checked by one set of rules, so the two cannot drift apart.
"""

from __future__ import annotations

import base64
import heapq
import io
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from PIL import Image

from ...core import scenarios
from ...core.errors import ApiError
from ...core.lifecycle import Outcome, Phase, Step, Task
from ...core.runtime import Emulator
from ...core.vendor import Call
from . import pricing
from .pricing import VideoModel
from .render import error

NAME = "powertokens"

# Output pixel sizes (reference-ark-and-openai.md, "Output pixel sizes (2.0 series)"); the
# 1.x models use the same table (assumption: their page gives none).
PIXELS: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {"16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640), "3:4": (560, 752),
             "9:16": (496, 864), "21:9": (992, 432)},
    "720p": {"16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "3:4": (834, 1112),
             "9:16": (720, 1280), "21:9": (1470, 630)},
    "1080p": {"16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440), "3:4": (1248, 1664),
              "9:16": (1080, 1920), "21:9": (2206, 946)},
}
RATIO_VALUES = {"16:9": 16 / 9, "4:3": 4 / 3, "1:1": 1.0, "3:4": 3 / 4, "9:16": 9 / 16, "21:9": 21 / 9}
ADAPTIVE_FALLBACK = "16:9"  # adaptive with nothing to adapt to (text-only, or an image of unknown size)

DEFAULT_EXPIRES_AFTER = 172800  # "execution_expires_after | int s, 172800"
MAX_QUEUED = 120  # "At most 120 queued tasks per account"
RETENTION_SECONDS = 7 * 86400  # "Only tasks from the last 7 days can be queried"
URL_VALIDITY_SECONDS = 14 * 86400  # "The video URL is valid for 14 days"
CANCELLED_RETENTION_SECONDS = 86400  # "cancelled ... auto-deleted after 24h"

# Reference media (reference-ark-and-openai.md): 1–9 images, 0–3 videos, 0–3 audios; videos and
# audios 2–15 s each, 15 s in total.
MAX_REFERENCE_IMAGES = 9
MAX_REFERENCE_VIDEOS = 3
MAX_REFERENCE_AUDIOS = 3
MIN_REFERENCE_SECONDS, MAX_REFERENCE_SECONDS, MAX_REFERENCE_TOTAL = 2.0, 15.0, 15.0
DEFAULT_MEDIA_SECONDS = 5.0  # a clip the emulator does not know and whose URL names no duration
_DURATION_HINT = re.compile(r"#emulator:duration=(\d+(?:\.\d+)?)")

# Timing in emulated seconds (assumption: the documents give none).
QUEUED_SECONDS = 5.0
RUNNING_BASE_SECONDS = 20.0
RUNNING_PER_OUTPUT_SECOND = {"480p": 2.0, "720p": 3.0, "1080p": 6.0}
SLOW_FACTOR = 10.0
ASSET_PROCESSING_SECONDS = 3.0

VIDEO_SCENARIOS = {"fail", "output_moderation", "moderation_reject", "upstream_error", "rate_limited",
                   "slow", "expire"}
ASSET_SCENARIOS = {"review_fail", "rate_limited", "upstream_error", "slow"}

# Asset library limits (assumptions except images: "Images < 30 MB").
ASSET_LIMITS = {"image": 30 * 1024 * 1024 - 1, "video": 50 * 1024 * 1024, "audio": 15 * 1024 * 1024}
ASSET_SCHEME = "asset://"


def scenario(call: Call, supported: set[str], *texts: str | None) -> str | None:
    try:
        return scenarios.choose(call.scenario_header, texts, supported, "PowerTokens")
    except scenarios.ScenarioRefused as refused:
        raise error("invalid", refused.message, param="scenario") from None


def raise_submit_scenario(name: str | None) -> None:
    """The scenarios that refuse the request itself: nothing is held."""
    if name == "moderation_reject":
        raise error("input_text_sensitive", "the input text may contain sensitive information")
    if name == "upstream_error":
        raise error("upstream_error", "the service is overloaded; try again later", retry_after=1.0)
    if name == "rate_limited":
        raise error("rate_limited", "too many requests", retry_after=1.0)


def media_urls_allowed(call: Call) -> bool:
    """Settings.extra["powertokens.media_urls"]: whether Seedance 2.0 takes plain URLs / base64
    besides `asset://` ids. Default False: "External URLs cannot be used directly"."""
    value = call.emulator.settings.extra.get("powertokens.media_urls", False)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "allow", "any")
    return bool(value)


# -- the request, read from either interface ---------------------------------------------


@dataclass(slots=True)
class Media:
    kind: str  # image | video | audio
    role: str | None  # first_frame | last_frame | reference_image | reference_video | reference_audio | None
    url: str
    param: str
    width: int = 0
    height: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class Request:
    interface: str  # "ark" | "openai"
    model_id: str
    text: str | None
    media: list[Media]
    resolution: str | None
    ratio: str | None
    duration: int | None
    seed: int
    generate_audio: bool | None
    draft: bool | None
    return_last_frame: bool
    camera_fixed: bool
    watermark: bool
    safety_identifier: str | None
    service_tier: str | None
    execution_expires_after: int
    priority: int | None
    callback_url: str | None
    params: dict[str, str] = field(default_factory=dict)  # field → the parameter name the client used


def _opt(body: dict[str, Any], name: str) -> Any:
    """An optional field; `null` (what the Ark SDK sends for every unset argument) is "not given"."""
    return body.get(name)


def read_ark(body: dict[str, Any]) -> Request:
    text: str | None = None
    media: list[Media] = []
    for i, item in enumerate(body["content"]):
        kind = item["type"]
        where = f"content[{i}]"
        if kind == "text":
            if "text" not in item:
                raise error("missing", f"missing required parameter '{where}.text'", param=f"{where}.text")
            if text is not None:
                raise error("invalid", "at most one text item is allowed in content", param=where)
            if item.get("role") is not None:
                raise error("invalid", "a text item takes no role", param=f"{where}.role")
            text = item["text"]
            continue
        sub = item.get(kind)
        if sub is None:
            raise error("missing", f"missing required parameter '{where}.{kind}'", param=f"{where}.{kind}")
        for other in ("image_url", "video_url", "audio_url", "text"):
            if other != kind and other in item:
                raise error("invalid", f"a {kind} item takes no '{other}'", param=f"{where}.{other}")
        media_kind = kind.removesuffix("_url")
        media.append(Media(media_kind, item.get("role"), sub["url"], f"{where}.{kind}.url"))
    duration = _opt(body, "duration")
    return Request(
        interface="ark", model_id=body["model"], text=text, media=media,
        resolution=_opt(body, "resolution"), ratio=_opt(body, "ratio"),
        duration=None if duration is None else int(duration),
        seed=int(_opt(body, "seed") if _opt(body, "seed") is not None else -1),
        generate_audio=_opt(body, "generate_audio"), draft=_opt(body, "draft"),
        return_last_frame=bool(_opt(body, "return_last_frame")), camera_fixed=bool(_opt(body, "camera_fixed")),
        watermark=bool(_opt(body, "watermark")), safety_identifier=_opt(body, "safety_identifier"),
        service_tier=_opt(body, "service_tier"),
        execution_expires_after=int(_opt(body, "execution_expires_after") or DEFAULT_EXPIRES_AFTER),
        priority=_opt(body, "priority"), callback_url=_opt(body, "callback_url"),
        params={"resolution": "resolution", "duration": "duration", "ratio": "ratio"},
    )


_MEDIA_ROLES = {"first_frame": "image", "last_frame": "image", "reference_image": "image",
                "reference_video": "video", "reference_audio": "audio"}


def read_openai(body: dict[str, Any]) -> Request:
    model = pricing.MODELS.get(body["model"])
    text: str | None = None
    media: list[Media] = []
    if model is not None and model.is_v2:
        for name in ("prompt", "image", "camera_fixed", "draft"):
            if name in body:
                raise error("invalid", f"'{name}' is not a Seedance 2.0 parameter; use the 'media' array",
                            param=name)
        if "media" not in body:
            raise error("missing", "missing required parameter 'media'", param="media")
        for i, item in enumerate(body["media"]):
            where = f"media[{i}]"
            kind = item["type"]
            if kind == "text":
                if "text" not in item:
                    raise error("missing", f"missing required parameter '{where}.text'", param=f"{where}.text")
                if text is not None:
                    raise error("invalid", "at most one text item is allowed in media", param=where)
                text = item["text"]
                continue
            if "url" in item and "asset_id" in item:
                raise error("invalid", "give either 'url' or 'asset_id', not both", param=f"{where}.url")
            if "url" in item:
                url, param = item["url"], f"{where}.url"
            elif "asset_id" in item:
                # The media-type table names `asset_id` "obtained via Asset Library upload"; the
                # bare id and the `asset://<id>` form the examples put in `url` are both taken.
                asset_id = item["asset_id"]
                url = asset_id if asset_id.startswith(ASSET_SCHEME) else ASSET_SCHEME + asset_id
                param = f"{where}.asset_id"
            else:
                raise error("missing", f"missing required parameter '{where}.asset_id'", param=f"{where}.asset_id")
            media.append(Media(_MEDIA_ROLES[kind], kind, url, param))
    elif model is not None:
        if "media" in body:
            raise error("invalid", f"{model.id} takes 'prompt' and 'image', not 'media'", param="media")
        if "prompt" not in body:
            raise error("missing", "missing required parameter 'prompt'", param="prompt")
        text = body["prompt"]
        if "image" in body:
            media.append(Media("image", "first_frame", body["image"], "image"))
    seconds = body.get("seconds")
    return Request(
        interface="openai", model_id=body["model"], text=text, media=media,
        resolution=body.get("size"), ratio=body.get("ratio"), duration=None if seconds is None else int(seconds),
        seed=int(body.get("seed", -1)), generate_audio=body.get("generate_audio"), draft=body.get("draft"),
        return_last_frame=bool(body.get("return_last_frame")), camera_fixed=bool(body.get("camera_fixed")),
        watermark=bool(body.get("watermark")), safety_identifier=body.get("safety_identifier"),
        service_tier=None, execution_expires_after=DEFAULT_EXPIRES_AFTER, priority=None, callback_url=None,
        params={"resolution": "size", "duration": "seconds", "ratio": "ratio"},
    )


# -- checks --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoPlan:
    model: VideoModel
    mode: str  # text | first_frame | first_last | reference
    resolution: str
    ratio: str  # the rendered ratio (adaptive resolved)
    width: int
    height: int
    duration: int  # output seconds
    hold_duration: int  # the longest output the request allows (-1 → the model's maximum)
    input_video_seconds: float
    seed: int
    generate_audio: bool
    draft: bool
    hold_tokens: int
    tokens: int
    hold: Any  # Decimal credits


def check_model(call: Call, model_id: str) -> VideoModel:
    model = pricing.MODELS.get(model_id)
    if model is None:
        raise error("model_not_found", f"the model {model_id!r} does not exist or you do not have access to it; "
                    f"models: {', '.join(pricing.MODELS)}", param="model")
    assert call.key is not None
    if not call.key.scopes.allows_model(model.id):
        raise error("model_not_allowed", f"this key may not use model {model.id!r}", param="model")
    return model


def resolve_media(call: Call, req: Request, model: VideoModel) -> None:
    """Fill each item's facts from the asset library or what the emulator serves; refuse what
    the model may not take. The emulator never fetches a URL."""
    urls_ok = media_urls_allowed(call) or not model.is_v2
    assert call.account is not None
    for m in req.media:
        url = m.url
        if url.startswith(ASSET_SCHEME):
            asset_id = url[len(ASSET_SCHEME):].split("#", 1)[0]
            found = find_asset(call, asset_id)
            if found is None:
                raise error("invalid", f"asset {asset_id!r} does not exist, is not ready, or is not yours",
                            param=m.param)
            kind, width, height, seconds = found
            if kind != m.kind:
                raise error("invalid", f"asset {asset_id!r} is a {kind}, not a {m.kind}", param=m.param)
            m.width, m.height, m.seconds = width, height, seconds
            continue
        if not urls_ok:
            raise error("invalid", "Seedance 2.0 media must first be uploaded through the Asset Library: "
                        "use \"asset://<asset_id>\" (external URLs and base64 cannot be used directly)",
                        param=m.param)
        if url.startswith("data:"):
            head = url.split(",", 1)[0]
            if m.kind == "video" or not head.startswith(f"data:{m.kind}/") or ";base64" not in head or "," not in url:
                raise error("invalid", f"a base64 {m.kind} must be a 'data:{m.kind}/<format>;base64,<data>' URI"
                            + (" (videos take a URL or an asset)" if m.kind == "video" else ""), param=m.param)
            if m.kind == "image":
                m.width, m.height = _inline_image_size(url.split(",", 1)[1])
            continue
        if m.kind == "image" and _RAW_BASE64.match(url):
            # The 1.x page: `image` is a "URL or Base64-encoded input" — a bare Base64 string is
            # taken as well as a data: URI (never fetched; its size is read when it decodes).
            m.width, m.height = _inline_image_size(url)
            continue
        if not re.match(r"^https?://[^/\s]+", url):
            raise error("invalid", f"{url[:80]!r} is not an http(s) URL, a data: URI or an asset:// id",
                        param=m.param)
        info = call.emulator.known_media(url)
        if info is not None:
            if info.kind != m.kind:
                raise error("invalid", f"the URL serves a {info.kind}, not a {m.kind}", param=m.param)
            m.width, m.height, m.seconds = info.width, info.height, info.seconds
        elif m.kind in ("video", "audio"):
            hint = _DURATION_HINT.search(url)
            m.seconds = float(hint.group(1)) if hint else DEFAULT_MEDIA_SECONDS


_RAW_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]{16,}={0,2}$")


def _inline_image_size(b64: str) -> tuple[int, int]:
    """The pixel size of an inline (Base64) image, or (0, 0) when it does not decode: the
    emulator reads what it is given, and `adaptive` falls back when the size is unknown."""
    try:
        with Image.open(io.BytesIO(base64.b64decode(b64, validate=False))) as img:
            return img.size
    except Exception:  # anything undecodable is "size unknown", not an error
        return 0, 0


def find_asset(call: Call, asset_id: str) -> tuple[str, int, int, float] | None:
    """(kind, width, height, seconds) of the caller's ready asset, or None."""
    assert call.account is not None
    job = call.emulator.lifecycle.get(asset_job_id(asset_id), call.account.id)
    if job is None or job.vendor != NAME or job.kind != "asset" or job.phase_at(call.now) is not Phase.SUCCEEDED:
        return None
    d = job.data
    return d["kind"], d["width"], d["height"], d["seconds"]


def asset_job_id(asset_id: str) -> str:
    """An asset id and its upload job share a token: `asset-<t>` ↔ `asset-job-<t>`."""
    return "asset-job-" + asset_id.removeprefix("asset-")


def _role_param(m: Media) -> str:
    """`content[1].video_url.url` → `content[1].role`."""
    return m.param.split(".", 1)[0] + ".role"


def check_roles(req: Request) -> None:
    videos = [m for m in req.media if m.kind == "video"]
    audios = [m for m in req.media if m.kind == "audio"]
    images = [m for m in req.media if m.kind == "image"]
    for m in videos:
        if m.role not in (None, "reference_video"):
            raise error("invalid", "a video takes the role 'reference_video'", param=_role_param(m))
    for m in audios:
        if m.role not in (None, "reference_audio"):
            raise error("invalid", "an audio takes the role 'reference_audio'", param=_role_param(m))
    for m in images:
        if m.role not in (None, "first_frame", "last_frame", "reference_image"):
            raise error("invalid", "an image takes the role 'first_frame', 'last_frame' or 'reference_image'",
                        param=_role_param(m))


def _mode(req: Request, model: VideoModel) -> str:
    images = [m for m in req.media if m.kind == "image"]
    videos = [m for m in req.media if m.kind == "video"]
    audios = [m for m in req.media if m.kind == "audio"]
    reference = bool(videos or audios or any(m.role == "reference_image" for m in images))
    if reference:
        if not model.is_v2:
            raise error("invalid", f"multimodal reference is a Seedance 2.0 feature; {model.id} does not offer it",
                        param=req.media[0].param)
        frames = [m for m in images if m.role != "reference_image"]
        if frames:
            raise error("invalid", "first/last frames and reference media exclude each other", param=frames[0].param)
        if len(images) > MAX_REFERENCE_IMAGES:
            raise error("invalid", f"at most {MAX_REFERENCE_IMAGES} reference images", param=images[-1].param)
        if len(videos) > MAX_REFERENCE_VIDEOS:
            raise error("invalid", f"at most {MAX_REFERENCE_VIDEOS} reference videos", param=videos[-1].param)
        if len(audios) > MAX_REFERENCE_AUDIOS:
            raise error("invalid", f"at most {MAX_REFERENCE_AUDIOS} reference audios", param=audios[-1].param)
        if audios and not images and not videos:
            raise error("invalid", "a reference audio cannot be the only reference: add an image or a video",
                        param=audios[0].param)
        for group in (videos, audios):
            for m in group:
                if not MIN_REFERENCE_SECONDS <= m.seconds <= MAX_REFERENCE_SECONDS:
                    raise error("invalid", f"each reference {m.kind} must last {MIN_REFERENCE_SECONDS:g}–"
                                f"{MAX_REFERENCE_SECONDS:g} s; this one lasts {m.seconds:g} s", param=m.param)
            if sum(m.seconds for m in group) > MAX_REFERENCE_TOTAL:
                raise error("invalid", f"reference {group[0].kind}s may last {MAX_REFERENCE_TOTAL:g} s in total",
                            param=group[-1].param)
        return "reference"
    if not images:
        return "text"
    if len(images) == 1:
        if images[0].role == "last_frame":
            raise error("invalid", "a last frame needs a first frame", param=images[0].param)
        return "first_frame"
    if len(images) == 2:
        roles = {m.role for m in images}
        if roles != {"first_frame", "last_frame"}:
            raise error("invalid", "two images must carry the roles 'first_frame' and 'last_frame'",
                        param=images[1].param)
        return "first_last"
    raise error("invalid", "at most two frame images (first and last); use 'reference_image' for more",
                param=images[2].param)


def _adaptive(req: Request) -> str:
    image = next((m for m in req.media if m.kind == "image" and m.width and m.height), None)
    if image is None:
        return ADAPTIVE_FALLBACK
    aspect = image.width / image.height
    return min(RATIO_VALUES, key=lambda r: abs(RATIO_VALUES[r] - aspect))


def check_video(call: Call, req: Request) -> VideoPlan:
    model = check_model(call, req.model_id)
    p = req.params
    check_roles(req)
    resolve_media(call, req, model)
    mode = _mode(req, model)
    if req.text is None and (model.is_v2 or mode == "text"):
        # The 2.0 modes all list `text`; without any image there is nothing else to go on.
        where = "content" if req.interface == "ark" else ("media" if model.is_v2 else "prompt")
        raise error("missing", f"missing required parameter '{where}': a text prompt is required", param=where)
    if req.text is not None and not req.text.strip():
        raise error("invalid", "the text prompt is empty", param="content" if req.interface == "ark" else "prompt")
    # draft: "Only seedance-1.5-pro supports"; "Draft mode only supports 480p".
    draft = bool(req.draft)
    if draft and not model.draft:
        raise error("invalid", f"draft mode is offered by {pricing.PRO_15} only", param="draft")
    resolution = req.resolution or ("480p" if draft else model.default_resolution)
    if resolution not in model.resolutions:
        top = "720p" if model.fast else "1080p"
        raise error("invalid", f"{model.id} renders {', '.join(model.resolutions)} (max {top}); not {resolution}",
                    param=p["resolution"])
    if draft and resolution != "480p":
        raise error("invalid", "draft mode only supports 480p", param=p["resolution"])
    if model.is_v2 and resolution == "1080p" and mode == "text":
        raise error("invalid", "1080p is offered for image-to-video, first-last frame and multimodal reference; "
                    "text-to-video renders up to 720p", param=p["resolution"])
    # duration / seconds
    duration = req.duration if req.duration is not None else 5
    if duration == -1:
        if not model.auto_seconds:
            raise error("invalid", f"{model.id} takes {model.min_seconds}–{model.max_seconds} seconds; "
                        "-1 (auto) is not offered", param=p["duration"])
    elif not model.min_seconds <= duration <= model.max_seconds:
        auto = " or -1" if model.auto_seconds else ""
        raise error("invalid", f"{model.id} takes {model.min_seconds}–{model.max_seconds} seconds{auto}; "
                    f"not {duration}", param=p["duration"])
    # generate_audio: "Only seedance-1.5-pro supports" among 1.x; 2.0 series feature.
    if req.generate_audio and not model.audio:
        raise error("invalid", f"{model.id} does not generate audio", param="generate_audio")
    generate_audio = model.audio if req.generate_audio is None else bool(req.generate_audio)
    if req.return_last_frame and model.series == "1.0":
        raise error("invalid", f"return_last_frame is offered by {pricing.PRO_15} and the 2.0 models",
                    param="return_last_frame")
    if req.priority not in (None, 0) and not model.is_v2:
        raise error("invalid", "priority is a Seedance 2.0 parameter", param="priority")
    if req.service_tier == "flex" and model.is_v2:
        raise error("invalid", "Seedance 2.0 is online only: service_tier must be 'default'", param="service_tier")
    # ratio: 2.0 (Ark) defaults to adaptive; /v1/videos: 16:9 for text-to-video, adaptive otherwise;
    # 1.x: text-to-video 16:9 (1.5 pro adaptive), image-to-video adaptive.
    ratio = req.ratio
    if ratio is None:
        if req.interface == "ark" and model.is_v2:
            ratio = "adaptive"
        elif mode == "text":
            ratio = "adaptive" if model.series == "1.5" else "16:9"
        else:
            ratio = "adaptive"
    shown = _adaptive(req) if ratio == "adaptive" else ratio
    width, height = PIXELS[resolution][shown]
    seed = req.seed if req.seed != -1 else call.emulator.ids.randint(0, 2**32 - 1)
    if duration == -1:
        out = call.emulator.ids.randint(model.min_seconds, model.max_seconds)
        hold_duration = model.max_seconds
    else:
        out = hold_duration = duration
    input_seconds = sum(m.seconds for m in req.media if m.kind == "video")
    hold_tokens = pricing.tokens(width, height, hold_duration + input_seconds)
    tokens = pricing.tokens(width, height, out + input_seconds)
    hold = pricing.credits_for(call.emulator.prices["powertokens"], model, hold_tokens)
    return VideoPlan(model, mode, resolution, shown, width, height, out, hold_duration, input_seconds, seed,
                     generate_audio, draft, hold_tokens, tokens, hold)


def check_callback(req: Request) -> None:
    url = req.callback_url
    if url is not None and not re.match(r"^https?://[^/\s]+", url):
        raise error("invalid", "callback_url must be an http(s) URL", param="callback_url")


# Per account (in the emulator's vendor state), a heap of (end of the queued phase, task id) of the
# video tasks submitted: what is still in it after popping the ended ones bounds the queued tasks
# from above (a cancelled task stays until its queued phase would have ended), so only an account
# near the cap is counted exactly. Without it each submit looked at the phase of every unfinished
# task (hundreds under load).
QueueEnds = dict[str, list[tuple[float, str]]]


def _queue_ends(emulator: Emulator) -> QueueEnds:
    return emulator.vendor_state(NAME, "queue_ends", dict)


def note_queued(emulator: Emulator, task: Task) -> None:
    """Record a started video task's end of queue (for `check_queue`)."""
    steps = task.steps
    if len(steps) > 1 and steps.phase(0) is Phase.QUEUED:
        ends = _queue_ends(emulator).setdefault(task.account_id, [])
        heapq.heappush(ends, (steps.at(1), task.id))


def check_queue(call: Call) -> None:
    """"At most 120 queued tasks per account"."""
    assert call.account is not None
    now = call.now
    ends = _queue_ends(call.emulator).get(call.account.id)
    while ends and ends[0][0] <= now:
        heapq.heappop(ends)
    if not ends or len(ends) < MAX_QUEUED:
        return  # fewer tasks can be queued than the cap: their phases need no look
    unfinished = call.emulator.lifecycle.unfinished(call.account.id)
    queued = sum(1 for t in unfinished if t.vendor == NAME and t.kind == "video" and t.phase_at(now) is Phase.QUEUED)
    if queued >= MAX_QUEUED:
        raise error("quota_exceeded", f"this account already has {MAX_QUEUED} queued tasks; "
                    "wait for some to start", retry_after=QUEUED_SECONDS)


# -- how a task unfolds ----------------------------------------------------------------------


def video_steps(now: float, plan: VideoPlan, expires_after: int, name: str | None) -> tuple[list[Step], Outcome]:
    factor = SLOW_FACTOR if name == "slow" else 1.0
    queued = QUEUED_SECONDS * factor
    running = (RUNNING_BASE_SECONDS + RUNNING_PER_OUTPUT_SECOND[plan.resolution] * plan.duration) * factor
    if plan.model.fast:
        running /= 2
    deadline = now + expires_after
    if name == "expire":
        return [Step(Phase.QUEUED, now), Step(Phase.EXPIRED, deadline)], Outcome()
    start, end = now + queued, now + queued + running
    if name == "fail":
        terminal, outcome = Phase.FAILED, Outcome("InternalServiceError", "the video generation failed; "
                                                  "credits refunded")
    elif name == "output_moderation":
        terminal, outcome = Phase.FAILED, Outcome("OutputVideoSensitiveContentDetected",
                                                  "the generated video may contain sensitive information")
    else:
        terminal, outcome = Phase.SUCCEEDED, Outcome(output={"seconds": plan.duration, "tokens": plan.tokens})
    # "execution_expires_after ... past it the task is `expired`"
    if end > deadline:
        steps = [Step(Phase.QUEUED, now)]
        if start < deadline:
            steps.append(Step(Phase.RUNNING, start))
        steps.append(Step(Phase.EXPIRED, deadline))
        return steps, Outcome()
    return [Step(Phase.QUEUED, now), Step(Phase.RUNNING, start), Step(terminal, end)], outcome


def asset_steps(now: float, name: str | None) -> tuple[list[Step], Outcome]:
    factor = SLOW_FACTOR if name == "slow" else 1.0
    done = now + ASSET_PROCESSING_SECONDS * factor
    if name == "review_fail":
        return [Step(Phase.QUEUED, now), Step(Phase.FAILED, done)], Outcome(
            "AssetReviewFailed", "the asset did not pass review")
    return [Step(Phase.QUEUED, now), Step(Phase.SUCCEEDED, done)], Outcome()


def visible(task: Task, now: float) -> bool:
    """Only the last 7 days; cancelled tasks disappear 24 h after cancellation."""
    if now - task.created_at > RETENTION_SECONDS:
        return False
    step = task.step_at(now)
    return not (step.phase is Phase.CANCELLED and now - step.at > CANCELLED_RETENTION_SECONDS)


def not_found(task_id: str) -> ApiError:
    return error("not_found", f"the task {task_id!r} does not exist (or is older than 7 days)", param="id")


# -- what a stored video task keeps ----------------------------------------------------------


class VideoFacts(NamedTuple):
    """What rendering a video task reads that tasks submitted alike have in common. Stored once per
    combination and shared (memory per stored task is an issue-8 target: as keys of each task's
    `data` these were a 21-key dict of ~460 bytes a task); a task's `data` keeps only these facts,
    its seed, and what is its own (callback URL, safety identifier, media names). A tuple, not a
    frozen dataclass: made, hashed and compared in C on every submit (~0.8 against ~3.5 µs)."""

    model: str
    mode: str
    resolution: str
    ratio: str
    duration: int
    service_tier: str
    execution_expires_after: int
    generate_audio: bool
    draft: bool
    priority: int
    camera_fixed: bool
    watermark: bool
    origin: str
    interface: str
    tokens: int
    width: int
    height: int


SHARED_FACTS_MAX = 4096  # distinct combinations kept for sharing; past it each task keeps its own
_shared_facts: dict[VideoFacts, VideoFacts] = {}
# A task's own values, kept in its `data` only when given (fewer keys, a smaller dict).
OWN_KEYS = ("safety_identifier", "callback_url", "video", "last_frame")


def shared_facts(facts: VideoFacts) -> VideoFacts:
    # Equal is not always alike: a float priority (JSON `1.0` passes an integer schema) equals
    # the int and would render as `1.0`; such facts are kept apart. The other numbers and flags
    # are made int / bool where the request is read.
    if type(facts.priority) is not int:
        return facts
    found = _shared_facts.get(facts)
    if found is not None:
        return found
    if len(_shared_facts) < SHARED_FACTS_MAX:
        return _shared_facts.setdefault(facts, facts)
    return facts


def video_data(facts: VideoFacts, seed: int, own: dict[str, Any]) -> dict[str, Any]:
    """A video task's `data`: the shared facts, the seed, and the own values that are set."""
    data: dict[str, Any] = {"facts": shared_facts(facts), "seed": seed}
    for key in OWN_KEYS:
        value = own.get(key)
        if value is not None:
            data[key] = value
    return data


def facts_of(task: Task) -> VideoFacts:
    return task.data["facts"]  # type: ignore[no-any-return]


def upgrade_video_data(data: dict[str, Any]) -> dict[str, Any]:
    """A video task's `data` as a `--state` file written before `VideoFacts` holds it (every fact
    its own key), in the current form; the current form is returned as it is."""
    if "facts" in data:
        return data
    facts = VideoFacts(**{name: data[name] for name in VideoFacts._fields})
    return video_data(facts, data["seed"], data)


def restore_tasks(emulator: Emulator) -> None:
    """After `--state` was loaded: video tasks stored in the older layout take the current one."""
    _queue_ends(emulator).clear()
    for task in list(emulator.lifecycle.tasks.values()):
        if task.vendor == NAME and task.kind == "video":
            task.data = upgrade_video_data(task.data)
            note_queued(emulator, task)
