"""The two exceptions every cimsim entry point raises for bad input.

Both derive from ``ValueError`` so that generic callers can catch them, and both
carry a message that names the field or argument, the value given and what is
allowed, so that a user never has to read a traceback from inside numba or TVM.
"""

import numbers


class ConfigError(ValueError):
    """A configuration value, file, preset name or dotted path is not allowed."""


class ShapeError(ValueError):
    """An array argument has the wrong shape, dtype or contents (NaN, infinity)."""


def check_batch(batch) -> None:
    """ConfigError unless ``batch`` (inferences run together) is an integer >= 1."""
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
        raise ConfigError(f"batch = {batch!r}; allowed: an integer >= 1")
