"""Genray's contract suite: the document's facts as data, its target, accounts and spec-checked
clients (the suite-wide options, gating and control fixtures are in contracts/conftest.py).

Everything the tests assert about prices, plans and codes comes from the constants below,
transcribed from ../shared/vendor-docs/genray.md, never from the emulator's code.

    pytest contracts --vendor genray                                   # in-process emulator
    pytest contracts --vendor genray --base-url https://genray.ai --api-key sk_live_… [--allow-spend 100]
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from client.genray import AsyncGenray, Genray, Video

from .._support import Account, Control, Target, fresh_account, vendor_fixtures, wait_options

VENDOR = "genray"
POLL_STEP_SECONDS = 30.0  # how far a test moves an emulator's clock between polls

# -- the document, as data ---------------------------------------------------------------------

# "Credit Costs": Pro 26 credits/sec, Fast 22 credits/sec, +18 cr/sec with a video reference.
CREDITS_PER_SECOND = {"seedance-2.0": 26, "seedance-2.0-fast": 22}
VIDEO_REFERENCE_EXTRA = 18
# "Rate Limits": plan → (API keys, requests/min, concurrent jobs); Basic: "No API access".
PLAN_LIMITS = {"standard": (2, 10, 2), "advanced": (5, 30, 5)}
# "Standard plan ($39/mo) gives 4,850 credits", "Advanced plan ($80/mo) gives 9,900 credits".
MONTHLY_CREDITS = {"standard": 4850, "advanced": 9900}
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
MIN_SECONDS, MAX_SECONDS = 4, 15  # "Video length in seconds. 4-15. Default: 5."
MAX_PROMPT = 4000  # "1-4000 characters"
MAX_REFERENCE_IMAGES, MAX_REFERENCE_VIDEOS, MAX_REFERENCE_AUDIOS = 9, 3, 3
MAX_EXTRA_REFERENCES = 8  # from-person: "Up to 8 additional references"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # "Max 10 MB"
PROMPT = "A golden retriever running through a sunlit meadow, cinematic lighting"


def cost(model: str, seconds: int, *, video_reference: bool = False) -> int:
    return (CREDITS_PER_SECOND[model] + (VIDEO_REFERENCE_EXTRA if video_reference else 0)) * seconds


def png(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


MakeClient = Callable[..., Genray]
Finish = Callable[[Genray, str], Video]


# -- fixtures ------------------------------------------------------------------------------------


# target, spec_check (openapi/genray.yaml), make_client, client, aclient (no `raw`: every test
# goes through the client)
_fixtures = vendor_fixtures(VENDOR, Genray, AsyncGenray)
target, spec_check, make_client = _fixtures.target, _fixtures.spec_check, _fixtures.make_client
client, aclient = _fixtures.client, _fixtures.aclient


@pytest.fixture
def new_account(target: Target, _control: Control | None) -> Callable[..., Account]:
    """`new_account(plan=..., **body)`: a fresh account on an emulator (skips on a live target)."""

    def make(**body: Any) -> Account:
        if _control is None:
            pytest.skip("needs the emulator's control API to make accounts")
        return _control.create_account(**body)

    return make


@pytest.fixture
def account(target: Target, _control: Control | None) -> Account:
    """On an emulator: a fresh Advanced account (9 900 credits) whose per-minute limit is lifted so
    tests may poll freely (the limits have their own tests); on a live target: the given key."""
    return fresh_account(target, _control, plan="advanced", rate_limit_rpm=0)


@pytest.fixture
def finish(_control: Control | None) -> Finish:
    """`finish(client, job_id)`: on an emulator, move its clock between polls; live, poll for real
    (6 s apart, under the Standard plan's 10 requests per minute)."""
    options = wait_options(_control, POLL_STEP_SECONDS, timeout=900, poll_interval=6.0, max_interval=30.0)
    return lambda client, job_id: client.videos.wait(job_id, **options)
