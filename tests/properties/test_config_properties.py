"""Property tests of the configuration trees: TOML round trips, overrides, refusals (hypothesis).

For any valid configuration reached from a preset by overriding numeric fields with values drawn
inside their declared bounds, dumping to TOML and loading back is the identity, and reading a
field back gives the value set; a value outside its bounds is refused with a ConfigError that
names the dotted field. Cross-field rules may refuse a combination; the refusal must then name
a field too.
"""

from __future__ import annotations

import math
import re

import pytest
from annotated_types import Ge, Gt, Le, Lt
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cimsim
from cimsim.config.tree import Node

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRESETS = cimsim.list_presets()


def numeric_fields(cfg) -> dict[str, tuple[type, float | None, float | None, bool, bool]]:
    """Dotted path -> (int or float, lower, upper, lower strict, upper strict) of every plain number."""
    fields = {}
    for section, node in type(cfg).model_fields.items():
        model = node.annotation
        if not (isinstance(model, type) and issubclass(model, Node)):
            continue
        for name, info in model.model_fields.items():
            if info.annotation not in (int, float):
                continue
            low = high = None
            low_strict = high_strict = False
            for bound in info.metadata:
                if isinstance(bound, Ge):
                    low = bound.ge
                elif isinstance(bound, Gt):
                    low, low_strict = bound.gt, True
                elif isinstance(bound, Le):
                    high = bound.le
                elif isinstance(bound, Lt):
                    high, high_strict = bound.lt, True
            fields[f"{section}.{name}"] = (info.annotation, low, high, low_strict, high_strict)
    return fields


def inside(kind, low, high, low_strict, high_strict):
    if kind is int:
        lo = -(10**6) if low is None else int(low) + (1 if low_strict else 0)
        hi = 10**6 if high is None else int(high) - (1 if high_strict else 0)
        return st.integers(lo, max(lo, min(hi, lo + 10**6)))
    lo = -1e6 if low is None else float(low)
    hi = 1e6 if high is None else float(high)
    return st.floats(lo, hi, exclude_min=low_strict, exclude_max=high_strict, allow_nan=False, allow_infinity=False)


@st.composite
def overridden(draw):
    preset = draw(st.sampled_from(PRESETS))
    cfg = cimsim.load_preset(preset)
    fields = numeric_fields(cfg)
    paths = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=4, unique=True))
    return cfg, {path: draw(inside(*fields[path])) for path in paths}


@SETTINGS
@given(overridden())
def test_toml_round_trip_and_read_back(case):
    cfg, updates = case
    try:
        changed = cfg.override(updates)
    except cimsim.ConfigError as error:  # a cross-field rule: it must say which dotted field
        assert re.search(r"\b[a-z]+\.[a-z_0-9]+\b", str(error)), str(error)
        assume(False)
    for path, value in updates.items():
        assert changed.get(path) == value
    assert type(changed).from_toml(changed.to_toml()) == changed


@st.composite
def out_of_bounds(draw):
    cfg = cimsim.load_preset(draw(st.sampled_from(PRESETS)))
    fields = {p: f for p, f in numeric_fields(cfg).items() if f[1] is not None or f[2] is not None}
    path = draw(st.sampled_from(sorted(fields)))
    kind, low, high, low_strict, high_strict = fields[path]
    candidates = []
    if low is not None:
        candidates.append(low if low_strict else (low - 1 if kind is int else math.nextafter(low, -math.inf)))
    if high is not None:
        candidates.append(high if high_strict else (high + 1 if kind is int else math.nextafter(high, math.inf)))
    return cfg, path, kind(draw(st.sampled_from(candidates)))


@SETTINGS
@given(out_of_bounds())
def test_a_value_outside_its_bounds_is_refused_by_name(case):
    cfg, path, value = case
    with pytest.raises(cimsim.ConfigError) as error:
        cfg.override({path: value})
    assert path in str(error.value) or path.split(".")[1] in str(error.value)


@SETTINGS
@given(st.sampled_from(PRESETS), st.sampled_from(["adc.bits", "array.rows", "device.v_read"]),
       st.one_of(st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2)))
def test_a_value_of_the_wrong_type_is_refused_by_name(preset, path, value):
    cfg = cimsim.load_preset(preset)
    assume(path.split(".")[0] in type(cfg).model_fields)
    with pytest.raises(cimsim.ConfigError, match=path.split(".")[1]):
        cfg.override({path: value})


def test_the_strategies_reach_every_numeric_field():
    """The properties above draw from every bounded number of every preset (the schema is read, not listed)."""
    for preset in PRESETS:
        fields = numeric_fields(cimsim.load_preset(preset))
        assert len(fields) > 10 and all(kind in (int, float) for kind, *_ in fields.values())
