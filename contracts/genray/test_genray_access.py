"""genray.md, "Authentication", "API Key Management", "Account Info", "Rate Limits", "Errors":
Bearer keys shown once and stored hashed, the plan's key limit, revocation at once; plans
(Basic has no API access; Standard / Advanced requests per minute per key, polling included,
and concurrent jobs), 429 `rate_limit_exceeded` with `retry_after`; monthly credits."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from client import AuthenticationError, PermissionDeniedError
from client.genray import Genray, GenrayRateLimitError, PlanRequiredError

from .._support import Account, Clock, Control
from .conftest import MONTHLY_CREDITS, PLAN_LIMITS, PROMPT, MakeClient


def test_account_info_fields(client: Genray) -> None:
    info = client.account.retrieve()
    assert info.plan in PLAN_LIMITS and info.plan_name == info.plan.capitalize()
    assert (info.max_api_keys, info.api_rpm, info.api_concurrent) == PLAN_LIMITS[info.plan]
    assert info.credits_per_month == MONTHLY_CREDITS[info.plan]
    assert info.credits_remaining >= 0 and info.plan_expires_at


def test_listing_keys_never_shows_a_key_again(client: Genray, account: Account) -> None:
    """"GET /api/keys | List all your API keys"; "API keys are shown only once at creation". Free
    and read-only, so a live run makes it too."""
    with account.unchanged():
        listed = client.keys.list().keys
    assert listed  # the key in use is one of them
    assert account.api_key not in repr(listed)


@pytest.mark.emulator_only
@pytest.mark.parametrize("plan", sorted(PLAN_LIMITS))
def test_new_accounts_get_the_plans_monthly_credits(make_client: MakeClient, new_account: Any, plan: str) -> None:
    info = make_client(api_key=new_account(plan=plan).api_key).account.retrieve()
    assert (info.plan, info.credits_remaining) == (plan, MONTHLY_CREDITS[plan])


@pytest.mark.emulator_only
def test_monthly_credits_renew(make_client: MakeClient, new_account: Any, clock: Clock) -> None:
    client = make_client(api_key=new_account(plan="standard", rate_limit_rpm=0).api_key)
    first = client.account.retrieve()
    clock.advance(31 * 86400)
    second = client.account.retrieve()
    assert second.credits_remaining == first.credits_remaining + MONTHLY_CREDITS["standard"]
    assert second.plan_expires_at > first.plan_expires_at


def test_requests_need_a_valid_bearer_key(make_client: MakeClient) -> None:
    for key in ("sk_live_not_a_real_key", "nonsense"):
        with pytest.raises(AuthenticationError) as err:
            make_client(api_key=key).account.retrieve()
        assert err.value.status_code == 401 and err.value.code == "unauthorized"


@pytest.mark.emulator_only
def test_basic_plan_has_no_api_access(make_client: MakeClient, new_account: Any) -> None:
    client = make_client(api_key=new_account(plan="basic").api_key)
    for call in (client.account.retrieve, lambda: client.videos.create(prompt=PROMPT), client.keys.list):
        with pytest.raises(PlanRequiredError) as err:
            call()
        assert err.value.status_code == 403 and err.value.code == "plan_required"


def test_a_new_key_is_shown_once_works_and_stops_working_when_revoked(client: Genray, make_client: MakeClient,
                                                                      account: Account) -> None:
    """"POST /api/keys | Create a new API key", "DELETE /api/keys/{id} | Revoke an API key": free,
    and it leaves the account as it was, so a live run makes it too (it needs one free key slot of
    the plan's limit)."""
    with account.unchanged():
        made = client.keys.create(name="contract-suite")
        try:
            assert made.key.startswith("sk_live_") and made.key_prefix.startswith("sk_live_") and made.webhook_secret
            assert made.id in [k.id for k in client.keys.list().keys]
            newcomer = make_client(api_key=made.key)
            assert newcomer.account.retrieve().plan == client.account.retrieve().plan
        finally:
            assert client.keys.revoke(made.id).revoked
        with pytest.raises(AuthenticationError):
            newcomer.account.retrieve()  # rejected at once
        assert made.id not in [k.id for k in client.keys.list().keys if k.active]


@pytest.mark.emulator_only
@pytest.mark.parametrize("plan", sorted(PLAN_LIMITS))
def test_key_lifecycle_and_the_plans_key_limit(make_client: MakeClient, new_account: Any, control: Control,
                                               plan: str) -> None:
    owner = new_account(plan=plan, rate_limit_rpm=0)
    client = make_client(api_key=owner.api_key)
    max_keys = PLAN_LIMITS[plan][0]
    made = [client.keys.create(name=f"k{i}") for i in range(max_keys - 1)]  # the account's first key counts
    for key in made:
        assert key.key.startswith("sk_live_") and key.webhook_secret and key.key_prefix.startswith("sk_live_")
        stored = control.describe(owner.id)["keys"]
        assert all(key.key not in str(k) for k in stored)  # the plaintext is never kept
    with pytest.raises(PermissionDeniedError):
        client.keys.create(name="one too many")
    listed = client.keys.list().keys
    assert [k.id for k in listed][-len(made):] == [k.id for k in made]
    assert all({"key", "webhook_secret"}.isdisjoint(k.model_extra or {}) for k in listed)  # never shown again
    other = make_client(api_key=made[0].key)
    assert other.account.retrieve().plan == plan
    assert client.keys.revoke(made[0].id).revoked
    with pytest.raises(AuthenticationError):
        other.account.retrieve()  # rejected at once
    assert client.keys.create(name="fits again").key


@pytest.mark.emulator_only
def test_keys_are_stored_as_sha256_hashes(client: Genray, in_process: Any, target: Any) -> None:
    if not target.in_process:
        pytest.skip("reads the in-process emulator's key store")
    made = client.keys.create(name="hashed")
    stored = in_process().emulator.accounts.keys[made.id]
    assert stored.key_hash == hashlib.sha256(made.key.encode()).hexdigest()


@pytest.mark.emulator_only
@pytest.mark.parametrize("plan", sorted(PLAN_LIMITS))
def test_requests_per_minute_per_key_count_polling(make_client: MakeClient, new_account: Any, clock: Clock,
                                                   plan: str) -> None:
    rpm = PLAN_LIMITS[plan][1]
    client = make_client(api_key=new_account(plan=plan).api_key)
    job = client.videos.create(prompt=PROMPT, duration=4)
    for _ in range(rpm - 1):
        client.videos.retrieve(job.id)
    with pytest.raises(GenrayRateLimitError) as err:
        client.videos.retrieve(job.id)
    assert err.value.status_code == 429 and err.value.code == "rate_limit_exceeded"
    assert err.value.retry_after is not None and 0 < err.value.retry_after <= 60
    clock.advance(err.value.retry_after)
    assert client.videos.retrieve(job.id).id == job.id


@pytest.mark.emulator_only
@pytest.mark.parametrize("plan", sorted(PLAN_LIMITS))
def test_concurrent_jobs_per_plan(make_client: MakeClient, new_account: Any, clock: Clock, plan: str) -> None:
    owner: Account = new_account(plan=plan, rate_limit_rpm=0)
    client = make_client(api_key=owner.api_key)
    jobs = PLAN_LIMITS[plan][2]
    for _ in range(jobs):
        client.videos.create(prompt=PROMPT, duration=4)
    with owner.unchanged(), pytest.raises(GenrayRateLimitError) as err:
        client.videos.create(prompt=PROMPT, duration=4)
    assert err.value.code == "rate_limit_exceeded" and err.value.retry_after
    clock.advance(err.value.retry_after)
    assert client.videos.create(prompt=PROMPT, duration=4).status == "queued"
