"""Settings from a TOML file, the environment and command-line flags (flags win, then the
environment, then the file, then the defaults).

    [server]                       # every key is also a flag (--start-time) and an environment
    host = "127.0.0.1"             # variable (SEEDANCE_START_TIME)
    port = 8000
    vendors = ["genray", "seegen"]
    clock = "manual"
    seed = 42
    start_time = "2026-05-01T00:00:00Z"
    allow_http_callbacks = true
    log_requests = true

    [vendors.genray]               # vendor settings (each vendor's fidelity notes list its own)
    default_plan = "advanced"
    timing_scale = 0.1             # every vendor: its tasks take a tenth of the usual time

    [[accounts]]                   # fixtures made at start and after every reset
    vendor = "genray"
    scenario = "fail"              # every request of this account acts out a scenario

    [[accounts]]                   # fixtures made at start and after every reset
    vendor = "genray"
    plan = "standard"
    credits = 5000
    api_key = "sk_live_pinned_for_ci"
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .core.errors import StartupError
from .core.runtime import Settings
from .core.scenarios import SCENARIOS

ENV_PREFIX = "SEEDANCE_"
CONFIG_ENV = "SEEDANCE_CONFIG"


def start_time(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _vendors(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(v).strip() for v in items if str(v).strip())


def _path(value: Any) -> Path:
    return Path(str(value)).expanduser()


# Every server setting: name → how a value from TOML or the environment becomes the setting.
FIELDS: dict[str, Callable[[Any], Any]] = {
    "host": str, "port": int, "vendors": _vendors, "clock": str, "speed": float, "seed": int,
    "start_time": start_time, "state": _path, "allow_http_callbacks": _bool, "public_url": str,
    "control_public": _bool, "log_requests": _bool, "journal_size": int, "media_dir": _path,
    "upload_dir": _path, "log_level": str,
}
DEFAULTS: dict[str, Any] = {"host": "127.0.0.1", "port": 8000, "clock": "real", "speed": 1.0,
                            "log_level": "warning", "journal_size": 1000}


def _value(text: str) -> Any:
    """A vendor setting's value: JSON when it parses (numbers, booleans, tables), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _vendor_setting(item: str, source: str) -> tuple[str, Any]:
    """`genray.timing_scale=0.1` → ("genray.timing_scale", 0.1)."""
    name, sep, value = item.partition("=")
    vendor, dot, key = name.strip().partition(".")
    if not sep or not dot or not vendor or not key:
        raise StartupError(f"{source} {item!r}: write VENDOR.SETTING=VALUE, e.g. genray.timing_scale=0.1")
    return f"{vendor}.{key}", _value(value)


def _vendor_settings_from_env(env: Mapping[str, str], vendors: tuple[str, ...]) -> dict[str, Any]:
    """`SEEDANCE_<VENDOR>_<SETTING>=value`, e.g. SEEDANCE_GENRAY_TIMING_SCALE=0.1 or
    SEEDANCE_GENRAY_PRICES='{"upscale_credits": 0}'."""
    out: dict[str, Any] = {}
    for vendor in vendors:
        prefix = f"{ENV_PREFIX}{vendor.upper()}_"
        for name, value in env.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                out[f"{vendor}.{name[len(prefix):].lower()}"] = _value(value)
    return out


@dataclass
class ServerConfig:
    host: str
    port: int
    log_level: str
    settings: Settings
    sources: dict[str, str] = field(default_factory=dict)  # setting → "flag" | "env" | "file" | "default"


def read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise StartupError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise StartupError(f"config file {path} is not valid TOML: {err}") from None


def resolve(flags: Mapping[str, Any], env: Mapping[str, str] | None = None,
            known_vendors: tuple[str, ...] = ()) -> ServerConfig:
    """Merge flags (None = not given), `SEEDANCE_*` variables and the file named by
    `flags["config"]` or `SEEDANCE_CONFIG`, and check every value."""
    env = os.environ if env is None else env
    config_path = flags.get("config") or env.get(CONFIG_ENV)
    document = read_file(Path(config_path)) if config_path else {}
    unknown_tables = sorted(set(document) - {"server", "vendors", "accounts"})
    if unknown_tables:
        raise StartupError(f"config: unknown table(s) {', '.join(unknown_tables)}; known: server, vendors, accounts")
    server = document.get("server", {})
    unknown = sorted(set(server) - set(FIELDS))
    if unknown:
        raise StartupError(f"config [server]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, convert in FIELDS.items():
        for source, raw in (("flag", flags.get(name)), ("env", env.get(ENV_PREFIX + name.upper())),
                            ("file", server.get(name))):
            if raw is None or (source == "flag" and raw == []):
                continue
            try:
                values[name] = convert(raw)
            except (TypeError, ValueError) as err:
                raise StartupError(f"{name}: {raw!r} from the {source} is not valid ({err})") from None
            sources[name] = source
            break
        else:
            if name in DEFAULTS:
                values[name], sources[name] = DEFAULTS[name], "default"
    vendors = values.get("vendors") or known_vendors
    bad = sorted(set(vendors) - set(known_vendors)) if known_vendors else []
    if bad:
        raise StartupError(f"vendors: unknown {', '.join(bad)}; known: {', '.join(known_vendors)}")
    if values["clock"] not in ("real", "manual"):
        raise StartupError(f"clock: must be real or manual, not {values['clock']!r}")
    if values["speed"] <= 0:
        raise StartupError("speed: must be above 0")
    extra = {f"{vendor}.{key}": value for vendor, table in document.get("vendors", {}).items()
             for key, value in (table.items() if isinstance(table, dict) else ())}
    extra.update(_vendor_settings_from_env(env, known_vendors or tuple(vendors)))
    for item in flags.get("set") or ():
        name, value = _vendor_setting(item, "--set")
        extra[name] = value
    accounts = document.get("accounts", [])
    if not isinstance(accounts, list) or not all(isinstance(a, dict) and a.get("vendor") for a in accounts):
        raise StartupError("config: each [[accounts]] entry needs a 'vendor'")
    for account in accounts:
        if "scenario" in account and account["scenario"] not in SCENARIOS:
            raise StartupError(f"config [[accounts]]: scenario {account['scenario']!r} is not one of "
                               f"{', '.join(sorted(SCENARIOS))}")
    settings = Settings(
        vendors=tuple(vendors), clock=values["clock"], speed=values["speed"], seed=values.get("seed"),
        start_time=values.get("start_time"), allow_http_callbacks=values.get("allow_http_callbacks", False),
        public_url=values.get("public_url"), control_public=values.get("control_public", False),
        media_dir=values.get("media_dir"), upload_dir=values.get("upload_dir"), state=values.get("state"),
        log_requests=values.get("log_requests", False), journal_size=values["journal_size"], extra=extra,
        accounts=tuple(dict(a) for a in accounts),
    )
    return ServerConfig(values["host"], values["port"], values["log_level"], settings, sources)
