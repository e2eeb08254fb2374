"""Deterministic chat text and a token count, for vendors with an LLM endpoint."""

from __future__ import annotations

import hashlib
import random
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


@lru_cache(maxsize=1)
def _words() -> tuple[str, ...]:
    return tuple(_faker().get_words_list())


def _paragraph(rng: random.Random, sentences: int) -> str:
    """Sentences of Faker's English words, sized as `Faker.paragraph` sizes them (±40% of
    `sentences` sentences of about 6 words). Drawn here rather than through Faker's provider
    calls, which cost more than the rest of a chat request together."""
    words = _words()
    out = []
    for _ in range(max(1, sentences * rng.randint(60, 140) // 100)):
        text = " ".join(rng.choices(words, k=max(1, 6 * rng.randint(60, 140) // 100)))
        out.append(text[:1].upper() + text[1:] + ".")
    return " ".join(out)


def reply(seed_material: str, max_tokens: int | None) -> tuple[list[str], bool]:
    """The reply's stream pieces for this input, and whether `max_tokens` cut it short.

    The same input always yields the same reply, so fixtures can pin it.
    """
    seed = int.from_bytes(hashlib.sha256(seed_material.encode()).digest()[:8], "big")
    text = _paragraph(random.Random(seed), 2 + seed % 4)
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
