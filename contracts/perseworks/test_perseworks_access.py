"""perseworks.md, "Auth" and "Error codes": keys (401), key scopes (403), rate limits (429),
refusals at submit (422, 502), and owner-scoped tasks (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from client import (
    APIStatusError,
    AuthenticationError,
    ContentRejectedError,
    NotFoundError,
    PermissionDeniedError,
    Perseworks,
    RateLimitError,
    UpstreamError,
)

from ._support import Account, Clock, Control, MakeClient

PROMPT = "a lighthouse in a storm"
CHAT = [{"role": "user", "content": "Hello"}]

# One request per operation: (name, call on a client, and the same over raw HTTP).
Call = Callable[[Perseworks], Any]
OPERATIONS: dict[str, Call] = {
    "listModels": lambda c: c.models.list(),
    "createVideoGeneration": lambda c: c.videos.create(model="seedance-2.0-mini", prompt=PROMPT,
                                                       resolution="720p", duration_sec=1),
    "getVideoGeneration": lambda c: c.videos.retrieve("vid_0000000000000000000000000"),
    "createChatCompletion": lambda c: c.chat.completions.create(model="seed-2.0-mini", messages=CHAT),
}
RAW: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "listModels": ("GET", "models", None),
    "createVideoGeneration": ("POST", "video/generations", {"model": "seedance-2.0-mini", "prompt": PROMPT,
                                                           "resolution": "720p", "durationSec": 1}),
    "getVideoGeneration": ("GET", "video/generations/vid_0000000000000000000000000", None),
    "createChatCompletion": ("POST", "chat/completions", {"model": "seed-2.0-mini", "messages": CHAT}),
}


# -- 401 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", RAW)
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer sk-not-a-real-key", "Basic c2stYWJj",
                                           "sk-raw-key-without-scheme"],
                         ids=["missing", "empty-bearer", "unknown-key", "basic", "no-scheme"])
def test_a_request_without_a_valid_bearer_key_is_401(raw: httpx.Client, account: Account, operation: str,
                                                      authorization: str | None) -> None:
    method, path, payload = RAW[operation]
    headers = {"Authorization": authorization} if authorization else {}
    request = raw.build_request(method, path, json=payload)
    request.headers.pop("Authorization")
    request.headers.update(headers)
    with account.unchanged():
        response = raw.send(request)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_client_raises_authentication_error_for_an_unknown_key(make_client: MakeClient, operation: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        OPERATIONS[operation](make_client("sk-this-key-does-not-exist"))
    assert (caught.value.status_code, caught.value.code) == (401, "invalid_api_key")


@pytest.mark.emulator_only
def test_a_revoked_key_is_401_and_the_account_s_other_keys_still_work(control: Control, account: Account,
                                                                       make_client: MakeClient) -> None:
    extra = control.create_key(account)
    doomed = make_client(extra["api_key"])
    doomed.models.list()
    control.revoke_key(account, extra["key_id"])
    with pytest.raises(AuthenticationError) as caught:
        doomed.models.list()
    assert caught.value.code == "invalid_api_key"
    make_client(account.api_key).models.list()


# -- 403: key scopes -----------------------------------------------------------------------


@pytest.mark.emulator_only
def test_a_key_limited_to_some_models_is_403_on_the_others(control: Control, account: Account,
                                                            make_client: MakeClient) -> None:
    key = control.create_key(account, allowed_models=["seedance-2.0-mini", "seed-2.0-mini"])
    scoped = make_client(key["api_key"])
    with account.unchanged():
        with pytest.raises(PermissionDeniedError) as video:
            scoped.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=1)
        with pytest.raises(PermissionDeniedError) as chat:
            scoped.chat.completions.create(model="seed-2.1-pro", messages=CHAT)
    for caught in (video, chat):
        assert (caught.value.status_code, caught.value.code, caught.value.param) == (403, "model_not_allowed", "model")
    assert scoped.videos.create(model="seedance-2.0-mini", prompt=PROMPT, resolution="720p",
                                duration_sec=1).status == "queued"
    assert scoped.chat.completions.create(model="seed-2.0-mini", messages=CHAT).choices


@pytest.mark.emulator_only
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_key_limited_to_other_addresses_is_403(control: Control, account: Account, make_client: MakeClient,
                                                 operation: str) -> None:
    key = control.create_key(account, allowed_ips=["10.0.0.0/8"])
    with account.unchanged(), pytest.raises(PermissionDeniedError) as caught:
        OPERATIONS[operation](make_client(key["api_key"]))
    assert (caught.value.status_code, caught.value.code) == (403, "ip_not_allowed")


@pytest.mark.emulator_only
def test_a_key_open_to_every_address_works(control: Control, account: Account, make_client: MakeClient) -> None:
    key = control.create_key(account, allowed_ips=["0.0.0.0/0", "::/0"])
    assert make_client(key["api_key"]).models.list().data


# -- refusals at submit: 422, 502, 429 (scenarios) ----------------------------------------

REFUSALS = [
    pytest.param("moderation_reject", ContentRejectedError, 422, "content_rejected", id="422-content_rejected"),
    pytest.param("upstream_error", UpstreamError, 502, "upstream_error", id="502-upstream_error"),
    pytest.param("rate_limited", RateLimitError, 429, "rate_limited", id="429-rate_limited"),
]


@pytest.mark.emulator_only
@pytest.mark.parametrize("operation", ["createVideoGeneration", "createChatCompletion"])
@pytest.mark.parametrize(("scenario", "error", "status", "code"), REFUSALS)
def test_a_refused_submit_raises_its_typed_error_and_costs_nothing(
        client: Perseworks, account: Account, operation: str, scenario: str, error: type[APIStatusError],
        status: int, code: str) -> None:
    headers = {"X-Emulator-Scenario": scenario}
    with account.unchanged(), pytest.raises(error) as caught:
        if operation == "createVideoGeneration":
            client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=4,
                                 extra_headers=headers)
        else:
            client.chat.completions.create(model="seed-2.0-mini", messages=CHAT, extra_headers=headers)
    assert (caught.value.status_code, caught.value.code) == (status, code)
    assert caught.value.message
    if isinstance(caught.value, RateLimitError):
        assert "retry-after" in caught.value.headers
        assert caught.value.retry_after is not None and caught.value.retry_after > 0


@pytest.mark.emulator_only
def test_a_key_over_its_rate_limit_is_429_until_the_window_moves(control: Control, clock: Clock,
                                                                 make_client: MakeClient) -> None:
    account = control.create_account(credits=1000, rate_limit_rpm=2)
    client = make_client(account.api_key, max_retries=0)
    client.models.list()
    client.models.list()
    with account.unchanged(), pytest.raises(RateLimitError) as caught:
        client.videos.create(model="seedance-2.0", prompt=PROMPT, resolution="720p", duration_sec=1)
    err = caught.value
    assert (err.status_code, err.code) == (429, "rate_limited")
    assert err.retry_after is not None and 0 < err.retry_after <= 60
    assert 0 < float(err.headers["retry-after"]) <= 60
    clock.advance(err.retry_after)
    assert client.models.list().data


# -- 404: owner-scoped tasks ----------------------------------------------------------------


@pytest.mark.emulator_only
def test_another_account_s_task_is_404(client: Perseworks, control: Control, make_client: MakeClient) -> None:
    task = client.videos.create(model="seedance-2.0-mini", prompt=PROMPT, resolution="720p", duration_sec=1)
    stranger = make_client(control.create_account(credits=100).api_key)
    with pytest.raises(NotFoundError) as caught:
        stranger.videos.retrieve(task.id)
    assert (caught.value.status_code, caught.value.code) == (404, "not_found")
    assert client.videos.retrieve(task.id).id == task.id


@pytest.mark.parametrize("task_id", ["vid_0000000000000000000000000", "vid_", "not-a-task-id"])
def test_an_unknown_task_is_404(client: Perseworks, task_id: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.videos.retrieve(task_id)
    assert (caught.value.status_code, caught.value.code) == (404, "not_found")
