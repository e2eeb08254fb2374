"""Settings from a TOML file, the environment and flags; fixtures pinned in the file."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from emulator.config import resolve
from emulator.core.errors import StartupError
from emulator.core.runtime import Settings
from emulator.testing import serve_in_thread

from .test_cli import EXE, _free_port

KNOWN = ("perseworks",)

CONFIG = """
[server]
port = 9001
clock = "manual"
seed = 5
start_time = "2026-05-01T00:00:00Z"
log_requests = false

[vendors.perseworks]
some_setting = 3

[[accounts]]
vendor = "perseworks"
credits = 250
api_key = "sk-pinned-for-ci-0001"
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "emulator.toml"
    path.write_text(text)
    return path


def test_flags_beat_the_environment_which_beats_the_file(tmp_path: Path) -> None:
    path = write(tmp_path)
    config = resolve({"config": path, "seed": 11}, env={"SEEDANCE_PORT": "9100", "SEEDANCE_SEED": "12"},
                     known_vendors=KNOWN)
    assert (config.port, config.settings.seed, config.settings.clock) == (9100, 11, "manual")
    assert config.sources["port"] == "env" and config.sources["seed"] == "flag" and config.sources["clock"] == "file"
    assert config.sources["host"] == "default" and config.host == "127.0.0.1"
    assert config.settings.start_time == 1777593600.0
    assert config.settings.extra == {"perseworks.some_setting": 3}
    assert config.settings.accounts == ({"vendor": "perseworks", "credits": 250, "api_key": "sk-pinned-for-ci-0001"},)


def test_the_file_may_come_from_the_environment(tmp_path: Path) -> None:
    config = resolve({}, env={"SEEDANCE_CONFIG": str(write(tmp_path)), "SEEDANCE_ALLOW_HTTP_CALLBACKS": "yes",
                              "SEEDANCE_VENDORS": "perseworks"}, known_vendors=KNOWN)
    assert config.port == 9001 and config.settings.allow_http_callbacks is True
    assert config.settings.vendors == ("perseworks",)


@pytest.mark.parametrize(("text", "env", "needle"), [
    ("[server]\nport = 'eighty'\n", {}, "port"),
    ("[server]\ncolour = 1\n", {}, "colour"),
    ("[surver]\n", {}, "surver"),
    ("[server\n", {}, "not valid TOML"),
    ("", {"SEEDANCE_CLOCK": "sundial"}, "clock"),
    ("", {"SEEDANCE_VENDORS": "perseworks,acme"}, "acme"),
    ("", {"SEEDANCE_LOG_REQUESTS": "perhaps"}, "log_requests"),
    ("[[accounts]]\ncredits = 5\n", {}, "vendor"),
])
def test_bad_settings_stop_the_start_with_a_reason(tmp_path: Path, text: str, env: dict[str, str],
                                                   needle: str) -> None:
    with pytest.raises(StartupError, match=needle):
        resolve({"config": write(tmp_path, text)}, env=env, known_vendors=KNOWN)


def test_pinned_accounts_exist_at_start_and_come_back_after_a_reset(tmp_path: Path) -> None:
    settings = resolve({"config": write(tmp_path)}, env={}, known_vendors=KNOWN).settings
    settings.vendors = ("perseworks",)
    with serve_in_thread(settings) as running:
        models = running.vendor_url("perseworks") + "/models"
        auth = {"Authorization": "Bearer sk-pinned-for-ci-0001"}
        assert httpx.get(models, headers=auth).status_code == 200
        with running.control() as control:
            accounts = control.get("/accounts").json()
            assert [a["credits"] for a in accounts] == [250]
            assert control.post("/reset").status_code == 200
            assert [a["credits"] for a in control.get("/accounts").json()] == [250]
        assert httpx.get(models, headers=auth).status_code == 200
        assert httpx.get(models, headers={"Authorization": "Bearer sk-not-pinned"}).status_code == 401


def test_a_pinned_key_cannot_be_taken_twice() -> None:
    with serve_in_thread(Settings(vendors=("perseworks",), clock="manual")) as running, running.control() as c:
        first = c.post("/accounts", json={"vendor": "perseworks", "api_key": "sk-same-key-123"})
        assert first.status_code == 201 and first.json()["api_key"] == "sk-same-key-123"
        again = c.post("/accounts", json={"vendor": "perseworks", "api_key": "sk-same-key-123"})
        assert again.status_code == 400 and "in use" in again.json()["error"]
        assert c.post("/accounts", json={"vendor": "perseworks", "api_key": 5}).status_code == 400


def test_serve_reads_the_file_and_the_banner_shows_each_test_key(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SEEDANCE_PORT": str(port), "SEEDANCE_VENDORS": "perseworks"}
    proc = subprocess.Popen([EXE, "serve", "--config", str(write(tmp_path))], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        lines = [first] + [proc.stdout.readline() if proc.stdout else "" for _ in range(2)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert f"on http://127.0.0.1:{port} (clock manual, seed 5)" in lines[0]
    assert f"http://127.0.0.1:{port}/perseworks/v1  test key sk-pinned-for-ci-0001" in lines[1]


def test_without_pinned_accounts_serve_makes_a_test_key_per_vendor() -> None:
    port = _free_port()
    proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--clock", "manual"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = [proc.stdout.readline() if proc.stdout else "" for _ in range(2)]
        key = lines[1].rsplit("test key ", 1)[1].strip()
        deadline = time.monotonic() + 20
        while True:  # the banner is printed before the port is open
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/perseworks/v1/models",
                                     headers={"Authorization": f"Bearer {key}"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        assert response.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def test_a_timing_profile_scales_a_vendors_tasks_and_an_account_can_pin_a_scenario(tmp_path: Path) -> None:
    text = CONFIG.replace("some_setting = 3", "timing_scale = 0.5") + \
        '\n[[accounts]]\nvendor = "perseworks"\ncredits = 100\napi_key = "sk-always-fails-0001"\nscenario = "fail"\n'
    settings = resolve({"config": write(tmp_path, text)}, env={}, known_vendors=KNOWN).settings
    settings.vendors = ("perseworks",)
    video = {"model": "seedance-2.0-fast", "prompt": "p", "resolution": "720p", "durationSec": 4}
    with serve_in_thread(settings) as running:
        base = running.vendor_url("perseworks")
        normal = httpx.post(f"{base}/video/generations", json=video,
                            headers={"Authorization": "Bearer sk-pinned-for-ci-0001"}).json()
        failing = httpx.post(f"{base}/video/generations", json=video,
                             headers={"Authorization": "Bearer sk-always-fails-0001"}).json()
        running.advance(21)  # half of 5 s queued + 20 s + 4 × 4 s running = 41 s → 20.5 s
        status = {name: httpx.get(f"{base}/video/generations/{task['id']}",
                                  headers={"Authorization": f"Bearer {key}"}).json()["status"]
                  for name, task, key in (("normal", normal, "sk-pinned-for-ci-0001"),
                                          ("failing", failing, "sk-always-fails-0001"))}
        assert status == {"normal": "succeeded", "failing": "failed"}
        with running.control() as control:
            refused = control.post("/accounts", json={"vendor": "perseworks", "scenario": "nope"})
            assert refused.status_code == 400


@pytest.mark.parametrize("text", ["[vendors.perseworks]\ntiming_scale = 0\n",
                                  "[vendors.perseworks]\ntiming_scale = 'x'\n",
                                  "[[accounts]]\nvendor = 'perseworks'\nscenario = 'sometimes'\n"])
def test_bad_profiles_and_scenarios_stop_the_start(tmp_path: Path, text: str) -> None:
    with pytest.raises(StartupError):
        settings = resolve({"config": write(tmp_path, text)}, env={}, known_vendors=KNOWN).settings
        settings.vendors = ("perseworks",)
        with serve_in_thread(settings):
            pass


PRICED = """
[vendors.perseworks.prices.video_credits_per_second]
720p = 20

[vendors.genray.prices]
credits_per_second = {"seedance-2.0" = 30}
video_reference_credits_per_second = 10
"""


def test_prices_in_the_config_change_what_is_held_and_shown(tmp_path: Path) -> None:
    settings = resolve({"config": write(tmp_path, PRICED)}, env={}, known_vendors=("perseworks", "genray")).settings
    settings.vendors, settings.clock = ("perseworks", "genray"), "manual"
    with serve_in_thread(settings) as running:
        pw = running.create_account("perseworks", credits=1000)
        headers = {"Authorization": f"Bearer {pw['api_key']}"}
        catalog = httpx.get(running.vendor_url("perseworks") + "/models", headers=headers).json()
        video = next(m for m in catalog["data"] if m["id"] == "seedance-2.0")
        assert video["pricing"]["credits_per_second"] == {"720p": 20, "1080p": 25, "4k": 60}
        task = httpx.post(running.vendor_url("perseworks") + "/video/generations", headers=headers,
                          json={"model": "seedance-2.0", "prompt": "p", "resolution": "720p", "durationSec": 4}).json()
        ledger = running.control().get(f"/accounts/{pw['account_id']}").json()["ledger"]
        assert [(e["kind"], e["amount"]) for e in ledger if e["ref"] == task["id"]] == [("hold", 80)]
        gr = running.create_account("genray", plan="advanced")
        job = httpx.post(running.vendor_url("genray") + "/api/v1/videos", json={"prompt": "p", "duration": 5},
                         headers={"Authorization": f"Bearer {gr['api_key']}"}).json()
        assert job["estimated_cost"] == 150
        fast = httpx.post(running.vendor_url("genray") + "/api/v1/videos",
                          json={"prompt": "p", "duration": 5, "model": "seedance-2.0-fast"},
                          headers={"Authorization": f"Bearer {gr['api_key']}"}).json()
        assert fast["estimated_cost"] == 110  # a figure the config left alone keeps the document's


@pytest.mark.parametrize(("text", "needle"), [
    ("[vendors.perseworks.prices]\nvideo_usd = 3\n", "no price named 'video_usd'"),
    ("[vendors.perseworks.prices.video_credits_per_second]\n720p = -1\n", "720p must be a number"),
    ("[vendors.perseworks.prices.video_credits_per_second]\n8k = 100\n", "no price named '8k'"),
    ("[vendors.perseworks.prices]\nvideo_credits_per_second = 5\n", "must be a table"),
])
def test_bad_prices_stop_the_start(tmp_path: Path, text: str, needle: str) -> None:
    settings = resolve({"config": write(tmp_path, text)}, env={}, known_vendors=KNOWN).settings
    settings.vendors = ("perseworks",)
    with pytest.raises(StartupError, match=needle), serve_in_thread(settings):
        pass


def test_seegen_and_powertokens_read_their_prices_from_the_config(tmp_path: Path) -> None:
    text = """
[vendors.seegen.prices.video_credits_per_second.sd2.720p]
no_video_ref = 50

[vendors.powertokens.prices.usd_per_million_tokens]
dreamina-seedance-2-0-260128 = 14.0
"""
    settings = resolve({"config": write(tmp_path, text)}, env={},
                       known_vendors=("seegen", "powertokens")).settings
    settings.vendors, settings.clock = ("seegen", "powertokens"), "manual"
    with serve_in_thread(settings) as running:
        sg = running.create_account("seegen", credits=10_000)
        sg_api = httpx.Client(base_url=running.vendor_url("seegen"),
                              headers={"Authorization": f"Bearer {sg['api_key']}"})
        task = sg_api.post("/jobs/createTask", json={"model": "sd2", "inputs": {"prompt": "p", "duration": "5s"}})
        assert task.status_code == 200, task.text
        running.advance(3600)
        done = sg_api.get("/jobs/queryTask", params={"taskId": task.json()["taskId"]}).json()
        assert done["creditsUsed"] == 250  # 5 s × 50 instead of the document's 40
        pt = running.create_account("powertokens", credits=10_000)
        created = httpx.post(running.vendor_url("powertokens") + "/byteplus/api/v3/contents/generations/tasks",
                             headers={"Authorization": pt["api_key"]},
                             json={"model": "dreamina-seedance-2-0-260128", "content": [{"type": "text", "text": "p"}],
                                   "duration": 5, "resolution": "720p", "ratio": "16:9"})
        assert created.status_code == 200, created.text
        ledger = running.control().get(f"/accounts/{pt['account_id']}").json()["ledger"]
        # Ark's 720p 16:9 5 s usage, 108 900 tokens, at $14 (not $7) per million: 152.46 credits held
        assert [(e["kind"], e["amount"]) for e in ledger if e["ref"] == created.json()["id"]] == [("hold", 152.46)]
        sg_api.close()


def test_vendor_settings_come_from_flags_the_environment_or_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[vendors.perseworks]\ntiming_scale = 0.25\nsome_setting = 'file'\n")
    config = resolve({"config": path, "set": ['perseworks.prices={"video_credits_per_second": {"720p": 20}}',
                                              "perseworks.some_setting=flag"]},
                     env={"SEEDANCE_PERSEWORKS_TIMING_SCALE": "0.5", "SEEDANCE_PERSEWORKS_SOME_SETTING": "env"},
                     known_vendors=KNOWN)
    assert config.settings.extra == {"perseworks.timing_scale": 0.5, "perseworks.some_setting": "flag",
                                     "perseworks.prices": {"video_credits_per_second": {"720p": 20}}}
    with pytest.raises(StartupError, match=r"VENDOR\.SETTING=VALUE"):
        resolve({"set": ["timing_scale=0.5"]}, env={}, known_vendors=KNOWN)
