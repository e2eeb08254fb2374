"""SeeGen behaviours that rest on the emulator's own choices and settings
(docs/fidelity-seegen.md assumptions), and the pricing functions against the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck, serve_in_thread
from emulator.vendors.seegen import pricing, rules

pytestmark = pytest.mark.emulator_only


@pytest.fixture(scope="module")
def tuned() -> Iterator[RunningEmulator]:
    """SeeGen alone (so also at its documented root paths), with every setting turned."""
    extra = {"seegen.upscale_enabled": False, "seegen.input_minimum": "each",
             "seegen.https_callbacks_only": True, "seegen.concurrency_limit": 1}
    with serve_in_thread(Settings(vendors=("seegen",), clock="manual", seed=3, extra=extra)) as running:
        yield running


def _client(running: RunningEmulator, base: str, **account: Any) -> httpx.Client:
    key = running.create_account("seegen", credits=100_000, **account)["api_key"]
    return httpx.Client(base_url=running.base_url + base, headers={"Authorization": f"Bearer {key}"},
                        event_hooks={"response": [SpecCheck.for_vendors("seegen", root="seegen")]})


def test_a_single_vendor_is_served_at_the_documented_paths(tuned: RunningEmulator) -> None:
    with _client(tuned, "/api/v1") as api:
        assert api.get("/account/credits").json() == {"credits": 100_000, "availableCredits": 100_000}


def test_settings_change_what_they_say(tuned: RunningEmulator) -> None:
    with _client(tuned, "/seegen/api/v1", concurrency_limit=0) as api:
        job = api.post("/upscale/create", json={"source": {"type": "url", "url": "https://e.com/a.mp4"},
                                                 "targetResolution": "2k"}).json()
        tuned.advance(10)
        failed = api.get("/upscale/query", params={"taskId": job["taskId"]}).json()
        assert failed["status"] == "failed" and failed["error"]["code"] == "SERVICE_DISABLED"
        response = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "p"},
                                                      "callBackUrl": "http://example.com/hook"})
        assert response.status_code == 400 and response.json()["param"] == "callBackUrl"
        assets = [api.post("/assets/upload", json={"url": f"https://e.com/{s}.mp4#duration={s}",
                                                   "type": "VIDEO"}).json() for s in (1, 6)]
        tuned.advance(10)
        created = api.post("/jobs/createTask", json={"model": "sd2-fast", "inputs": {
            "prompt": "p", "duration": "6s", "videoInputMode": "reference",
            "videoUrls": [f"asset://{a['volcAssetId']}" for a in assets]}}).json()
        task = api.get("/jobs/queryTask", params={"taskId": created["taskId"]}).json()
        assert task["creditsUsed"] == (6 + 4 + 6) * 24  # the ⌈2×6/3⌉ = 4 minimum applied per video
    with _client(tuned, "/seegen/api/v1") as api:  # the setting's limit of 1 when the account sets none
        assert api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "p"}}).status_code == 200
        limited = api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "p"}})
        assert limited.status_code == 429 and limited.json()["error"] == "CONCURRENCY_LIMIT"


def test_an_oversized_body_is_413(emu: RunningEmulator) -> None:
    key = emu.create_account("seegen", credits=1000)["api_key"]
    response = httpx.post(emu.vendor_url("seegen") + "/jobs/createTask", headers={"Authorization": f"Bearer {key}"},
                          json={"model": "sd2", "inputs": {"prompt": "x" * (1024 * 1024 + 1)}})
    assert response.status_code == 413 and response.json()["error"] == "PAYLOAD_TOO_LARGE"


def test_unknown_query_parameters_are_400(emu: RunningEmulator) -> None:
    key = emu.create_account("seegen", credits=1000)["api_key"]
    response = httpx.get(emu.vendor_url("seegen") + "/assets/list", params={"page": 2},
                         headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400 and response.json()["param"] == "page"


# -- pricing and rules as functions ----------------------------------------------------------


@pytest.mark.parametrize(("model", "tier", "videos", "upscale", "credits"), [
    ("sd2", "720p", [], None, 200), ("sd2-fast", "720p", [], None, 160),
    ("sd2", "720p", [5], None, 300), ("sd2-fast", "720p", [5], None, 240),
    ("sd2", "720p", [10], None, 450), ("sd2-fast", "720p", [10], None, 360),
    ("sd2", "1080p", [], None, 500), ("sd2", "1080p", [5], None, 750), ("sd2", "1080p", [10], None, 1125),
    ("sd2", "720p", [], "2k", 350), ("sd2-fast", "720p", [], "2k", 310),
    ("sd2", "720p", [], "4k", 400), ("sd2-fast", "720p", [], "4k", 360), ("sd2-fast", "720p", [], "1080p", 260),
    ("sd2", "720p", [1], None, (5 + 4) * 30), ("sd2", "720p", [2.01, 0.5], None, (5 + 4) * 30),
])
def test_the_five_second_table_as_a_function(model: str, tier: str, videos: list[float], upscale: str | None,
                                             credits: int) -> None:
    assert pricing.sd2_credits(model, tier, 5, videos, upscale).credits == credits


def test_standalone_upscale_rates_and_the_documented_example() -> None:
    assert [pricing.standalone_upscale_credits(t, 3) for t in ("1080p", "2k", "4k")] == [125, 190, 250]
    # The document's example shows 1200 credits for 30 s at 4k (40/s); the table says 50/s.
    assert pricing.standalone_upscale_credits("4k", 30) == 1500
    assert pricing.standalone_upscale_credits("4k", 30, {"4k": 40}) == 1200


def test_prompt_truncation_weighs_cjk_twice() -> None:
    assert rules.truncate_prompt("a" * 5000) == "a" * 5000
    assert rules.truncate_prompt("a" * 5001) == "a" * 5000
    assert rules.truncate_prompt("熊" * 2600) == "熊" * 2500
    assert rules.prompt_weight("ab熊") == 4


@pytest.mark.parametrize(("url", "private"), [
    ("https://10.1.2.3/a.mp4", True), ("https://127.0.0.1/a.mp4", True), ("https://[::1]/a.mp4", True),
    ("https://169.254.169.254/latest", True), ("https://localhost/a.mp4", True), ("https://db.internal/a", True),
    ("https://cdn.example.com/a.mp4", False), ("https://8.8.8.8/a.mp4", False),
])
def test_private_hosts_are_recognised_without_dns(url: str, private: bool) -> None:
    assert rules.private_host(url) is private
