"""What an ADC energy model is: the interface ``energy.adc_model`` names, and how a model refuses inputs.

An ADC energy model prices one column ADC of a configuration: the energy of one conversion (pJ)
and the area of one converter (µm²). It may read ``adc.bits`` (taken as the ENOB: an ideal
converter), ``adc.sample_rate_gsps``, ``chip.node_nm`` and any ``energy.*`` or ``area.*``
field, and it lists every field it reads in ``fields``, so that a caller can tell which fields
change nothing under it. Models are registered by name in :mod:`cimsim.costs.adc_energy`
(``cimsim.register_adc_energy_model``) and chosen from TOML (``[energy] adc_model = "name"``),
as hardware components are chosen in Accelergy/hwcomponents.

A model refuses a configuration outside its range with :func:`require_adc_input`: a
:class:`~cimsim.errors.ConfigError` naming the field, the value and the allowed range.
"""

from __future__ import annotations

from typing import Protocol

from cimsim.config import ChipConfig
from cimsim.errors import ConfigError

__all__ = ["AdcEnergyModel", "require_adc_input"]


class AdcEnergyModel(Protocol):
    """An ADC energy model: energy per conversion and area of one converter, for a configuration.

    ``description``: one line saying what the model is and where its numbers come from.
    ``fields``: the dotted configuration fields (``"adc.bits"``, ``"energy.adc_pj_per_conversion"``,
    ...) that :meth:`energy_pj` or :meth:`area_um2` read; a field not listed changes neither.
    """

    description: str
    fields: tuple[str, ...]

    def energy_pj(self, cfg: ChipConfig) -> float:
        """Energy of one conversion of one ADC (pJ), >= 0; ConfigError when ``cfg`` is out of range."""
        ...

    def area_um2(self, cfg: ChipConfig) -> float:
        """Area of one ADC (µm²), >= 0; ConfigError when ``cfg`` is out of range."""
        ...


def require_adc_input(ok: bool, field: str, value: object, allowed: str) -> None:
    """Raise ConfigError ``field: got value, allowed: ...`` (the configuration's wording) unless ``ok``."""
    if not ok:
        raise ConfigError(
            f"{field}: got {value!r}, allowed: {allowed} "
            "(energy.adc_model = 'table' or 'walden' prices an ADC of any width)"
        )
