"""Which configuration fields the active energy, latency and area models read, and why not when not.

A swept or overridden field that changes no output should be said so, not silently priced the
same (issue 13, item 2). :func:`unread_field_reason` answers for one dotted field of a
configuration: ``None`` when the models that configuration selects read it, else one sentence
naming the field, the setting that makes it unread and what is read instead. The rules follow
the models: the ADC energy model's ``fields`` (:mod:`cimsim.costs.adc_energy`), the ADC kind
(:mod:`cimsim.physics.converters`) and the switches of the read circuit and the schedule (:mod:`cimsim.arch.cim`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cimsim.config import ChipConfig
from cimsim.costs.adc_energy import ADC_ENERGY_MODELS
from cimsim.errors import ConfigError
from cimsim.physics.converters import adc_kind

__all__ = ["unread_field_reason", "unread_field_notes"]

Rule = Callable[[ChipConfig], "str | None"]

_INTEGRATING_ONLY = ("energy.adc_pj_per_step", "energy.adc_bias_uw", "adc.step_ns")


def unread_field_reason(cfg, path: str) -> str | None:
    """Why the models ``cfg`` selects ignore the dotted field ``path``, or None when they read it.

    ``path`` must be a field of ``cfg`` (``"adc.bits"``, ``"energy.adc_pj_per_conversion"``); any
    other string is a ConfigError naming it. A von Neumann configuration's fields are all read
    except ``pe.accumulator_bits`` without partial-sum accesses.
    """
    _check_field(cfg, path)
    if not isinstance(cfg, ChipConfig):
        if path == "pe.accumulator_bits" and cfg.pe.rf_psum_accesses_per_mac == 0:
            return f"{path} is ignored: pe.rf_psum_accesses_per_mac = 0, so no partial sum is read or written"
        return None
    for rule in _rules(path):
        reason = rule(cfg)
        if reason:
            return f"{path} is ignored: {reason}"
    return None


def unread_field_notes(runs: Iterable[tuple[object, Iterable[str]]]) -> list[str]:
    """One line per distinct reason a set field is ignored, over ``runs`` of (configuration, fields set).

    For ``cimsim --set`` (one run) and a sweep (a run per chip and override set): each field
    changed that the run's models ignore gives a line, said once however many runs repeat it.
    """
    notes = (unread_field_reason(cfg, path) for cfg, paths in runs for path in paths)
    return list(dict.fromkeys(note for note in notes if note))


def _check_field(cfg, path: str) -> None:
    section, _, field = path.partition(".")
    info = type(cfg).model_fields.get(section)
    if info is None or field not in info.annotation.model_fields:
        raise ConfigError(f"unread_field_reason: path: got {path!r}, allowed: a dotted field of {type(cfg).__name__}, "
                          "e.g. 'adc.bits'")


def _rules(path: str) -> list[Rule]:
    """The rules that can make ``path`` unread, in the order they are asked."""
    rules: list[Rule] = []
    if path in _adc_model_fields() and (path.startswith(("energy.", "area.")) or path == "adc.sample_rate_gsps"):
        rules.append(lambda cfg: _not_read_by_adc_model(cfg, path))
    if path in _INTEGRATING_ONLY:
        rules.append(lambda cfg: None if cfg.adc.kind == "integrating" else
                     f"only an 'integrating' ADC reads it; adc.kind = {cfg.adc.kind!r}")
    rules += [rule for field, rule in _SWITCHED.items() if field == path]
    return rules


def _adc_model_fields() -> set[str]:
    return {field for model in ADC_ENERGY_MODELS.values() for field in model.fields}


def _not_read_by_adc_model(cfg: ChipConfig, path: str) -> str | None:
    """Why the selected ADC energy model (or an ADC kind priced otherwise) ignores ``path``."""
    name = cfg.energy.adc_model
    read = ADC_ENERGY_MODELS[name].fields
    if path == "adc.sample_rate_gsps":  # the SAR pipeline's timing reads it, whatever the model
        if cfg.adc.kind == "sar" or path in read:
            return None
        return (f"adc.kind = 'integrating' times its conversions by adc.step_ns, and energy.adc_model = {name!r} "
                f"reads only {', '.join(read)}")
    if path not in read:
        return f"energy.adc_model = {name!r} reads only {', '.join(read)}"
    if path.startswith("energy.") and not adc_kind(cfg.adc.kind).priced_per_conversion:
        return (f"adc.kind = {cfg.adc.kind!r} is priced by energy.adc_pj_per_step and energy.adc_bias_uw, "
                "not per conversion by the ADC energy model")
    return None


_SWITCHED: dict[str, Rule] = {
    "adc.calibration_percentile": lambda cfg: None if cfg.adc.range == "calibrated" else
    f"adc.range = {cfg.adc.range!r}: only a 'calibrated' range reads a percentile",
    "array.ir_drop": lambda cfg: None if cfg.array.wire_resistance_ohm > 0 else
    "array.wire_resistance_ohm = 0: no IR drop is computed",
    "tile.buffer_gbps": lambda cfg: None if cfg.tile.buffer_kib > 0 else
    "tile.buffer_kib = 0: inputs go straight to the arrays",
    "chip.global_buffer_kib": lambda cfg: None if cfg.tile.buffer_kib > 0 else
    "tile.buffer_kib = 0: no tile buffer, so nothing spills to a global buffer",
    "chip.global_buffer_gbps": lambda cfg: None if cfg.tile.buffer_kib > 0 and cfg.chip.global_buffer_kib > 0 else
    "chip.global_buffer_kib = 0 or tile.buffer_kib = 0: no spill goes to a global buffer",
}
"""Fields read only under a switch of another field."""
