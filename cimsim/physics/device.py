"""Conductance physics of one resistive cell: programming, drift, read noise, stuck faults.

Every conductance is in µS, every time in seconds. The lifecycle follows aihwkit's:

* **programming** (once, :func:`program`): each cell is written towards a target conductance
  ``g_target`` and lands at ``g_prog = g_target + N(0, σ_prog(g_target)²)``, clipped to the
  device's range [g_min, g_max] (``device.program_clip = "range"``) or at 0 µS only, values
  above ``g_max`` kept as programming error, as aihwkit (``"zero"``). A fraction ``stuck_off`` of cells is pinned to ``g_min`` and ``stuck_on`` to ``g_max``: those
  get no programming noise and do not drift. Each cell also draws its drift exponent ν here.
* **drift** (:func:`conductance_at`): ``G(t) = g_prog · (t_fit / t0)^(−ν)`` with
  ``t0 = device.drift_t0_s`` the time of the first read, at which a cell holds ``g_prog``, and
  t_fit (:func:`fit_time_s`) the time on the clock of the drift fit: ``max(t, t0)`` when t counts
  from the start of programming (``device.drift_clock = "since_programming"``), ``t + t0`` when
  t counts from t0 as aihwkit's ``t_inference`` (``"after_t0"``).
* **read noise** (:func:`read_noise_sigma_us`): a zero-mean Gaussian of standard deviation
  σ_read, drawn anew for every read by the crossbar model (``device.read_noise_draw =
  "per_read"``) or once per cell per evaluation time by :func:`with_read_noise`
  (``"per_evaluation"``, as aihwkit).

The statistics come from device models (:mod:`cimsim.physics.device_models`): each of
``device.program_noise``, ``device.read_noise`` and ``device.drift_nu`` selects the model of its
own effect, a number the constant statistics (σ_prog and σ_read that fraction of ``g_max``;
ν ~ N(drift_nu, drift_nu_std²) clipped at 0), a name the model registered under it (built in:
``"pcm_nandakumar2019"``, aihwkit's ``PCMLikeNoiseModel``). The functions below apply them to
cells and check what a model returns (ShapeError naming the model and the method).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cimsim.errors import ShapeError
from cimsim.physics.device_models import ConstantStatistics, DeviceModel, device_model

if TYPE_CHECKING:
    from cimsim.config.sections import DeviceConfig

STUCK_NONE, STUCK_OFF, STUCK_ON = 0, 1, 2


@dataclass(frozen=True)
class ProgrammedCells:
    """The state of a set of cells right after programming (arrays of one shape).

    ``g_target_us``: what was asked for; ``g_prog_us``: what the cells hold at ``t0``;
    ``nu``: drift exponent per cell; ``stuck``: 0 healthy, 1 stuck at g_min, 2 stuck at g_max.
    """

    g_target_us: np.ndarray
    g_prog_us: np.ndarray
    nu: np.ndarray
    stuck: np.ndarray


def program_noise_sigma_us(g_target_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
    """σ of the programming error for each target conductance, µS (the model of ``device.program_noise``)."""
    g = np.asarray(g_target_us, dtype=np.float64)
    model = device_model(device.program_noise)
    return _checked(model.program_noise_sigma_us(g, device), g, model, "program_noise_sigma_us")


def drift_nu_mean_std(g_target_us: np.ndarray, device: DeviceConfig) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of the drift exponent ν for each target conductance (the model of ``device.drift_nu``)."""
    g = np.asarray(g_target_us, dtype=np.float64)
    model = device_model(device.drift_nu)
    mean, std = model.drift_nu_mean_std(g, device)
    return _checked(mean, g, model, "drift_nu_mean_std"), _checked(std, g, model, "drift_nu_mean_std")


def sample_drift_nu(g_target_us: np.ndarray, device: DeviceConfig, rng: np.random.Generator) -> np.ndarray:
    """Draw ν per cell as the model of ``device.drift_nu`` does: |N(μ, σ²)| unless the model says
    otherwise (the PCM model), max(0, N(μ, σ²)) for a number."""
    mean, std = drift_nu_mean_std(g_target_us, device)
    model = device_model(device.drift_nu)
    return _checked(model.draw_drift_nu(mean, std, rng), mean, model, "draw_drift_nu")


def program(g_target_us: np.ndarray, device: DeviceConfig, rng: np.random.Generator) -> ProgrammedCells:
    """Write every cell once: programming noise, stuck faults and drift exponents, all from ``rng``.

    The draws are made in a fixed order (faults, programming error, ν) over the whole array,
    so the same generator state always gives the same cells.
    """
    g_target = np.asarray(g_target_us, dtype=np.float64)
    u = rng.random(g_target.shape)
    return _program_drawn(g_target, device, u, rng.standard_normal(g_target.shape), rng)


@dataclass(frozen=True)
class DrawStates:
    """Where :func:`program`'s three draws over a matrix start: the generator states before the
    faults (uniform per cell), the programming error (normal per cell) and ν (the drift model's
    draw). With them :func:`programmed_rows` draws the same cells again, a chunk of rows at a time,
    so a matrix need not hold its cells' conductances (8 bytes each) between uses."""

    bit_generator: type
    faults: dict
    errors: dict
    nu: dict
    shape: tuple[int, int]


TargetRows = Callable[[int, int], np.ndarray]
"""``target(r0, r1)``: the target conductances (µS, float64) of rows r0 .. r1 − 1 of a matrix."""


def drift_is_modelled(device: DeviceConfig) -> bool:
    """False when every ν is 0 (``device.drift_nu`` and ``drift_nu_std`` both the number 0: ν =
    max(0, 0 + 0·ξ) = 0), so that G(t) = g_prog at every time and no ν need be drawn or held."""
    return isinstance(device.drift_nu, str) or device.drift_nu != 0 or device.drift_nu_std != 0


def cells_are_targets(device: DeviceConfig) -> bool:
    """True when programming cannot move a cell off its target: no programming noise (the number 0:
    σ·ξ = 0), no stuck cells (u in [0, 1) is never below 0 nor at 1 or above) and no drift."""
    no_noise = not isinstance(device.program_noise, str) and device.program_noise == 0
    return no_noise and device.stuck_off == 0 and device.stuck_on == 0 and not drift_is_modelled(device)


def draw_states(shape: tuple[int, int], target: TargetRows, device: DeviceConfig, rng: np.random.Generator,
                rows_per_chunk: int) -> DrawStates:
    """Advance ``rng`` past :func:`program`'s draws over a ``shape`` matrix, as one call on the
    whole matrix would (the states before each draw kept): after it, ``rng`` draws what it would
    draw after ``program(target(0, K), device, rng)``, and no per-cell array outlives a chunk."""
    states = []
    nu_model = device_model(device.drift_nu)  # built in: one standard normal per cell, whatever the mean and spread
    one_normal = isinstance(nu_model, ConstantStatistics) or type(nu_model).draw_drift_nu is DeviceModel.draw_drift_nu
    buffer = np.empty(min(shape[0], rows_per_chunk) * shape[1])
    for phase in range(3):
        states.append(rng.bit_generator.state)
        for rows in row_chunks(shape[0], rows_per_chunk):
            drawn = buffer[: (rows.stop - rows.start) * shape[1]]
            if phase == 0:
                rng.random(out=drawn)
            elif phase == 1 or one_normal:
                rng.standard_normal(out=drawn)
            else:
                sample_drift_nu(target(rows.start, rows.stop), device, rng)
    return DrawStates(type(rng.bit_generator), *states, shape=tuple(shape))


def programmed_rows(states: DrawStates, target: TargetRows, device: DeviceConfig,
                    rows_per_chunk: int) -> Iterator[tuple[slice, ProgrammedCells]]:
    """The cells :func:`program` drew from the generator ``states`` came from, ``rows_per_chunk``
    rows at a time (bit-identical: each of its draws, made whole, is the same numbers in the same
    order as made chunk by chunk). A device model's ``draw_drift_nu`` must draw element by element
    in order, as the built-in ones do (one ``standard_normal`` of the cells' shape). When
    :func:`cells_are_targets`, nothing is drawn: every cell holds its target, healthy, ν = 0."""
    exact = cells_are_targets(device)
    faults, errors, nus = (_generator(states.bit_generator, s) for s in (states.faults, states.errors, states.nu))
    for rows in row_chunks(states.shape[0], rows_per_chunk):
        g_target = target(rows.start, rows.stop)
        if exact:
            yield rows, ProgrammedCells(g_target, g_target, np.zeros(g_target.shape), np.zeros(g_target.shape, np.int8))
        else:
            yield rows, _program_drawn(g_target, device, faults.random(g_target.shape),
                                       errors.standard_normal(g_target.shape), nus)


def row_chunks(rows: int, rows_per_chunk: int) -> Iterator[slice]:
    """Rows 0 .. ``rows`` − 1 in consecutive slices of ``rows_per_chunk`` (the last may be shorter)."""
    for r0 in range(0, rows, rows_per_chunk):
        yield slice(r0, min(r0 + rows_per_chunk, rows))


def _generator(bit_generator: type, state: dict) -> np.random.Generator:
    bits = bit_generator()
    bits.state = state
    return np.random.Generator(bits)


def _program_drawn(g_target: np.ndarray, device: DeviceConfig, u: np.ndarray, z: np.ndarray,
                   nu_rng: np.random.Generator) -> ProgrammedCells:
    """Cells from their draws: ``u`` uniform (faults), ``z`` standard normal (programming error);
    ν drawn from ``nu_rng``."""
    stuck = np.where(u < device.stuck_off, STUCK_OFF, STUCK_NONE)
    stuck = np.where(u >= 1.0 - device.stuck_on, STUCK_ON, stuck).astype(np.int8)
    error = program_noise_sigma_us(g_target, device) * z
    g_prog = clip_programmed(g_target + error, device)
    g_prog = np.where(stuck == STUCK_OFF, device.g_min_us, g_prog)
    g_prog = np.where(stuck == STUCK_ON, device.g_max_us, g_prog)
    nu = np.where(stuck == STUCK_NONE, sample_drift_nu(g_target, device, nu_rng), 0.0)
    return ProgrammedCells(g_target_us=g_target, g_prog_us=g_prog, nu=nu, stuck=stuck)


def clip_programmed(g_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
    """Programmed conductances clipped as ``device.program_clip`` says: to [g_min, g_max] µS
    (``"range"``), or at 0 µS only (``"zero"``, aihwkit's ``clamp_(min=0.0)``)."""
    if device.program_clip == "range":
        return np.clip(g_us, device.g_min_us, device.g_max_us)
    return np.maximum(g_us, 0.0)


def fit_time_s(t_s: float, device: DeviceConfig) -> float:
    """Time on the clock of the drift and 1/f fits (s, >= t0) for ``t_s`` as ``device.drift_clock``
    counts it: ``max(t_s, t0)`` ("since_programming"), ``t_s + t0`` ("after_t0", aihwkit's
    ``t = t_inference + t_0``)."""
    t0 = device.drift_t0_s
    return float(t_s) + t0 if device.drift_clock == "after_t0" else max(float(t_s), t0)


def drift_factor(t_s: float, device: DeviceConfig, nu: np.ndarray) -> np.ndarray:
    """G(t)/G_prog = (t_fit/t0)^(−ν), t_fit = :func:`fit_time_s` (1 at t_fit = t0)."""
    ratio = fit_time_s(t_s, device) / device.drift_t0_s
    return ratio ** (-np.asarray(nu, dtype=np.float64))


def conductance_at(cells: ProgrammedCells, device: DeviceConfig, t_s: float) -> np.ndarray:
    """Conductance of every cell at time ``t_s`` (s, counted as ``device.drift_clock`` says), µS
    (``g_prog`` itself when drift is not modelled: every factor is 1)."""
    if not drift_is_modelled(device):
        return cells.g_prog_us
    return cells.g_prog_us * drift_factor(t_s, device, cells.nu)


def read_noise_is_constant(device: DeviceConfig) -> bool:
    """True when σ_read is the same for every cell (the model of ``device.read_noise`` says so:
    a number, a fraction of g_max)."""
    return device_model(device.read_noise).read_noise_is_constant


def read_noise_sigma_us(cells: ProgrammedCells, g_now_us: np.ndarray, device: DeviceConfig, t_s: float) -> np.ndarray:
    """σ of the read noise of each cell at time ``t_s`` (as ``device.drift_clock`` counts it), µS,
    from the model of ``device.read_noise``, given the programmed and the present conductances."""
    g_now = np.asarray(g_now_us, dtype=np.float64)
    model = device_model(device.read_noise)
    sigma = model.read_noise_sigma_us(cells.g_prog_us, g_now, fit_time_s(t_s, device), device)
    return _checked(sigma, g_now, model, "read_noise_sigma_us")


def with_read_noise(
    cells: ProgrammedCells, g_now_us: np.ndarray, device: DeviceConfig, t_s: float, rng: np.random.Generator
) -> np.ndarray:
    """One evaluation's conductances, µS: ``max(0, G(t) + σ_read·ξ)`` with one ξ ~ N(0, 1) per cell
    from ``rng`` (aihwkit's ``apply_drift_noise_to_conductance``: the accumulated 1/f noise drawn
    once per evaluation time and clamped at 0)."""
    g_now = np.asarray(g_now_us, dtype=np.float64)
    sigma = read_noise_sigma_us(cells, g_now, device, t_s)
    return np.maximum(g_now + sigma * rng.standard_normal(g_now.shape), 0.0)


def _checked(values: np.ndarray, like: np.ndarray, model: object, method: str) -> np.ndarray:
    """``values`` when it holds one finite float >= 0 per cell of ``like``; else ShapeError naming the model."""
    values = np.asarray(values)
    if values.shape == like.shape and values.dtype.kind == "f" and np.isfinite(values).all() and (values >= 0).all():
        return values
    raise ShapeError(
        f"device model {type(model).__name__}.{method} returned an array of shape {values.shape} and dtype "
        f"{values.dtype}; allowed: finite floats >= 0, one per cell (shape {like.shape})"
    )
