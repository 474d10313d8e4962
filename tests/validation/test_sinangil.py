"""TSMC's 7 nm SRAM CIM macro (Dong ISSCC 2020 / Sinangil JSSC 2021) against ``sinangil-7nm``.

Targets (silicon_macros.json cimloop_ref_sinangil_jssc_2021; rows CIM-26..29): TOPS/W at average
output 15, 6 and 0 at 0.8 V (CIM-27) and 1.0 V (CIM-28), 372.4 and 455.1 GOPS. Each point is
evaluated at the input activity CiMLoop drives for it, 0.25*sqrt(output). Fitted (3 constants) on
0.8 V outputs 15 and 0 and 372.4 GOPS; held out: 0.8 V output 6 and every 1.0 V point (V^2
energy, 1/V delay). All held-out points are within the issue's 15 % but one: 1.0 V output 6
(321 TOPS/W) is -33.8 %. The published 1.0 V curve puts output 6 at 27 % of the way from output
0's energy to output 15's, the 0.8 V curve at 56 %: no energy law whose data dependence keeps
its shape across supplies (cimsim's, CiMLoop's) can meet both; asserted within 40 %
(docs/validation.md). CiMLoop's authors attribute this point to measurement variation
(sinangil_jssc_2021/_tests.py, test_tops).

Also held out: the paper's worst-case supply sweep (Fig. 13(b), 0.65 to 1.0 V; values in CIM-29's
fJ/MAC), which tests the V^2 law on its own. At 1.0 V it gives 13.125 fJ/MAC (152 TOPS/W) where
Table I gives 189.3 TOPS/W at the same worst case: the paper's figure and table differ by 24 %,
and cimsim's V^2 law (167.9 TOPS/W) lies between them.
"""

from __future__ import annotations

import pytest
from registry_checks import published_by_key, relative_error

import cimsim
from cimsim.validation import design

SINANGIL = design("sinangil-7nm")
PUBLISHED = {
    ("0.8 V, output 15", "tops_per_watt"): 262.3, ("0.8 V, output 6", "tops_per_watt"): 351.0,  # CIM-27
    ("0.8 V, output 0", "tops_per_watt"): 610.5,
    ("1.0 V, output 15", "tops_per_watt"): 189.3, ("1.0 V, output 6", "tops_per_watt"): 321.0,  # CIM-28
    ("1.0 V, output 0", "tops_per_watt"): 435.5,
    ("0.8 V", "tops"): 0.3724, ("1.0 V", "tops"): 0.4551,  # CIM-26, CIM-27
    **{(f"{v:.2f} V, output 15", "fj_per_mac"): fj for v, fj in {  # Fig. 13(b), cimloop_ref_sinangil_jssc_2021
        0.65: 5.109375, 0.7: 5.875, 0.75: 6.796875, 0.8: 7.8125, 0.85: 9.03125, 0.9: 10.25, 0.95: 11.75, 1.0: 13.125}.items()},
}
FITTED = [("0.8 V, output 15", "tops_per_watt"), ("0.8 V, output 0", "tops_per_watt"), ("0.8 V", "tops")]
HELD_OUT = [("0.8 V, output 6", "tops_per_watt"), ("1.0 V, output 15", "tops_per_watt"),
            ("1.0 V, output 0", "tops_per_watt"), ("1.0 V", "tops"),
            *((point, metric) for point, metric in PUBLISHED if metric == "fj_per_mac")]
INCONSISTENT_POINT_BOUND = 0.40  # 1.0 V output 6 (module docstring)


def test_registry_holds_the_published_figures():
    assert published_by_key(SINANGIL) == PUBLISHED


@pytest.mark.parametrize("key", FITTED, ids=" ".join)
def test_fitted_points_are_reproduced(key):
    assert abs(relative_error(SINANGIL, *key)) <= 1e-3


@pytest.mark.parametrize("key", HELD_OUT, ids=" ".join)
def test_held_out_points_within_15_percent(key):
    assert abs(relative_error(SINANGIL, *key)) <= 0.15


def test_the_inconsistent_point_within_the_documented_bound():
    assert abs(relative_error(SINANGIL, "1.0 V, output 6", "tops_per_watt")) <= INCONSISTENT_POINT_BOUND


def test_energy_per_mac_is_affine_in_the_input_activity():
    """Capacitive cells switch in proportion to the rows driven; the ADCs convert every column regardless."""
    cfg = cimsim.load_preset("sinangil-7nm")
    energy = {a: cimsim.peak(cfg, input_density=a).energy_pj_per_mac for a in (0.25, 0.5, 1.0)}
    assert energy[0.5] - energy[0.25] == pytest.approx((energy[1.0] - energy[0.5]) / 2, rel=1e-9)
    assert energy[0.25] < energy[0.5] < energy[1.0]


if __name__ == "__main__":
    from cimsim.validation import table_text, validate

    print(table_text(validate([SINANGIL])))
