"""What every vendor's Schemathesis test shares: the checks, the configuration, and the
tally of cases run that each module asserts on at teardown.

Checks: no server error (any 5xx fails), response schema (every SSE event of a stream
included), status code and content type conformance, and negative data rejection (an invalid
request must get a refusal, and not 402 or 429: invalid input is refused before anything is
charged or counted). Each operation runs the examples, coverage and fuzzing phases in positive
and negative mode.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

SPEC_DIR = Path(__file__).resolve().parents[1] / "openapi"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
# What an invalid request may get: a refusal. Not 402/429 (it got far enough to be billed or
# counted) and not 5xx.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]
HEALTH_CHECKS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def load_schema(vendor: str, max_examples: int, rejected: list[str] | None = None) -> Any:
    """openapi/<vendor>.yaml as a Schemathesis schema, fuzzed in positive and negative mode."""
    config = schemathesis.Config.from_dict({
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "max-stream-events": 100_000,  # validate whole streams, not the first few events
        "generation": {
            "mode": "all",
            "max-examples": max_examples,
            "database": "none",  # no .hypothesis/ replay between runs: every run is fresh
            # The key is ours to send (a fuzzed one can only earn a 401); the fuzzer works on the rest.
            "with-security-parameters": False,
        },
        "checks": {
            "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]},
            "negative_data_rejection": {"expected-statuses": rejected or REJECTED},
        },
    })
    return schemathesis.openapi.from_path(SPEC_DIR / f"{vendor}.yaml", config=config)


class Tally:
    """Cases run by (operation, generation mode, status), for the module's teardown checks."""

    def __init__(self) -> None:
        self.ran: Counter[tuple[str, str, int]] = Counter()

    def record(self, case: schemathesis.Case, status: int) -> None:
        mode = case.meta.generation.mode.value if case.meta else "explicit"
        self.ran[case.operation.label, mode, status] += 1

    def by_operation_and_mode(self) -> Counter[tuple[str, str]]:
        out: Counter[tuple[str, str]] = Counter()
        for (op, mode, _), n in self.ran.items():
            out[op, mode] += n
        return out

    def every_operation_ran(self, operations: set[str]) -> bool:
        """At a module's teardown: False when its fuzz test was deselected (-k) and nothing ran;
        otherwise assert that every operation ran, and return True for the module's own checks."""
        if not self.ran:
            return False
        ran_ops = {op for op, _ in self.by_operation_and_mode()}
        assert ran_ops == operations, f"some operation never ran:\n{self.summary()}"
        return True

    def summary(self) -> str:
        return "\n".join(f"  {k}: {n}" for k, n in sorted(self.ran.items()))
