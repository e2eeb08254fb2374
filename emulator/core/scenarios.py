"""Scenarios: a client picks an outcome with no special client code.

A `#emulator:<name>` token in a prompt (or an asset's URL fragment or file name), or the
header `X-Emulator-Scenario: <name>`; the header wins. Names mean the same for every
vendor; each vendor says which ones it can act out (docs/scenarios.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

HEADER = "x-emulator-scenario"
_TOKEN = re.compile(r"#emulator:([a-z][a-z0-9_]*)")

SCENARIOS: Mapping[str, str] = {
    "fail": "the task is accepted, runs, then fails; its credits are refunded",
    "moderation_reject": "the input is rejected by content moderation",
    "output_moderation": "the task runs, then its output is blocked by moderation; refunded",
    "upstream_error": "the upstream model is unavailable",
    "rate_limited": "the request is refused as over the rate limit",
    "slow": "every phase of the task takes ten times as long",
    "short_output": "the output is shorter than requested; the unused reserve is refunded",
    "expire": "the task is never picked up and expires",
    "review_fail": "an uploaded asset fails review",
}


def find(texts: Iterable[str | None]) -> str | None:
    """The first scenario token in the given texts, if any."""
    for text in texts:
        if text and "#emulator:" in text:
            match = _TOKEN.search(text)
            if match:
                return match.group(1)
    return None


class ScenarioRefused(ValueError):
    """A scenario name that is unknown, or that this vendor cannot act out here."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def choose(header: str | None, texts: Iterable[str | None], supported: Iterable[str], vendor: str) -> str | None:
    """The scenario a request asks for (the header wins over a token), checked: ScenarioRefused
    for an unknown name or one `vendor` cannot act out here, so that none is silently ignored."""
    name = header or find(texts)
    if name is None:
        return None
    if name not in SCENARIOS:
        raise ScenarioRefused(f"unknown emulator scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    allowed = set(supported)
    if name not in allowed:
        raise ScenarioRefused(f"scenario {name!r} is not one {vendor} can act out here; "
                              f"supported: {', '.join(sorted(allowed))}")
    return name
