"""Pricing: the Ledger with energies and layers, the EnergyModel, data-value dependence, latency."""

import numpy as np
import pytest

import cimsim
from cimsim import Ledger
from cimsim.costs.energy import EnergyModel
from cimsim.physics.converters import conversion_plan
from cimsim.costs.latency import read_timing
from cimsim.physics.mapping import input_schedule

ISAAC = cimsim.load_preset("isaac")


# --------------------------------------------------------------------------- Ledger


def test_ledger_adds_counts_and_energies_by_layer():
    led = Ledger()
    led.add("adc", "conversions", 3, 4.5, layer="fc1")
    led.add("adc", "conversions", 1, 1.5, layer="fc2")
    led.add("dac", "conversions", 2, 0.5, layer="fc1")
    assert led.count("adc", "conversions") == 4  # over all layers
    assert led.count("adc", "other") == 0
    assert led.energy_pj == 6.5
    assert led.by_component() == {"adc": 6.0, "dac": 0.5}
    assert led.layers() == ["fc1", "fc2"]
    fc1 = led.layer("fc1")
    assert fc1.energy_pj == 5.0 and fc1.count("adc", "conversions") == 3
    assert fc1 + led.layer("fc2") == led  # the layer views partition the ledger


def test_ledger_to_dict_sums_over_layers_sorted():
    led = Ledger()
    led.add("dac", "conversions", 2, 0.5, layer="b")
    led.add("adc", "conversions", 1, 2.0, layer="a")
    led.add("adc", "conversions", 3, 6.0, layer="b")
    assert led.to_dict() == {
        "adc": {"conversions": {"count": 4.0, "energy_pj": 8.0}},
        "dac": {"conversions": {"count": 2.0, "energy_pj": 0.5}},
    }
    assert list(led.to_dict()) == ["adc", "dac"]
    assert Ledger().to_dict() == {} and Ledger().energy_pj == 0


def ledger_of(*rows):
    led = Ledger()
    for row in rows:
        led.add(*row)
    return led


def test_ledger_addition_is_new_commutative_associative_and_has_an_identity():
    a = ledger_of(("adc", "conversions", 2, 0.5), ("cell", "reads", 0.25, 0.0, "x"))
    b = ledger_of(("adc", "conversions", 3, 0.75), ("dac", "conversions", 1, 0.125))
    c = ledger_of(("cell", "reads", 0.5, 0.0, "x"), ("shift_add", "ops", 8, 0.25))
    total = a + b
    assert total is not a and a == ledger_of(("adc", "conversions", 2, 0.5), ("cell", "reads", 0.25, 0.0, "x"))
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)  # dyadic values: exact in any order
    assert (a + b + c).count("cell", "reads") == 0.75 and (a + b + c).energy_pj == 1.625
    assert a + Ledger() == a
    assert a != b and a != {("adc", "conversions"): 2}


# --------------------------------------------------------------------------- EnergyModel


def test_isaac_prices_are_the_per_event_values_of_the_reference():
    model = EnergyModel(ISAAC)
    assert model.unit_energy_pj("adc", "conversions") == 1.5625  # ISAAC-51
    assert model.unit_energy_pj("dac", "conversions") == 0.390625  # ISAAC-57
    assert model.unit_energy_pj("shift_add", "ops") == 0.021  # ISAAC-68
    # a read is priced physically: V^2 [V^2] * G [uS] * t_read [ns] = fJ; 1 V^2 uS for 1 ns = 1e-3 pJ
    assert model.unit_energy_pj("cell", "v2g_v2_us") == pytest.approx(ISAAC.array.t_read_ns * 1e-3)
    assert model.unit_energy_pj("cell", "writes") == ISAAC.device.write_energy_pj  # a cell programmed
    assert model.unit_energy_pj("cell", "reads") == 0.0  # a read's energy is its V^2 G, counted apart


def test_unknown_action_is_a_config_error_naming_it():
    with pytest.raises(cimsim.ConfigError, match="adc.sneezes"):
        EnergyModel(ISAAC).unit_energy_pj("adc", "sneezes")


def test_repricing_a_ledger_under_another_config_changes_only_the_prices():
    rng = np.random.default_rng(0)
    m = cimsim.AnalogMatrix(rng.standard_normal((128, 16)), ISAAC, seed=0)
    m.matmul(rng.standard_normal((4, 128)))
    cheaper_adc = ISAAC.override({"energy.adc_pj_per_conversion": 0.5})
    repriced = EnergyModel(cheaper_adc).priced(m.ledger)
    conversions = m.ledger.count("adc", "conversions")
    assert repriced.count("adc", "conversions") == conversions
    assert m.ledger.energy_pj - repriced.energy_pj == pytest.approx(conversions * (1.5625 - 0.5), rel=1e-12)


# --------------------------------------------------------------------------- data-value dependence


def energy_of(x: np.ndarray) -> tuple[float, Ledger]:
    rng = np.random.default_rng(1)
    cfg = ISAAC.override({"mapping.input_encoding": "offset"})
    m = cimsim.AnalogMatrix(rng.standard_normal((128, 16)), cfg, seed=0)
    m.calibrate(np.ones((1, 128)))  # one input scale for all three: 1.0 maps to the top code
    write_pj = m.ledger.energy_pj
    m.matmul(x)
    return m.ledger.energy_pj - write_pj, m.ledger


def test_energy_follows_the_input_bits_actually_driven():
    """All-zero inputs drive no row, all-ones inputs drive every row in every cycle (item 7)."""
    zeros, led0 = energy_of(np.zeros((8, 128)))
    random, led_r = energy_of(np.random.default_rng(2).random((8, 128)))
    ones, led1 = energy_of(np.ones((8, 128)))
    assert zeros < random < ones
    # conversions do not depend on the data: the difference is the driven rows and the cells they read
    for led in (led0, led_r, led1):
        assert led.count("adc", "conversions") == led0.count("adc", "conversions")
    assert led0.count("dac", "conversions") == 0 and led0.count("cell", "v2g_v2_us") == 0
    ones_drives = 8 * 128 * 16  # vectors x rows x 16 one-bit cycles, every bit of 2^16 - 1 set
    assert led1.count("dac", "conversions") == ones_drives
    model = EnergyModel(ISAAC)
    dac_pj, read_pj = model.unit_energy_pj("dac", "conversions"), model.unit_energy_pj("cell", "v2g_v2_us")
    for low, high, led_low, led_high in ((zeros, random, led0, led_r), (random, ones, led_r, led1)):
        extra = (led_high.count("dac", "conversions") - led_low.count("dac", "conversions")) * dac_pj + (
            led_high.count("cell", "v2g_v2_us") - led_low.count("cell", "v2g_v2_us")
        ) * read_pj
        assert high - low == pytest.approx(extra, rel=1e-9)


# --------------------------------------------------------------------------- latency


def isaac_timing(cfg=ISAAC):
    schedule = input_schedule(signed=True, cfg=cfg)  # offset inputs: 16 one-bit cycles
    plan = conversion_plan(schedule.weight, cfg.adc.cycles_per_conversion)
    return read_timing(cfg, plan, np.full(plan.segments, cfg.adc.bits))


def test_isaac_cycle_is_the_adc_sharing_and_a_product_takes_fill_plus_cycles():
    timing = isaac_timing()
    assert timing.vector_ns == pytest.approx(16 * 128 / 1.28) and timing.bottleneck == "adc"  # ISAAC-06, -07
    clock_ns = 1 / ISAAC.chip.clock_ghz
    assert timing.fill_ns == pytest.approx(2 * clock_ns + ISAAC.array.t_read_ns)  # the stages but the slowest
    assert timing.read_ns(3) == pytest.approx(timing.fill_ns + 3 * timing.vector_ns)
    assert timing.read_ns(0) == 0
    slow_read = isaac_timing(ISAAC.override({"array.t_read_ns": 250.0}))
    assert slow_read.vector_ns == pytest.approx(16 * 250.0) and slow_read.bottleneck == "array"


def test_matmul_latency_is_vectors_times_cycles_through_the_pipeline():
    rng = np.random.default_rng(3)
    m = cimsim.AnalogMatrix(rng.standard_normal((300, 40)), ISAAC, seed=0)  # several arrays, in parallel
    m.matmul(rng.standard_normal((5, 300)))
    timing = isaac_timing()
    assert m.latency_ns == pytest.approx(timing.fill_ns + 5 * 16 * 100.0)  # 16 one-bit cycles of 100 ns


# --------------------------------------------------------------------------- digital units and area


def test_non_gemm_operations_cost_their_elementary_ops():
    model, led = EnergyModel(ISAAC), Ledger()
    model.charge_digital(led, "softmax", 1000, layer="attn")
    model.charge_digital(led, "activation", 500, layer="fc1")
    # first order: max, exp, sum, divide per softmax element; one compare per activation element
    assert led.count("digital", "ops") == 4 * 1000 + 500
    # HOR-02's 32-bit add at 45 nm, carried to ISAAC's 16-bit outputs (× 16/32) and 32 nm (× (32/45)²)
    assert led.layer("attn").energy_pj == pytest.approx(4000 * 0.1 * (16 / 32) * (32 / 45) ** 2, rel=1e-12)
    with pytest.raises(cimsim.ConfigError, match="gelu"):
        model.charge_digital(led, "gelu", 10)


def test_compound_areas_are_the_sums_of_their_parts():
    from cimsim.costs.area import area_breakdown_um2, area_by_level

    cfg = ISAAC.override({"tile.arrays_per_group": 4, "chip.tiles": 3, "area.chip_overhead_um2": 1000.0})
    level, parts = area_by_level(cfg), area_breakdown_um2(cfg)
    assert level["chip"] == pytest.approx(sum(parts.values()), rel=1e-12)
    a = cfg.area
    array = 128 * 128 * a.cell_um2 + 128 * a.dac_um2 + 128 * a.sample_hold_um2 + 1 * a.adc_um2  # one ADC per 128 columns
    assert level["array"] == pytest.approx(array, rel=1e-12)
    group = 4 * array + a.shift_add_um2_per_group + a.input_register_um2_per_group + a.output_register_um2_per_group
    assert level["array_group"] == pytest.approx(group, rel=1e-12)


HOROWITZ_TO_ISAAC_NODE = (32 / 45) ** 2  # a 45 nm price at ISAAC's 32 nm, E ∝ node²


@pytest.mark.parametrize(
    "component, action, field, factor",
    [  # factor: ISAAC sits at every reference point (1-bit DAC, 16-bit outputs, 32 nm) except Horowitz's 45 nm
        ("dac", "conversions", "dac_pj_per_conversion", 1.0),
        ("sample_hold", "samples", "sample_hold_pj", 1.0),
        ("shift_add", "ops", "shift_add_pj", 1.0),
        ("partial_sum", "adds", "shift_add_pj", 1.0),
        ("input_register", "bits", "input_register_pj_per_bit", 1.0),
        ("output_register", "bits", "output_register_pj_per_bit", 1.0),
        ("buffer", "bits", "buffer_pj_per_bit", 1.0),
        ("bus", "bits", "bus_pj_per_bit_hop", 1.0),
        ("noc", "bit_hops", "noc_pj_per_bit_hop", 1.0),
        ("global_buffer", "bits", "global_buffer_pj_per_bit", HOROWITZ_TO_ISAAC_NODE),
        ("dram", "bits", "dram_pj_per_bit", 1.0),
        ("digital", "ops", "digital_pj_per_op", HOROWITZ_TO_ISAAC_NODE * 16 / 32),  # 32-bit add at 16 bits
        ("static", "ns", "static_power_mw", 1.0),  # mW x ns = pJ
        ("adc", "steps", "adc_pj_per_step", 1.0),
    ],
)
def test_each_action_is_priced_by_its_own_field(component, action, field, factor):
    cfg = ISAAC.override({f"energy.{field}": 0.123})
    assert EnergyModel(cfg).unit_energy_pj(component, action) == pytest.approx(0.123 * factor, rel=1e-12)


def test_integrating_adc_is_priced_by_steps_and_bias_not_per_conversion():
    cfg = cimsim.load_preset("neurram").override({"energy.adc_bias_uw": 2.0})
    model = EnergyModel(cfg)
    assert model.unit_energy_pj("adc", "conversions") == 0.0
    assert model.unit_energy_pj("adc", "active_ns") == pytest.approx(2.0e-3)  # 2 uW for 1 ns = 2 fJ
