"""A user's test file: it uses only the pytest plugin's fixtures (loaded through the `pytest11`
entry point that installing seedance-emulator registers) and httpx, and imports nothing of the
emulator. It is what the README's "pytest plugin" section shows."""

from __future__ import annotations

import httpx
import pytest

VIDEO = {"model": "seedance-2.0-fast", "prompt": "a lighthouse at dusk", "resolution": "720p", "durationSec": 4}


def test_a_video_task_runs_its_course(seedance_account, seedance_clock) -> None:
    with seedance_account.client() as api:
        created = api.post("/video/generations", json=VIDEO)
        assert created.status_code == 202
        task_id = created.json()["id"]
        assert api.get(f"/video/generations/{task_id}").json()["status"] == "queued"
        seedance_clock.advance(3600)
        done = api.get(f"/video/generations/{task_id}").json()
    assert done["status"] == "succeeded"
    assert httpx.get(done["video_url"]).headers["content-type"] == "video/mp4"
    assert seedance_account.balance()["held"] == 0


@pytest.mark.seedance(scenario="fail", credits=100)
def test_a_failing_task_is_refunded(seedance_account, seedance_clock) -> None:
    with seedance_account.client() as api:
        task_id = api.post("/video/generations", json=VIDEO).json()["id"]
        seedance_clock.advance(3600)
        assert api.get(f"/video/generations/{task_id}").json()["status"] == "failed"
    assert seedance_account.balance()["credits"] == 100


@pytest.mark.seedance(credits=0)
def test_an_empty_account_cannot_submit(seedance_account) -> None:
    with seedance_account.client() as api:
        response = api.post("/video/generations", json=VIDEO)
    assert response.status_code == 402


def test_accounts_are_fresh_and_separate(seedance_account, seedance_server) -> None:
    other = httpx.post(f"{seedance_server.base_url}/_emulator/accounts", json={"vendor": "perseworks"}).json()
    assert other["api_key"] != seedance_account.api_key
    with seedance_account.client() as api:
        task_id = api.post("/video/generations", json=VIDEO).json()["id"]
    stranger = httpx.get(f"{seedance_account.base_url}/video/generations/{task_id}",
                         headers={"Authorization": f"Bearer {other['api_key']}"})
    assert stranger.status_code == 404


def test_the_in_process_app_needs_no_socket(seedance_app) -> None:
    key = seedance_app.create_account("perseworks", credits=50)["api_key"]
    with seedance_app.client("perseworks", key) as api:
        assert api.get("/models").status_code == 200
    with seedance_app.client("perseworks", "sk-wrong") as api:
        assert api.get("/models").status_code == 401


def test_no_webhooks_for_a_vendor_without_them(seedance_account, seedance_webhooks) -> None:
    with seedance_account.client() as api:
        api.post("/video/generations", json=VIDEO)
    assert seedance_webhooks() == []
