"""Princeton's 65 nm charge-domain SRAM CIM unit (Jia et al., JSSC 2020) against ``jia-65nm``.

Targets (silicon_macros.json cimloop_ref_jia_jssc_2020; rows CIM-35/36), 1-b inputs and weights:
400 TOPS/W and 0.874 TOPS at 0.85 V (fitted: the cell's equivalent capacitance; the read time is
the 0.85 V MVM period), 2.185 TOPS at 1.2 V (fitted: the delay exponent k of delays ~ (V0/V)^k,
2.6578; the first-order k = 1 gives 1.234 TOPS, -43.5 %: the chip runs 2.5x faster at 1.41x the
supply, near the 65 nm threshold), 192 TOPS/W at 1.2 V (held out, by the V^2 energy law). The
ADC energy is CIM-36's 1.79 pJ per use, sourced. Held out too: CIM-36's CiM energy per ADC use
(9.7 pJ at 0.85 V, 20.4 pJ at 1.2 V) and the 1.2 V ADC energy per use (3.56 pJ). The CiM energy
per ADC use checks the chip's structure: the CIMU folds three 768-row columns onto each of its
256 ADCs, so a conversion sums 2304 rows; with one ADC per 768-row column the same 400 TOPS/W
would leave 2.05 pJ of CiM per use (-79 %). Every held-out point is within the issue's 15 %.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from registry_checks import published_by_key, relative_error

import cimsim
from cimsim.costs.peak import array_vector_ledger, cheapest_signedness
from cimsim.validation import design, simulated

JIA = design("jia-65nm")
CIM = "pj_per_adc_use:cell+dac+wordline"
PUBLISHED = {("0.85 V, 1 b", "tops_per_watt"): 400.0, ("1.2 V, 1 b", "tops_per_watt"): 192.0,  # CIM-35
             ("0.85 V, 1 b", "tops"): 0.874, ("1.2 V, 1 b", "tops"): 2.185,
             ("0.85 V, 1 b", CIM): 9.7, ("1.2 V, 1 b", CIM): 20.4, ("1.2 V, 1 b", "pj_per_adc_use:adc"): 3.56}  # CIM-36
HELD_OUT_WITHIN_15_PERCENT = [("1.2 V, 1 b", "tops_per_watt"), ("0.85 V, 1 b", CIM), ("1.2 V, 1 b", CIM),
                              ("1.2 V, 1 b", "pj_per_adc_use:adc")]
FOLDED_ROWS = 3 * 768  # rows one conversion sums: three folded 768-row columns per ADC (CIM-36, 590 kb = 2304 x 256)


def test_registry_holds_the_published_figures():
    assert published_by_key(JIA) == PUBLISHED


@pytest.mark.parametrize("key", [("0.85 V, 1 b", "tops_per_watt"), ("0.85 V, 1 b", "tops"), ("1.2 V, 1 b", "tops")],
                         ids=" ".join)
def test_fitted_points_are_reproduced(key):
    assert abs(relative_error(JIA, *key)) <= 1e-3


@pytest.mark.parametrize("key", HELD_OUT_WITHIN_15_PERCENT, ids=" ".join)
def test_held_out_points_within_15_percent(key):
    assert abs(relative_error(JIA, *key)) <= 0.15


def test_a_conversion_sums_the_folded_rows():
    """One MAC per row and weight column: the MACs of a vector over its conversions are the rows one ADC sums."""
    cfg = cimsim.load_preset("jia-65nm")
    ledger, macs, _ = array_vector_ledger(cfg, signed=cheapest_signedness(cfg))
    assert macs / ledger.count("adc", "conversions") == FOLDED_ROWS


def test_the_delay_exponent_sets_the_throughput_and_not_the_energy():
    """TOPS at 1.2 V over 0.85 V is (1.2/0.85)^k; a capacitive cell's G*t, hence every energy, does not depend on k."""
    (point,) = [p for p in JIA.points if (p.point, p.metric) == ("1.2 V, 1 b", "tops")]
    first_order = replace(JIA, fitted_delay_exponent=None)
    tops = {k: simulated(d, point) for k, d in ((JIA.delay_exponent, JIA), (1.0, first_order))}
    assert tops[JIA.delay_exponent] / tops[1.0] == pytest.approx((1.2 / 0.85) ** (JIA.delay_exponent - 1), rel=1e-9)
    (efficiency,) = [p for p in JIA.points if (p.point, p.metric) == ("1.2 V, 1 b", "tops_per_watt")]
    assert simulated(JIA, efficiency) == pytest.approx(simulated(first_order, efficiency), rel=1e-12)


def test_a_capacitive_cell_costs_half_c_v_squared_per_read_at_peak():
    """C_eq = g_max * t_read (uS * ns = fF); half the cells hold a 1 (g_min = 0): 0.5 * C_eq * V^2 per cell read."""
    cfg = cimsim.load_preset("jia-65nm")
    ledger, _, _ = array_vector_ledger(cfg)
    c_eq_ff = cfg.device.g_max_us * cfg.array.t_read_ns
    expected_fj = 0.5 * c_eq_ff * cfg.device.v_read**2
    per_read_fj = 1e3 * ledger.by_component()["cell"] / ledger.count("cell", "reads")
    assert per_read_fj == pytest.approx(expected_fj, rel=1e-12)


if __name__ == "__main__":
    from cimsim.validation import table_text, validate

    print(table_text(validate([JIA])))
