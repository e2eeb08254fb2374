"""Fault rules set through the control API: latency, error answers, rate-limit bursts and
dropped connections, matched by vendor, operation and key, each with a probability.

Modelled on WireMock's fault and delay settings (`fixedDelayMilliseconds`, `delayDistribution`
uniform or lognormal, `fault: CONNECTION_RESET_BY_PEER`) and LocalStack's chaos rules (a
probability per rule). A rule fires in the request pipeline after authentication, so it can be
matched by key, and before anything is validated, priced or stored: a faulted request has no
other effect. Random draws come from a generator seeded by `--seed`.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

ERROR_KINDS_BY_STATUS = {400: "invalid", 401: "unauthorized", 403: "ip_not_allowed", 404: "not_found",
                         405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}


class FaultError(ValueError):
    """A rule that cannot be set; the message says which field and why."""


@dataclass(slots=True)
class Fault:
    id: str
    vendor: str | None = None
    operation: str | None = None
    key_id: str | None = None
    latency_ms: float = 0.0
    # {"type": "uniform", "lower": ms, "upper": ms} or {"type": "lognormal", "median": ms, "sigma": s}
    latency_distribution: dict[str, Any] | None = None
    status: int | None = None  # answer with this status, in the vendor's error shape
    error: str | None = None  # the vendor error kind; default by status (429 → rate_limited, …)
    message: str | None = None
    retry_after: float | None = None
    drop_connection: bool = False
    probability: float = 1.0
    remaining: int | None = None  # fire at most this many more times; None: until removed
    created_at: float = 0.0
    fired: int = 0
    matched: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "vendor": self.vendor, "operation": self.operation, "key_id": self.key_id,
                "latency_ms": self.latency_ms, "latency_distribution": self.latency_distribution,
                "status": self.status, "error": self.error, "message": self.message,
                "retry_after": self.retry_after, "drop_connection": self.drop_connection,
                "probability": self.probability, "remaining": self.remaining, "created_at": self.created_at,
                "matched": self.matched, "fired": self.fired}

    def matches(self, vendor: str, operation: str, key_id: str | None) -> bool:
        return ((self.vendor is None or self.vendor == vendor)
                and (self.operation is None or self.operation == operation)
                and (self.key_id is None or self.key_id == key_id))


@dataclass(frozen=True, slots=True)
class Effect:
    """What the matching rules do to one request: wait, then answer an error, drop, or go on."""

    fault_ids: tuple[str, ...]
    delay_seconds: float
    status: int | None
    error: str | None
    message: str | None
    retry_after: float | None
    drop_connection: bool


def _number(body: dict[str, Any], name: str, *, low: float = 0, high: float | None = None) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaultError(f"'{name}' must be a number")
    if value < low or (high is not None and value > high):
        raise FaultError(f"'{name}' must be between {low} and {high}" if high is not None
                         else f"'{name}' must be at least {low}")
    return float(value)


class Faults:
    def __init__(self, seed: int | None = None):
        self.rules: dict[str, Fault] = {}
        self._ids = itertools.count(1)
        self._random = random.Random(seed)
        self._seed = seed
        self._lock = threading.Lock()

    def add(self, body: dict[str, Any], now: float, *, vendors: dict[str, Any]) -> Fault:
        """A rule from the control API's JSON; FaultError for anything malformed."""
        known = {"vendor", "operation", "key_id", "latency_ms", "latency_distribution", "status", "error",
                 "message", "retry_after", "drop_connection", "probability", "times", "rate_limit_burst"}
        unknown = sorted(set(body) - known)
        if unknown:
            raise FaultError(f"unknown field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        vendor = body.get("vendor")
        if vendor is not None and vendor not in vendors:
            raise FaultError(f"'vendor' must be one of {sorted(vendors)}")
        operation = body.get("operation")
        if operation is not None:
            operations = {op for v in vendors.values() if vendor in (None, v.name) for op in v.spec.operations}
            if operation not in operations:
                raise FaultError(f"'operation' must be an operationId of {vendor or 'a served vendor'}: "
                                 f"{', '.join(sorted(operations))}")
        for name in ("key_id", "error", "message"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise FaultError(f"'{name}' must be a string")
        status = _number(body, "status", low=400, high=599)
        burst = _number(body, "rate_limit_burst", low=1)
        times = _number(body, "times", low=1)
        if burst is not None:
            if status not in (None, 429) or times is not None:
                raise FaultError("'rate_limit_burst' is a count of 429 answers: give it without 'status' or 'times'")
            status, times = 429, burst
        drop = body.get("drop_connection", False)
        if not isinstance(drop, bool):
            raise FaultError("'drop_connection' must be a boolean")
        if drop and status is not None:
            raise FaultError("a rule either answers an error ('status') or drops the connection, not both")
        distribution = body.get("latency_distribution")
        if distribution is not None:
            self._check_distribution(distribution)
        latency = _number(body, "latency_ms", high=60_000) or 0.0
        if not (latency or distribution or status is not None or drop):
            raise FaultError("a rule needs an effect: latency_ms, latency_distribution, status, "
                             "rate_limit_burst or drop_connection")
        probability = _number(body, "probability", high=1)
        fault = Fault(
            id=f"flt_{next(self._ids)}", vendor=vendor, operation=operation, key_id=body.get("key_id"),
            latency_ms=latency, latency_distribution=distribution, status=None if status is None else int(status),
            error=body.get("error"), message=body.get("message"), retry_after=_number(body, "retry_after"),
            drop_connection=drop, probability=1.0 if probability is None else probability,
            remaining=None if times is None else int(times), created_at=now,
        )
        with self._lock:
            self.rules[fault.id] = fault
        return fault

    @staticmethod
    def _check_distribution(spec: Any) -> None:
        if not isinstance(spec, dict) or spec.get("type") not in ("uniform", "lognormal"):
            raise FaultError("'latency_distribution' must be {\"type\": \"uniform\", \"lower\", \"upper\"} "
                             "or {\"type\": \"lognormal\", \"median\", \"sigma\"} (milliseconds)")
        if spec["type"] == "uniform":
            lower, upper = _number(spec, "lower", high=60_000), _number(spec, "upper", high=60_000)
            if lower is None or upper is None or lower > upper:
                raise FaultError("a uniform latency needs 'lower' ≤ 'upper' (milliseconds)")
        else:
            median, sigma = _number(spec, "median", high=60_000), _number(spec, "sigma", high=10)
            if median is None or sigma is None:
                raise FaultError("a lognormal latency needs 'median' (milliseconds) and 'sigma'")

    def remove(self, fault_id: str) -> Fault | None:
        with self._lock:
            return self.rules.pop(fault_id, None)

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self._ids = itertools.count(1)
            self._random = random.Random(self._seed)

    def _delay_ms(self, fault: Fault) -> float:
        spec = fault.latency_distribution
        extra = 0.0
        if spec is not None:
            if spec["type"] == "uniform":
                extra = self._random.uniform(spec["lower"], spec["upper"])
            else:
                extra = spec["median"] * math.exp(spec["sigma"] * self._random.gauss(0.0, 1.0))
        return fault.latency_ms + min(extra, 60_000.0)

    def effect(self, vendor: str, operation: str, key_id: str | None) -> Effect | None:
        """What the rules do to this request (None, the common case, when no rule fires)."""
        if not self.rules:
            return None
        fired: list[Fault] = []
        delay = 0.0
        with self._lock:
            for fault in list(self.rules.values()):
                if not fault.matches(vendor, operation, key_id):
                    continue
                fault.matched += 1
                if fault.probability < 1.0 and self._random.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self.rules[fault.id]
                fired.append(fault)
                delay += self._delay_ms(fault)
        if not fired:
            return None
        # The first rule that answers (an error or a drop) decides the answer; latencies add up.
        answer = next((f for f in fired if f.status is not None or f.drop_connection), None)
        status = answer.status if answer else None
        error = (answer.error or ERROR_KINDS_BY_STATUS.get(status or 0, "internal")) if status else None
        return Effect(tuple(f.id for f in fired), delay / 1000.0, status, error,
                      answer.message if answer else None,
                      (answer.retry_after if answer and answer.retry_after is not None else 1.0) if status == 429
                      else None,
                      bool(answer and answer.drop_connection))
