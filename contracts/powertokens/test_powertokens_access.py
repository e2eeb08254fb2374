"""Auth, tenancy and not-found, as the documents state them."""

from __future__ import annotations

import httpx
import pytest

from client import AuthenticationError, NotFoundError
from client.powertokens import PowerTokens

from .._support import Account, Control, Target
from .conftest import TASKS_PATH, V2, MakeClient


@pytest.mark.parametrize("bearer", [False, True], ids=["raw", "bearer"])
def test_both_documented_authorization_styles_work(make_client: MakeClient, bearer: bool) -> None:
    """"Authorization: <YOUR_API_KEY>" in the guide, "Bearer <token>" on the 1.x page."""
    client = make_client(bearer=bearer)
    assert client.tasks.list(page_size=1).total >= 0


@pytest.mark.parametrize("header", [None, "pt-not-a-key", "Bearer pt-not-a-key"])
def test_no_key_or_a_wrong_key_is_401_authentication_error(target: Target, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = httpx.get(target.base_url + TASKS_PATH, headers=headers, timeout=30)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "AuthenticationError" and error["type"] == "Unauthorized"


def test_the_client_raises_authentication_error(make_client: MakeClient) -> None:
    with pytest.raises(AuthenticationError) as caught:
        make_client(api_key="pt-wrong").tasks.get("cgt-x")
    assert caught.value.code == "AuthenticationError"


def test_get_asset_id_needs_no_authentication(target: Target) -> None:
    """"This endpoint does not require authentication": no 401 without a key."""
    response = httpx.get(target.base_url + "/v1/asset/jobs/get-asset-id", params={"task_id": "no-such-job"},
                         timeout=30)
    assert response.status_code != 401
    assert "code" in response.json()


def test_an_unknown_task_is_404(client: PowerTokens) -> None:
    for call in (lambda: client.tasks.get("cgt-20250101000000-nope0"),
                 lambda: client.videos.retrieve("cgt-20250101000000-nope0"),
                 lambda: client.tasks.delete("cgt-20250101000000-nope0")):
        with pytest.raises(NotFoundError):
            call()


@pytest.mark.emulator_only
def test_another_accounts_task_is_not_found(client: PowerTokens, make_client: MakeClient, control: Control) -> None:
    other: Account = control.create_account(credits=1000)
    task = make_client(api_key=other.api_key).tasks.create(model=V2, content=[{"type": "text", "text": "a fox"}])
    with pytest.raises(NotFoundError):
        client.tasks.get(task.id)
    assert task.id not in {t.id for t in client.tasks.list(page_size=500).items}
