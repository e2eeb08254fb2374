"""Webhook deliveries with each vendor's retry schedule, timeout and signature.

Deliveries run on the scheduler, never inside a request. Retry times are planned in
emulated time from the previous attempt's planned time, so a schedule such as
"after 1 s, 5 s, 30 s" is exact under the manual clock. Every attempt is recorded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .clock import Clock
from .scheduler import Scheduler

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


@dataclass(slots=True)
class Attempt:
    number: int
    planned_at: float
    status: int | None = None
    error: str | None = None
    latency_ms: float | None = None

    def describe(self) -> dict[str, Any]:
        return {"number": self.number, "planned_at": self.planned_at, "status": self.status,
                "error": self.error, "latency_ms": self.latency_ms}


@dataclass(slots=True)
class Delivery:
    id: str
    vendor: str
    account_id: str
    ref: str | None
    event: str
    url: str
    body: bytes
    headers: dict[str, str]
    retry_delays: tuple[float, ...]
    timeout: float
    created_at: float
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"  # pending → delivered | failed

    def next_attempt_at(self) -> float | None:
        """When the next attempt is planned (the same rule `Outbox._attempt` plans it by); None once
        delivered or given up, or while an attempt is in flight."""
        if self.state != "pending":
            return None
        if not self.attempts:
            return self.created_at
        last = self.attempts[-1]
        if (last.status is None and last.error is None) or last.number > len(self.retry_delays):
            return None
        return last.planned_at + self.retry_delays[last.number - 1]

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id, "vendor": self.vendor, "account_id": self.account_id, "ref": self.ref,
            "event": self.event, "url": self.url, "state": self.state, "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"), "created_at": self.created_at,
            "attempts": [a.describe() for a in self.attempts],
        }


def callback_url_allowed(url: str, *, https_only: bool, allow_http_loopback: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme == "http" and parts.hostname:
        return not https_only or (allow_http_loopback and parts.hostname in LOOPBACK_HOSTS)
    return False


class Outbox:
    def __init__(self, clock: Clock, scheduler: Scheduler,
                 client_factory: Callable[[], httpx.AsyncClient] | None = None):
        self.clock = clock
        self.scheduler = scheduler
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # No cap on connections: httpx's default (100) made the 101st concurrent attempt wait for a
        # free connection and then count as a timeout that no receiver ever saw.
        self._client_factory = client_factory or (lambda: httpx.AsyncClient(
            follow_redirects=False, limits=httpx.Limits(max_connections=None, max_keepalive_connections=32)))
        self._client: httpx.AsyncClient | None = None
        self.version = 0  # bumped by every change, so durable state knows when to write

    def enqueue(self, *, vendor: str, account_id: str, ref: str | None, event: str, url: str,
                body: bytes, headers: dict[str, str], retry_delays: tuple[float, ...],
                timeout: float, at: float | None = None) -> Delivery:
        """A delivery whose first attempt is planned `at` (the event's own time, e.g. a lifecycle
        step's, even when a long clock advance catches it up later; default: now), so that
        retries keep the vendor's schedule from the event itself."""
        now = self.clock.now() if at is None else min(at, self.clock.now())
        delivery = Delivery(f"whd_{next(self._ids)}", vendor, account_id, ref, event, url, body,
                            {"content-type": "application/json", **headers}, retry_delays,
                            timeout, now)
        with self._lock:
            self.deliveries.append(delivery)
            self.version += 1
        self._plan(delivery, 1, now)
        return delivery

    def _plan(self, delivery: Delivery, number: int, at: float) -> None:
        self.scheduler.at(at, lambda: self._attempt(delivery, number, at),
                          label=f"{delivery.id}#{number}")

    async def _attempt(self, delivery: Delivery, number: int, planned_at: float) -> None:
        attempt = Attempt(number, planned_at)
        delivery.attempts.append(attempt)
        self.version += 1
        if self._client is None:
            self._client = self._client_factory()
        started = time.perf_counter()
        try:
            response = await self._client.post(delivery.url, content=delivery.body,
                                               headers=delivery.headers, timeout=delivery.timeout)
            attempt.status = response.status_code
        except httpx.TimeoutException:
            attempt.error = "timeout"
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        self.version += 1
        if attempt.status is not None and 200 <= attempt.status < 300:
            delivery.state = "delivered"
        elif number <= len(delivery.retry_delays):
            self._plan(delivery, number + 1, planned_at + delivery.retry_delays[number - 1])
        else:
            delivery.state = "failed"

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.version += 1

    def restore(self, deliveries: list[Delivery]) -> None:
        """Take deliveries loaded from disk and plan what each still owes: an attempt cut short by
        a stop runs again at its planned time; a failed one is retried on its schedule."""
        with self._lock:
            self.deliveries = deliveries
            numbers = [int(d.id.removeprefix("whd_")) for d in deliveries if d.id.startswith("whd_")]
            self._ids = itertools.count(max(numbers, default=0) + 1)
        for delivery in deliveries:
            if delivery.state != "pending":
                continue
            if not delivery.attempts:
                self._plan(delivery, 1, delivery.created_at)
                continue
            last = delivery.attempts[-1]
            if last.status is None and last.error is None:  # in flight when the server stopped
                delivery.attempts.pop()
                self._plan(delivery, last.number, last.planned_at)
            elif last.number <= len(delivery.retry_delays):
                self._plan(delivery, last.number + 1, last.planned_at + delivery.retry_delays[last.number - 1])
            else:
                delivery.state = "failed"
