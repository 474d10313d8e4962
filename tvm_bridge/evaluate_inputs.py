"""The checked inputs of :func:`tvm_bridge.evaluate`: :func:`prepare` makes a :class:`Run`.

Each check raises :class:`cimsim.ConfigError` (seeds, batch, drift time, model, config) or
:class:`cimsim.ShapeError` (inputs, labels) naming the argument, the value given and what is
allowed, before anything is programmed or compiled.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import tvm

import cimsim
from cimsim.errors import ConfigError, ShapeError
from tvm_bridge._relax import static_shape

DEFAULT_BATCH = 120


@dataclasses.dataclass(frozen=True)
class Run:
    """The checked inputs of one evaluation on one chip: ``mod`` runs in calls of ``batch`` images,
    ``single`` is the module whose cost is simulated (``simulated_images`` images in one call)."""

    model: tvm.IRModule | Callable[[int], tvm.IRModule]
    mod: tvm.IRModule
    single: tvm.IRModule
    simulated_images: int
    cfg: cimsim.ChipConfig
    seeds: tuple[int, ...]
    x: np.ndarray
    y: np.ndarray
    calibration: np.ndarray
    conditions: tuple[tuple[float | None, bool], ...]

    @property
    def batch(self) -> int:
        return input_shape(self.mod)[0]


def prepare(model, dataset, cfg, seeds, calibration, batch, conditions) -> Run:
    """The checked :class:`Run` of ``model`` on ``cfg``, or a ConfigError / ShapeError naming the bad argument."""
    if not isinstance(cfg, cimsim.ChipConfig):
        raise ConfigError(f"cfg: expected a cimsim.ChipConfig (a crossbar chip), got {type(cfg).__name__}")
    seeds = _check_seeds(seeds)
    conditions = tuple((_check_drift(t), bool(compensate)) for t, compensate in conditions)
    mod, single, simulated_images = _modules(model, batch)
    shape = input_shape(mod)
    x, y = _check_dataset(dataset, shape[1:])
    calibration = _check_inputs(calibration, shape[1:], "calibration")
    if calibration.shape[0] != shape[0]:
        raise ShapeError(f"calibration: {calibration.shape[0]} inputs; expected exactly batch = {shape[0]} (one call)")
    return Run(model, mod, single, simulated_images, cfg, seeds, x, y, calibration, conditions)


def _check_seeds(seeds) -> tuple[int, ...]:
    allowed = "a non-empty sequence of distinct integers >= 0"
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, range)):
        raise ConfigError(f"seeds = {seeds!r}; allowed: {allowed}")
    values = tuple(seeds)
    bad = [s for s in values if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0]
    if not values or bad or len(set(values)) != len(values):
        raise ConfigError(f"seeds = {seeds!r}; allowed: {allowed}")
    return tuple(int(s) for s in values)


def _check_batch(batch) -> int:
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
        raise ConfigError(f"batch = {batch!r}; allowed: an integer >= 1")
    return int(batch)


def _check_drift(drift_s) -> float | None:
    if drift_s is None:
        return None
    if isinstance(drift_s, bool) or not isinstance(drift_s, numbers.Real) or not math.isfinite(drift_s) or drift_s < 0:
        raise ConfigError(f"drift_s = {drift_s!r}; allowed: None or a finite time >= 0 in seconds")
    return float(drift_s)


def input_shape(mod: tvm.IRModule) -> tuple[int, ...]:
    """The static shape of ``main``'s one input, batch first."""
    params = mod["main"].params
    shape = static_shape(params[0]) if len(params) == 1 else None
    if shape is None or len(shape) < 1:
        raise ConfigError("evaluate: the model's main must take one input of static shape (batch, ...)")
    return shape


def _check_inputs(x, expected: tuple[int, ...], name: str) -> np.ndarray:
    """``x`` as float32 (N, *expected), or a ShapeError naming what was expected."""
    try:
        array = np.asarray(x)
    except ValueError:  # ragged, e.g. a pair (x, y) where inputs alone were expected
        raise ShapeError(f"{name}: a {type(x).__name__} of arrays of different shapes; expected one array of "
                         f"inputs (N, {', '.join(map(str, expected))})") from None
    if array.ndim != len(expected) + 1 or array.shape[1:] != expected or array.shape[0] == 0:
        raise ShapeError(f"{name}: inputs of shape {array.shape}; expected (N, {', '.join(map(str, expected))}) with "
                         f"N >= 1: one image of shape {expected} per row, as the model's input")
    if not np.issubdtype(array.dtype, np.number):
        raise ShapeError(f"{name}: dtype {array.dtype}; expected real numbers")
    return np.ascontiguousarray(array, dtype=np.float32)


def _check_dataset(dataset, expected: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(dataset, (tuple, list)) or len(dataset) != 2:
        raise ShapeError(f"dataset: expected a pair (x, y), got {type(dataset).__name__}")
    x = _check_inputs(dataset[0], expected, "dataset x")
    y = np.asarray(dataset[1])
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ShapeError(f"dataset y: shape {y.shape}, dtype {y.dtype}; expected ({x.shape[0]},) integer labels")
    return x, y


def _modules(model, batch) -> tuple[tvm.IRModule, tvm.IRModule, int]:
    """(module run in calls of ``batch``, module whose cost is simulated, images in one simulated call)."""
    if isinstance(model, tvm.IRModule):
        b = input_shape(model)[0]
        if batch is not None and _check_batch(batch) != b:
            raise ConfigError(f"batch = {batch!r}, but the module's input has batch {b}; allowed: None or {b} "
                              "(or pass a function batch -> IRModule)")
        return model, model, b
    if not callable(model):
        raise ConfigError(f"model: expected a tvm.IRModule or a function batch -> IRModule, got {type(model).__name__}")
    batch = DEFAULT_BATCH if batch is None else _check_batch(batch)
    return model(batch), model(1), 1
