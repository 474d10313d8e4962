"""Energy per inference moves the way physics says when a hardware field moves (issue 13, brief item 8).

For every CIM preset and each numeric field that sets hardware, the field is moved one step and
the energy of one inference of a small two-layer network (analytical fidelity) is compared with
the preset's. The direction each field must take, and why, is stated beside it in FIELDS. When a
field's total is ambiguous in physics (a wider DAC pays more per drive but drives fewer cycles),
the component the field prices is checked instead (COMPONENT_FIELDS).
"""

from __future__ import annotations

import pytest

import cimsim

PRESETS = ["isaac", "rram-22nm", "pcm", "neurram", "ideal"]
NETWORK = cimsim.Workload(
    [
        cimsim.Gemm("fc1", m=2, k=300, n=96, constant=True),
        cimsim.NonGemm("act", "activation", 192, inputs=("fc1",)),
        cimsim.Gemm("fc2", m=2, k=96, n=10, inputs=("act",), constant=True),
    ],
    name="two-layer",
)
UP, DOWN, NOT_UP = "rises", "falls", "does not rise"

FIELDS = [  # (field, how it moves, what the energy must do (or a function of the preset giving it), why)
    ("device.v_read", lambda v: v * 1.5, UP, "a cell read draws V²·G·t: more voltage, more energy"),
    ("device.g_max_us", lambda v: v * 1.5, UP, "a cell read draws V²·G·t: higher conductances, more energy"),
    ("array.t_read_ns", lambda v: v * 2, UP, "a cell read draws V²·G·t: a longer pulse, more energy"),
    ("mapping.input_bits", lambda v: v - 2, DOWN, "fewer input bits: fewer cycles, each driven, read and converted"),
    ("chip.node_nm", lambda v: v / 2, lambda cfg: DOWN if cfg.energy.shift_add_pj > 0 else NOT_UP,
     "digital C·V² falls as node² (cimsim.costs.scaling); analog does not move (neurram prices no digital block)"),
    ("array.rows", lambda v: v * 2, NOT_UP, "taller arrays: fewer row blocks, so fewer conversions and partial sums"),
    ("array.cols", lambda v: v * 2, lambda cfg: UP if cfg.adc.kind == "integrating" else NOT_UP,
     "wider arrays: no more cells read or conversions per MAC (SAR); but an integrating ADC biases every neuron of "
     "an array while it reads, used or not, so a layer narrower than the array pays for the idle ones"),
    ("energy.dac_pj_per_conversion", lambda v: v * 2 + 0.01, UP, "a dearer row drive, the same drives"),
    ("energy.static_power_mw", lambda v: v + 10.0, UP, "static power charged over a run that takes time"),
]

COMPONENT_FIELDS = [  # (field, how it moves, component, what its energy must do, why)
    ("adc.bits", lambda v: v - 1, "adc", DOWN,
     "one bit fewer: each preset's ADC model (table and walden: half; cimloop above its 4-bit floor) costs less per "
     "conversion, and an integrating ADC decides one bit fewer"),
    ("dac.bits", lambda v: v + 1, "dac", UP,
     "a capacitive DAC's energy per drive doubles per bit; its drives fall by less than half per added bit"),
    ("array.bits_per_cell", lambda v: v - 1, "adc", UP,
     "fewer bits per cell: more slices per weight, each converted"),
]


def energy_by_component(cfg):
    report = cimsim.simulate(NETWORK, cfg, batch=1, progress=False)
    return report.energy_pj, report.breakdown


def moved(before: float, after: float, direction: str) -> bool:
    relative = 1e-9  # the same counts priced the same way agree to float rounding
    if direction == UP:
        return after > before * (1 + relative)
    if direction == DOWN:
        return after < before * (1 - relative)
    return after <= before * (1 + relative)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("field, step, direction, why", FIELDS, ids=[f[0] for f in FIELDS])
def test_energy_per_inference_moves_as_physics_says(preset, field, step, direction, why):
    cfg = cimsim.load_preset(preset)
    direction = direction(cfg) if callable(direction) else direction
    changed = cfg.override({field: type(cfg.get(field))(step(cfg.get(field)))})
    before, after = energy_by_component(cfg)[0], energy_by_component(changed)[0]
    assert moved(before, after, direction), f"{preset}: {field} {cfg.get(field)} -> {changed.get(field)}: " \
        f"energy {before:.6g} -> {after:.6g} pJ, expected it {direction}: {why}"


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("field, step, component, direction, why", COMPONENT_FIELDS, ids=[f[0] for f in COMPONENT_FIELDS])
def test_the_component_a_field_prices_moves_as_physics_says(preset, field, step, component, direction, why):
    cfg = cimsim.load_preset(preset)
    try:
        changed = cfg.override({field: step(cfg.get(field))})
    except cimsim.ConfigError as error:  # the preset's encoding refuses the step: say so rather than pass
        pytest.skip(f"{preset} refuses {field} = {step(cfg.get(field))}: {error}")
    before, after = energy_by_component(cfg)[1].get(component, 0.0), energy_by_component(changed)[1].get(component, 0.0)
    if before == after == 0.0:  # e.g. neurram: its drives are priced per wordline and cycle, its DAC at 0
        pytest.skip(f"{preset} prices no {component} energy: nothing for {field} to move")
    assert moved(before, after, direction), f"{preset}: {field} {cfg.get(field)} -> {changed.get(field)}: " \
        f"{component} {before:.6g} -> {after:.6g} pJ, expected it {direction}: {why}"
