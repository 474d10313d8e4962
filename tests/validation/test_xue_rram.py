"""Xue et al.'s 22 nm 2 Mb ReRAM CIM macro against the ``xue-rram-22nm`` preset.

Targets: CIM-02 (Nature Electronics 2020) 146.21 TOPS/W binary (fitted: the wordline driver energy) and
36.61 TOPS/W multibit (held out); CIM-01 (ISSCC 2020, the conference version) 121 to 28 TOPS/W
(held out). The journal's multibit point is within the issue's 15 %. The conference figures are
not: the two publications of the macro differ by 17 % at the binary end and 24 % at the
multibit end, so a preset fitted to one is 21 % and 31 % off the other (docs/validation.md);
the test asserts 35 % there, the measured error plus margin for refits, and states why.
"""

from __future__ import annotations

import pytest
from registry_checks import published_by_key, relative_error

import cimsim
from cimsim.validation import design

XUE = design("xue-rram-22nm")
PUBLISHED = {
    ("binary (Nat. Electron.)", "tops_per_watt"): 146.21,   # CIM-02
    ("multibit (Nat. Electron.)", "tops_per_watt"): 36.61,  # CIM-02
    ("low-precision end (ISSCC)", "tops_per_watt"): 121.0,  # CIM-01
    ("high-precision end (ISSCC)", "tops_per_watt"): 28.0,  # CIM-01
}
CONFERENCE_BOUND = 0.35  # the two publications disagree by 17-24 % (module docstring)


def test_registry_holds_the_published_figures():
    assert published_by_key(XUE) == PUBLISHED


def test_fitted_point_is_reproduced():
    assert abs(relative_error(XUE, "binary (Nat. Electron.)", "tops_per_watt")) <= 1e-3


def test_held_out_journal_point_within_15_percent():
    assert abs(relative_error(XUE, "multibit (Nat. Electron.)", "tops_per_watt")) <= 0.15


@pytest.mark.parametrize("point", ["low-precision end (ISSCC)", "high-precision end (ISSCC)"])
def test_conference_points_within_the_documented_bound(point):
    assert abs(relative_error(XUE, point, "tops_per_watt")) <= CONFERENCE_BOUND


def test_multibit_costs_four_times_the_energy_per_mac():
    """Hand count: 2 input cycles x 2 cells per sign for 3-bit weights = 4x the drives, cell reads and
    conversions per MAC of binary, so 4x the energy per MAC: the preset's 'cimloop' ADC costs the same at 2 and
    4 bits (CiMLoop's model is flat at its 4-bit floor, ADC-18..21), and its DAC stays 1 bit."""
    binary = cimsim.peak(cimsim.load_preset("xue-rram-22nm"))
    multibit = cimsim.peak(cimsim.load_preset("xue-rram-22nm").override(
        {"mapping.input_bits": 2, "mapping.weight_bits": 3, "adc.bits": 4, "mapping.output_bits": 4}))
    assert binary.tops_per_watt / multibit.tops_per_watt == pytest.approx(4.0, rel=1e-12)


if __name__ == "__main__":
    from cimsim.validation import table_text, validate

    print(table_text(validate([XUE])))
