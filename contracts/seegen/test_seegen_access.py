"""seegen.md, "Authentication" and "Error Codes": 401 for a missing or wrong key, 429 when the
account's concurrency limit is reached, the error body on every status, and the refusals that
only a scenario produces (emulator only)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from client import (
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
)
from client.seegen import SeeGen, Task

from .._support import Account, Clock, Target

Finish = Callable[[SeeGen, str], Task]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-key", "Basic abc", "not-a-key"])
@pytest.mark.parametrize(("method", "path"), [("GET", "account/credits"), ("POST", "jobs/createTask"),
                                              ("GET", "jobs/queryTask?taskId=x"), ("GET", "assets/list"),
                                              ("POST", "upscale/create"), ("POST", "assets/upload"),
                                              ("GET", "upscale/query?taskId=x"), ("GET", "assets/status?assetId=1")])
def test_every_endpoint_needs_a_bearer_key(target: Target, header: str | None, method: str, path: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = httpx.request(method, f"{target.base_url}/{path}", headers=headers, json={}, timeout=30)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 401 and body["message"]


def test_the_client_raises_authentication_error(make_client: Callable[..., SeeGen]) -> None:
    with pytest.raises(AuthenticationError):
        make_client(api_key="sg-wrong").account.credits()


# -- what a valid key reads for free (so a live run without --allow-spend confirms these too) --


def test_a_valid_key_reads_its_balance_for_free(client: SeeGen, account: Account) -> None:
    """"GET /api/v1/account/credits ... Returns `{ "credits": 5000, "availableCredits": 4800 }`":
    what is held for running tasks is not available."""
    with account.unchanged():
        balance = client.account.credits()
    assert 0 <= balance.available_credits <= balance.credits


def test_a_valid_key_lists_its_assets_for_free(client: SeeGen, account: Account) -> None:
    """"GET /api/v1/assets/list ... limit (1-50, default 20). Response: `{ "items": [...], "nextCursor": 100 }`"."""
    with account.unchanged():
        listed = client.assets.list(limit=1)
    assert len(listed.items) <= 1


@pytest.mark.emulator_only
def test_a_revoked_key_is_401(client: SeeGen, account: Account, make_client: Callable[..., SeeGen]) -> None:
    assert account.control is not None
    other = account.control.create_key(account)
    assert make_client(api_key=other["api_key"]).account.credits().credits == client.account.credits().credits
    account.control.revoke_key(account, other["key_id"])
    with pytest.raises(AuthenticationError):
        make_client(api_key=other["api_key"]).account.credits()


@pytest.mark.emulator_only
def test_a_key_limited_to_some_models_is_403_on_the_others(account: Account,
                                                            make_client: Callable[..., SeeGen]) -> None:
    assert account.control is not None
    key = account.control.create_key(account, allowed_models=["sd2-fast"])
    scoped = make_client(api_key=key["api_key"])
    with account.unchanged(), pytest.raises(PermissionDeniedError) as err:
        scoped.jobs.create_task("sd2", prompt="p", duration="4s")
    assert err.value.status_code == 403 and err.value.code == "ACCESS_DENIED" and err.value.param == "model"
    assert scoped.jobs.create_task("sd2-fast", prompt="p", duration="4s").task_id


@pytest.mark.emulator_only
def test_the_concurrency_limit_is_429_and_costs_nothing(make_account: Callable[..., Account],
                                                        make_client: Callable[..., SeeGen], clock: Clock) -> None:
    """"429 Concurrency limit reached": running tasks and upscales count, per account."""
    limited = make_account(concurrency_limit=2)
    client = make_client(api_key=limited.api_key)
    first = client.jobs.create_task("sd2-fast", prompt="p", duration="4s")
    client.upscale.create(url="https://cdn.example.com/a.mp4#duration=5", target_resolution="2k")
    with limited.unchanged(), pytest.raises(RateLimitError) as err:
        client.jobs.create_task("sd2-fast", prompt="p")
    assert err.value.status_code == 429 and err.value.code == "CONCURRENCY_LIMIT"
    assert client.jobs.query_task(first.task_id).status == "PENDING"  # polls are never limited
    clock.advance(120)  # both finish
    assert client.jobs.create_task("sd2-fast", prompt="p").task_id


@pytest.mark.emulator_only
def test_scenario_refusals(client: SeeGen, account: Account) -> None:
    with account.unchanged():
        with pytest.raises(BadRequestError) as bad:
            client.jobs.create_task("sd2", prompt="a cat #emulator:moderation_reject")
        with pytest.raises(InternalServerError) as internal:
            client.jobs.create_task("sd2", prompt="a cat", extra_headers={"X-Emulator-Scenario": "upstream_error"})
        with pytest.raises(RateLimitError):
            client.jobs.create_task("sd2", prompt="a cat #emulator:rate_limited")
        with pytest.raises(BadRequestError) as unsupported:
            client.jobs.create_task("sd2", prompt="a cat #emulator:expire")
    assert bad.value.param == "inputs.prompt" and internal.value.status_code == 500
    assert unsupported.value.param == "scenario"


@pytest.mark.emulator_only
def test_slow_and_output_moderation(client: SeeGen, clock: Clock, finish: Finish) -> None:
    slow = client.jobs.create_task("sd2", prompt="p #emulator:slow", duration="4s")
    normal = client.jobs.create_task("sd2", prompt="p", duration="4s")
    clock.advance(100)
    assert client.jobs.query_task(normal.task_id).status == "COMPLETED"
    assert client.jobs.query_task(slow.task_id).status == "PROCESSING"  # ten times as long: 50 s pending
    blocked = finish(client, client.jobs.create_task("gpt-image-2", prompt="p #emulator:output_moderation").task_id)
    assert blocked.status == "FAILED" and blocked.error is not None and blocked.credits_used == 0


def test_unknown_paths_and_methods_answer_in_the_error_shape(raw: httpx.Client) -> None:
    missing = raw.get("jobs/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == 404
    wrong = raw.delete("jobs/createTask")
    assert wrong.status_code == 405 and wrong.json()["code"] == 405
