"""Where every random draw comes from: a seed (an integer >= 0) or a numpy Generator, never global state."""

from __future__ import annotations

import numbers

import numpy as np

from cimsim.errors import ConfigError


def generator(seed: int | np.random.Generator, name: str = "seed") -> np.random.Generator:
    """The Generator for ``seed``; a ConfigError for anything that is not a seed (None included)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ConfigError(f"{name} = {seed!r}: give an integer >= 0 or a numpy.random.Generator (every draw is seeded)")
