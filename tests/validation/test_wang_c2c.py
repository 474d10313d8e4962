"""Intel's 22 nm C-2C SRAM CIM macro (Wang et al., VLSI 2022 / JSSC 2023) against ``wang-c2c-22nm``.

Targets (silicon_macros.json cimloop_ref_wang_vlsi_2022; rows CIM-30..34): TOPS/W at 0.7 to
1.1 V (CIM-34), TOPS at 0.7 and 1.1 V (CIM-31) and the ADC / DAC / MAC energy split 34 / 22 / 40 %
(CIM-32). Fitted (3 constants): the ADC and DAC energies and the ladder's equivalent conductance,
on the 1.0 V TOPS/W and the ADC and DAC shares; the read time is the 0.7 V MVM period (CIM-31).
Held out: the other four supplies (V^2 energy, 1/V delay), the 1.1 V TOPS and the MAC share.
Bounds are the issue's: 15 % on TOPS/W and TOPS, 10 percentage points on shares.
"""

from __future__ import annotations

import pytest
from registry_checks import published_by_key, relative_error, share_difference_points

import cimsim
from cimsim.validation import configured, design

WANG = design("wang-c2c-22nm")
TOPS_PER_W = {"0.7 V": 31.998, "0.8 V": 22.59, "0.9 V": 18.439, "1.0 V": 16.376, "1.1 V": 15.467}  # CIM-34
TOPS = {"0.7 V": 0.3, "1.1 V": 0.5}  # CIM-31
SHARES = {"share:adc": 34.0, "share:dac": 22.0, "share:cell": 40.0}  # CIM-32 (ADC, DAC, MAC)


def test_registry_holds_the_published_figures():
    expected = {(v, "tops_per_watt"): x for v, x in TOPS_PER_W.items()}
    expected |= {(v, "tops"): x for v, x in TOPS.items()} | {("1.0 V", m): x for m, x in SHARES.items()}
    assert published_by_key(WANG) == expected


def test_fitted_points_are_reproduced():
    assert abs(relative_error(WANG, "1.0 V", "tops_per_watt")) <= 1e-3
    assert abs(relative_error(WANG, "0.7 V", "tops")) <= 1e-3
    assert abs(share_difference_points(WANG, "1.0 V", "share:adc")) <= 0.1
    assert abs(share_difference_points(WANG, "1.0 V", "share:dac")) <= 0.1


@pytest.mark.parametrize("supply", ["0.7 V", "0.8 V", "0.9 V", "1.1 V"])
def test_held_out_supplies_within_15_percent(supply):
    assert abs(relative_error(WANG, supply, "tops_per_watt")) <= 0.15


def test_held_out_throughput_within_15_percent():
    assert abs(relative_error(WANG, "1.1 V", "tops")) <= 0.15


def test_held_out_mac_share_within_10_points():
    """The MAC share is what the ADC and DAC leave: 44 % against 40 % (the 4 % 'misc' is not modelled)."""
    assert abs(share_difference_points(WANG, "1.0 V", "share:cell")) <= 10.0


def test_a_lower_supply_scales_energies_by_v_squared_and_delays_by_one_over_v():
    """The registry's first-order laws written out at 0.7 V from the 1.0 V preset (ratio r = 0.7)."""
    r = 0.7
    nominal = cimsim.load_preset("wang-c2c-22nm")
    (point,) = [p for p in WANG.points if (p.point, p.metric) == ("0.7 V", "tops_per_watt")]
    scaled = configured(WANG, point)
    assert scaled.energy.adc_pj_per_conversion == pytest.approx(nominal.energy.adc_pj_per_conversion * r**2, rel=1e-12)
    assert scaled.energy.dac_pj_per_conversion == pytest.approx(nominal.energy.dac_pj_per_conversion * r**2, rel=1e-12)
    assert scaled.array.t_read_ns == pytest.approx(nominal.array.t_read_ns / r, rel=1e-12)
    # the cell: V^2 * G * t = (r V)^2 * (r G) * (t / r) = r^2 of the nominal
    cell = lambda c: c.device.v_read**2 * c.device.g_max_us * c.array.t_read_ns  # noqa: E731
    assert cell(scaled) == pytest.approx(cell(nominal) * r**2, rel=1e-12)


if __name__ == "__main__":
    from cimsim.validation import table_text, validate

    print(table_text(validate([WANG])))
