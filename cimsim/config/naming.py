"""The name of a configuration: its preset and every field in which it differs from it.

``config_label(isaac.override({"adc.bits": 6, "mapping.weight_bits": 8, "mapping.input_bits": 8,
"energy.adc_model": "walden"}))`` is ``"isaac (adc.bits=6, w8a8, walden ADC)"``: the precision
(weight and input bits) reads as ``w<bits>a<bits>``, the ADC's energy model as ``<model> ADC``,
any other field as ``section.field=value`` in the order of the configuration tree. The ``meta``
section (name, sources, description) is not a difference. A configuration whose name is not a
preset's, and which is not given one to compare with, is named by its ``meta.name`` alone.
Report names (through the ``cimsim`` command and the demo), figure titles and the command's
output all use this one function.
"""

from __future__ import annotations

import functools
from typing import Any

from cimsim.config.loading import AnyConfig, list_presets, load_preset

PRECISION_FIELDS = ("mapping.weight_bits", "mapping.input_bits")
ADC_MODEL_FIELD = "energy.adc_model"


def config_label(cfg: AnyConfig, preset: str | None = None) -> str:
    """``cfg`` named by ``preset`` (default: its ``meta.name`` when that is a preset) and its differences from it."""
    base_name = preset if preset is not None else cfg.meta.name
    base = _preset_fields(base_name)
    if base is None:
        return cfg.meta.name
    changed = _differences(base, cfg)
    words = []
    for path, value in changed.items():
        if path in PRECISION_FIELDS:
            word = f"w{cfg.get(PRECISION_FIELDS[0])}a{cfg.get(PRECISION_FIELDS[1])}"
        elif path == ADC_MODEL_FIELD:
            word = f"{value} ADC"
        else:
            word = f"{path}={_text(value)}"
        if word not in words:
            words.append(word)
    return f"{base_name} ({', '.join(words)})" if words else base_name


@functools.lru_cache(maxsize=64)
def _preset_fields(name: str) -> dict[str, dict[str, Any]] | None:
    """The fields of the preset ``name`` (None when no preset has that name), read once per process.

    The presets are files shipped with the package; a sweep names every point by them."""
    return load_preset(name).to_dict() if name in list_presets() else None


def _differences(base: dict[str, dict[str, Any]], cfg: AnyConfig) -> dict[str, Any]:
    """``section.field`` -> ``cfg``'s value, for every field outside ``meta`` where ``cfg`` differs from ``base``."""
    changed: dict[str, Any] = {}
    for section in type(cfg).model_fields:
        fields, base_fields = getattr(cfg, section).__dict__, base.get(section, {})  # a section's fields are values
        if section != "meta" and fields != base_fields:  # a sweep changes a few sections: the others compare at once
            changed |= {f"{section}.{name}": value for name, value in fields.items() if base_fields.get(name) != value}
    return changed


def _text(value: Any) -> str:
    """A field's value as a user writes it after ``--set key=``."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)
