"""What SeeGen checks beyond the schema, how its tasks, assets and upscale jobs unfold, and
how the emulator "probes" media without ever fetching it.

Probing (offline): a URL the emulator serves itself (`Emulator.known_media`) is known
exactly; an `asset://` reference carries what was recorded when the asset was uploaded; any
other URL is read by a documented convention: its URL fragment may state
`duration=<s>`, `width=<px>`, `height=<px>`, `size=<bytes>`, `format=<ext>`, and the flags
`unreachable` / `probe_failed` (e.g. `https://cdn.example.com/a.mp4#duration=30&width=1920&height=1080`);
whatever it does not state comes from the path's extension and the seeded defaults below.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ...core import scenarios
from ...core.lifecycle import Outcome, Phase, Step, Task, plan_steps
from ...core.outbox import callback_url_allowed
from ...core.runtime import Emulator
from ...core.vendor import Call
from . import pricing
from .render import error

NAME = "seegen"

# -- models and their fields ---------------------------------------------------------------

ALIASES = {"happyhorse-video-generation": "happyhorse"}
SD2_FIELDS = frozenset({"prompt", "urls", "videoUrls", "audioUrls", "duration", "resolution",
                        "outputResolution", "videoInputMode", "upscaleResolution"})
FIELDS: dict[str, frozenset[str]] = {
    "sd2": SD2_FIELDS,
    "sd2-fast": SD2_FIELDS,
    "happyhorse": frozenset({"prompt", "urls", "videoWorkflowTab", "duration", "outputResolution",
                             "ratio", "seed"}),
    "gpt-image-2": frozenset({"prompt", "urls", "quality", "resolution", "aspectRatio", "outputFormat"}),
}

# sd2 / sd2-fast: "Aspect ratio via pixel string"; default 1280x720 (assumption SA6).
SD2_PIXELS: dict[str, tuple[int, int]] = {
    "720x720": (720, 720), "720x960": (720, 960), "960x720": (960, 720),
    "1280x720": (1280, 720), "720x1280": (720, 1280), "1280x540": (1280, 540),
}
SD2_DEFAULT_RESOLUTION = "1280x720"
SD2_MIN_SECONDS, SD2_MAX_SECONDS, DEFAULT_SECONDS = 4, 15, 5
# Output scale over the 720p pixel size: native 1080p, and the WaveSpeed upscale tiers.
SCALE = {"720p": 1.0, "1080p": 1.5, "2k": 2.0, "4k": 3.0}
MAX_IMAGES, MAX_VIDEOS, MAX_AUDIOS, MAX_REFERENCES = 9, 3, 3, 12
MAX_REFERENCE_SECONDS = 15.0  # "each video/audio ≤ 15s"
SD2_MIN_IMAGE_SIDE = 400  # "images ≥ 400px shortest side"

# HappyHorse 1.0
HH_MIN_SECONDS, HH_MAX_SECONDS = 3, 15
HH_MAX_REFS = 9
HH_PROMPT_LIMIT = 5000  # "≤ 5000 non-CJK chars or ≤ 2500 CJK chars": a CJK char weighs 2
HH_PIXELS: dict[str, dict[str, tuple[int, int]]] = {
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960), "4:3": (1104, 828),
             "3:4": (828, 1104)},
    "1080p": {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1440, 1440), "4:3": (1656, 1242),
              "3:4": (1242, 1656)},
}
HH_DEFAULT_RATIO = "16:9"  # assumption: the document gives none
HH_IMAGE = {"min_side": 300, "max_aspect": 2.5, "formats": {"jpeg", "png", "bmp", "webp"},
            "max_bytes": 10 * 1024 * 1024}

# GPT Image 2: long side by resolution tier (assumption SA9), short side by aspect ratio.
GPT_LONG_SIDE = {"1k": 1024, "2k": 2048, "4k": 4096}
GPT_IMAGE = {"min_side": 256, "max_aspect": 3.0, "formats": {"jpeg", "png", "webp"},
             "max_bytes": 50 * 1024 * 1024}
GPT_MAX_REFS = 10

# Standalone upscaler
UPSCALE_SHORT_SIDE = {"1080p": 1080, "2k": 1440, "4k": 2160}
UPSCALE_MAX_SECONDS = 600.0
UPSCALE_MAX_BYTES = 200 * 1024 * 1024
UPSCALE_FORMATS = {"mp4", "mov", "webm"}

# Timing in emulated seconds (assumption SA12: the document only says 1080p takes 10+ minutes
# and asset review "usually completed within seconds").
PENDING_SECONDS = 5.0
ASSET_REVIEW_SECONDS = 3.0
UPSCALE_VALIDATING_SECONDS = 5.0
SLOW_FACTOR = 10.0
DEFAULT_CONCURRENCY = 240  # "auto-scalable concurrency (240+)"

TASK_SCENARIOS = {"fail", "output_moderation", "moderation_reject", "upstream_error", "rate_limited", "slow"}
UPSCALE_SCENARIOS = {"fail", "upstream_error", "rate_limited", "slow"}
ASSET_SCENARIOS = {"review_fail", "rate_limited"}

_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef]")

# -- settings ------------------------------------------------------------------------------


def setting(emulator: Emulator, name: str, default: Any) -> Any:
    return emulator.settings.extra.get(f"{NAME}.{name}", default)


# -- scenarios -----------------------------------------------------------------------------


def scenario(call: Call, supported: set[str], *texts: str | None) -> str | None:
    try:
        return scenarios.choose(call.scenario_header, texts, supported, "SeeGen")
    except scenarios.ScenarioRefused as refused:
        raise error("invalid", refused.message, param="scenario") from None


def raise_submit_scenario(name: str | None) -> None:
    """The scenarios that refuse the request itself: nothing is held or charged."""
    if name == "moderation_reject":
        raise error("invalid", "the prompt was rejected by content moderation", param="inputs.prompt")
    if name == "upstream_error":
        raise error("internal", "the upstream model is temporarily unavailable")
    if name == "rate_limited":
        raise error("rate_limited", "too many requests", retry_after=1.0)


def require_concurrency(call: Call) -> None:
    """429 "Concurrency limit reached": running generation and upscale work per account."""
    assert call.account is not None
    limit = call.account.extras.get("concurrency_limit")
    if limit is None:
        limit = setting(call.emulator, "concurrency_limit", DEFAULT_CONCURRENCY)
    limit = int(limit)
    if limit <= 0:
        return
    now = call.now
    active = sum(1 for t in call.emulator.lifecycle.unfinished(call.account.id)
                 if t.vendor == NAME and t.kind in ("generation", "upscale") and not t.phase_at(now).terminal)
    if active >= limit:
        raise error("concurrency_limit", f"concurrency limit reached: {active} of {limit} tasks are "
                    "still running for this account; retry when one finishes", retry_after=5.0)


# -- probing (never fetches) -----------------------------------------------------------------

EXTENSIONS: dict[str, tuple[str, str]] = {
    "jpg": ("image", "jpeg"), "jpeg": ("image", "jpeg"), "png": ("image", "png"), "webp": ("image", "webp"),
    "bmp": ("image", "bmp"), "gif": ("image", "gif"), "tif": ("image", "tiff"), "tiff": ("image", "tiff"),
    "mp4": ("video", "mp4"), "mov": ("video", "mov"), "webm": ("video", "webm"), "mkv": ("video", "mkv"),
    "avi": ("video", "avi"), "mp3": ("audio", "mp3"), "wav": ("audio", "wav"), "m4a": ("audio", "m4a"),
    "aac": ("audio", "aac"), "ogg": ("audio", "ogg"), "flac": ("audio", "flac"),
}
FORMAT_ALIASES = {"jpg": "jpeg", "quicktime": "mov", "mpeg4": "mp4", "matroska": "mkv"}
DEFAULTS: dict[str, tuple[str, int, int, float]] = {  # kind → (format, width, height, seconds)
    "image": ("jpeg", 1024, 1024, 0.0),
    "video": ("mp4", 1280, 720, 5.0),
    "audio": ("mp3", 0, 0, 5.0),
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What a probe learns of a media URL."""

    kind: str
    format: str
    width: int
    height: int
    seconds: float
    size: int | None = None
    source: str = "default"  # emulator | asset | convention | default
    flags: frozenset[str] = field(default_factory=frozenset)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "format": self.format, "width": self.width, "height": self.height,
                "seconds": self.seconds, "size": self.size, "source": self.source}


def fragment(url: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for piece in urlsplit(url).fragment.split("&"):
        if not piece or piece.startswith("emulator:"):
            continue
        key, _, value = piece.partition("=")
        out[key.strip().lower()] = value.strip()
    return out


def scenario_texts(url: str) -> list[str]:
    """The URL itself and each `emulator:<name>` piece of its fragment, as scenario token texts
    (so `#duration=10&emulator:fail` names a scenario too)."""
    pieces = urlsplit(url).fragment.split("&")
    return [url, *("#" + p for p in pieces if p.startswith("emulator:"))]


def _number(value: str, param: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0 or number == float("inf"):
        raise error("invalid", f"the URL fragment's {name}={value!r} (emulator probe convention) "
                    "must be a non-negative number", param=param)
    return number


def probe(emulator: Emulator, url: str, expected: str, param: str) -> Facts:
    """What the emulator knows of `url`, by the rules in this module's docstring."""
    known = emulator.known_media(url)
    if known is not None:
        fmt = FORMAT_ALIASES.get(known.format, known.format)
        return Facts(known.kind, fmt, known.width, known.height, known.seconds, source="emulator")
    extension = urlsplit(url).path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    kind, fmt = EXTENSIONS.get(extension, (expected, ""))
    default_fmt, width, height, seconds = DEFAULTS[kind]
    fmt = fmt or default_fmt
    size: int | None = None
    given = fragment(url)
    flags = frozenset(k for k in ("unreachable", "probe_failed") if k in given)
    if "format" in given:
        fmt = FORMAT_ALIASES.get(given["format"].lower(), given["format"].lower())
        kind = EXTENSIONS.get(fmt, (kind, fmt))[0]
    if "duration" in given:
        seconds = _number(given["duration"], param, "duration")
    if "width" in given:
        width = int(_number(given["width"], param, "width"))
    if "height" in given:
        height = int(_number(given["height"], param, "height"))
    if "size" in given:
        size = int(_number(given["size"], param, "size"))
    stated = bool(given.keys() & {"format", "duration", "width", "height", "size"})
    return Facts(kind, fmt, width, height, seconds, size, "convention" if stated else "default", flags)


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def private_host(url: str) -> bool:
    """A host that is (or obviously resolves to) a private/internal address. No DNS lookups."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in ("localhost",) or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


# -- assets ---------------------------------------------------------------------------------

ASSET_SCHEME = "asset://"


def assets_of(emulator: Emulator, account_id: str) -> list[Task]:
    return [t for t in emulator.lifecycle.of_kind(account_id, "asset") if t.vendor == NAME]


def next_asset_number(emulator: Emulator) -> int:
    return 1 + emulator.lifecycle.count(NAME, "asset")


def new_volc_id(emulator: Emulator, now: float) -> str:
    """`asset-<day>-<6 chars>`, drawn again while taken: the volcAssetId is also the task's id, and
    a repeat within a day would replace another asset (or any task holding that id)."""
    day = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d")
    while (volc_id := f"asset-{day}-{emulator.ids.token(6)}") in emulator.lifecycle.tasks:
        pass
    return volc_id


@dataclass
class _AssetIndex:
    """Numeric assetId → asset task, so that a lookup by number costs nothing in proportion to the
    tasks held. The vendor has no hook on a reset, so the index checks itself against the lifecycle
    (its count of SeeGen assets, and the found task still being the one held under its id) and is
    rebuilt from the tasks when they disagree: after a reset, or a `--state` load (`restore`)."""

    by_number: dict[int, Task] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _asset_index(emulator: Emulator) -> _AssetIndex:
    return emulator.vendor_state(NAME, "assets", _AssetIndex)


def _rebuild_asset_index(emulator: Emulator, index: _AssetIndex) -> None:
    index.by_number = {t.data["asset_id"]: t for t in list(emulator.lifecycle.tasks.values())
                       if t.vendor == NAME and t.kind == "asset"}


def restore_assets(emulator: Emulator) -> None:
    """Index the assets of a `--state` file just loaded."""
    index = _asset_index(emulator)
    with index.lock:
        _rebuild_asset_index(emulator, index)


def index_asset(emulator: Emulator, task: Task) -> None:
    """Record an asset task the lifecycle has just started."""
    index = _asset_index(emulator)
    with index.lock:
        index.by_number[task.data["asset_id"]] = task


def _asset_by_number(emulator: Emulator, number: int) -> Task | None:
    index = _asset_index(emulator)
    tasks = emulator.lifecycle.tasks
    with index.lock:
        task = index.by_number.get(number)
        if task is not None and tasks.get(task.id) is not task:  # no longer held: trust the lifecycle
            _rebuild_asset_index(emulator, index)
            task = index.by_number.get(number)
    return task


def find_asset(emulator: Emulator, ref: str) -> Task | None:
    """By volcAssetId, or by numeric assetId (the document accepts both); any account's."""
    if ref.isascii() and ref.isdigit():
        return _asset_by_number(emulator, int(ref))
    task = emulator.lifecycle.tasks.get(ref)
    return task if task is not None and task.vendor == NAME and task.kind == "asset" else None


def asset_status(task: Task, now: float) -> str:
    phase = task.phase_at(now)
    return "ACTIVE" if phase is Phase.SUCCEEDED else "FAILED" if phase is Phase.FAILED else "PROCESSING"


def check_asset_upload(call: Call) -> tuple[Facts, str | None]:
    body = call.body
    url, kind = body["url"], body["type"].lower()
    if not is_http_url(url):
        raise error("invalid", "'url' must be a publicly accessible http(s) URL", param="url")
    name = scenario(call, ASSET_SCENARIOS, *scenario_texts(url), body.get("name"))
    raise_submit_scenario(name)
    facts = probe(call.emulator, url, kind, "url")
    if facts.kind != kind:
        raise error("invalid", f"'type' is {body['type']} but the file at 'url' is {facts.kind.upper()}",
                    param="type")
    return facts, name


def asset_steps(now: float, name: str | None) -> tuple[list[Step], Outcome]:
    if name == "review_fail":
        outcome = Outcome("REVIEW_REJECTED", "the asset did not pass review: it may not be used as a reference")
        return plan_steps(now, queued_for=ASSET_REVIEW_SECONDS, running_for=0, terminal=Phase.FAILED), outcome
    return plan_steps(now, queued_for=ASSET_REVIEW_SECONDS, running_for=0, terminal=Phase.SUCCEEDED), Outcome()


# -- generation tasks -------------------------------------------------------------------------


@dataclass(slots=True)
class GenPlan:
    model: str  # canonical (aliases resolved)
    kind: str  # video | image
    mode: str
    width: int
    height: int
    seconds: int = 0
    fmt: str = "mp4"
    credits: int = 0
    running: float = 30.0
    audio: bool = False
    blocked_by: str | None = None  # a reference asset that is not ACTIVE: the task will fail
    details: dict[str, Any] = field(default_factory=dict)


def parse_duration(raw: str | None, low: int, high: int, *, suffix: str) -> int:
    if raw is None:
        return DEFAULT_SECONDS
    digits = raw[:-1] if raw.endswith("s") else raw
    seconds = int(digits) if digits.isascii() and digits.isdigit() else -1
    if not low <= seconds <= high:
        raise error("invalid", f"'inputs.duration' must be whole seconds from \"{low}{suffix}\" to "
                    f"\"{high}{suffix}\", not {raw!r}", param="inputs.duration")
    return seconds


def _reference(call: Call, url: str, param: str, expected: str) -> tuple[Facts, Task | None]:
    """Facts of one reference: an asset of the caller's library, or an http(s) URL."""
    assert call.account is not None
    if url.startswith(ASSET_SCHEME):
        asset = find_asset(call.emulator, url[len(ASSET_SCHEME):])
        if asset is None or asset.account_id != call.account.id:
            raise error("invalid", f"{param}: no asset {url!r} in your asset library", param=param)
        if asset.data["type"].lower() != expected:
            raise error("invalid", f"{param}: {url} is an {asset.data['type']} asset, not {expected.upper()}",
                        param=param)
        return replace(asset.data["facts"], source="asset"), asset
    if not is_http_url(url):
        raise error("invalid", f"{param}: {url!r} is neither an http(s) URL nor an asset:// reference",
                    param=param)
    facts = probe(call.emulator, url, expected, param)
    if facts.kind != expected:
        raise error("invalid", f"{param}: {url!r} is {facts.kind}, not {expected}", param=param)
    return facts, None


def _check_image(facts: Facts, rules: dict[str, Any], param: str, model: str) -> None:
    short, long = sorted((facts.width, facts.height))
    if short < rules["min_side"]:
        raise error("invalid", f"{param}: images for {model} need a shortest side of at least "
                    f"{rules['min_side']}px; this one is {facts.width}x{facts.height}", param=param)
    if long / short > rules["max_aspect"]:
        raise error("invalid", f"{param}: images for {model} need an aspect ratio between "
                    f"1:{rules['max_aspect']:g} and {rules['max_aspect']:g}:1; this one is "
                    f"{facts.width}x{facts.height}", param=param)
    if facts.format not in rules["formats"]:
        raise error("invalid", f"{param}: {facts.format or 'this'} images are not accepted by {model}; "
                    f"use {', '.join(sorted(rules['formats'])).upper()}", param=param)
    if facts.size is not None and facts.size > rules["max_bytes"]:
        raise error("invalid", f"{param}: images for {model} may be at most "
                    f"{rules['max_bytes'] // (1024 * 1024)} MB", param=param)


def _unsupported_fields(model: str, inputs: dict[str, Any]) -> None:
    for name in inputs:
        if name not in FIELDS[model]:
            raise error("invalid", f"'inputs.{name}' is not a parameter of model {model}",
                        param=f"inputs.{name}")


def _require_prompt(inputs: dict[str, Any], why: str) -> None:
    if not (inputs.get("prompt") or "").strip():
        raise error("invalid", f"'inputs.prompt' is required {why}", param="inputs.prompt")


def _blocked(assets: Iterable[Task | None], now: float) -> str | None:
    for asset in assets:
        if asset is not None and asset_status(asset, now) != "ACTIVE":
            return asset.id
    return None


def check_task(call: Call) -> GenPlan:
    body = call.body
    model = ALIASES.get(body["model"], body["model"])
    require_model_scope(call, body["model"], model)
    inputs: dict[str, Any] = body["inputs"]
    _unsupported_fields(model, inputs)
    if model in ("sd2", "sd2-fast"):
        plan = _check_sd2(call, model, inputs)
    elif model == "happyhorse":
        plan = _check_happyhorse(call, inputs)
    else:
        plan = _check_gpt_image(call, inputs)
    callback = body.get("callBackUrl")
    if callback is not None:
        check_callback(call.emulator, callback, "callBackUrl")
    return plan


def require_model_scope(call: Call, sent: str, model: str) -> None:
    """403 "Access denied" for a key scoped to other models (control API `allowed_models`); an
    alias is allowed when either of its names is."""
    assert call.key is not None
    if not (call.key.scopes.allows_model(sent) or call.key.scopes.allows_model(model)):
        raise error("model_not_allowed", f"access denied: this key may not use model {sent!r}", param="model")


def check_callback(emulator: Emulator, url: str, param: str) -> None:
    if not callback_url_allowed(url, https_only=bool(setting(emulator, "https_callbacks_only", False)),
                                allow_http_loopback=emulator.settings.allow_http_callbacks):
        raise error("invalid", f"'{param}' must be an http(s) URL", param=param)


def _check_sd2(call: Call, model: str, inputs: dict[str, Any]) -> GenPlan:
    urls: list[str] = inputs.get("urls") or []
    videos: list[str] = inputs.get("videoUrls") or []
    audios: list[str] = inputs.get("audioUrls") or []
    mode = inputs.get("videoInputMode")
    tier = inputs.get("outputResolution") or "720p"
    upscale = inputs.get("upscaleResolution")
    resolution = inputs.get("resolution") or SD2_DEFAULT_RESOLUTION
    if resolution not in SD2_PIXELS:
        raise error("invalid", f"'inputs.resolution' for {model} is a pixel string: "
                    f"{', '.join(SD2_PIXELS)}", param="inputs.resolution")
    if tier == "1080p" and model != "sd2":
        raise error("invalid", "'inputs.outputResolution' 1080p is available only for model sd2; "
                    "sd2-fast should use upscaleResolution \"1080p\" (or 2k / 4k) instead",
                    param="inputs.outputResolution")
    if tier == "1080p" and upscale:
        raise error("invalid", "'inputs.upscaleResolution' is applied on top of the 720p base output; "
                    "it cannot be combined with outputResolution 1080p", param="inputs.upscaleResolution")
    seconds = parse_duration(inputs.get("duration"), SD2_MIN_SECONDS, SD2_MAX_SECONDS, suffix="s")
    if mode is None:
        if videos or audios:
            which = "inputs.videoUrls" if videos else "inputs.audioUrls"
            raise error("invalid", f"'{which}' is for reference mode only: set videoInputMode \"reference\"",
                        param=which)
        if len(urls) > 1:
            raise error("invalid", "more than one image needs videoInputMode \"keyframe\" (first & last "
                        "frame) or \"reference\"", param="inputs.urls")
        kind = "image-to-video" if urls else "text-to-video"
    elif mode == "keyframe":
        if len(urls) != 2:
            raise error("invalid", "keyframe mode takes exactly 2 images in 'inputs.urls': the first and "
                        "the last frame", param="inputs.urls")
        if videos or audios:
            which = "inputs.videoUrls" if videos else "inputs.audioUrls"
            raise error("invalid", f"'{which}' is for reference mode only", param=which)
        kind = "keyframe"
    else:
        if len(urls) > MAX_IMAGES:
            raise error("invalid", f"reference mode takes at most {MAX_IMAGES} images", param="inputs.urls")
        if len(urls) + len(videos) + len(audios) > MAX_REFERENCES:
            raise error("invalid", f"at most {MAX_REFERENCES} references in all (images + videos + audio)",
                        param="inputs.urls")
        if not urls and not videos:
            if audios:
                raise error("invalid", "'inputs.audioUrls' cannot be the only reference: add at least one "
                            "image or video", param="inputs.audioUrls")
            raise error("invalid", "reference mode needs at least one image or video reference",
                        param="inputs.urls")
        kind = "reference"
    if kind == "text-to-video":
        _require_prompt(inputs, "for text-to-video")
    assets: list[Task | None] = []
    for i, url in enumerate(urls):
        facts, asset = _reference(call, url, f"inputs.urls[{i}]", "image")
        assets.append(asset)
        short = min(facts.width, facts.height)
        if short < SD2_MIN_IMAGE_SIDE:
            raise error("invalid", f"inputs.urls[{i}]: images need a shortest side of at least "
                        f"{SD2_MIN_IMAGE_SIDE}px; this one is {facts.width}x{facts.height}", param="inputs.urls")
    video_seconds: list[float] = []
    for i, url in enumerate(videos):
        if not url.startswith(ASSET_SCHEME):
            raise error("invalid", f"inputs.videoUrls[{i}]: video references must be asset:// URIs; external "
                        "URLs are rejected. Upload videos via /api/v1/assets/upload first",
                        param="inputs.videoUrls")
        facts, asset = _reference(call, url, f"inputs.videoUrls[{i}]", "video")
        assets.append(asset)
        if facts.seconds > MAX_REFERENCE_SECONDS:
            raise error("invalid", f"inputs.videoUrls[{i}]: reference videos may be at most 15 s; this one "
                        f"is {facts.seconds:g} s", param="inputs.videoUrls")
        video_seconds.append(facts.seconds)
    for i, url in enumerate(audios):
        facts, asset = _reference(call, url, f"inputs.audioUrls[{i}]", "audio")
        assets.append(asset)
        if facts.seconds > MAX_REFERENCE_SECONDS:
            raise error("invalid", f"inputs.audioUrls[{i}]: reference audio may be at most 15 s; this one "
                        f"is {facts.seconds:g} s", param="inputs.audioUrls")
    per_video = setting(call.emulator, "input_minimum", "sum") == "each"
    cost = pricing.sd2_credits(model, tier, seconds, video_seconds, upscale, minimum_per_video=per_video,
                               prices=call.emulator.prices["seegen"])
    width, height = SD2_PIXELS[resolution]
    scale = SCALE[upscale or tier]
    running = 30.0 + 6.0 * seconds if tier == "720p" else 600.0 + 10.0 * seconds
    if upscale:
        running += {"1080p": 60.0, "2k": 90.0, "4k": 120.0}[upscale]
    return GenPlan(model, "video", kind, _even(width * scale), _even(height * scale), seconds, "mp4",
                   cost.credits, running, audio=True, blocked_by=_blocked(assets, call.now),
                   details={"tier": tier, "upscale": upscale, "rate": cost.rate, "addon": cost.addon,
                            "input_seconds": cost.input_seconds, "input_videos": video_seconds})


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def prompt_weight(text: str) -> int:
    """A CJK character counts twice: ≤ 5000 non-CJK or ≤ 2500 CJK characters fit."""
    return len(text) + len(_CJK.findall(text))


def truncate_prompt(text: str, limit: int = HH_PROMPT_LIMIT) -> str:
    """What the upstream keeps of a prompt over the limit ("upstream auto-truncates beyond")."""
    if prompt_weight(text) <= limit:
        return text
    used = 0
    for i, char in enumerate(text):
        used += 2 if _CJK.match(char) else 1
        if used > limit:
            return text[:i]
    return text


def _nearest_ratio(width: int, height: int) -> str:
    aspect = width / height
    return min(HH_PIXELS["720p"], key=lambda r: abs(aspect - _ratio_value(r)))


def _ratio_value(ratio: str) -> float:
    w, _, h = ratio.partition(":")
    return int(w) / int(h)


def _check_happyhorse(call: Call, inputs: dict[str, Any]) -> GenPlan:
    urls: list[str] = inputs.get("urls") or []
    tab = inputs.get("videoWorkflowTab")
    if tab == "multi-reference":
        if not 1 <= len(urls) <= HH_MAX_REFS:
            raise error("invalid", f"reference-to-video takes 1–{HH_MAX_REFS} reference images in 'inputs.urls'",
                        param="inputs.urls")
        mode = "reference-to-video"
    elif len(urls) > 1:
        raise error("invalid", "image-to-video takes exactly 1 image; set videoWorkflowTab \"multi-reference\" "
                    "for reference-to-video with 1–9 images", param="inputs.urls")
    else:
        mode = "image-to-video" if urls else "text-to-video"
    if mode != "image-to-video":
        _require_prompt(inputs, f"for {mode}")
    if mode == "image-to-video" and "ratio" in inputs:
        raise error("invalid", "'inputs.ratio' applies to text-to-video and reference-to-video only; "
                    "image-to-video infers the aspect from the first frame", param="inputs.ratio")
    seconds = parse_duration(inputs.get("duration"), HH_MIN_SECONDS, HH_MAX_SECONDS, suffix="")
    tier = inputs.get("outputResolution") or "720p"
    first: Facts | None = None
    for i, url in enumerate(urls):
        facts, _ = _reference(call, url, f"inputs.urls[{i}]", "image")  # no review needed: any status
        _check_image(facts, HH_IMAGE, "inputs.urls", "happyhorse")
        first = first or facts
    ratio = inputs.get("ratio") or HH_DEFAULT_RATIO
    if mode == "image-to-video" and first is not None:
        ratio = _nearest_ratio(first.width, first.height)
    width, height = HH_PIXELS[tier][ratio]
    prompt = inputs.get("prompt") or ""
    kept = truncate_prompt(prompt)
    running = (30.0 + 6.0 * seconds) if tier == "720p" else (60.0 + 10.0 * seconds)
    return GenPlan("happyhorse", "video", mode, width, height, seconds, "mp4",
                   pricing.happyhorse_credits(tier, seconds, call.emulator.prices["seegen"]), running, audio=False,
                   details={"tier": tier, "ratio": ratio, "prompt_truncated": len(kept) < len(prompt),
                            "prompt_kept_chars": len(kept)})


def gpt_image_size(resolution: str, aspect: str) -> tuple[int, int]:
    long = GPT_LONG_SIDE[resolution]
    w, h = (int(p) for p in aspect.split(":"))
    if w >= h:
        return long, _even16(long * h / w)
    return _even16(long * w / h), long


def _even16(value: float) -> int:
    return max(16, round(value / 16) * 16)


def _check_gpt_image(call: Call, inputs: dict[str, Any]) -> GenPlan:
    urls: list[str] = inputs.get("urls") or []
    _require_prompt(inputs, "for gpt-image-2")
    if len(urls) > GPT_MAX_REFS:
        raise error("invalid", f"image-to-image takes 1–{GPT_MAX_REFS} reference images", param="inputs.urls")
    resolution = inputs.get("resolution") or "2k"
    if resolution not in GPT_LONG_SIDE:
        raise error("invalid", "'inputs.resolution' for gpt-image-2 is \"1k\", \"2k\" or \"4k\"",
                    param="inputs.resolution")
    quality = inputs.get("quality") or "medium"
    aspect = inputs.get("aspectRatio") or "1:1"
    fmt = inputs.get("outputFormat") or "png"
    for i, url in enumerate(urls):
        facts, _ = _reference(call, url, f"inputs.urls[{i}]", "image")
        _check_image(facts, GPT_IMAGE, "inputs.urls", "gpt-image-2")
    width, height = gpt_image_size(resolution, aspect)
    running = 20.0 * (2 if quality == "high" else 1) + {"1k": 0.0, "2k": 5.0, "4k": 15.0}[resolution]
    return GenPlan("gpt-image-2", "image", "image-to-image" if urls else "text-to-image", width, height,
                   0, fmt, pricing.gpt_image_credits(resolution, quality, call.emulator.prices["seegen"]), running,
                   details={"resolution": resolution, "quality": quality, "aspectRatio": aspect})


def task_steps(now: float, plan: GenPlan, name: str | None) -> tuple[list[Step], Outcome]:
    factor = SLOW_FACTOR if name == "slow" else 1.0
    queued, running = PENDING_SECONDS * factor, plan.running * factor
    if plan.blocked_by is not None:
        outcome = Outcome("ASSET_NOT_APPROVED", f"reference asset {plan.blocked_by} has not passed review "
                          "(it is not ACTIVE); real human assets must be approved before use")
        return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.FAILED), outcome
    if name == "fail":
        outcome = Outcome("GENERATION_FAILED", "generation failed upstream; credits refunded")
        return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.FAILED), outcome
    if name == "output_moderation":
        outcome = Outcome("OUTPUT_MODERATION", "the output did not pass the safety review; credits refunded")
        return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.FAILED), outcome
    return plan_steps(now, queued_for=queued, running_for=running, terminal=Phase.SUCCEEDED), Outcome()


# -- the standalone upscaler ---------------------------------------------------------------


@dataclass(slots=True)
class UpscalePlan:
    target: str
    facts: Facts
    credits: int
    failure: tuple[str, str] | None  # (code, message) when validation fails
    width: int = 0
    height: int = 0


def check_upscale(call: Call) -> tuple[UpscalePlan, str | None]:
    body = call.body
    source, target = body["source"], body["targetResolution"]
    if source["type"] == "url":
        url = source.get("url")
        param = "source.url"
        if not url:
            raise error("invalid", "'source.url' is required when source.type is \"url\"", param=param)
        # The emulator's own media stand for the vendor's https R2 URLs (its outputs are https there).
        own = call.emulator.known_media(url) is not None
        if not own and (urlsplit(url).scheme != "https" or not urlsplit(url).hostname):
            raise error("invalid", "'source.url' must be an https URL: http URLs are rejected", param=param)
    else:
        url = source.get("r2Url")
        param = "source.r2Url"
        if not url:
            raise error("invalid", "'source.r2Url' is required when source.type is \"uploadId\"", param=param)
        if call.emulator.known_media(url) is None and urlsplit(url).scheme != "https":
            raise error("invalid", "'source.r2Url' must be the https URL of a file you uploaded", param=param)
    callback = body.get("callBackUrl")
    if callback is not None:
        check_callback(call.emulator, callback, "callBackUrl")
    name = scenario(call, UPSCALE_SCENARIOS, *scenario_texts(url))
    if name == "rate_limited":  # the others act out during the job
        raise_submit_scenario(name)
    facts = probe(call.emulator, url, "video", param)
    credits = pricing.standalone_upscale_credits(target, facts.seconds, setting(call.emulator, "upscale_rates", None),
                                                 call.emulator.prices["seegen"])
    plan = UpscalePlan(target, facts, credits, None)
    plan.failure = _upscale_failure(call, url, source["type"], facts, target, credits)
    if plan.failure is None:
        short = min(facts.width, facts.height)
        scale = UPSCALE_SHORT_SIDE[target] / short
        plan.width, plan.height = _even(facts.width * scale), _even(facts.height * scale)
    return plan, name


def _upscale_failure(call: Call, url: str, source_type: str, facts: Facts, target: str,
                     credits: int) -> tuple[str, str] | None:
    assert call.account is not None
    if not setting(call.emulator, "upscale_enabled", True):
        return "SERVICE_DISABLED", "the standalone upscaler is temporarily disabled"
    if source_type == "url" and private_host(url) and call.emulator.known_media(url) is None:
        return "URL_RESOLVES_TO_PRIVATE_IP", "the source URL resolves to a private or internal address"
    if "unreachable" in facts.flags:
        return "URL_NOT_REACHABLE", "the source URL could not be reached"
    if "probe_failed" in facts.flags:
        return "PROBE_FAILED", "the source could not be probed for duration and resolution"
    if facts.kind != "video" or facts.format not in UPSCALE_FORMATS:
        return "UNSUPPORTED_MEDIA_TYPE", f"{facts.format or facts.kind} is not supported: use MP4, MOV or WebM"
    if facts.size is not None and facts.size > UPSCALE_MAX_BYTES:
        return "FILE_TOO_LARGE", "the source is larger than 200 MB"
    if facts.seconds > UPSCALE_MAX_SECONDS:
        return "DURATION_EXCEEDS_LIMIT", f"the source is {facts.seconds:g} s long; the limit is 600 s"
    if facts.width <= 0 or facts.height <= 0:
        return "PROBE_FAILED", "the source has no video stream to upscale"
    if min(facts.width, facts.height) >= UPSCALE_SHORT_SIDE[target]:
        return ("SOURCE_RESOLUTION_TOO_HIGH", f"the source ({facts.width}x{facts.height}) must be lower "
                f"than the target {target}")
    if call.emulator.ledger.balance(call.account.id).available < credits:
        return "INSUFFICIENT_CREDITS", f"this upscale needs {credits} credits"
    return None


def upscale_steps(now: float, plan: UpscalePlan, name: str | None) -> tuple[list[Step], Outcome]:
    factor = SLOW_FACTOR if name == "slow" else 1.0
    validating = UPSCALE_VALIDATING_SECONDS * factor
    if plan.failure is not None:
        code, message = plan.failure
        return plan_steps(now, queued_for=validating, running_for=0, terminal=Phase.FAILED), Outcome(code, message)
    running = (30.0 + 2.0 * pricing.standalone_billable_seconds(plan.facts.seconds)) * factor
    if name in ("fail", "upstream_error"):
        outcome = Outcome("UPSTREAM_FAILED", "the upscale failed upstream; credits refunded")
        return plan_steps(now, queued_for=validating, running_for=running, terminal=Phase.FAILED), outcome
    return plan_steps(now, queued_for=validating, running_for=running, terminal=Phase.SUCCEEDED), Outcome()
