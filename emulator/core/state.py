"""Durable state (`--state PATH`): everything acknowledged survives a restart, even a kill -9.

What is kept: accounts and keys (hashes only), the ledger, every task with its planned
timeline, webhook deliveries with their attempts, the media the emulator promised, uploads
(their files live in `<PATH>.uploads/`), the clock and the seeded generator.

When: before any answer leaves the server (the outer app calls `checkpoint` on the response's
first message), after a streamed answer ends, and after the scheduler has run steps or webhook
attempts. A checkpoint writes only when something changed since the last one: a GET that
changes nothing costs a few integer comparisons. Each write is one SQLite transaction (WAL):
a kill at any moment leaves the previous or the new snapshot, never half of one.

Each component is stored as one pickled row. The file is the user's own (like a database file
they point a server at): never load a state file you did not write.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runtime import Emulator

FORMAT = 1


def uploads_dir(path: Path) -> Path:
    return path.with_name(path.name + ".uploads")


class StateFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
        self._db.execute("CREATE TABLE IF NOT EXISTS component (name TEXT PRIMARY KEY, data BLOB NOT NULL)")
        self._lock = threading.Lock()
        self._saved: tuple[Any, ...] | None = None
        self.writes = 0

    # -- what changed --------------------------------------------------------------------------

    @staticmethod
    def _fingerprint(emulator: Emulator) -> tuple[Any, ...]:
        clock = emulator.clock
        return (emulator.accounts.version, emulator.ledger.sequence, emulator.lifecycle.version,
                emulator.outbox.version, len(emulator.media.items), len(emulator.uploads.items),
                clock.now() if clock.mode == "manual" else None)

    def checkpoint(self, emulator: Emulator, *, force: bool = False) -> bool:
        """Write a snapshot if anything changed (or `force`); True if one was written."""
        with self._lock:
            fingerprint = self._fingerprint(emulator)
            if not force and fingerprint == self._saved:
                return False
            rows = self._snapshot(emulator)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO component (name, data) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._saved = fingerprint
            self.writes += 1
            return True

    @staticmethod
    def _snapshot(emulator: Emulator) -> list[tuple[str, bytes]]:
        clock = emulator.clock
        ledger = emulator.ledger
        parts: dict[str, Any] = {
            "format": FORMAT,
            "accounts": (emulator.accounts.accounts, emulator.accounts.keys),
            "ledger": ledger.dump(),
            "tasks": emulator.lifecycle.tasks,
            "outbox": emulator.outbox.deliveries,
            "media": (emulator.media.items, emulator.media.expires),
            "uploads": emulator.uploads.items,
            "clock": {"mode": clock.mode, "now": clock.now(), "wall": time.time()},
            "ids": emulator.ids.dump(),
        }
        return [(name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) for name, value in parts.items()]

    # -- loading ------------------------------------------------------------------------------

    def load(self, emulator: Emulator) -> bool:
        """Put a saved snapshot back into `emulator`; False when the file holds none yet."""
        rows = dict(self._db.execute("SELECT name, data FROM component").fetchall())
        if not rows:
            return False
        parts = {name: pickle.loads(data) for name, data in rows.items()}
        if parts.get("format") != FORMAT:
            raise ValueError(f"{self.path}: state format {parts.get('format')!r}, this emulator reads {FORMAT}")
        emulator.accounts.restore(*parts["accounts"])
        emulator.ledger.restore(parts["ledger"])
        emulator.lifecycle.tasks = parts["tasks"]
        emulator.media.items, emulator.media.expires = parts["media"]
        emulator.uploads.items = {name: u for name, u in parts["uploads"].items() if u.path.exists()}
        emulator.ids.restore(parts["ids"])
        clock = parts["clock"]
        if emulator.clock.mode == "manual":
            emulator.clock.reset(clock["now"])
        else:  # a real clock ran on while the server was down: continue from where it would be
            emulator.clock.reset(clock["now"] + max(0.0, time.time() - clock["wall"]) * emulator.clock.speed)
        emulator.outbox.restore(parts["outbox"])
        emulator.lifecycle.reschedule()
        self._saved = self._fingerprint(emulator)
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()
