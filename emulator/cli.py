"""`seedance-emulator serve ...` and `seedance-emulator contracts ...`

Every setting comes from a flag, else a `SEEDANCE_<NAME>` environment variable, else the TOML
file given by --config (or SEEDANCE_CONFIG), else its default (see emulator/config.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import __version__
from . import vendors as vendor_registry
from .config import ServerConfig, resolve, start_time
from .core.errors import StartupError
from .drift import command as contracts_command

TEST_ACCOUNT_CREDITS = 10_000


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="seedance-emulator", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=__version__)
    sub = top.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator as an HTTP server")
    serve.add_argument("--config", type=Path, default=None, help="a TOML settings file (env SEEDANCE_CONFIG)")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument("--vendor", dest="vendors", action="append", choices=vendor_registry.NAMES, default=None,
                       help="serve only this vendor (repeatable); one vendor is also mounted at the root")
    serve.add_argument("--clock", choices=("real", "manual"), default=None, help="default real")
    serve.add_argument("--speed", type=float, default=None, help="emulated seconds per wall second (real clock)")
    serve.add_argument("--seed", type=int, default=None, help="make ids, keys and data deterministic")
    serve.add_argument("--start-time", type=start_time, default=None,
                       help="the clock's starting time (epoch seconds or ISO 8601); default: now")
    serve.add_argument("--state", type=Path, default=None,
                       help="keep every account, key, task, upload, ledger entry and pending webhook in this "
                            "SQLite file: a restart (even kill -9) loses nothing acknowledged")
    serve.add_argument("--allow-http-callbacks", action="store_const", const=True, default=None,
                       help="let vendors that demand HTTPS webhooks call plain-HTTP loopback receivers")
    serve.add_argument("--public-url", default=None, help="base URL to put in media links (behind a proxy)")
    serve.add_argument("--control-public", action="store_const", const=True, default=None,
                       help="let non-loopback clients use /_emulator (off by default)")
    serve.add_argument("--log-requests", action="store_const", const=True, default=None,
                       help="structured JSON request logs on stderr")
    serve.add_argument("--journal-size", type=int, default=None, help="requests kept for /_emulator/requests")
    serve.add_argument("--set", action="append", default=None, metavar="VENDOR.SETTING=VALUE",
                       help="a vendor setting, e.g. genray.timing_scale=0.1 (repeatable; env "
                            "SEEDANCE_<VENDOR>_<SETTING>; a [vendors.<name>] key in the config)")
    serve.add_argument("--no-test-accounts", dest="test_accounts", action="store_false",
                       help="do not make a test account per vendor at start (made when no config pins accounts)")
    serve.add_argument("--log-level", default=None, help="uvicorn's log level (default warning)")
    contracts_command.add_parser(sub)
    return top


def banner(config: ServerConfig, emulator: Any) -> str:
    settings = config.settings
    origin = settings.public_url or f"http://{config.host}:{config.port}"
    clock = settings.clock + (f", speed {settings.speed:g}" if settings.clock == "real" else "")
    lines = [f"seedance-emulator {__version__} on {origin} (clock {clock}"
             f"{', seed ' + str(settings.seed) if settings.seed is not None else ''})"]
    keys = {}
    for made in emulator.seeded:
        keys.setdefault(made["vendor"], made["api_key"])
    for vendor in emulator.vendors.values():
        key = keys.get(vendor.name)
        lines.append(f"  {vendor.name:<12} {origin}{vendor.prefix}{vendor.spec.base_path}"
                     + (f"  test key {key}" if key else ""))
    lines.append(f"  control      {origin}/_emulator  (POST /_emulator/accounts for more keys)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `contracts ... -- PYTEST ARGS`: what follows `--` goes to pytest untouched.
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    args = parser().parse_args(argv)
    if args.command == "contracts":
        return contracts_command.main(args, extra)
    if extra:
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    flags = vars(args)
    try:
        config = resolve(flags, known_vendors=vendor_registry.NAMES)
    except StartupError as err:
        print(f"seedance-emulator: {err}", file=sys.stderr)
        return 2
    settings = config.settings
    if args.test_accounts and not settings.accounts:
        settings.accounts = tuple({"vendor": v, "credits": TEST_ACCOUNT_CREDITS, "name": "test key"}
                                  for v in settings.vendors)
    import uvicorn

    from .app import create_app

    try:
        app = create_app(settings)
    except (StartupError, ValueError) as err:
        print(f"seedance-emulator: {err}", file=sys.stderr)
        return 2
    print(banner(config, app.emulator), flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level=config.log_level, lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
