"""The two exceptions every cimsim entry point raises for bad input, and the checks that raise them.

Both derive from ``ValueError`` so that generic callers can catch them, and both
carry a message that names the field or argument, the value given and what is
allowed, so that a user never has to read a traceback from inside numba or TVM.
"""

import numbers

import numpy as np


class ConfigError(ValueError):
    """A configuration value, file, preset name or dotted path is not allowed."""


class ShapeError(ValueError):
    """An array argument has the wrong shape, dtype or contents (NaN, infinity)."""


def check_batch(batch) -> None:
    """ConfigError unless ``batch`` (inferences run together) is an integer >= 1."""
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
        raise ConfigError(f"batch = {batch!r}; allowed: an integer >= 1")


def as_real_matrix(value, name: str, ndim: tuple[int, ...] = (2,)) -> np.ndarray:
    """``value`` as a finite float64 array (itself when it is one: callers only read it), or a
    ShapeError that says what was expected."""
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ShapeError(f"{name}: expected a real numeric array, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ShapeError(f"{name}: expected real numbers, got complex dtype {array.dtype}")
    if array.ndim not in ndim:
        allowed = " or ".join(f"{n}-D" for n in ndim)
        raise ShapeError(f"{name}: expected a {allowed} array, got shape {array.shape}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ShapeError(f"{name}: contains NaN or infinity ({int((~np.isfinite(array)).sum())} entries)")
    return array
