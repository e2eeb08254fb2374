"""One package per vendor, each with the same modules: __init__ (descriptor), routes, rules,
pricing, render. A vendor package never imports another."""

from __future__ import annotations

import importlib

from ..core.vendor import Vendor

NAMES = ("perseworks",)


def load(name: str) -> Vendor:
    if name not in NAMES:
        raise ValueError(f"unknown vendor {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").build()
