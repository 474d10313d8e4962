"""Declared actions and their prices, and the one function that counts an array read.

Expected counts are written out from the formulas of cimsim/costs/array_reads.py's docstring
(and docs/energy.md); nothing here is computed by the code under test but its inputs.
"""

import math

import numpy as np
import pytest

import cimsim
import cimsim.crossbar
from cimsim import ConfigError, Ledger
from cimsim.costs import actions, array_counts, array_reads
from cimsim.costs import peak as peak_module
from cimsim.costs.energy import CIM_PRICES, EnergyModel
from cimsim.costs.von_neumann_energy import VON_NEUMANN_PRICES, BaselineEnergyModel
from cimsim.physics.mapping import input_schedule

ISAAC = cimsim.load_preset("isaac")
VN = cimsim.load_preset("vn-45nm")
READ_ACTIONS = [("dac", "conversions"), ("cell", "reads"), ("cell", "v2g_v2_us"), ("sample_hold", "samples"),
                ("adc", "conversions"), ("shift_add", "ops"), ("partial_sum", "adds"), ("input_register", "bits"),
                ("output_register", "bits"), ("adc", "steps"), ("adc", "active_ns")]


# --------------------------------------------------------------------------- declarations and prices


@pytest.mark.parametrize(
    "declared, rules", [(actions.CIM_ACTIONS, CIM_PRICES), (actions.VON_NEUMANN_ACTIONS, VON_NEUMANN_PRICES)]
)
def test_each_declared_action_is_priced_or_counted_only_and_nothing_else_is_priced(declared, rules):
    keys = [a.key for a in declared]
    assert len(keys) == len(set(keys))  # declared once
    assert set(rules) == {a.key for a in declared if not a.counted_only}
    assert all(a.unit and a.description for a in declared)


@pytest.mark.parametrize("preset", cimsim.list_presets())
def test_a_model_holds_a_price_for_every_declared_action(preset):
    cfg = cimsim.load_preset(preset)
    model = EnergyModel(cfg) if isinstance(cfg, cimsim.ChipConfig) else BaselineEnergyModel(cfg)
    declared = actions.DECLARED[cfg.meta.architecture]
    assert set(model.prices) == {a.key for a in declared}
    assert all(model.prices[a.key] == 0.0 for a in declared if a.counted_only)


def test_the_cell_reads_are_declared_counted_only():
    reads = {a.key: a for a in actions.CIM_ACTIONS}[("cell", "reads")]
    assert reads.counted_only and EnergyModel(ISAAC).unit_energy_pj("cell", "reads") == 0.0


@pytest.mark.parametrize(
    "architecture, cfg, model", [("cim", ISAAC, EnergyModel), ("von-neumann", VN, BaselineEnergyModel)]
)
def test_a_declared_action_without_a_price_is_refused_when_the_model_is_built(monkeypatch, architecture, cfg, model):
    unpriced = actions.Action("adc", "naps", "naps", "a test action nobody priced")
    monkeypatch.setitem(actions.DECLARED, architecture, actions.DECLARED[architecture] + (unpriced,))
    with pytest.raises(ConfigError, match=r"action adc\.naps is declared .* but has no price"):
        model(cfg)


def test_an_unpriced_declaration_stops_a_simulation_with_a_config_error(monkeypatch):
    unpriced = actions.Action("adc", "naps", "naps", "a test action nobody priced")
    monkeypatch.setitem(actions.DECLARED, "cim", actions.CIM_ACTIONS + (unpriced,))
    workload = cimsim.Workload([cimsim.Gemm("fc", m=2, k=8, n=4)], name="fc")
    with pytest.raises(ConfigError, match=r"adc\.naps"):
        cimsim.simulate(workload, ISAAC, progress=False)


def test_charging_an_undeclared_action_names_it_and_lists_the_declared_ones():
    with pytest.raises(ConfigError, match=r"adc\.naps is not declared .*declared: cell\.reads, cell\.v2g_v2_us, "):
        EnergyModel(ISAAC).charge(Ledger(), "adc", "naps", 1.0)
    with pytest.raises(ConfigError, match=r"adc\.conversions is not declared .*declared: pe\.macs, "):
        BaselineEnergyModel(VN).charge(Ledger(), "adc", "conversions", 1.0)


# --------------------------------------------------------------------------- the one counting function


def small_config(kind: str) -> cimsim.ChipConfig:
    """16-row, 11-column arrays; 5-bit unsigned inputs on a 2-bit DAC: 3 cycles of weight 1, 4, 16."""
    return cimsim.load_preset("ideal").override({
        "array.rows": 16, "array.cols": 11, "array.bits_per_cell": 2, "dac.bits": 2, "mapping.input_bits": 5,
        "mapping.output_bits": 12, "mapping.flip_columns": False, "adc.bits": 8, "adc.kind": kind,
        "adc.columns_per_adc": 4, "adc.step_ns": 2.0, "device.v_read": 0.3,
    })


SHAPE = array_reads.ReadShape(stored_rows=37, outputs=5, row_blocks=3, column_arrays=2, conversion_columns=30, arrays=5)
ACTIVITY = array_reads.ReadActivity(vectors=4, row_drives=100.0, cell_reads=700.0, code_sq_g_us=1234.5)


def expected_common(cfg) -> dict:
    v, r, c = 4, 3, 30  # vectors, row blocks, conversion columns per row block
    segments = 3  # one conversion per cycle, one sample each
    return {
        ("dac", "conversions"): 100.0,
        ("wordline", "row_cycles"): v * 37 * 2 * 3,  # every stored row of both column arrays, 3 input cycles
        ("cell", "reads"): 700.0,
        ("cell", "v2g_v2_us"): 1234.5 * (0.3 / 3) ** 2,  # volts per code: v_read / (2^d - 1)
        ("sample_hold", "samples"): v * r * c * segments,
        ("adc", "conversions"): v * r * c * segments,
        ("shift_add", "ops"): v * r * c * segments,
        ("partial_sum", "adds"): v * 5 * (r - 1),
        ("input_register", "bits"): v * 37 * 5 * 1,  # K x b_x once: both column arrays sit in one 8-array group
        ("output_register", "bits"): v * r * 5 * 12,  # each row block's 5 partial outputs of 12 bits
    }


def test_column_arrays_in_separate_groups_fill_a_register_each():
    # one array per group: the 2 column arrays of a row block take their inputs from 2 registers
    cfg = small_config("sar").override({"tile.arrays_per_group": 1})
    counts = {(c, a): n for c, a, n in array_reads.array_read_actions(SHAPE, ACTIVITY, array_reads.array_reading(cfg, signed=False), cfg)}
    assert counts[("input_register", "bits")] == 4 * 37 * 5 * 2  # v x K x b_x x 2 groups


def counted(cfg) -> dict:
    result = array_reads.array_read_actions(SHAPE, ACTIVITY, array_reads.array_reading(cfg, signed=False), cfg)
    assert len(result) == len({(c, a) for c, a, _ in result})  # each action once
    return {(c, a): n for c, a, n in result}


def test_a_sar_read_counts_by_the_formulas():
    cfg = small_config("sar")
    found = counted(cfg)
    assert found.keys() == expected_common(cfg).keys()  # a SAR ADC adds nothing of its own
    for key, value in expected_common(cfg).items():
        assert found[key] == pytest.approx(value, rel=1e-15), key


def test_an_integrating_read_adds_its_bit_decisions_and_bias_time():
    cfg = small_config("integrating")
    found = counted(cfg)
    # decisions per segment (tests/test_adc_kinds.py derives them): 5, 7 and 8 for cycles of weight 1, 4, 16
    decisions = 5 + 7 + 8
    # sequential stages per segment: 4 conversions per ADC x (1 sample + decisions + 1 reset) x 2 ns
    vector_ns = 4 * 2.0 * ((1 + 5 + 1) + (1 + 7 + 1) + (1 + 8 + 1))
    adcs_per_array = math.ceil(11 / 4)
    expected = expected_common(cfg) | {
        ("adc", "steps"): 4 * 3 * 30 * decisions,
        ("adc", "active_ns"): 5 * adcs_per_array * 4 * vector_ns,  # occupied arrays' ADCs over the read
    }
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        assert found[key] == pytest.approx(value, rel=1e-15), key


def test_per_column_decisions_are_summed_and_one_column_stands_for_all():
    cfg = small_config("integrating")
    adc = cimsim.physics.converters.Adc.for_config(cfg)
    schedule = input_schedule(False, cfg)  # 3 cycles of weight 1, 4, 16
    np.testing.assert_array_equal(schedule.weight, 4.0 ** np.arange(3))
    conv = cimsim.physics.converters.conversions(cfg, adc, schedule, np.array([144 / 255, 1.0, 50.0]))
    assert array_reads.row_block_decisions(conv, 3) == conv.decisions.sum()
    one = cimsim.physics.converters.conversions(cfg, adc, schedule, np.array([144 / 255]))
    assert array_reads.row_block_decisions(one, 30) == 30 * (5 + 7 + 8)


def test_tile_movement_writes_and_reads_inputs_and_writes_outputs():
    assert array_reads.tile_movement(100.0, 7.0) == [("buffer", "bits", 207.0), ("bus", "bits", 107.0)]


def zeroing_spy(calls: list):
    """The one function, recording its calls and returning its actions with every count set to 0."""
    def spy(*args):
        calls.append(args)
        return [(c, a, 0.0) for c, a, _ in array_reads.array_read_actions(*args)]
    return spy


@pytest.mark.parametrize("preset", ["isaac", "neurram"])
def test_the_functional_path_counts_only_through_the_one_function(monkeypatch, preset):
    calls: list = []
    monkeypatch.setattr(cimsim.crossbar, "array_read_actions", zeroing_spy(calls))
    cfg = cimsim.load_preset(preset)
    rng = np.random.default_rng(0)
    m = cimsim.AnalogMatrix(rng.standard_normal((200, 20)), cfg, seed=0)
    m.calibrate(rng.random((8, 200)))
    m.matmul(rng.random((8, 200)))
    assert calls
    assert m.ledger.count("cell", "writes") > 0  # programming is not a read
    assert all(m.ledger.count(*key) == 0 for key in READ_ACTIONS)


@pytest.mark.parametrize("preset", ["isaac", "neurram"])
def test_the_analytical_path_counts_only_through_the_one_function(monkeypatch, preset):
    calls: list = []
    monkeypatch.setattr(array_counts, "array_read_actions", zeroing_spy(calls))
    cfg = cimsim.load_preset(preset)
    w = np.random.default_rng(1).standard_normal((200, 20))
    fp = array_counts.footprint(w, 200, 20, cfg)
    counts = array_counts.read_counts(fp, array_counts.measured_statistics(np.ones((3, 200)), cfg), 3, cfg)
    assert calls and calls[0][0] is fp
    assert counts and all(n == 0 for _, _, n in counts)


@pytest.mark.parametrize("preset", ["isaac", "neurram"])
def test_the_peak_path_counts_only_through_the_one_function(monkeypatch, preset):
    calls: list = []
    monkeypatch.setattr(peak_module, "array_read_actions", zeroing_spy(calls))
    ledger, _, _ = peak_module.array_vector_ledger(cimsim.load_preset(preset))
    assert calls
    assert all(ledger.count(*key) == 0 for key in READ_ACTIONS)
    assert ledger.count("buffer", "bits") > 0  # data movement is counted beside the reads
