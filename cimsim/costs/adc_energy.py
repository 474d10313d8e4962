"""ADC energy models chosen by name: the registry behind ``energy.adc_model``.

Published ADC models disagree by ~10× for the same 8-bit converter (NOTES.md section 5), so the
model is chosen by name in ``energy.adc_model`` and every result says which one it used. A model
is any object with the interface :class:`~cimsim.costs.adc_model.AdcEnergyModel` (energy per
conversion in pJ, area in µm², a one-line description and the fields it reads), registered by
name with :func:`register_adc_energy_model`; the configuration accepts every registered name.
Four are built in:

* ``table``: the configured ``energy.adc_pj_per_conversion`` at ``energy.adc_reference_bits``
  (ISAAC's 1.5625 pJ at 8 bits by default, ISAAC-51), carried to ``adc.bits`` by Walden's law,
  × 2^(bits − reference bits) (ADC-01): the energy doubles per bit.
* ``walden``: the Walden figure of merit of an ideal converter, E = FoM_W · 2^bits (ADC-01).
* ``survey``: the minimum-energy frontier of the Murmann ADC survey (ADC-05..13), interpolated in
  resolution and sample rate (:func:`~cimsim.costs.adc_survey.survey_energy_pj`).
* ``cimloop``: CiMLoop's FoM_S-bound model (ADC-18..21) in closed form
  (:func:`~cimsim.costs.adc_cimloop.cimloop_energy_pj`).

Area: ``area.adc_um2`` for the ``table`` model; CiMLoop's area regression
(:func:`~cimsim.costs.adc_cimloop.cimloop_area_um2`), a function of bits, sample rate and node,
for the other built-in models (:class:`CimloopArea`).

Every built-in model reads the ENOB as ``adc.bits``: an ideal converter. Real converters lose
1–2 bits to noise and distortion (Kull 2013, the ADC ISAAC adapted, is an 8-bit design with ENOB
6.24, ADC-04). Inputs outside a model's range raise :class:`~cimsim.errors.ConfigError` naming
the config field (``adc.bits``, ``adc.sample_rate_gsps``, ``chip.node_nm``) and the allowed range.

The registry is per process: a sweep's local workers are fresh processes, so they know only the
built-in models.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from types import MappingProxyType

from cimsim.config import ChipConfig
from cimsim.config.tree import ADC_ENERGY_MODEL_NAMES
from cimsim.costs.adc_cimloop import cimloop_area_um2, cimloop_energy_pj
from cimsim.costs.adc_model import AdcEnergyModel, require_adc_input
from cimsim.costs.adc_survey import survey_energy_pj
from cimsim.errors import ConfigError

__all__ = [
    "ADC_ENERGY_MODELS",
    "AdcEnergyModel",
    "CimloopAdcModel",
    "CimloopArea",
    "SurveyAdcModel",
    "TableAdcModel",
    "WaldenAdcModel",
    "adc_area_um2",
    "adc_energy_pj",
    "cimloop_area_um2",
    "cimloop_energy_pj",
    "list_adc_energy_models",
    "register_adc_energy_model",
    "survey_energy_pj",
    "unregister_adc_energy_model",
    "walden_energy_pj",
]


def adc_energy_pj(cfg: ChipConfig) -> float:
    """Energy of one conversion of one ADC (pJ) under the model named by ``energy.adc_model``."""
    name, model = _selected(cfg)
    return _checked(model.energy_pj(cfg), name, "energy per conversion", "pJ")


def adc_area_um2(cfg: ChipConfig) -> float:
    """Area of one ADC (µm²) under the model named by ``energy.adc_model``.

    The ``table`` model describes a specific converter, whose area is given beside its energy
    (ISAAC: 1.5625 pJ and 1200 µm², ISAAC-51, ISAAC-11): ``area.adc_um2``. The other built-in
    models describe a converter by its bits, rate and node, which is what CiMLoop's area
    regression takes (:class:`CimloopArea`).
    """
    name, model = _selected(cfg)
    return _checked(model.area_um2(cfg), name, "area", "µm²")


# --------------------------------------------------------------------------- the registry

_MODELS: dict[str, AdcEnergyModel] = {}

ADC_ENERGY_MODELS: Mapping[str, AdcEnergyModel] = MappingProxyType(_MODELS)
"""The registered models by name, in registration order (read-only; :func:`register_adc_energy_model` adds one)."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


def register_adc_energy_model(name: str, model: AdcEnergyModel) -> None:
    """Make ``model`` selectable as ``energy.adc_model = name`` (TOML files, ``cfg.override``) in this process.

    ``name``: a letter, then letters, digits, ``_``, ``-`` or ``.``; not registered yet.
    ``model``: an instance with ``energy_pj(cfg)`` (pJ per conversion), ``area_um2(cfg)`` (µm²),
    a one-line ``description`` and ``fields``, a tuple of the dotted configuration fields it reads
    (:class:`~cimsim.costs.adc_model.AdcEnergyModel`). Anything else is a ConfigError.
    """
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise ConfigError(
            f"register_adc_energy_model: name: got {name!r}, allowed: a string of a letter then letters, "
            "digits, '_', '-' or '.'"
        )
    if name in _MODELS:
        raise ConfigError(
            f"register_adc_energy_model: name: got {name!r}, allowed: a name not registered yet "
            f"(registered: {_listing()}; unregister_adc_energy_model removes a model you registered)"
        )
    _check_model(model)
    _MODELS[name] = model


def unregister_adc_energy_model(name: str) -> None:
    """Remove a model added by :func:`register_adc_energy_model`; the built-in models stay."""
    if name in _BUILT_IN or name not in _MODELS:
        added = ", ".join(repr(n) for n in _MODELS if n not in _BUILT_IN) or "none"
        raise ConfigError(f"unregister_adc_energy_model: name: got {name!r}, allowed: a model you registered ({added})")
    del _MODELS[name]


def list_adc_energy_models() -> list[str]:
    """Names of the registered ADC energy models, the four built-in ones first."""
    return list(_MODELS)


def _listing() -> str:
    return ", ".join(repr(name) for name in _MODELS)


def _check_model(model: object) -> None:
    """ConfigError naming the first part of ``model`` that the interface does not allow."""
    problem = _model_problem(model)
    if problem:
        raise ConfigError(
            f"register_adc_energy_model: model: got {model!r}, allowed: an object with energy_pj(cfg), "
            f"area_um2(cfg), a one-line description and a tuple of the fields it reads ({problem})"
        )


def _model_problem(model: object) -> str:
    """What is wrong with ``model`` as an ADC energy model, or an empty string."""
    if isinstance(model, type):
        return f"this is the class; register an instance, {model.__name__}()"
    missing = [method for method in ("energy_pj", "area_um2") if not callable(getattr(model, method, None))]
    if missing:
        return f"no method {', '.join(missing)}"
    description = getattr(model, "description", None)
    if not (isinstance(description, str) and description.strip() and "\n" not in description):
        return f"description = {description!r} is not one line of text"
    fields = getattr(model, "fields", None)
    if not (isinstance(fields, tuple) and all(isinstance(path, str) for path in fields)):
        return f"fields = {fields!r} is not a tuple of strings"
    unknown = [path for path in fields if not _is_chip_field(path)]
    return f"fields {unknown} are not fields of cimsim.ChipConfig, e.g. 'adc.bits'" if unknown else ""


def _is_chip_field(path: str) -> bool:
    section, _, field = path.partition(".")
    info = ChipConfig.model_fields.get(section)
    return info is not None and field in info.annotation.model_fields


def _selected(cfg: ChipConfig) -> tuple[str, AdcEnergyModel]:
    """The name and model ``cfg`` selects (the config checked the name; it may have been unregistered since)."""
    name = cfg.energy.adc_model
    if name not in _MODELS:
        raise ConfigError(f"energy.adc_model: got {name!r}, allowed: a registered ADC energy model: {_listing()}")
    return name, _MODELS[name]


def _checked(value: object, name: str, quantity: str, unit: str) -> float:
    """``value`` as a float if it is a finite number >= 0, else a ConfigError naming the model."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    raise ConfigError(
        f"energy.adc_model = {name!r}: the model's {quantity} is {value!r}, allowed: a finite number >= 0 ({unit})"
    )


# --------------------------------------------------------------------------- the built-in models


class TableAdcModel:
    """A specific converter whose energy at one width and area the configuration gives (ISAAC's by default)."""

    description = (
        "energy.adc_pj_per_conversion at energy.adc_reference_bits, × 2^(adc.bits - reference) (Walden, ADC-01), "
        "and area.adc_um2 (ISAAC: 1.5625 pJ at 8 bits, 1200 µm²)"
    )
    fields = ("energy.adc_pj_per_conversion", "energy.adc_reference_bits", "adc.bits", "area.adc_um2")

    def energy_pj(self, cfg: ChipConfig) -> float:
        """The reference converter's energy, doubled per bit above its width (halved per bit below)."""
        fom_fj_per_step = cfg.energy.adc_pj_per_conversion * 1e3 / 2.0**cfg.energy.adc_reference_bits
        return walden_energy_pj(cfg.adc.bits, fom_fj_per_step)

    def area_um2(self, cfg: ChipConfig) -> float:
        return cfg.area.adc_um2


class CimloopArea:
    """Base of the models that describe a converter by bits, rate and node: CiMLoop's area regression.

    Reads ``adc.bits``, ``adc.sample_rate_gsps`` and ``chip.node_nm`` (:data:`AREA_FIELDS`);
    its range is :func:`~cimsim.costs.adc_cimloop.cimloop_area_um2`'s (at most 12 bits).
    """

    AREA_FIELDS = ("adc.bits", "adc.sample_rate_gsps", "chip.node_nm")

    def area_um2(self, cfg: ChipConfig) -> float:
        try:
            return cimloop_area_um2(cfg.adc.bits, cfg.adc.sample_rate_gsps, cfg.chip.node_nm)
        except ConfigError as error:
            raise ConfigError(
                f"the ADC area model (CiMLoop's regression, used for energy.adc_model = {cfg.energy.adc_model!r}) "
                f"does not cover this ADC: {error}; with energy.adc_model = 'table' the area is area.adc_um2"
            ) from None


class WaldenAdcModel(CimloopArea):
    """An ideal converter at a Walden figure of merit: E = FoM_W · 2^bits (:func:`walden_energy_pj`)."""

    description = "energy.adc_walden_fom_fj_per_step × 2^adc.bits (Walden FoM, ADC-01); CiMLoop's area"
    fields = ("energy.adc_walden_fom_fj_per_step", *CimloopArea.AREA_FIELDS)

    def energy_pj(self, cfg: ChipConfig) -> float:
        return walden_energy_pj(cfg.adc.bits, cfg.energy.adc_walden_fom_fj_per_step)


class SurveyAdcModel(CimloopArea):
    """The Murmann survey's minimum-energy frontier at the ADC's bits and rate (:func:`survey_energy_pj`)."""

    description = "the Murmann survey's least energy at adc.bits and adc.sample_rate_gsps (ADC-05..13); CiMLoop's area"
    fields = CimloopArea.AREA_FIELDS

    def energy_pj(self, cfg: ChipConfig) -> float:
        return survey_energy_pj(cfg.adc.bits, cfg.adc.sample_rate_gsps)


class CimloopAdcModel(CimloopArea):
    """CiMLoop's "best possible ADC" at the ADC's bits, rate and node (:func:`cimloop_energy_pj`)."""

    description = "CiMLoop's model at adc.bits, adc.sample_rate_gsps and chip.node_nm (ADC-18..21), energy and area"
    fields = CimloopArea.AREA_FIELDS

    def energy_pj(self, cfg: ChipConfig) -> float:
        return cimloop_energy_pj(cfg.adc.bits, cfg.adc.sample_rate_gsps, cfg.chip.node_nm)


def walden_energy_pj(bits: float, fom_fj_per_step: float) -> float:
    """Energy per conversion (pJ) of an ideal converter from its Walden figure of merit.

    FoM_W = P / (f_s · 2^ENOB) (ADC-01), so E = P / f_s = FoM_W · 2^ENOB, here with ENOB = bits:
    the energy doubles per bit. A FoM measured on a real converter is per *effective* step; used
    with ENOB = bits it overstates the energy by 2^(bits − ENOB) (×3.4 for Kull 2013: 33.8 fJ/step
    at ENOB 6.24 gives 2.55 pJ, but 8.65 pJ at 8 bits; ADC-04). The default FoM,
    1.5625 pJ / 2^8 = 6.10 fJ/step, is per nominal step, so it equals ISAAC's table value at 8 bits.
    Doubling per bit is steeper than the survey's low-resolution plateau and shallower than its
    thermal-noise limit of ~4× per bit at high resolution (ADC-03).
    """
    require_adc_input(bits >= 1, "adc.bits", bits, "a resolution >= 1 bit for the 'walden' ADC model")
    return fom_fj_per_step * 2.0**bits * 1e-3


# --------------------------------------------------------------------------- registration

register_adc_energy_model("table", TableAdcModel())
register_adc_energy_model("walden", WaldenAdcModel())
register_adc_energy_model("survey", SurveyAdcModel())
register_adc_energy_model("cimloop", CimloopAdcModel())
_BUILT_IN = frozenset(_MODELS)
ADC_ENERGY_MODEL_NAMES.listed_by(list_adc_energy_models)
