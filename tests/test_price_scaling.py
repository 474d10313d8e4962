"""Every price follows its parameters (issue 13, items 1-3): DAC by resolution, table ADC by width,
digital blocks by width and node. Expected values are the laws written out by hand
(cimsim/costs/scaling.py and the 'table' ADC model), never the code's output."""

import pytest

import cimsim
from cimsim.costs import EnergyModel

ISAAC = cimsim.load_preset("isaac")
RRAM = cimsim.load_preset("rram-22nm")
EXACT = 1e-12  # the laws are closed forms: only float rounding separates code and hand


def unit_pj(cfg, component, action):
    return EnergyModel(cfg).unit_energy_pj(component, action)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_a_capacitive_dac_doubles_its_energy_per_bit(bits):
    # ISAAC's 1-bit driver, 0.390625 pJ (ISAAC-12, -57); a binary-weighted capacitive DAC: × 2^(bits - 1)
    cfg = ISAAC.override({"dac.bits": bits, "energy.dac_model": "capacitive"})
    assert unit_pj(cfg, "dac", "conversions") == pytest.approx(0.390625 * 2 ** (bits - 1), rel=EXACT)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_a_linear_dac_grows_with_its_bits(bits):
    cfg = ISAAC.override({"dac.bits": bits, "energy.dac_model": "linear"})
    assert unit_pj(cfg, "dac", "conversions") == pytest.approx(0.390625 * bits, rel=EXACT)


@pytest.mark.parametrize("model", ["capacitive", "linear"])
@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_peak_isaac_dac_energy_per_mac_is_the_drive_price_over_its_bits(bits, model):
    # Peak: 128 rows driven in each of 16/bits cycles of a 16-bit offset input; 128 rows x 16 outputs
    # (8 cells per weight) MACs per vector: DAC pJ/MAC = 128 * (16/bits) * E(bits) / (128 * 16) = E(bits) / bits.
    drive_pj = {"capacitive": 0.390625 * 2 ** (bits - 1), "linear": 0.390625 * bits}[model]
    figures = cimsim.peak(ISAAC.override({"dac.bits": bits, "energy.dac_model": model}))
    dac_pj_per_mac = figures.energy_share["dac"] * figures.tile_energy_pj_per_mac
    assert dac_pj_per_mac == pytest.approx(drive_pj / bits, rel=1e-9)


@pytest.mark.parametrize("bits", range(4, 11))
def test_the_table_adc_scales_from_its_reference_width_by_walden(bits):
    # ISAAC's 1.5625 pJ at 8 bits (ISAAC-51), × 2^(bits - 8)
    cfg = ISAAC.override({"adc.bits": bits})
    assert unit_pj(cfg, "adc", "conversions") == pytest.approx(1.5625 * 2.0 ** (bits - 8), rel=EXACT)


def test_the_table_adc_is_its_own_value_at_its_reference_width():
    # NeuroSim's 42 fJ at 5 bits (ADC-22); 8 bits: 42 fJ x 2^3
    assert unit_pj(RRAM, "adc", "conversions") == pytest.approx(0.042, rel=EXACT)
    assert unit_pj(RRAM.override({"adc.bits": 8}), "adc", "conversions") == pytest.approx(0.336, rel=EXACT)


@pytest.mark.parametrize("model", ["table", "walden", "survey", "cimloop"])
def test_every_adc_model_costs_more_at_10_bits_than_at_6(model):
    # every model is at least non-decreasing in bits; from 6 to 10 bits each one rises
    def price(bits):
        return unit_pj(ISAAC.override({"adc.bits": bits, "energy.adc_model": model}), "adc", "conversions")

    assert price(10) > price(6)


def test_tile_prices_scale_with_the_node_squared():
    # rram-22nm takes ISAAC's 32 nm per-bit prices to 22 nm: × (22/32)²
    node = (22 / 32) ** 2
    assert unit_pj(RRAM, "buffer", "bits") == pytest.approx(0.0798828125 * node, rel=EXACT)
    assert unit_pj(RRAM, "input_register", "bits") == pytest.approx(0.12109375 * node, rel=EXACT)
    assert unit_pj(RRAM, "output_register", "bits") == pytest.approx(0.1796875 * node, rel=EXACT)
    assert unit_pj(RRAM, "bus", "bits") == pytest.approx(0.05063657407407408 * node, rel=EXACT)
    assert unit_pj(RRAM, "noc", "bit_hops") == pytest.approx(0.081015625 * node, rel=EXACT)


def test_adders_scale_with_their_width_and_node():
    # ISAAC's 16-bit shift-add, 21 fJ at 32 nm (ISAAC-68), at rram-22nm's 8-bit outputs and 22 nm
    assert unit_pj(RRAM, "shift_add", "ops") == pytest.approx(0.021 * (8 / 16) * (22 / 32) ** 2, rel=EXACT)
    assert unit_pj(RRAM, "partial_sum", "adds") == pytest.approx(0.021 * (8 / 16) * (22 / 32) ** 2, rel=EXACT)
    # Horowitz's 32-bit add, 0.1 pJ at 45 nm (HOR-02), at 8 bits and 22 nm
    assert unit_pj(RRAM, "digital", "ops") == pytest.approx(0.1 * (8 / 32) * (22 / 45) ** 2, rel=EXACT)
    assert unit_pj(RRAM, "global_buffer", "bits") == pytest.approx(1.5625 * (22 / 45) ** 2, rel=EXACT)


def test_analog_and_off_chip_prices_do_not_follow_the_node():
    moved = ISAAC.override({"chip.node_nm": 16.0})
    for component, action in [("dac", "conversions"), ("sample_hold", "samples"), ("adc", "conversions"),
                              ("dram", "bits"), ("cell", "v2g_v2_us")]:
        assert unit_pj(moved, component, action) == unit_pj(ISAAC, component, action), component
