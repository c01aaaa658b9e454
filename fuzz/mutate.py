"""A seeded random DER mutator: the fallback of fuzz/run.py where atheris is missing, and
the bounded fuzz run of the test suite (tests/test_fuzz.py).  Deterministic for a seed."""

from __future__ import annotations

import random
from typing import Iterator, Sequence

_LENGTHS = (0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF)


def mutate(data: bytes, rng: random.Random, corpus: Sequence[bytes] = ()) -> bytes:
    """One mutation of ``data``: bit flips, truncation, a length octet, a duplicated or
    deleted slice, junk, or a splice with another corpus entry."""
    b = bytearray(data or b"\x30\x00")
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.randrange(7)
        if kind == 0:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1 and len(b) > 1:
            del b[rng.randrange(1, len(b)):]
        elif kind == 2:
            b[rng.randrange(len(b))] = rng.choice(_LENGTHS)
        elif kind == 3:
            i = rng.randrange(len(b))
            b[i:i] = b[i:i + rng.randint(1, 32)]
        elif kind == 4 and len(b) > 2:
            i = rng.randrange(len(b))
            del b[i:i + rng.randint(1, 16)]
        elif kind == 5:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif corpus:
            other = rng.choice(corpus)
            i, j = rng.randrange(len(b)), rng.randrange(len(other))
            b[i:] = other[j:j + rng.randint(1, 64)]
        if not b:
            b = bytearray(b"\x30")
    return bytes(b)


def inputs(corpus: Sequence[bytes], count: int, seed: int) -> Iterator[bytes]:
    """The corpus itself, then ``count`` mutations of its entries."""
    rng = random.Random(seed)
    yield from corpus
    for _ in range(count):
        yield mutate(rng.choice(corpus), rng, corpus)
