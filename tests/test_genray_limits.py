"""Genray's plan limits under the manual clock (genray.md, "Rate Limits"): requests per minute
per key (status polling counts), concurrent jobs per key, 429 `rate_limit_exceeded` with
`retry_after`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.testing import RunningEmulator, SpecCheck

pytestmark = pytest.mark.emulator_only

# "Standard: 10 req/min, 2 jobs; Advanced: 30 req/min, 5 jobs"
PLANS = [("standard", 10, 2), ("advanced", 30, 5)]


def client_for(emu: RunningEmulator, key: str) -> httpx.Client:
    return httpx.Client(base_url=emu.vendor_url("genray"), headers={"Authorization": f"Bearer {key}"},
                        event_hooks={"response": [SpecCheck.for_vendors("genray")]}, timeout=30)


def rate_limited(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    detail = response.json()["detail"]
    assert detail["error"] == "rate_limit_exceeded"
    assert detail["retry_after"] >= 1 and response.headers["Retry-After"] == str(detail["retry_after"])
    return detail


@pytest.mark.parametrize(("plan", "rpm", "_jobs"), PLANS)
def test_requests_per_minute_per_key_polling_included(emu: RunningEmulator, plan: str, rpm: int, _jobs: int) -> None:
    account = emu.create_account("genray", plan=plan)
    with client_for(emu, account["api_key"]) as c:
        job = c.post("/api/v1/videos", json={"prompt": "a heron"}).json()
        for _ in range(rpm - 1):
            assert c.get(f"/api/v1/videos/{job['id']}").status_code == 200  # polls count
        detail = rate_limited(c.get(f"/api/v1/videos/{job['id']}"))
        assert detail["retry_after"] == 60
        emu.advance(30)
        rate_limited(c.get("/api/v1/account"))  # the window is a minute
        emu.advance(30)
        assert c.get("/api/v1/account").status_code == 200


def test_the_limit_is_per_key_not_per_account(emu: RunningEmulator) -> None:
    account = emu.create_account("genray", plan="standard")
    with client_for(emu, account["api_key"]) as first:
        second_key = first.post("/api/keys", json={"name": "second"}).json()["key"]
        for _ in range(9):
            first.get("/api/v1/account")
        rate_limited(first.get("/api/v1/account"))
    with client_for(emu, second_key) as second:
        assert second.get("/api/v1/account").status_code == 200


@pytest.mark.parametrize(("plan", "_rpm", "jobs"), PLANS)
def test_concurrent_jobs_per_key(emu: RunningEmulator, plan: str, _rpm: int, jobs: int) -> None:
    account = emu.create_account("genray", plan=plan, rate_limit_rpm=0)
    with client_for(emu, account["api_key"]) as c:
        running = [c.post("/api/v1/videos", json={"prompt": "a heron", "duration": 4}) for _ in range(jobs)]
        assert all(r.status_code == 202 for r in running)
        balance = c.get("/api/v1/account").json()["credits_remaining"]
        detail = rate_limited(c.post("/api/v1/videos", json={"prompt": "one more", "duration": 4}))
        assert detail["retry_after"] == 54  # a 4 s video ends 54 s after submit
        person = c.post("/api/v1/videos/from-person", json={"person_image_url": "https://e.com/p.jpg", "prompt": "a"})
        rate_limited(person)
        assert c.get("/api/v1/account").json()["credits_remaining"] == balance  # refused: nothing charged
        emu.advance(54)
        assert c.post("/api/v1/videos", json={"prompt": "now there is room"}).status_code == 202


def test_failed_jobs_free_their_slot(emu: RunningEmulator) -> None:
    account = emu.create_account("genray", plan="standard", rate_limit_rpm=0)
    with client_for(emu, account["api_key"]) as c:
        c.post("/api/v1/videos", json={"prompt": "x #emulator:moderation_reject"})
        c.post("/api/v1/videos", json={"prompt": "y"})
        rate_limited(c.post("/api/v1/videos", json={"prompt": "z"}))
        emu.advance(5)  # the moderation reject has ended
        assert c.post("/api/v1/videos", json={"prompt": "z"}).status_code == 202


def test_the_rate_limited_scenario(emu: RunningEmulator) -> None:
    account = emu.create_account("genray", rate_limit_rpm=0)
    with client_for(emu, account["api_key"]) as c:
        rate_limited(c.post("/api/v1/videos", json={"prompt": "x"}, headers={"X-Emulator-Scenario": "rate_limited"}))
        unknown = c.post("/api/v1/videos", json={"prompt": "x #emulator:review_fail"})
        assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "scenario"
