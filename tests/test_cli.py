"""`seedance-emulator serve` as a user runs it: a separate process on a real port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.testing import SpecCheck

EXE = shutil.which("seedance-emulator", path=str(Path(sys.executable).parent)) or "seedance-emulator"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--vendor", "perseworks", "--clock", "manual",
                             "--seed", "42", "--start-time", "2026-05-01T00:00:00Z"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/_emulator/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"the server did not start: {proc.communicate()[0]}")
    yield base, proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_single_vendor_is_served_at_its_documented_paths_too(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, _ = server
    health = httpx.get(base + "/_emulator/health").json()
    assert health["vendors"] == ["perseworks"]
    assert health["clock"] == {"mode": "manual", "speed": 1.0, "now": 1777593600.0}
    key = httpx.post(base + "/_emulator/accounts", json={"vendor": "perseworks"}).json()["api_key"]
    check = SpecCheck.for_vendors("perseworks", root="perseworks")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                      event_hooks={"response": [check]}) as client:
        for prefix in ("/perseworks/v1", "/v1"):
            assert client.get(prefix + "/models").status_code == 200
        created = client.post("/v1/video/generations",
                              json={"model": "seedance-2.0", "prompt": "p", "resolution": "720p", "durationSec": 2})
        assert created.status_code == 202
        assert client.get("/perseworks/v1/video/generations/" + created.json()["id"]).status_code == 200
    assert check.checked == 4


def test_banner_lists_base_urls(server: tuple[str, subprocess.Popen[str]]) -> None:
    base, proc = server
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=10)[0]
    assert f"{base}/perseworks/v1" in out and f"{base}/_emulator" in out


def test_seed_pins_keys_across_runs(tmp_path: Path) -> None:
    keys = []
    for _ in range(2):
        port = _free_port()
        proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--seed", "9", "--clock", "manual"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(400):
                try:
                    keys.append(httpx.post(f"http://127.0.0.1:{port}/_emulator/accounts",
                                           json={"vendor": "perseworks"}).json()["api_key"])
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(10)
    assert len(keys) == 2 and keys[0] == keys[1]
