"""One package per vendor, each with the same modules: __init__ (descriptor), routes, rules,
pricing, render. A vendor package never imports another."""

from __future__ import annotations

import importlib
from pathlib import Path

from ..core.vendor import Vendor

# Every vendor this project knows, in the order servers list them.
ORDER = ("perseworks", "seegen", "powertokens", "genray")
NAMES = tuple(name for name in ORDER if (Path(__file__).parent / name / "__init__.py").is_file())


def load(name: str) -> Vendor:
    if name not in NAMES:
        raise ValueError(f"unknown vendor {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").build()
