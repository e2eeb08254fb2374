"""`--state PATH`: what was acknowledged survives a restart and a kill -9, and in-flight
lifecycles and webhook deliveries go on from the clock."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator.core.runtime import Settings
from emulator.testing import WebhookReceiver, serve_in_thread

from .test_cli import EXE, _free_port

START = 1_777_593_600.0
VIDEO = {"model": "seedance-2.0-fast", "prompt": "a heron", "resolution": "720p", "durationSec": 4}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver.running() as receiver:
        yield receiver


def settings(path: Path) -> Settings:
    return Settings(vendors=("perseworks", "powertokens", "genray"), clock="manual", seed=11, start_time=START,
                    allow_http_callbacks=True, state=path)


def test_a_restart_brings_back_accounts_tasks_uploads_and_pending_webhooks(tmp_path: Path,
                                                                           hooks: WebhookReceiver) -> None:
    path = tmp_path / "emulator.db"
    hooks.answer("/restart", 500)  # the first attempt fails: a retry is pending at the restart
    with serve_in_thread(settings(path)) as first:
        persona = first.create_account("perseworks", credits=1000)
        genray = first.create_account("genray", plan="standard")
        pt = first.create_account("powertokens", credits=5000)
        pw = httpx.Client(base_url=first.vendor_url("perseworks"),
                          headers={"Authorization": f"Bearer {persona['api_key']}"})
        task = pw.post("/video/generations", json={**VIDEO, "durationSec": 15}).json()  # runs 5 s → 85 s
        gr = httpx.Client(base_url=first.vendor_url("genray"), headers={"Authorization": f"Bearer {genray['api_key']}"})
        job = gr.post("/api/v1/videos", json={"prompt": "a kite", "duration": 4,
                                              "webhook_url": hooks.url("/restart")}).json()
        first.advance(54)  # the job is done; the webhook's first attempt is refused, a retry is due at 56 s
        first.advance(0.5)
        assert len(hooks.at("/restart")) == 1
        assert pw.get(f"/video/generations/{task['id']}").json()["status"] == "running"
        upload = httpx.post(first.vendor_url("powertokens") + "/v1/asset/upload",
                            headers={"Authorization": pt["api_key"]}, files={"file": ("f.png", png())}).json()
        balance_before = first.control().get(f"/accounts/{persona['account_id']}").json()
        genray_balance = first.control().get(f"/accounts/{genray['account_id']}").json()["credits"]
        second_job = gr.post("/api/v1/videos", json={"prompt": "a second kite", "duration": 4}).json()
        pw.close()
        gr.close()
    assert path.exists()

    with serve_in_thread(settings(path)) as again:
        assert again.emulator.clock.now() == START + 54.5  # the manual clock continues where it was
        control = again.control()
        restored = control.get(f"/accounts/{persona['account_id']}").json()
        assert restored["ledger"] == balance_before["ledger"] and restored["held"] == 225  # 15 s at 720p
        pw = httpx.Client(base_url=again.vendor_url("perseworks"),
                          headers={"Authorization": f"Bearer {persona['api_key']}"})  # the key still works
        assert pw.get(f"/video/generations/{task['id']}").json()["status"] == "running"
        again.advance(120)
        done = pw.get(f"/video/generations/{task['id']}").json()
        assert done["status"] == "succeeded"
        assert httpx.get(done["video_url"]).headers["content-type"] == "video/mp4"
        settled = control.get(f"/accounts/{persona['account_id']}").json()
        assert (settled["credits"], settled["held"]) == (775, 0)
        # The pending retry was delivered after the restart, on its schedule.
        assert [r.json()["event"] for r in hooks.at("/restart")] == ["video.completed"] * 2
        [delivery] = [d for d in control.get("/webhooks").json() if d["ref"] == job["id"]]
        assert delivery["state"] == "delivered" and [a["status"] for a in delivery["attempts"]] == [500, 200]
        # Uploads are kept with their files; numbering of Genray generations goes on.
        poll = httpx.get(again.vendor_url("powertokens") + "/v1/asset/jobs/get-asset-id",
                         params={"task_id": upload["data"]["task_id"]}).json()
        assert poll["data"]["status"] == "succeeded"
        [stored] = again.emulator.uploads.of_account("powertokens", pt["account_id"])
        assert stored.path.read_bytes() == png()
        gr = httpx.Client(base_url=again.vendor_url("genray"), headers={"Authorization": f"Bearer {genray['api_key']}"})
        third = gr.post("/api/v1/videos", json={"prompt": "a third kite", "duration": 4}).json()
        assert third["generation_id"] == second_job["generation_id"] + 1
        assert control.get(f"/accounts/{genray['account_id']}").json()["credits"] <= genray_balance
        pw.close()
        gr.close()
        control.close()


def test_a_reset_is_durable_too(tmp_path: Path) -> None:
    path = tmp_path / "emulator.db"
    with serve_in_thread(settings(path)) as first:
        first.create_account("perseworks", credits=10)
        assert first.control().post("/reset").status_code == 200
    with serve_in_thread(settings(path)) as again:
        assert again.control().get("/accounts").json() == []


def _serve(path: Path, port: int, receiver: WebhookReceiver) -> subprocess.Popen[str]:
    proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--state", str(path), "--clock", "manual",
                             "--seed", "5", "--start-time", str(START), "--allow-http-callbacks",
                             "--no-test-accounts", "--vendor", "perseworks", "--vendor", "genray"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("SEEDANCE_")})
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_emulator/health").status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the server did not start")
        time.sleep(0.05)


def test_kill_9_in_the_middle_of_a_load_loses_nothing_acknowledged(tmp_path: Path, hooks: WebhookReceiver) -> None:
    path = tmp_path / "emulator.db"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    hooks.answer("/killed", 500)
    proc = _serve(path, port, hooks)
    try:
        account = httpx.post(f"{base}/_emulator/accounts", json={"vendor": "perseworks", "credits": 100_000}).json()
        genray = httpx.post(f"{base}/_emulator/accounts", json={"vendor": "genray", "plan": "advanced",
                                                                "rate_limit_rpm": 0}).json()
        job = httpx.post(f"{base}/genray/api/v1/videos", headers={"Authorization": f"Bearer {genray['api_key']}"},
                         json={"prompt": "a kite", "duration": 4, "webhook_url": hooks.url("/killed")}).json()
        httpx.post(f"{base}/_emulator/clock/advance", json={"seconds": 54})  # first attempt refused
        assert len(hooks.at("/killed")) == 1
        acknowledged: list[str] = []
        stop = threading.Event()

        def submit() -> None:
            with httpx.Client(base_url=f"{base}/perseworks/v1", timeout=5,
                              headers={"Authorization": f"Bearer {account['api_key']}"}) as client:
                while not stop.is_set():
                    try:
                        response = client.post("/video/generations", json=VIDEO)
                    except httpx.TransportError:
                        return  # the server is gone
                    if response.status_code == 202:
                        acknowledged.append(response.json()["id"])

        threads = [threading.Thread(target=submit) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # in the middle of the load
        proc.wait(10)
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(acknowledged) >= 40

    proc = _serve(path, port, hooks)
    try:
        with httpx.Client(base_url=f"{base}/perseworks/v1",
                          headers={"Authorization": f"Bearer {account['api_key']}"}) as client:
            for task_id in acknowledged:
                found = client.get(f"/video/generations/{task_id}")
                assert found.status_code == 200, task_id
        state: dict[str, Any] = httpx.get(f"{base}/_emulator/accounts/{account['account_id']}").json()
        holds = [e for e in state["ledger"] if e["kind"] == "hold"]
        assert {e["ref"] for e in holds} >= set(acknowledged)  # a hold for every acknowledged task
        assert state["credits"] == 100_000 and state["held"] == 60 * len(holds)  # and the ledger adds up
        # The genray webhook that was pending at the kill is retried after the restart.
        httpx.post(f"{base}/_emulator/clock/advance", json={"seconds": 30})
        [delivery] = [d for d in httpx.get(f"{base}/_emulator/webhooks").json() if d["ref"] == job["id"]]
        assert [a["status"] for a in delivery["attempts"]] == [500, 200]
        assert len(hooks.at("/killed")) == 2
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
