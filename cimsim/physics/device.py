"""Conductance physics of one resistive cell: programming, drift, read noise, stuck faults.

Every conductance is in µS, every time in seconds. The lifecycle follows aihwkit's:

* **programming** (once, :func:`program`): each cell is written towards a target conductance
  ``g_target`` and lands at ``g_prog = g_target + N(0, σ_prog(g_target)²)``, clipped at 0 µS (a
  conductance cannot be negative; values above ``g_max`` are allowed as programming error).
  A fraction ``stuck_off`` of cells is pinned to ``g_min`` and ``stuck_on`` to ``g_max``: those
  get no programming noise and do not drift. Each cell also draws its drift exponent ν here.
* **drift** (:func:`conductance_at`): ``G(t) = g_prog · (t / t0)^(−ν)`` for ``t > t0``, where t is
  the time since programming and ``t0 = device.drift_t0_s`` the time at which ``g_prog`` is
  defined; before ``t0`` the cell holds ``g_prog``.
* **read noise** (:func:`read_noise_sigma_us`): a zero-mean Gaussian per read with standard
  deviation σ_read, drawn anew for every read by the crossbar model.

Two families of statistics, chosen by the config value:

* a number: σ_prog and σ_read are that fraction of ``g_max``; ν ~ N(drift_nu, drift_nu_std²)
  clipped at 0;
* ``"pcm_nandakumar2019"``: the conductance-dependent PCM model of Nandakumar et al. (ICECS
  2019) as implemented by aihwkit's ``PCMLikeNoiseModel`` (reference rows DEV-01..06),
  with x = g_target / g_max and coefficients for a 25 µS device scaled by g_max / 25 µS:

  - σ_prog(x) = 0.26348 + 1.9650·x − 1.1731·x² µS (DEV-02);
  - ν = |N(μ_ν(x), σ_ν(x)²)|, μ_ν = clip(−0.0155·ln x + 0.0244, 0.049, 0.1),
    σ_ν = clip(−0.0125·ln x − 0.0059, 0.008, 0.045) (DEV-03, DEV-04);
  - σ_read / G(t) = Q_s(x)·sqrt(ln((t + t_r) / (2 t_r))), Q_s = min(0.0088 / x^0.65, 0.2),
    t_r = 250 ns (DEV-05), with t the time since programming, taken as t0 before t0 (the time
    at which g_prog is defined). aihwkit draws this accumulated 1/f noise once per evaluation
    time; cimsim draws it per read, with the same σ at the same t.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cimsim.config.sections import DeviceConfig

PCM_NANDAKUMAR2019 = "pcm_nandakumar2019"
PCM_REFERENCE_G_MAX_US = 25.0
PCM_READ_TIME_S = 250e-9
_X_FLOOR = 1e-6  # keeps ln(x) finite for cells programmed to 0 µS

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


def _relative(g_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
    return np.maximum(np.asarray(g_us, dtype=np.float64) / device.g_max_us, _X_FLOOR)


def program_noise_sigma_us(g_target_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
    """σ of the programming error for each target conductance, µS."""
    g = np.asarray(g_target_us, dtype=np.float64)
    if device.program_noise == PCM_NANDAKUMAR2019:
        x = g / device.g_max_us
        sigma_ref = 0.26348 + 1.9650 * x - 1.1731 * x**2
        return sigma_ref * (device.g_max_us / PCM_REFERENCE_G_MAX_US)
    return np.full_like(g, device.program_noise * device.g_max_us)


def drift_nu_mean_std(g_target_us: np.ndarray, device: DeviceConfig) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of the drift exponent ν for each target conductance."""
    g = np.asarray(g_target_us, dtype=np.float64)
    if device.drift_nu == PCM_NANDAKUMAR2019:
        log_x = np.log(_relative(g, device))
        mean = np.clip(-0.0155 * log_x + 0.0244, 0.049, 0.1)
        std = np.clip(-0.0125 * log_x - 0.0059, 0.008, 0.045)
        return mean, std
    return np.full_like(g, device.drift_nu), np.full_like(g, device.drift_nu_std)


def sample_drift_nu(g_target_us: np.ndarray, device: DeviceConfig, rng: np.random.Generator) -> np.ndarray:
    """Draw ν per cell: |N(μ, σ²)| for the PCM model, max(0, N(μ, σ²)) for a constant one."""
    mean, std = drift_nu_mean_std(g_target_us, device)
    nu = mean + std * rng.standard_normal(mean.shape)
    return np.abs(nu) if device.drift_nu == PCM_NANDAKUMAR2019 else np.maximum(nu, 0.0)


def program(g_target_us: np.ndarray, device: DeviceConfig, rng: np.random.Generator) -> ProgrammedCells:
    """Write every cell once: programming noise, stuck faults and drift exponents, all from ``rng``.

    The draws are made in a fixed order (faults, programming error, ν) over the whole array,
    so the same generator state always gives the same cells.
    """
    g_target = np.asarray(g_target_us, dtype=np.float64)
    u = rng.random(g_target.shape)
    stuck = np.where(u < device.stuck_off, STUCK_OFF, STUCK_NONE)
    stuck = np.where(u >= 1.0 - device.stuck_on, STUCK_ON, stuck).astype(np.int8)
    error = program_noise_sigma_us(g_target, device) * rng.standard_normal(g_target.shape)
    g_prog = np.maximum(g_target + error, 0.0)
    g_prog = np.where(stuck == STUCK_OFF, device.g_min_us, g_prog)
    g_prog = np.where(stuck == STUCK_ON, device.g_max_us, g_prog)
    nu = np.where(stuck == STUCK_NONE, sample_drift_nu(g_target, device, rng), 0.0)
    return ProgrammedCells(g_target_us=g_target, g_prog_us=g_prog, nu=nu, stuck=stuck)


def drift_factor(t_s: float, t0_s: float, nu: np.ndarray) -> np.ndarray:
    """G(t)/G(t0) = (t/t0)^(−ν) for t > t0, 1 before."""
    ratio = max(float(t_s), t0_s) / t0_s
    return ratio ** (-np.asarray(nu, dtype=np.float64))


def conductance_at(cells: ProgrammedCells, device: DeviceConfig, t_s: float) -> np.ndarray:
    """Conductance of every cell ``t_s`` seconds after programming, µS."""
    return cells.g_prog_us * drift_factor(t_s, device.drift_t0_s, cells.nu)


def read_noise_is_constant(device: DeviceConfig) -> bool:
    """True when σ_read is the same for every cell (a fraction of g_max)."""
    return device.read_noise != PCM_NANDAKUMAR2019


def read_noise_sigma_us(cells: ProgrammedCells, g_now_us: np.ndarray, device: DeviceConfig, t_s: float) -> np.ndarray:
    """σ of one read of each cell at time ``t_s`` after programming, µS."""
    if read_noise_is_constant(device):
        return np.full_like(g_now_us, device.read_noise * device.g_max_us, dtype=np.float64)
    x = _relative(cells.g_target_us, device)
    q_s = np.minimum(0.0088 / x**0.65, 0.2)
    t = max(float(t_s), device.drift_t0_s)
    accumulated = np.sqrt(np.log((t + PCM_READ_TIME_S) / (2.0 * PCM_READ_TIME_S)))
    return q_s * accumulated * np.asarray(g_now_us, dtype=np.float64)
