"""Wordlines priced as the silicon does, and a workload's input activity (issue 13, items 4 and 7).

``wordline.row_cycles``: every stored row of every array read, every input cycle, driven or not,
at ``energy.wordline_pj_per_row_cycle``; the data-dependent parts (DAC codes, cells' V²·G·t) per
non-zero code. ``workload_input_activity``: the largest activity at which the peak spends no more
per MAC on drives and cells than the workload did. Expected values are hand counts."""

import numpy as np
import pytest

import cimsim
from cimsim.costs.peak import workload_input_activity

NEURRAM = cimsim.load_preset("neurram")
WORDLINE_PJ = 2 * 585.6e-3 * 1.8**2  # 2 wordlines x 585.6 fF x (1.8 V)^2 = 3.794688 pJ per row and cycle (CIM-15)


def test_neurram_pulses_every_wordline_every_cycle_whatever_the_input():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((128, 64))  # one array: 128 rows, 64 signed weights in 128 of its 512 columns
    x = rng.standard_normal((4, 128)) * (rng.random((4, 128)) < 0.1)  # 90 % zeros, signed: 7 bipolar cycles
    m = cimsim.AnalogMatrix(w, NEURRAM, seed=0)
    m.calibrate(x)
    m.ledger = cimsim.Ledger()  # the read only, without the programming
    m.matmul(x)
    row_cycles = 4 * 128 * 7  # vectors x stored rows x magnitude cycles of an 8-bit bipolar input
    assert m.ledger.count("wordline", "row_cycles") == row_cycles
    assert m.ledger.by_component()["wordline"] == pytest.approx(row_cycles * WORDLINE_PJ, rel=1e-9)
    assert m.ledger.count("dac", "conversions") < 0.2 * row_cycles  # the drives follow the data, the wordlines do not


def test_the_wordline_price_leaves_neurrams_peak_where_a_drive_price_had_it():
    # at activity 1 every row is driven every cycle: per row-cycle or per drive is the same energy
    as_drives = NEURRAM.override({"energy.wordline_pj_per_row_cycle": 0.0, "energy.dac_pj_per_conversion": WORDLINE_PJ})
    assert cimsim.peak(NEURRAM).tops_per_watt == pytest.approx(cimsim.peak(as_drives).tops_per_watt, rel=1e-12)
    # at activity 0.25 the drive price saves 3/4 of it; the wordline price saves none
    assert cimsim.peak(NEURRAM, input_activity=0.25).tops_per_watt < cimsim.peak(as_drives, input_activity=0.25).tops_per_watt


ISAAC = cimsim.load_preset("isaac")
MEAN_G_US = (1 / 3 + 40.35677083333333) / 2  # ISAAC's cells at the mean of g_min and g_max


def isaac_full_per_mac(cfg, cycles, outputs=16):
    """One full array at activity 1 per MAC: drives = cycles / outputs; V²G = cycles x cols x v_read² x G / outputs."""
    return cycles / outputs, cycles * 128 * 0.3**2 * MEAN_G_US / outputs


@pytest.mark.parametrize("drive_fraction, v2g_fraction, expected", [(0.3, 0.5, 0.3), (0.6, 0.2, 0.2), (1.0, 1.0, 1.0)])
def test_a_1_bit_dac_activity_is_the_smaller_fraction(drive_fraction, v2g_fraction, expected):
    drives, v2g = isaac_full_per_mac(ISAAC, cycles=16)  # 16-bit offset inputs, 1-bit DAC: 16 cycles, 16 outputs
    reads = [(True, 100.0, 100 * drives * drive_fraction, 100 * v2g * v2g_fraction)]
    assert workload_input_activity(ISAAC, reads) == pytest.approx(expected, rel=1e-12)


def test_a_2_bit_dac_activity_inverts_the_least_code_square():
    cfg = ISAAC.override({"dac.bits": 2})  # 8 cycles, top code 3, volts per code 0.1
    drives, v2g = isaac_full_per_mac(cfg, cycles=8)
    # a = 0.5: a x top = 1.5 -> half the rows at code 1, half at 2: E[c²] = 2.5 of top² = 9
    reads = [(True, 10.0, 10 * drives, 10 * v2g * 2.5 / 9)]
    assert workload_input_activity(cfg, reads) == pytest.approx(0.5, rel=1e-12)


def test_a_workload_with_no_drives_has_activity_0():
    assert workload_input_activity(ISAAC, [(False, 10.0, 0.0, 0.0)]) == 0.0


def test_rram_22nm_streams_unsigned_inputs_at_its_peak_when_that_is_cheaper():
    # two-phase signed: 7 magnitude cycles driven, 14 converted; unsigned: 8 driven, 8 converted.
    # (16 weights of 8 one-bit cells per array.) At activity 0.05 the conversions dominate: unsigned is cheaper
    cfg = cimsim.load_preset("rram-22nm")
    assert cimsim.peak(cfg, input_activity=0.05).macs_per_array_cycle == pytest.approx(128 * 16 / 8, rel=1e-12)
    assert cimsim.peak(cfg).macs_per_array_cycle == pytest.approx(128 * 16 / 14, rel=1e-12)  # at 1: signed
