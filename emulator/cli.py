"""`seedance-emulator serve ...`"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from . import __version__
from . import vendors as vendor_registry


def _start_time(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="seedance-emulator", description=__doc__)
    top.add_argument("--version", action="version", version=__version__)
    sub = top.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator as an HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--vendor", action="append", choices=vendor_registry.NAMES,
                       help="serve only this vendor (repeatable); one vendor is also mounted at the root")
    serve.add_argument("--clock", choices=("real", "manual"), default="real")
    serve.add_argument("--speed", type=float, default=1.0, help="emulated seconds per wall second (real clock)")
    serve.add_argument("--seed", type=int, default=None, help="make ids, keys and data deterministic")
    serve.add_argument("--start-time", type=_start_time, default=None,
                       help="the clock's starting time (epoch seconds or ISO 8601); default: now")
    serve.add_argument("--state", type=Path, default=None,
                       help="keep state in this SQLite file (not built yet: see issue 7)")
    serve.add_argument("--allow-http-callbacks", action="store_true",
                       help="let vendors that demand HTTPS webhooks call plain-HTTP loopback receivers")
    serve.add_argument("--public-url", default=None, help="base URL to put in media links (behind a proxy)")
    serve.add_argument("--control-public", action="store_true",
                       help="let non-loopback clients use /_emulator (off by default)")
    serve.add_argument("--log-level", default="warning")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.state is not None:
        print("seedance-emulator: --state (durable SQLite state) is not built yet; "
              "state is in memory only", file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app
    from .core.runtime import Settings

    settings = Settings(
        vendors=tuple(args.vendor or vendor_registry.NAMES), clock=args.clock, speed=args.speed,
        seed=args.seed, start_time=args.start_time, allow_http_callbacks=args.allow_http_callbacks,
        public_url=args.public_url, control_public=args.control_public,
    )
    app = create_app(settings)
    origin = args.public_url or f"http://{args.host}:{args.port}"
    print(f"seedance-emulator {__version__} on {origin} (clock {args.clock}"
          f"{', speed ' + str(args.speed) if args.clock == 'real' else ''}"
          f"{', seed ' + str(args.seed) if args.seed is not None else ''})")
    for vendor in app.state.emulator.vendors.values():
        print(f"  {vendor.name:<12} {origin}{vendor.prefix}{vendor.spec.base_path}")
    print(f"  control      {origin}/_emulator  (POST /_emulator/accounts to get a key)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
