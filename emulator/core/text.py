"""Deterministic chat text and a token count, for vendors with an LLM endpoint."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from faker import Faker

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\s*\S+")


def count_tokens(text: str) -> int:
    """Words and punctuation marks: a stable stand-in for a BPE tokenizer."""
    return len(_TOKEN.findall(text))


@lru_cache(maxsize=1)
def _faker() -> Faker:
    return Faker("en_US")


def reply(seed_material: str, max_tokens: int | None) -> tuple[list[str], bool]:
    """The reply's stream pieces for this input, and whether `max_tokens` cut it short.

    The same input always yields the same reply, so fixtures can pin it.
    """
    seed = int.from_bytes(hashlib.sha256(seed_material.encode()).digest()[:8], "big")
    fake = _faker()
    fake.seed_instance(seed)
    text = fake.paragraph(nb_sentences=2 + seed % 4)
    pieces = _PIECE.findall(text)
    if max_tokens is None:
        return pieces, False
    out: list[str] = []
    used = 0
    for piece in pieces:
        cost = count_tokens(piece)
        if used + cost > max_tokens:
            return out, True
        out.append(piece)
        used += cost
    return out, False
