"""cimsim.costs.adc_energy: ADC energy per conversion and area by named model.

Reference row ids (ISAAC-xx, ADC-xx) are those of docs/reference/reference_figures.csv.
Where a reference value is printed rounded, the tolerance is half a unit in its last printed digit.
"""

import csv
import math
from importlib import resources

import numpy as np
import pytest

from cimsim.costs.adc_energy import (
    ADC_ENERGY_MODELS,
    adc_area_um2,
    adc_energy_pj,
    cimloop_area_um2,
    cimloop_energy_pj,
    survey_energy_pj,
    walden_energy_pj,
)
from cimsim.config import ChipConfig, load_preset
from cimsim.errors import ConfigError

RATE_UNIT_GSPS = {"GS/s": 1.0, "MS/s": 1e-3}
FLOAT_ROUNDING = 1e-12  # relative: the survey fit is exp of an interpolated log, exact up to rounding


def data_rows(name):
    text = resources.files("cimsim.costs").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def rate_class_gsps(name):
    """('0.5-2 GS/s') -> (0.5, 2.0)."""
    edges, unit = name.split()
    lo, hi = (float(edge) * RATE_UNIT_GSPS[unit] for edge in edges.split("-"))
    return lo, hi


def survey_bins(years):
    """(lo_gsps, hi_gsps, enob_lo, min_pj, median_pj, max_pj) of the survey summary rows of ``years``."""
    return [
        (
            *rate_class_gsps(row["fs_nyquist_class"]),
            int(row["enob_bin"].split("-")[0]),
            float(row["energy_min_pJ"]),
            float(row["energy_median_pJ"]),
            float(row["energy_max_pJ"]),
        )
        for row in data_rows("adc_survey_summary.csv")
        if row["years"] == years
    ]


def half_last_digit(printed):
    """Half a unit in the last digit of a number printed as ``printed`` ('4.19' -> 0.005)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0**-decimals


def with_model(model, **updates):
    return ChipConfig().override({"energy.adc_model": model, **updates})


# --------------------------------------------------------------------------- table and walden


def test_table_returns_the_configured_value():
    assert adc_energy_pj(with_model("table", **{"energy.adc_pj_per_conversion": 2.7})) == 2.7


def test_isaac_preset_prices_a_conversion_at_its_table_value_and_area():
    cfg = load_preset("isaac")
    assert cfg.energy.adc_model == "table"
    assert adc_energy_pj(cfg) == 1.5625  # ISAAC-51: 16 mW x 100 ns / 1024 conversions
    assert adc_area_um2(cfg) == 1200.0  # ISAAC-11: 8 ADCs x 1200 um2


@pytest.mark.parametrize("bits", [1, 4, 8, 12, 24])
def test_walden_is_fom_times_two_to_the_bits_and_doubles_per_bit(bits):
    fom_fj = 33.8  # ADC-04, Kull 2013
    assert walden_energy_pj(bits, fom_fj) == pytest.approx(fom_fj * 2.0**bits * 1e-3, rel=1e-15)
    assert walden_energy_pj(bits + 1, fom_fj) == pytest.approx(2.0 * walden_energy_pj(bits, fom_fj), rel=1e-15)


def test_walden_with_the_isaac_presets_fom_equals_its_table_value_at_8_bits():
    cfg = load_preset("isaac").override({"energy.adc_model": "walden"})
    assert adc_energy_pj(cfg) == pytest.approx(1.5625, rel=1e-15)  # ISAAC-51; preset FoM = 1.5625 pJ / 2^8


# --------------------------------------------------------------------------- survey


def test_survey_is_non_decreasing_in_bits_and_in_rate():
    bits = np.arange(1.0, 12.01, 0.25)
    rates = np.geomspace(0.001, 2.0, 41)
    grid = np.array([[survey_energy_pj(b, r) for b in bits] for r in rates])
    assert np.all(np.diff(grid, axis=1) >= -FLOAT_ROUNDING * grid[:, 1:])
    assert np.all(np.diff(grid, axis=0) >= -FLOAT_ROUNDING * grid[1:, :])
    assert np.all(grid > 0)


@pytest.mark.parametrize("lo, hi, enob, e_min, e_median, e_max", survey_bins("1997-2025"))
def test_survey_at_each_bin_centre_is_the_least_minimum_of_the_bins_that_dominate_it(lo, hi, enob, e_min, e_median, e_max):
    """The frontier at (ENOB bin, rate class) is the least minimum over bins with ENOB >= and rate >=.

    So it never exceeds the bin's own minimum, and equals it (lies within the bin's min..max)
    unless a better converter dominates the bin.
    """
    dominating = [b[3] for b in survey_bins("1997-2025") if b[0] >= lo and b[2] >= enob]
    fit = survey_energy_pj(enob + 0.5, math.sqrt(lo * hi))
    assert fit == pytest.approx(min(dominating), rel=FLOAT_ROUNDING)
    assert fit <= e_min * (1 + FLOAT_ROUNDING)
    if min(dominating) == e_min:
        assert e_min <= fit * (1 + FLOAT_ROUNDING) and fit <= e_max


# (row id, ENOB bin centre, rate class centre GS/s, printed min, printed median) for ISSCC+VLSI 2015-2025
NOTES_SURVEY_ROWS = [
    ("ADC-05", 5.5, 1.0, "0.78", "1.26"),
    ("ADC-06", 6.5, 1.0, "1.52", "3.61"),
    ("ADC-07", 7.5, 1.0, "2.42", "3.09"),
    ("ADC-09", 9.5, 1.0, "4.19", "18.25"),
    ("ADC-10", 10.5, 1.0, "5.60", "121.5"),
    ("ADC-11", 10.5, math.sqrt(0.05 * 0.5), "2.24", "19.2"),
    ("ADC-12", 11.5, math.sqrt(0.05 * 0.5), "6.31", "31.3"),
]


@pytest.mark.parametrize("row, enob, rate_gsps, printed_min, printed_median", NOTES_SURVEY_ROWS)
def test_survey_reproduces_the_notes_minima_and_stays_below_the_medians(row, enob, rate_gsps, printed_min, printed_median):
    fit = survey_energy_pj(enob, rate_gsps)
    assert fit == pytest.approx(float(printed_min), abs=half_last_digit(printed_min)), row
    assert fit < float(printed_median), row


def test_survey_at_8_to_9_bits_near_1_gsps_takes_the_cheaper_9_to_10_bit_design():
    """The documented departure: ADC-08's minimum 4.61 pJ is dominated by ADC-09's 4.19 pJ at more ENOB."""
    fit = survey_energy_pj(8.5, 1.0)
    assert fit == pytest.approx(4.19, abs=half_last_digit("4.19"))  # ADC-09
    assert fit < 4.61  # ADC-08 min
    assert fit < 5.20  # ADC-08 median


def test_survey_minima_at_gsps_rates_do_not_depend_on_the_year_window():
    """The docstring's reason for fitting the minimum: at 0.5-2 GS/s, all-years and 2015-2025 minima agree."""
    recent = {(b[0], b[2]): b[3] for b in survey_bins("2015-2025") if b[0] == 0.5}
    every = {(b[0], b[2]): b[3] for b in survey_bins("1997-2025") if b[0] == 0.5}
    assert recent and all(every[key] == value for key, value in recent.items())


def test_survey_frontier_lies_below_the_published_converter_isaac_adapted():
    # ADC-04: Kull 2013, 1.2 GS/s, ENOB 6.24, 2.55 pJ per conversion
    assert survey_energy_pj(6.24, 1.2) <= 2.55


def test_survey_is_flat_below_the_lowest_enob_bin():
    # ADC-03: energy plateaus at low resolution; the lowest bin centre is 3.5 bits
    for rate in (0.001, 0.1, 1.28):
        assert survey_energy_pj(1, rate) == survey_energy_pj(3.5, rate)


@pytest.mark.parametrize(
    "bits, rate_gsps, field, allowed",
    [
        (8, 0.0005, "adc.sample_rate_gsps", "0.001 to 2 GS/s"),
        (8, 3.0, "adc.sample_rate_gsps", "0.001 to 2 GS/s"),
        (12.5, 1.28, "adc.bits", "1 to 12 bits"),
        (13.5, 0.1, "adc.bits", "1 to 13 bits"),
        (0.5, 0.1, "adc.bits", "1 to 13 bits"),
    ],
)
def test_survey_outside_the_data_raises_config_error_naming_field_and_range(bits, rate_gsps, field, allowed):
    with pytest.raises(ConfigError, match=f"^{field}: got .*allowed: {allowed}"):
        survey_energy_pj(bits, rate_gsps)


def test_survey_model_selected_by_config_uses_adc_bits_and_rate():
    cfg = with_model("survey", **{"adc.bits": 8, "adc.sample_rate_gsps": 1.28})
    assert adc_energy_pj(cfg) == survey_energy_pj(8, 1.28)
    with pytest.raises(ConfigError, match="^adc.bits: got 13"):
        adc_energy_pj(cfg.override({"adc.bits": 13}))


# --------------------------------------------------------------------------- cimloop


def test_cimloop_closed_form_reproduces_every_row_of_the_shipped_table():
    # tolerance: twice the fit residual measured when the coefficients were recovered (1.05e-4 energy, 4.8e-5 area)
    for row in data_rows("cimloop_adc_model_table.csv"):
        args = (int(row["enob"]), float(row["sample_rate_Hz"]) / 1e9, float(row["tech_nm"]))
        assert cimloop_energy_pj(*args) == pytest.approx(float(row["energy_pJ_per_conv"]), rel=2e-4), row
        assert cimloop_area_um2(*args) == pytest.approx(float(row["area_um2"]), rel=1e-4), row


@pytest.mark.parametrize(
    "row, node_nm, rate_gsps, bits, printed",
    [
        ("ADC-18", 32, 1.28, 4, "0.924"),
        ("ADC-18", 32, 1.28, 6, "1.07"),
        ("ADC-18", 32, 1.28, 8, "1.93"),
        ("ADC-18", 32, 1.28, 10, "16.4"),
        ("ADC-18", 32, 1.28, 12, "157"),
        ("ADC-19", 32, 0.01, 8, "1.71"),
        ("ADC-20", 22, 1.28, 8, "0.954"),
        ("ADC-21", 65, 0.1, 10, "12.5"),
    ],
)
def test_cimloop_matches_the_reference_rows(row, node_nm, rate_gsps, bits, printed):
    assert cimloop_energy_pj(bits, rate_gsps, node_nm) == pytest.approx(float(printed), abs=half_last_digit(printed)), row


def test_cimloop_below_4_bits_takes_the_4_bit_value():
    assert cimloop_energy_pj(1, 1.28, 32) == cimloop_energy_pj(4, 1.28, 32)


@pytest.mark.parametrize(
    "bits, rate_gsps, node_nm, field, allowed",
    [
        (13, 1.28, 32, "adc.bits", "an integer from 1 to 12"),
        (6.5, 1.28, 32, "adc.bits", "an integer from 1 to 12"),
        (0, 1.28, 32, "adc.bits", "an integer from 1 to 12"),
        (8, 20.0, 32, "adc.sample_rate_gsps", "> 0 and <= 10 GS/s"),
        (8, 0.0, 32, "adc.sample_rate_gsps", "> 0 and <= 10 GS/s"),
        (8, 1.28, 0.0, "chip.node_nm", "> 0 nm"),
    ],
)
def test_cimloop_outside_its_range_raises_config_error_naming_field_and_range(bits, rate_gsps, node_nm, field, allowed):
    with pytest.raises(ConfigError, match=f"^{field}: got .*allowed: {allowed}"):
        cimloop_energy_pj(bits, rate_gsps, node_nm)
    with pytest.raises(ConfigError, match=f"^{field}: "):
        cimloop_area_um2(bits, rate_gsps, node_nm)


# --------------------------------------------------------------------------- area


@pytest.mark.parametrize("node_nm, rate_gsps", [(22, 0.01), (32, 1.28), (65, 0.1), (14, 0.5)])
def test_area_is_positive_and_grows_with_bits(node_nm, rate_gsps):
    areas = [cimloop_area_um2(bits, rate_gsps, node_nm) for bits in range(1, 13)]
    assert all(area > 0 for area in areas)
    assert areas[:4] == [areas[3]] * 4  # 1..3 bits take the 4-bit value
    assert all(b > a for a, b in zip(areas[3:], areas[4:]))  # strictly from 4 to 12 bits


@pytest.mark.parametrize("model", ["walden", "survey"])
def test_area_of_the_bits_rate_node_models_comes_from_the_cimloop_area_model(model):
    cfg = load_preset("isaac").override({"energy.adc_model": model})
    assert adc_area_um2(cfg) == cimloop_area_um2(8, 1.28, 32.0)
    # CiMLoop table, 8 b 32 nm 1.28 GS/s; tolerance: twice the area fit residual (4.8e-5)
    assert adc_area_um2(cfg) == pytest.approx(6469.3, rel=1e-4)


def test_area_of_the_table_model_is_the_configured_value():
    assert adc_area_um2(with_model("table", **{"area.adc_um2": 777.0})) == 777.0


# --------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize("name", sorted(ADC_ENERGY_MODELS))
def test_every_model_the_config_accepts_prices_an_8_bit_conversion(name):
    """An 8-bit ADC at ISAAC's 1.28 GS/s and 32 nm costs between 0.01 and 100 pJ under every model
    (the survey's frontier and Kull's 8.65 pJ bound the published range, ADC-04..13)."""
    cfg = load_preset("isaac").override({"energy.adc_model": name})
    assert 0.01 < adc_energy_pj(cfg) < 100.0
