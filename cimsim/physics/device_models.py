"""Device models: the statistics of one resistive cell, as objects users add by name.

A **device model** (a subclass of :class:`DeviceModel`, as aihwkit's ``BaseNoiseModel``) says
how a cell strays from the conductance it is programmed to:

* ``program_noise_sigma_us``: σ of the programming error for each target conductance (µS);
* ``drift_nu_mean_std`` and ``draw_drift_nu``: mean and spread of the drift exponent ν of
  ``G = G_prog·(t_fit/t0)^(−ν)`` for each target conductance (dimensionless), and how one ν per
  cell is drawn from them (t_fit: :func:`cimsim.physics.device.fit_time_s`);
* ``read_noise_sigma_us``: σ of the read noise of each cell at fit time t_fit ≥ t0 (µS);
  ``read_noise_is_constant`` says whether that σ is the same for every cell.

Each of ``device.program_noise``, ``device.read_noise`` and ``device.drift_nu`` selects the
model of its own effect: a number selects :data:`CONSTANT_STATISTICS` (a fraction of g_max, or a
mean exponent with spread ``device.drift_nu_std``), a name selects the model registered under
it. :func:`register_device_model` adds one (also ``cimsim.register_device_model``),
:func:`list_device_models` lists the names. Built in: ``"pcm_nandakumar2019"``
(:class:`PCMNandakumar2019`). :mod:`cimsim.physics.device` applies the models to cells.

The configuration sits below physics in the import order, so this module hands it
:func:`list_device_models` when it is imported (:data:`cimsim.config.tree.DEVICE_MODEL_NAMES`):
a configuration naming an unregistered model is refused when it is built.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from cimsim.config.tree import DEVICE_MODEL_NAMES
from cimsim.errors import ConfigError

if TYPE_CHECKING:
    from cimsim.config.sections import DeviceConfig

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
"""A model name: a letter, then up to 63 letters, digits, '_' or '-' (a plain TOML string)."""


class DeviceModel(ABC):
    """The statistics of one resistive cell; subclass it and register an instance by name.

    Every method receives arrays of one shape (one entry per cell) and the ``device`` section of
    the configuration (for ``g_min_us``, ``g_max_us``, ``drift_t0_s``), and returns arrays of
    that shape. Conductances are in µS, times in s. Draws use only the generator passed in.
    """

    read_noise_is_constant: bool = False
    """True when σ_read is the same for every cell, so that the crossbar can use one variance.
    Only the numbers' model sets it today: the crossbar computes that constant variance from
    ``device.read_noise`` itself, so :func:`register_device_model` refuses a model that sets it."""

    @abstractmethod
    def program_noise_sigma_us(self, g_target_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
        """σ of the programming error of each cell, µS: a cell lands at N(G_target, σ²), then clipped
        (``device.program_clip``)."""

    @abstractmethod
    def drift_nu_mean_std(self, g_target_us: np.ndarray, device: DeviceConfig) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread of the drift exponent ν of each cell (dimensionless)."""

    def draw_drift_nu(self, mean: np.ndarray, std: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One ν per cell from its mean and spread: |N(mean, std²)|, as aihwkit draws it."""
        return np.abs(mean + std * rng.standard_normal(mean.shape))

    @abstractmethod
    def read_noise_sigma_us(
        self, g_prog_us: np.ndarray, g_now_us: np.ndarray, t_fit_s: float, device: DeviceConfig
    ) -> np.ndarray:
        """σ of the read noise of each cell, µS, at ``t_fit_s`` >= t0 on the clock of the drift fit
        (:func:`cimsim.physics.device.fit_time_s`).

        ``g_prog_us``: what each cell holds after programming (programming error included);
        ``g_now_us``: what it holds now (after drift; after IR drop too for per-read noise).
        """


class ConstantStatistics(DeviceModel):
    """What a number selects: σ_prog = ``device.program_noise``·g_max, σ_read =
    ``device.read_noise``·g_max (µS, the same for every cell), ν ~ max(0, N(``device.drift_nu``,
    ``device.drift_nu_std``²))."""

    read_noise_is_constant = True

    def program_noise_sigma_us(self, g_target_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
        return np.full_like(g_target_us, device.program_noise * device.g_max_us)

    def drift_nu_mean_std(self, g_target_us: np.ndarray, device: DeviceConfig) -> tuple[np.ndarray, np.ndarray]:
        return np.full_like(g_target_us, device.drift_nu), np.full_like(g_target_us, device.drift_nu_std)

    def draw_drift_nu(self, mean: np.ndarray, std: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """max(0, N(mean, std²)): a negative exponent is taken as no drift."""
        return np.maximum(mean + std * rng.standard_normal(mean.shape), 0.0)

    def read_noise_sigma_us(
        self, g_prog_us: np.ndarray, g_now_us: np.ndarray, t_fit_s: float, device: DeviceConfig
    ) -> np.ndarray:
        return np.full_like(g_now_us, device.read_noise * device.g_max_us, dtype=np.float64)


CONSTANT_STATISTICS = ConstantStatistics()
"""The model of every device field given as a number."""


class PCMNandakumar2019(DeviceModel):
    """The PCM model of Nandakumar et al. (ICECS 2019) as aihwkit's ``PCMLikeNoiseModel``
    implements it (reference rows DEV-01..06).

    With x = G_target / g_max and coefficients for a 25 µS device scaled by g_max / 25 µS:

    - σ_prog(x) = 0.26348 + 1.9650·x − 1.1731·x² µS (DEV-02);
    - ν = |N(μ_ν(x), σ_ν(x)²)|, μ_ν = clip(−0.0155·ln x + 0.0244, 0.049, 0.1),
      σ_ν = clip(−0.0125·ln x − 0.0059, 0.008, 0.045) (DEV-03, DEV-04), x floored at 10⁻⁷;
    - σ_read / G(t) = Q_s(x_p)·sqrt(ln((t_fit + t_r) / (2 t_r))), t_r = 250 ns (DEV-05), with
      Q_s = min(0.0088 / max(x_p^0.65, 10⁻³), 0.2) of the *programmed* x_p = G_prog / g_max and
      t_fit = t + t0 for aihwkit's t_inference t (``device.drift_clock = "after_t0"``).
      aihwkit draws this accumulated 1/f noise once per evaluation time
      (``device.read_noise_draw = "per_evaluation"``).
    """

    REFERENCE_G_MAX_US = 25.0
    """g_max of the device the coefficients were fitted to (µS)."""
    READ_TIME_S = 250e-9
    """t_r of the 1/f read-noise model (s)."""
    X_FLOOR = 1e-7
    """Keeps ln(x) finite for cells programmed to 0 µS (aihwkit's ``_ZERO_CLIP``)."""
    Q_S_DENOMINATOR_FLOOR = 1e-3
    """Floor of x_p^0.65 in Q_s (aihwkit's clamp), so that Q_s is finite at 0 µS."""

    def relative(self, g_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
        """x = G / g_max, floored at :attr:`X_FLOOR`."""
        return np.maximum(np.asarray(g_us, dtype=np.float64) / device.g_max_us, self.X_FLOOR)

    def program_noise_sigma_us(self, g_target_us: np.ndarray, device: DeviceConfig) -> np.ndarray:
        x = g_target_us / device.g_max_us
        sigma_ref = 0.26348 + 1.9650 * x - 1.1731 * x**2
        return sigma_ref * (device.g_max_us / self.REFERENCE_G_MAX_US)

    def drift_nu_mean_std(self, g_target_us: np.ndarray, device: DeviceConfig) -> tuple[np.ndarray, np.ndarray]:
        log_x = np.log(self.relative(g_target_us, device))
        mean = np.clip(-0.0155 * log_x + 0.0244, 0.049, 0.1)
        std = np.clip(-0.0125 * log_x - 0.0059, 0.008, 0.045)
        return mean, std

    def read_noise_sigma_us(
        self, g_prog_us: np.ndarray, g_now_us: np.ndarray, t_fit_s: float, device: DeviceConfig
    ) -> np.ndarray:
        x_prog = np.abs(np.asarray(g_prog_us, dtype=np.float64)) / device.g_max_us
        q_s = np.minimum(0.0088 / np.maximum(x_prog**0.65, self.Q_S_DENOMINATOR_FLOOR), 0.2)
        accumulated = np.sqrt(np.log((float(t_fit_s) + self.READ_TIME_S) / (2.0 * self.READ_TIME_S)))
        return q_s * accumulated * np.asarray(g_now_us, dtype=np.float64)


PCM_NANDAKUMAR2019 = "pcm_nandakumar2019"
BUILT_IN = MappingProxyType({PCM_NANDAKUMAR2019: PCMNandakumar2019()})
"""The models every process starts with; they cannot be unregistered."""

_registry: dict[str, DeviceModel] = dict(BUILT_IN)


def list_device_models() -> tuple[str, ...]:
    """Names of the registered device models, built-in first, then in order of registration."""
    return tuple(_registry)


def register_device_model(name: str, model: DeviceModel) -> None:
    """Make ``model`` selectable by ``name`` in ``device.program_noise``, ``device.read_noise`` and
    ``device.drift_nu`` (in this process; configurations naming it validate from now on).

    ConfigError when ``name`` is not a plain name (:data:`NAME_PATTERN`) or already registered,
    or when ``model`` is not an instance of a :class:`DeviceModel` subclass.
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"register_device_model: name = {name!r} is not allowed; give a string of 1 to 64 letters, "
            "digits, '_' or '-' starting with a letter"
        )
    if name in _registry:
        raise ConfigError(
            f"register_device_model: name = {name!r} is already registered (registered: {_names()}); "
            "choose another name, or unregister_device_model it first"
        )
    if not isinstance(model, DeviceModel):
        got = f"the class {model.__name__}; give an instance" if isinstance(model, type) else repr(model)
        raise ConfigError(
            f"register_device_model: model = {got} is not allowed; give an instance of a subclass of "
            "cimsim.physics.device_models.DeviceModel"
        )
    if model.read_noise_is_constant:
        raise ConfigError(
            f"register_device_model: {name!r} sets read_noise_is_constant = True; allowed: False for a registered "
            "model (the crossbar computes a constant read-noise σ from a number in device.read_noise: give that "
            "number instead)"
        )
    _registry[name] = model


def unregister_device_model(name: str) -> None:
    """Remove a model added by :func:`register_device_model`; ConfigError for a built-in or unknown name."""
    if name in BUILT_IN or name not in _registry:
        added = [n for n in _registry if n not in BUILT_IN]
        raise ConfigError(
            f"unregister_device_model: name = {name!r} is not allowed; give one of the added models "
            f"({', '.join(map(repr, added)) or 'none'}); built-in models stay"
        )
    del _registry[name]


def device_model(value: float | str) -> DeviceModel:
    """The model a device field selects: :data:`CONSTANT_STATISTICS` for a number, else the registered one."""
    if not isinstance(value, str):
        return CONSTANT_STATISTICS
    if value not in _registry:
        raise ConfigError(f"device model {value!r} is not registered; registered: {_names()}")
    return _registry[value]


def _names() -> str:
    return ", ".join(map(repr, _registry))


DEVICE_MODEL_NAMES.listed_by(list_device_models)
