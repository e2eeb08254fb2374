"""SeeGen asset identity: a volcAssetId drawn twice in a day is drawn again (never replacing an
asset), and the numeric assetId finds its asset across a reset and a `--state` restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.core.runtime import Settings
from emulator.testing import RunningEmulator, serve_in_thread

pytestmark = pytest.mark.emulator_only

START = 1_777_593_600.0


def _settings(state: Path | None = None) -> Settings:
    return Settings(vendors=("seegen",), clock="manual", seed=7, start_time=START, state=state)


def _api(running: RunningEmulator, key: str) -> httpx.Client:
    return httpx.Client(base_url=running.vendor_url("seegen"), headers={"Authorization": f"Bearer {key}"})


def _upload(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.post("/assets/upload", json={"url": f"https://e.com/{name}.png", "type": "IMAGE", "name": name})
    assert response.status_code == 200, response.text
    return response.json()


def _status(api: httpx.Client, ref: str | int) -> httpx.Response:
    return api.get("/assets/status", params={"assetId": ref})


@pytest.fixture()
def running() -> Iterator[RunningEmulator]:
    with serve_in_thread(_settings()) as emulator:
        yield emulator


def test_a_volc_asset_id_drawn_twice_is_drawn_again(running: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    key = running.create_account("seegen", credits=1000)["api_key"]
    ids = running.emulator.ids
    draw = ids.token
    forced = iter(["aaaaaa", "aaaaaa", "bbbbbb"])  # the second asset first draws the first one's id

    def token(length: int, *args: Any) -> str:
        return next(forced, None) or draw(length, *args) if length == 6 else draw(length, *args)

    monkeypatch.setattr(ids, "token", token)
    with _api(running, key) as api:
        first, second = _upload(api, "first"), _upload(api, "second")
        assert first["volcAssetId"].endswith("-aaaaaa") and second["volcAssetId"].endswith("-bbbbbb")
        assert first["volcAssetId"].removesuffix("aaaaaa") == second["volcAssetId"].removesuffix("bbbbbb")
        # Both assets are kept, each under its own id and number.
        for asset in (first, second):
            for ref in (asset["volcAssetId"], asset["assetId"]):
                assert _status(api, ref).json()["name"] == asset["name"]
        assert len(api.get("/assets/list").json()["items"]) == 2


def test_the_numeric_asset_id_finds_the_asset_and_a_reset_forgets_it(running: RunningEmulator) -> None:
    alice = running.create_account("seegen", credits=1000)["api_key"]
    bob = running.create_account("seegen", credits=1000)["api_key"]
    with _api(running, alice) as alice_api, _api(running, bob) as bob_api:
        made = [_upload(alice_api, "a1"), _upload(bob_api, "b1"), _upload(alice_api, "a2")]
        assert [a["assetId"] for a in made] == [1, 2, 3]
        assert _status(alice_api, 3).json()["volcAssetId"] == made[2]["volcAssetId"]
        assert _status(alice_api, 2).status_code == 403  # bob's: found by its number, refused
        assert _status(alice_api, 4).status_code == 404
        running.control().post("/reset").raise_for_status()
    carol = running.create_account("seegen", credits=1000)["api_key"]
    with _api(running, carol) as api:
        assert _status(api, 3).status_code == 404  # the numbers of before the reset are gone
        fresh = _upload(api, "c1")
        assert fresh["assetId"] == 1 and _status(api, 1).json()["volcAssetId"] == fresh["volcAssetId"]
        assert _status(api, 2).status_code == 404


def test_asset_numbers_are_found_after_a_state_restart(tmp_path: Path) -> None:
    path = tmp_path / "emulator.db"
    with serve_in_thread(_settings(path)) as first:
        key = first.create_account("seegen", credits=1000)["api_key"]
        with _api(first, key) as api:
            made = [_upload(api, "one"), _upload(api, "two")]
    with serve_in_thread(_settings(path)) as again, _api(again, key) as api:
        for asset in made:
            assert _status(api, asset["assetId"]).json()["volcAssetId"] == asset["volcAssetId"]
        third = _upload(api, "three")
        assert third["assetId"] == 3 and _status(api, 3).json()["name"] == "three"
