"""The control API of DESIGN.md: health, reset, accounts, keys, top-ups, clock, tasks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, SpecCheck


def test_health(control: httpx.Client) -> None:
    body = control.get("/health").json()
    assert body["status"] == "ok" and "perseworks" in body["vendors"]
    assert body["clock"]["mode"] == "manual"


@pytest.mark.parametrize("body, message", [
    ({}, "vendor"),
    ({"vendor": "nobody"}, "vendor"),
    ({"vendor": "perseworks", "credits": -1}, "credits"),
    ({"vendor": "perseworks", "credits": "lots"}, "credits"),
    ({"vendor": "perseworks", "allowed_models": "seedance-2.0"}, "allowed_models"),
    ({"vendor": "perseworks", "allowed_ips": ["not-an-ip"]}, "not-an-ip"),
    # A figure no JSON encoder could write back (the account could never be shown): refused, not a 500 later
    ({"vendor": "perseworks", "credits": 10**30}, "credits"),
    ({"vendor": "perseworks", "rate_limit_rpm": 1e300}, "rate_limit_rpm"),
    # Labels end up in listings as strings
    ({"vendor": "perseworks", "name": 5}, "name"),
    ({"vendor": "genray", "plan": ["advanced"]}, "plan"),
    # Accepted once, it made the account's next createTask answer 500
    ({"vendor": "seegen", "concurrency_limit": "lots"}, "concurrency_limit"),
])
def test_account_creation_rejects_bad_input(control: httpx.Client, body: dict[str, Any], message: str) -> None:
    before = len(control.get("/accounts").json())
    response = control.post("/accounts", json=body)
    assert response.status_code == 400 and message in response.json()["error"]
    assert len(control.get("/accounts").json()) == before


def test_account_key_and_ledger(control: httpx.Client, account: dict[str, Any]) -> None:
    assert account["api_key"].startswith("sk-") and account["credits"] == 10_000
    detail = control.get(f"/accounts/{account['account_id']}").json()
    assert detail["credits"] == 10_000 and detail["held"] == 0 and detail["available"] == 10_000
    assert [e["kind"] for e in detail["ledger"]] == ["topup"]
    assert account["api_key"] not in str(detail)  # the plaintext is shown once only
    assert control.get("/accounts/acct_missing").status_code == 404


def test_trial_credits_when_none_are_given(control: httpx.Client) -> None:
    assert control.post("/accounts", json={"vendor": "perseworks"}).json()["credits"] == 100


@pytest.mark.parametrize("usd, credited", [(10, 1_000), (49, 4_900), (50, 5_250), (199, 20_895),
                                           (200, 22_000), (999, 109_890), (1000, 115_000)])
def test_top_up_bonus_tiers(control: httpx.Client, usd: int, credited: int) -> None:
    acct = control.post("/accounts", json={"vendor": "perseworks", "credits": 0}).json()
    response = control.post(f"/accounts/{acct['account_id']}/topups", json={"usd": usd})
    assert response.status_code == 201
    assert response.json()["added"] == credited and response.json()["credits"] == credited


def test_top_up_needs_exactly_one_amount(control: httpx.Client, account: dict[str, Any]) -> None:
    url = f"/accounts/{account['account_id']}/topups"
    assert control.post(url, json={}).status_code == 400
    assert control.post(url, json={"usd": 5, "credits": 5}).status_code == 400
    assert control.post(url, json={"credits": 5}).json()["credits"] == 10_005


def test_extra_keys_and_revocation(emu: RunningEmulator, control: httpx.Client, account: dict[str, Any],
                                   spec_check: SpecCheck) -> None:
    created = control.post(f"/accounts/{account['account_id']}/keys", json={"name": "ci"})
    assert created.status_code == 201
    key = created.json()
    client = httpx.Client(base_url=emu.vendor_url("perseworks"), event_hooks={"response": [spec_check]},
                          headers={"Authorization": f"Bearer {key['api_key']}"})
    assert client.get("/models").status_code == 200
    revoked = control.delete(f"/accounts/{account['account_id']}/keys/{key['key_id']}")
    assert revoked.json()["revoked_at"] is not None
    denied = client.get("/models")
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_api_key"
    assert control.delete(f"/accounts/{account['account_id']}/keys/key_nope").status_code == 404


def test_clock_advance_and_task_timeline(control: httpx.Client, api: httpx.Client, account: dict[str, Any]) -> None:
    created = api.post("/video/generations", json={"model": "seedance-2.0", "prompt": "x",
                                                   "resolution": "720p", "durationSec": 4})
    task_id = created.json()["id"]
    before = control.get("/clock").json()["now"]
    after = control.post("/clock/advance", json={"seconds": 60}).json()["now"]
    assert after == pytest.approx(before + 60)
    tasks = control.get("/tasks", params={"account_id": account["account_id"]}).json()
    (task,) = [t for t in tasks if t["id"] == task_id]
    assert task["state"] == "succeeded" and task["progress"] == 100
    assert [s["state"] for s in task["timeline"]] == ["queued", "running", "succeeded"]
    assert control.post("/clock/advance", json={"seconds": -1}).status_code == 400
    assert control.post("/clock/advance", json={}).status_code == 400
    assert control.post("/clock/advance", content=b"{nope").status_code == 400


def test_lists_and_scenarios(control: httpx.Client) -> None:
    assert control.get("/faults").json() == []
    assert isinstance(control.get("/webhooks").json(), list)
    assert "fail" in control.get("/scenarios").json()


def test_reset_forgets_everything() -> None:
    app = create_app(Settings(clock="manual", seed=3))
    with TestClient(app) as client:
        first = client.post("/_emulator/accounts", json={"vendor": "perseworks"}).json()
        client.post("/_emulator/clock/advance", json={"seconds": 10})
        assert client.post("/_emulator/reset").status_code == 200
        assert client.get("/_emulator/accounts").json() == []
        again = client.post("/_emulator/accounts", json={"vendor": "perseworks"}).json()
        # Same seed, fresh state: the same ids and keys come out again.
        assert again["api_key"] == first["api_key"] and again["account_id"] == first["account_id"]
        denied = client.get("/perseworks/v1/models", headers={"Authorization": "Bearer sk-stale"})
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_api_key"


def test_control_api_answers_loopback_only_unless_told() -> None:
    remote = TestClient(create_app(Settings(clock="manual")), client=("203.0.113.9", 4000))
    response = remote.post("/_emulator/accounts", json={"vendor": "perseworks"})
    assert response.status_code == 403 and "loopback" in response.json()["error"]
    opened = TestClient(create_app(Settings(clock="manual", control_public=True)), client=("203.0.113.9", 4000))
    assert opened.post("/_emulator/accounts", json={"vendor": "perseworks"}).status_code == 201


def test_unmatched_paths_get_the_vendor_s_error_shape(emu: RunningEmulator, api: httpx.Client) -> None:
    for path in ("/no/such/route", "/video/generations/a%0Ab", "/models%0A"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
    outside = httpx.get(emu.base_url + "/nowhere%0A")
    assert outside.status_code == 404 and outside.json()["error"] == "not_found"
