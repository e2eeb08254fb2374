"""Credits move only by entries: top-ups, holds, settlements, refunds and direct charges.

The balance is `credits` (what the account owns, holds included) and `held` (reserved by
running work); `available = credits - held` is what a new hold may take. Every operation
checks and moves under one lock, so two concurrent submits can never spend the same
credit, and no sequence of calls can make a balance negative.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

Number = int | Decimal


class EntryKind(StrEnum):
    TOPUP = "topup"
    HOLD = "hold"
    SETTLE = "settle"
    REFUND = "refund"
    CHARGE = "charge"


class InsufficientCredits(Exception):
    def __init__(self, required: Decimal, available: Decimal):
        super().__init__(f"need {required}, have {available}")
        self.required = required
        self.available = available


class LedgerError(Exception):
    """A call that would break the ledger's rules (a programming error, never user input)."""


@dataclass(slots=True, frozen=True)
class Entry:
    seq: int
    at: float
    account_id: str
    kind: EntryKind
    # Whole amounts are stored as `int` (28 bytes against a Decimal's 104; entries are kept for
    # every task, and memory per task is an issue-8 target); fractional ones stay exact Decimals.
    amount: Number
    ref: str | None
    note: str | None
    credits_after: Number
    held_after: Number

    def describe(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind.value,
            "amount": as_number(self.amount),
            "ref": self.ref,
            "note": self.note,
            "credits_after": as_number(self.credits_after),
            "held_after": as_number(self.held_after),
        }


@dataclass(slots=True)
class Balance:
    credits: Decimal
    held: Decimal

    @property
    def available(self) -> Decimal:
        return self.credits - self.held


def as_number(value: Number) -> int | float:
    """JSON-friendly: whole credits stay integers."""
    if type(value) is int:
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def compact(value: Decimal) -> Number:
    """The same amount in its smallest exact form: an `int` when whole, else the Decimal itself."""
    whole = int(value)
    return whole if whole == value else value


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._balances: dict[str, Balance] = {}
        self._holds: dict[tuple[str, str], Decimal] = {}
        self._entries: dict[str, list[Entry]] = defaultdict(list)
        self._seq = 0

    def _record(self, at: float, account_id: str, kind: EntryKind, amount: Decimal,
                ref: str | None, note: str | None) -> Entry:
        bal = self._balances[account_id]
        if bal.credits < 0 or bal.held < 0 or bal.held > bal.credits:
            raise LedgerError(f"ledger invariant broken for {account_id}: {bal}")
        self._seq += 1
        # Notes repeat across tasks ("seedance-2.0 720p 5s"): one shared copy each.
        entry = Entry(self._seq, at, account_id, kind, compact(amount), ref,
                      None if note is None else sys.intern(note), compact(bal.credits), compact(bal.held))
        self._entries[account_id].append(entry)
        return entry

    def _balance(self, account_id: str) -> Balance:
        bal = self._balances.get(account_id)
        if bal is None:
            bal = self._balances[account_id] = Balance(Decimal(0), Decimal(0))
        return bal

    @property
    def sequence(self) -> int:
        """How many entries were ever recorded: changes whenever the ledger does."""
        return self._seq

    def dump(self) -> tuple[Any, ...]:
        with self._lock:
            return dict(self._balances), dict(self._holds), dict(self._entries), self._seq

    def restore(self, dumped: tuple[Any, ...]) -> None:
        balances, holds, entries, seq = dumped
        with self._lock:
            self._balances, self._holds, self._seq = balances, holds, seq
            self._entries = defaultdict(list, entries)

    def balance(self, account_id: str) -> Balance:
        with self._lock:
            bal = self._balance(account_id)
            return Balance(bal.credits, bal.held)

    def entries(self, account_id: str) -> list[Entry]:
        with self._lock:
            return list(self._entries.get(account_id, ()))

    def top_up(self, account_id: str, amount: Number, at: float, note: str | None = None) -> Entry:
        amount = Decimal(amount)
        if amount < 0:
            raise LedgerError("a top-up is never negative")
        with self._lock:
            self._balance(account_id).credits += amount
            return self._record(at, account_id, EntryKind.TOPUP, amount, None, note)

    def hold(self, account_id: str, ref: str, amount: Number, at: float, note: str | None = None) -> Entry:
        """Reserve credits for work in progress, or raise InsufficientCredits and change nothing."""
        amount = Decimal(amount)
        if amount < 0:
            raise LedgerError("a hold is never negative")
        with self._lock:
            if (account_id, ref) in self._holds:
                raise LedgerError(f"{ref} already holds credits")
            bal = self._balance(account_id)
            if bal.available < amount:
                raise InsufficientCredits(amount, bal.available)
            bal.held += amount
            self._holds[(account_id, ref)] = amount
            return self._record(at, account_id, EntryKind.HOLD, amount, ref, note)

    def held_for(self, account_id: str, ref: str) -> Decimal | None:
        with self._lock:
            return self._holds.get((account_id, ref))

    def settle(self, account_id: str, ref: str, amount: Number, at: float) -> list[Entry]:
        """Spend `amount` (at most the hold) and give back the rest of the hold."""
        amount = Decimal(amount)
        with self._lock:
            held = self._holds.pop((account_id, ref), None)
            if held is None:
                raise LedgerError(f"{ref} holds nothing to settle")
            if not 0 <= amount <= held:
                self._holds[(account_id, ref)] = held
                raise LedgerError(f"cannot settle {amount} out of a hold of {held}")
            if amount == held:
                amount = held  # the same value: one object for the hold's and the settlement's entries
            bal = self._balances[account_id]
            bal.held -= held
            bal.credits -= amount
            out = [self._record(at, account_id, EntryKind.SETTLE, amount, ref, None)]
            if held > amount:
                out.append(self._record(at, account_id, EntryKind.REFUND, held - amount, ref,
                                        "unused reserve"))
            return out

    def refund(self, account_id: str, ref: str, at: float, note: str | None = None) -> Entry:
        """Release a whole hold: nothing is spent."""
        with self._lock:
            held = self._holds.pop((account_id, ref), None)
            if held is None:
                raise LedgerError(f"{ref} holds nothing to refund")
            self._balances[account_id].held -= held
            return self._record(at, account_id, EntryKind.REFUND, held, ref, note)

    def charge(self, account_id: str, ref: str, amount: Number, at: float, note: str | None = None) -> Entry:
        """Spend at once (work that completes inside the request), or raise and change nothing."""
        amount = Decimal(amount)
        if amount < 0:
            raise LedgerError("a charge is never negative")
        with self._lock:
            bal = self._balance(account_id)
            if bal.available < amount:
                raise InsufficientCredits(amount, bal.available)
            bal.credits -= amount
            return self._record(at, account_id, EntryKind.CHARGE, amount, ref, note)

    def reset(self) -> None:
        with self._lock:
            self._balances.clear()
            self._holds.clear()
            self._entries.clear()
            self._seq = 0
