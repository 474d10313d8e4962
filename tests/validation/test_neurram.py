"""NeuRRAM (Wan et al., Nature 2022) against cimsim's peak figures on the ``neurram`` preset.

Targets: the 14 (output bits, input bits, one-phase) rows of TOPS and TOPS/W and the 8 rows of
the per-op energy breakdown (wordline switching, neuron, input pulses) of docs/reference/silicon_macros.json
entry ``cimloop_ref_wan_nature_2022`` (CiMLoop's digitisation of Fig. 12; rows CIM-07..15 of
reference_figures.csv). The reference's "fJ per MAC" is per operation (1 MAC = 2 ops; CiMLoop
multiplies it by 256·128·2 ops per core MVM), so cimsim's energies are compared per operation.

The model (docs/neurram-model.md) counts, per core MVM: one wordline drive per input and input
bit; one read of every cell per input bit; per conversion, a neuron sample per unit of input
significance and one step per output bit it resolves (fewer for the less significant segment of
a two-phase input), and the neuron's bias over the whole read. Four constants in the preset are
fitted (docs/neurram-model.md says to which rows); the rest are sourced. Tolerances are the
issue's: 15 % on each TOPS/W row, 20 % on each energy part. Row (8, 6, two-phase) of the
reference is internally inconsistent (its parts sum to 9.18 TOPS/W, its TOPS/W is 8.26), so no
model matching its parts can be closer than ~11 % there.

Run this file as a script to print the tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cimsim
from cimsim.costs.peak import array_vector_ledger, peak
from cimsim.validation import design
from cimsim.validation.designs import neurram_overrides

NEURRAM = cimsim.load_preset("neurram")
SILICON_MACROS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "silicon_macros.json"

# (output bits, input bits, one-phase) -> (TOPS for 48 cores, TOPS/W); CIM-07..14
TOPS_AND_TOPS_PER_W = {
    (3, 1, 1): (2.12230988, 43.07875866),
    (4, 2, 1): (1.793083771, 40.33412834),
    (5, 3, 1): (1.165400233, 23.09069279),
    (6, 4, 1): (0.7438677864, 15.95409517),
    (7, 5, 1): (0.4515642, 11.32999012),
    (8, 6, 1): (0.260797508, 9.12235241),
    (3, 1, 0): (2.12230988, 43.07875866),
    (4, 2, 0): (1.793083771, 40.33412834),
    (5, 3, 0): (1.165400233, 23.09069279),
    (6, 4, 0): (0.7438677864, 15.95409517),
    (7, 5, 0): (0.5254091287, 11.03166076),
    (8, 6, 0): (0.4177183338, 8.257196816),
    (9, 7, 0): (0.343873405, 7.750037817),
    (10, 8, 0): (0.2638743409, 6.437388185),
}
# (output bits, input bits, one-phase) -> fJ per op: wordline switching, neuron, input pulses; CIM-15
ENERGY_PARTS_FJ_PER_OP = {
    (3, 1, 0): (8.99015248, 10.6186848, 3.446220545),
    (4, 2, 0): (8.270951256, 12.38674172, 3.955661604),
    (5, 3, 0): (15.46307324, 20.11826462, 7.73153662),
    (6, 4, 0): (21.75617998, 29.1084171, 11.50740478),
    (7, 5, 0): (30.92613276, 44.21188287, 14.0246365),
    (8, 6, 0): (37.2192395, 52.48282041, 19.23892768),
    (9, 7, 0): (43.69214654, 61.83258722, 22.83498524),
    (10, 8, 0): (50.52466791, 75.85721686, 27.50986693),
}
PARTS = ("wordline switching", "neuron", "input pulses")
COMPONENTS = ("wordline", "adc", "cell")  # cimsim's components for the three parts


def configured(out_bits: int, in_bits: int, one_phase: int) -> cimsim.ChipConfig:
    """The preset at one operating point, with the validation registry's overrides
    (cimsim.validation.designs.neurram_overrides: a 1-bit input is +-1, inputs of 4 or more
    magnitude bits split into two segments unless one-phase, Fig. 3f)."""
    return NEURRAM.override(neurram_overrides(out_bits, in_bits, one_phase))


def energy_parts_fj_per_op(point) -> tuple[float, ...]:
    ledger, macs, _ = array_vector_ledger(configured(*point))
    by_component = ledger.by_component()
    return tuple(by_component.get(c, 0.0) * 1e3 / (2 * macs) for c in COMPONENTS)


def relative_error(model: float, published: float) -> float:
    return (model - published) / published


@pytest.mark.parametrize("point", list(TOPS_AND_TOPS_PER_W), ids=lambda p: "out%d-in%d-onephase%d" % p)
def test_tops_per_watt_within_15_percent(point):
    figures = peak(configured(*point))
    assert abs(relative_error(figures.tops_per_watt, TOPS_AND_TOPS_PER_W[point][1])) <= 0.15


@pytest.mark.parametrize("point", list(TOPS_AND_TOPS_PER_W), ids=lambda p: "out%d-in%d-onephase%d" % p)
def test_throughput_within_5_percent(point):
    """Not required by the issue; the step time is fitted to these rows (max 2.1 % in the fit)."""
    assert abs(relative_error(peak(configured(*point)).tops, TOPS_AND_TOPS_PER_W[point][0])) <= 0.05


@pytest.mark.parametrize("point", list(ENERGY_PARTS_FJ_PER_OP), ids=lambda p: "out%d-in%d" % p[:2])
def test_energy_parts_within_20_percent(point):
    for model, published in zip(energy_parts_fj_per_op(point), ENERGY_PARTS_FJ_PER_OP[point]):
        assert abs(relative_error(model, published)) <= 0.20


def test_neuron_energy_grows_linearly_with_output_bits():
    """Physics, not lookup: at fixed inputs, each output bit adds one decision step per neuron."""
    energies = [energy_parts_fj_per_op((bits, 3, 1))[1] for bits in (4, 5, 6, 7)]
    steps = [b - a for a, b in zip(energies, energies[1:])]
    assert min(steps) > 0 and max(steps) == pytest.approx(min(steps), rel=0.05)


def test_embedded_targets_are_the_reference_figures():
    macros = {m["id"]: m for m in json.loads(SILICON_MACROS.read_text(encoding="utf-8"))["macros"]}
    outputs = macros["cimloop_ref_wan_nature_2022"]["outputs"]
    key = lambda point: ",".join(map(str, point))  # noqa: E731
    for point, values in TOPS_AND_TOPS_PER_W.items():
        assert tuple(outputs["tops_and_tops_per_w_by_outbits_inbits_onephase"][key(point)]) == values
    for point, values in ENERGY_PARTS_FJ_PER_OP.items():
        assert tuple(outputs["energy_fJ_per_MAC_WLswitch_neuron_inputpulses_by_outbits_inbits_onephase"][key(point)]) == values


def test_the_registry_holds_these_points_fitted_on_one_phase_only():
    """The registry (cimsim validate) carries the 14 points as TOPS and TOPS/W; 1-phase ones are the fitted ones."""
    registry = design("neurram")
    held = {(p.point, p.metric): (p.published, p.fitted) for p in registry.points}
    assert len(held) == 2 * len(TOPS_AND_TOPS_PER_W)
    for (out_bits, in_bits, one_phase), (tops, tops_per_w) in TOPS_AND_TOPS_PER_W.items():
        label = f"{in_bits}b in, {out_bits}b out, {'1' if one_phase else '2'}-phase"
        assert held[(label, "tops")] == (tops, bool(one_phase))
        assert held[(label, "tops_per_watt")] == (tops_per_w, bool(one_phase))


def tables() -> str:
    lines = [f"{'out,in,1ph':<12}{'TOPS/W ref':>11}{'cimsim':>9}{'error':>8}{'TOPS ref':>10}{'cimsim':>9}{'error':>8}"]
    for point, (tops, tops_per_w) in TOPS_AND_TOPS_PER_W.items():
        f = peak(configured(*point))
        lines.append(
            f"{','.join(map(str, point)):<12}{tops_per_w:>11.4g}{f.tops_per_watt:>9.4g}"
            f"{100 * relative_error(f.tops_per_watt, tops_per_w):>+7.1f}%{tops:>10.4g}{f.tops:>9.4g}"
            f"{100 * relative_error(f.tops, tops):>+7.1f}%"
        )
    lines += ["", f"{'out,in':<8}" + "".join(f"{p + ' ref / cimsim':>34}" for p in PARTS)]
    for point, published in ENERGY_PARTS_FJ_PER_OP.items():
        cells = "".join(
            f"{ref:>12.4g} / {model:<8.4g}{100 * relative_error(model, ref):>+7.1f}%"
            for ref, model in zip(published, energy_parts_fj_per_op(point))
        )
        lines.append(f"{'%d,%d' % point[:2]:<8}{cells}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables())
