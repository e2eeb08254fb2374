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


@dataclass(slots=True)
class Entry:
    """One movement of credits. `amount`, `credits_after` and `held_after` read as an `int` when
    whole, else as an exact `Decimal`.

    Stored as integers of one unit per entry, 10**-scale credits (`scale` 0: whole credits): an
    int is 28–36 bytes against a Decimal's 104, entries are kept for every task, and memory per
    task is an issue-8 target (PowerTokens' token prices make most of a task's amounts fractional).
    Any Decimal is an integer times a power of ten, so nothing is ever rounded.

    Never changed once recorded; not a frozen dataclass only because freezing makes every
    construction set each of its ten fields through `object.__setattr__` (two entries a submit)."""

    seq: int
    at: float
    account_id: str
    kind: EntryKind
    amount_units: int
    ref: str | None
    note: str | None
    credits_units: int
    held_units: int
    scale: int = 0

    @classmethod
    def of(cls, seq: int, at: float, account_id: str, kind: EntryKind, amount: Number, ref: str | None,
           note: str | None, credits_after: Number, held_after: Number) -> Entry:
        amount_units, amount_scale = _exact(amount)
        credits_units, credits_scale = _exact(credits_after)
        held_units, held_scale = _exact(held_after)
        scale = max(amount_scale, credits_scale, held_scale)
        if scale:
            amount_units *= 10 ** (scale - amount_scale)
            credits_units *= 10 ** (scale - credits_scale)
            held_units *= 10 ** (scale - held_scale)
        return cls(seq, at, account_id, kind, amount_units, ref, note, credits_units, held_units, scale)

    @property
    def amount(self) -> Number:
        return _read(self.amount_units, self.scale)

    @property
    def credits_after(self) -> Number:
        return _read(self.credits_units, self.scale)

    @property
    def held_after(self) -> Number:
        return _read(self.held_units, self.scale)

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.seq, self.at, self.account_id, self.kind, self.amount_units, self.ref, self.note,
                self.credits_units, self.held_units, self.scale)

    def __setstate__(self, state: Any) -> None:
        if len(state) == 9:  # a `--state` file from before units: the fields, amounts as numbers
            state = Entry.of(*state).__getstate__()
        for name, value in zip(Entry.__slots__, state, strict=True):
            object.__setattr__(self, name, value)

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


def _exact(value: Number) -> tuple[int, int]:
    """`(units, scale)` with `value == units * 10**-scale` exactly, `scale` the decimal places the
    value is written with (0 for an int)."""
    if type(value) is int:
        return value, 0
    text = str(value)  # the quickest exact reading of a Decimal's digits (as_tuple is ~3× slower)
    if "E" not in text:
        whole, _, fraction = text.partition(".")
        return int(whole + fraction), len(fraction)
    sign, digits, exponent = value.as_tuple()  # scientific notation: a very small or large amount
    assert isinstance(exponent, int), "the ledger holds finite amounts only"
    units = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    return (units * 10**exponent, 0) if exponent >= 0 else (units, -exponent)


def _read(units: int, scale: int) -> Number:
    if scale == 0:
        return units
    whole, rest = divmod(units, 10**scale)
    # The string form is exact at any length (`scaleb` would round to the context's precision).
    return whole if rest == 0 else Decimal(f"{units}E-{scale}")


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
        entry = Entry.of(self._seq, at, account_id, kind, amount, ref,
                         None if note is None else sys.intern(note), bal.credits, bal.held)
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
