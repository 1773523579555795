"""Synthetic professional identifiers (valid keys) for the demo and tests."""

from __future__ import annotations

import random

from tierspayant.providers.identifiers import luhn_complete


def synthetic_rpps(rng: random.Random) -> str:
    """An 11-digit RPPS number with a valid Luhn key, starting with 1 like real ones."""
    return luhn_complete("1" + "".join(str(rng.randint(0, 9)) for _ in range(9)))


def synthetic_finess(rng: random.Random) -> str:
    """A 9-digit FINESS number with a valid Luhn key."""
    return luhn_complete(
        f"{rng.randint(1, 95):02d}" + "".join(str(rng.randint(0, 9)) for _ in range(6))
    )
