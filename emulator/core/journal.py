"""What the emulator saw: a bounded journal of recent requests, Prometheus-style counters, and
structured request logs.

Recording a request is a tuple appended to a deque and a counter bumped: no formatting and no
I/O on the request's path. Structured logs, when switched on, go through a queue to a thread
that formats and writes them.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger("seedance_emulator.requests")


@dataclass(slots=True)
class Entry:
    at: float  # emulated time
    wall: float  # wall-clock time (epoch seconds)
    method: str
    path: str
    status: int
    duration_ms: float
    vendor: str | None
    operation: str | None
    key_id: str | None
    faults: tuple[str, ...]
    dropped: bool

    def describe(self) -> dict[str, Any]:
        return {"at": self.at, "wall_time": self.wall, "method": self.method, "path": self.path,
                "status": self.status, "duration_ms": self.duration_ms, "vendor": self.vendor,
                "operation": self.operation, "key_id": self.key_id, "faults": list(self.faults),
                "dropped": self.dropped}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "entry", None)
        fields = entry.describe() if isinstance(entry, Entry) else {"message": record.getMessage()}
        return orjson.dumps({"event": "request", **fields}).decode()


class Journal:
    def __init__(self, size: int = 1000, *, log_requests: bool = False):
        self.size = size
        self.entries: deque[tuple[Any, ...]] = deque(maxlen=size)  # Entry fields, in order
        self.requests: Counter[tuple[str, str, int]] = Counter()  # (vendor, operation, status)
        self.durations: Counter[tuple[str, str]] = Counter()  # summed seconds per (vendor, operation)
        self.faults_fired: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._listener: logging.handlers.QueueListener | None = None
        self._handler: logging.Handler | None = None
        if log_requests:
            self.start_logging()

    def start_logging(self, stream: Any = None) -> None:
        """JSON lines on stderr (or `stream`), written by a thread of their own."""
        if self._listener is not None:
            return
        q: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        out = logging.StreamHandler(stream or sys.stderr)
        out.setFormatter(_JsonFormatter())
        self._handler = logging.handlers.QueueHandler(q)
        log.addHandler(self._handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        self._listener = logging.handlers.QueueListener(q, out)
        self._listener.start()

    def stop_logging(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._handler is not None:
            log.removeHandler(self._handler)
            self._handler = None

    def record(self, entry: Entry) -> None:
        self.record_fields(entry.at, entry.wall, entry.method, entry.path, entry.status, entry.duration_ms,
                           entry.vendor, entry.operation, entry.key_id, entry.faults, entry.dropped)

    def record_fields(self, at: float, wall: float, method: str, path: str, status: int, duration_ms: float,
                      vendor: str | None, operation: str | None, key_id: str | None, faults: tuple[str, ...],
                      dropped: bool) -> None:
        """The hot path: a tuple appended and two counters bumped. Requests are answered on one
        event loop, so no lock is taken here; readers on other threads copy first."""
        self.entries.append((at, wall, method, path, status, duration_ms, vendor, operation, key_id, faults,
                             dropped))  # type: ignore[arg-type]
        self.requests[vendor or "-", operation or "-", status] += 1
        self.durations[vendor or "-", operation or "-"] += duration_ms / 1000.0
        if faults:
            for fault_id in faults:
                self.faults_fired[fault_id] += 1
        if self._listener is not None:
            log.info("request", extra={"entry": Entry(at, wall, method, path, status, duration_ms, vendor,
                                                      operation, key_id, faults, dropped)})

    def recent(self, limit: int | None = None, *, vendor: str | None = None) -> list[dict[str, Any]]:
        entries = [Entry(*fields) for fields in list(self.entries)]  # type: ignore[misc]
        if vendor is not None:
            entries = [e for e in entries if e.vendor == vendor]
        if limit is not None:
            entries = entries[-limit:]
        return [e.describe() for e in entries]

    def reset(self) -> None:
        with self._lock:
            self.entries.clear()
            self.requests.clear()
            self.durations.clear()
            self.faults_fired.clear()


def _labels(**labels: Any) -> str:
    def esc(value: Any) -> str:
        return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


def prometheus(journal: Journal, *, tasks: Counter[tuple[str, str]], webhooks: Counter[tuple[str, str]],
               started: float) -> str:
    """The counters in the Prometheus text exposition format (version 0.0.4)."""
    requests = dict(journal.requests)
    durations = dict(journal.durations)
    fired = dict(journal.faults_fired)
    lines = ["# HELP seedance_requests_total Requests answered, by vendor, operation and status.",
             "# TYPE seedance_requests_total counter"]
    lines += [f"seedance_requests_total{_labels(vendor=v, operation=o, status=s)} {n}"
              for (v, o, s), n in sorted(requests.items())]
    lines += ["# HELP seedance_request_duration_seconds_sum Time spent answering, by vendor and operation.",
              "# TYPE seedance_request_duration_seconds_sum counter"]
    lines += [f"seedance_request_duration_seconds_sum{_labels(vendor=v, operation=o)} {secs:.6f}"
              for (v, o), secs in sorted(durations.items())]
    lines += ["# HELP seedance_tasks Tasks by vendor and current state.", "# TYPE seedance_tasks gauge"]
    lines += [f"seedance_tasks{_labels(vendor=v, state=s)} {n}" for (v, s), n in sorted(tasks.items())]
    lines += ["# HELP seedance_webhook_deliveries Webhook deliveries by vendor and state.",
              "# TYPE seedance_webhook_deliveries gauge"]
    lines += [f"seedance_webhook_deliveries{_labels(vendor=v, state=s)} {n}" for (v, s), n in sorted(webhooks.items())]
    lines += ["# HELP seedance_faults_fired_total Requests a fault rule acted on, by rule.",
              "# TYPE seedance_faults_fired_total counter"]
    lines += [f"seedance_faults_fired_total{_labels(fault=f)} {n}" for f, n in sorted(fired.items())]
    lines += ["# HELP seedance_uptime_seconds Wall-clock seconds since the server started.",
              "# TYPE seedance_uptime_seconds gauge", f"seedance_uptime_seconds {time.time() - started:.3f}"]
    return "\n".join(lines) + "\n"
