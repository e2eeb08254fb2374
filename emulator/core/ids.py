"""Deterministic ids, keys and data under `--seed`; unpredictable ones without it."""

from __future__ import annotations

import random
import secrets
import string
import threading

_ALPHANUM = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"


_PAIRS: dict[str, tuple[str, ...]] = {}


def _pairs(alphabet: str) -> tuple[str, ...]:
    """Every two-character string of the alphabet, indexed by its value as two base-len digits."""
    pairs = _PAIRS.get(alphabet)
    if pairs is None:
        pairs = _PAIRS[alphabet] = tuple(a + b for a in alphabet for b in alphabet)
    return pairs


class IdFactory:
    """All randomness of the emulator comes from here, so one seed pins every id and value."""

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._lock = threading.Lock()
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        # SystemRandom ignores seeding; without --seed keys must not be guessable.
        self._rng: random.Random = random.Random(seed) if seed is not None else random.SystemRandom()

    def dump(self) -> object:
        """The seeded generator's state (None when unseeded: nothing to continue)."""
        with self._lock:
            return None if self.seed is None else self._rng.getstate()

    def restore(self, state: object) -> None:
        if state is not None and self.seed is not None:
            with self._lock:
                self._rng.setstate(state)  # type: ignore[arg-type]

    def token(self, length: int, alphabet: str = _ALPHANUM) -> str:
        # One uniform draw below len(alphabet) ** length, written out in that base two digits at a
        # time: every string equally likely, as with a draw per character, at a fraction of the
        # cost (a submit draws 30-80 characters of ids; per-character draws were its largest item).
        size = len(alphabet)
        with self._lock:
            value = self._rng.randrange(size**length)
        pairs = _pairs(alphabet)
        square = size * size
        chars = []
        for _ in range(length >> 1):
            value, digit = divmod(value, square)
            chars.append(pairs[digit])
        if length & 1:
            chars.append(alphabet[value])
        return "".join(chars)

    def hex(self, length: int) -> str:
        return self.token(length, _HEX)

    def randint(self, low: int, high: int) -> int:
        with self._lock:
            return self._rng.randint(low, high)

    def random(self) -> float:
        with self._lock:
            return self._rng.random()

    def secret(self, length: int = 40) -> str:
        """Key material: seeded when a seed is set (pinned fixtures), otherwise from `secrets`."""
        if self.seed is None:
            return "".join(secrets.choice(_ALPHANUM) for _ in range(length))
        return self.token(length)
