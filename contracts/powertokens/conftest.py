"""PowerTokens' contract suite: the documents' facts as data, its target, accounts and
spec-checked clients (the suite-wide options, gating and control fixtures are in
contracts/conftest.py).

Everything the tests assert comes from the constants below, transcribed from
../shared/vendor-docs/powertokens-seedance-2.md, powertokens-v1-videos-1x.md and
reference-ark-and-openai.md (quoted where it helps), never from the emulator's code.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from PIL import Image

from client.powertokens import AsyncPowerTokens, PowerTokens, Task, VideoTask

from .._support import Account, Control, Target, fresh_account, raw_key, vendor_fixtures, wait_options

VENDOR = "powertokens"
DEFAULT_CREDITS = 10_000
POLL_STEP_SECONDS = 5.0

# -- the documents, as data -------------------------------------------------------------------

# "Available Models"
V2 = "dreamina-seedance-2-0-260128"  # "High quality, supports 1080p (image-to-video / first-last frame / ...)"
V2_FAST = "dreamina-seedance-2-0-fast-260128"  # "Fast generation, up to 720p"
# powertokens-v1-videos-1x.md, "model": "Supported models include ..."
PRO_15, PRO_10, PRO_FAST_10 = "seedance-1-5-pro-251215", "seedance-1-0-pro-250528", "seedance-1-0-pro-fast-251015"
TASKS_PATH = "/byteplus/api/v3/contents/generations/tasks"
# "Task Statuses"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
TERMINAL = ("succeeded", "failed", "cancelled", "expired")
# Ark: "Tokens: ... real examples fit floor(W × H × (24·duration + 1) / 1024) — 720p 16:9 5 s → 108900"
EXAMPLE_TOKENS = 108900
RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
MAX_QUEUED = 120  # "At most 120 queued tasks per account"
# Ark "Output pixel sizes (2.0 series)"
PIXELS_720P = {"16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "3:4": (834, 1112),
               "9:16": (720, 1280), "21:9": (1470, 630)}
PIXELS_480P = {"16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640), "3:4": (560, 752), "9:16": (496, 864),
               "21:9": (992, 432)}
PIXELS_1080P = {"16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440), "3:4": (1248, 1664),
                "9:16": (1080, 1920), "21:9": (2206, 946)}
# The largest frame of each tier, whatever the ratio (`adaptive` may pick any).
LARGEST_FRAME = {tier: max(w * h for w, h in sizes.values())
                 for tier, sizes in (("480p", PIXELS_480P), ("720p", PIXELS_720P), ("1080p", PIXELS_1080P))}
DEFAULT_SECONDS, LONGEST_SECONDS = 5, 15  # "default 5"; "-1 (model picks)" picks at most 15


def tokens(width: int, height: int, seconds: int) -> int:
    return width * height * (24 * seconds + 1) // 1024


def most_tokens(resolution: str = "720p", seconds: int = DEFAULT_SECONDS) -> int:
    """A spend estimate: the documents give no price, only the tokens billed (Ark's formula), so a
    task is estimated at the tokens of the largest frame of its tier (the ratio may be `adaptive`).
    The 1.x models' frames are not documented; the 2.0 table stands in for them."""
    return tokens(LARGEST_FRAME[resolution], 1, seconds)


def png(width: int = 1280, height: int = 720) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 90)).save(buf, "PNG")
    return buf.getvalue()


MakeClient = Callable[..., PowerTokens]
Finish = Callable[[str], Task]
FinishVideo = Callable[[str], VideoTask]
MakeAsset = Callable[..., str]


# -- fixtures ------------------------------------------------------------------------------------


# target, spec_check (openapi/powertokens.yaml), make_client, client, aclient, raw (the raw
# `Authorization: <key>` header)
target, spec_check, make_client, client, aclient, raw = vendor_fixtures(VENDOR, PowerTokens, AsyncPowerTokens,
                                                                       auth=raw_key)


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """A fresh account with credits on an emulator; the given key on a live target."""
    return fresh_account(target, _control, credits=DEFAULT_CREDITS)


def _advance(control: Control | None, seconds: float) -> None:
    if control is not None:
        control.advance(seconds)
    else:
        time.sleep(seconds)


@pytest.fixture
def finish(client: PowerTokens, _control: Control | None) -> Finish:
    """`finish(task_id)`: wait for a terminal state, moving an emulator's clock between polls."""
    options = wait_options(_control, POLL_STEP_SECONDS, timeout=900, poll_interval=3.0, max_interval=15.0)
    return lambda task_id: client.tasks.wait(task_id, **options)


@pytest.fixture
def finish_video(client: PowerTokens, _control: Control | None) -> FinishVideo:
    """`finish_video(task_id)`: wait for a terminal state of a `/v1/videos` task (moving an emulator's clock)."""
    options = wait_options(_control, POLL_STEP_SECONDS, timeout=900, poll_interval=3.0, max_interval=15.0)
    return lambda task_id: client.videos.wait(task_id, **options)


@pytest.fixture
def make_asset(client: PowerTokens, _control: Control | None) -> MakeAsset:
    """`make_asset(data=png(), filename="frame.png")`: upload and poll until the asset id is ready."""

    def make(data: bytes | None = None, filename: str = "frame.png") -> str:
        job = client.assets.upload(png() if data is None else data, filename=filename).data.task_id
        for _ in range(40):
            got = client.assets.get_asset_id(job)
            if got.code == 200 and got.data.asset_id:
                return got.data.asset_id
            _advance(_control, 3.0)
        raise AssertionError(f"asset job {job} never finished")

    return make
