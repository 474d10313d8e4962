"""A real ADC: the signed full scale sized to the readings that can occur, and static non-idealities.

Signed inputs carry b_x − 1 magnitude bits, so their largest DAC code is 2^(b_x−1) − 1, not
2^d − 1: with ``dac.bits`` ≥ ``input_bits`` the ``max`` full scale is rows·(2^c − 1)·(2^(b_x−1) − 1).

Static errors, each against its closed form: an ADC's offset shifts the mean of its columns'
errors by offset·LSB; its gain error makes the slope of output on exact value 1 + gain; DNL
makes a uniform ramp's code histogram proportional to the code widths; INL bows the
transition levels by inl·4x(1 − x).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import cimsim
from cimsim import ConfigError
from cimsim.physics import kernels
from cimsim.physics.converters import Adc, draw_adc_errors

IDEAL = cimsim.load_preset("ideal")

# ---- signed ADC range -------------------------------------------------------------------------

ROWS, LEVELS, INPUT_TOP = 128, 3, 127  # ideal's 128 rows of 2-bit cells; 8-bit signed inputs


def signed_case(vectors: int, seed: int):
    """One conversion per output: 3-bit weights (one 2-bit slice) sensed in analog, 8-bit signed
    inputs on a bipolar 8-bit DAC (one cycle), an 8-bit signed ADC. Integer x, w with s_x = s_w = 1."""
    cfg = IDEAL.override({
        "adc.bits": 8,
        "dac.bits": 8,
        "mapping.input_bits": 8,
        "mapping.input_encoding": "bipolar",
        "mapping.weight_bits": 3,
        "mapping.differential_sensing": "analog",
    })
    rng = np.random.default_rng(seed)
    w = rng.integers(-LEVELS, LEVELS + 1, size=(ROWS, 64)).astype(float)
    w[0, 0] = LEVELS
    x = rng.integers(-INPUT_TOP, INPUT_TOP + 1, size=(vectors, ROWS)).astype(float)
    x[0, 0] = INPUT_TOP
    return cfg, w, x


def rounded(reading: np.ndarray, step: float, top: int) -> np.ndarray:
    """A signed ADC of codes −top..top and step ``step``: round to nearest, clip at the rails."""
    return np.clip(np.floor(reading / step + 0.5), -top, top) * step


def test_signed_full_scale_is_the_reachable_reading_and_halves_the_error():
    cfg, w, x = signed_case(vectors=500, seed=3)
    y = cimsim.AnalogMatrix(w, cfg, seed=0).matmul(x)
    exact = x @ w  # level units: X_q·W_q
    adc_top = 2**7 - 1
    reachable = ROWS * LEVELS * INPUT_TOP  # the largest |reading|: every input and weight at its top
    before_step = ROWS * LEVELS * (2**8 - 1) / adc_top  # sized to the DAC's top code 2^d − 1
    after_step = reachable / adc_top
    assert before_step / after_step == 255 / 127  # the 2.008x of issue 14
    # the simulator converts with the reachable range: exactly the formula's codes
    np.testing.assert_array_equal(y, rounded(exact, after_step, adc_top))
    before = rounded(exact, before_step, adc_top) - exact
    after = y - exact
    rms_before, rms_after = np.sqrt(np.mean(before**2)), np.sqrt(np.mean(after**2))
    print(f"\nsigned 8-bit inputs, 8-bit DAC, 8-bit ADC: rms error before {rms_before:.1f}, "
          f"after {rms_after:.1f} (level units; step {before_step:.1f} -> {after_step:.1f})")  # shown with -s
    # readings spread over many steps (sd ~1600 levels): the rounding error is uniform, rms = step/√12;
    # the mean of n e² has relative sd 0.894/√n (0.5 % at n = 32000), allow 5 of those
    tolerance = 5 * 0.894 / math.sqrt(after.size)
    assert abs(np.mean(after**2) / (after_step**2 / 12) - 1) < tolerance
    assert abs(np.mean(before**2) / (before_step**2 / 12) - 1) < tolerance


def test_largest_signed_reading_reaches_the_top_code_without_clipping():
    cfg, _, _ = signed_case(vectors=1, seed=0)
    w = np.full((ROWS, 2), float(LEVELS))
    w[:, 1] = -LEVELS
    x = np.full((1, ROWS), float(INPUT_TOP))
    matrix = cimsim.AnalogMatrix(w, cfg, seed=0)
    matrix.calibrate(np.stack([-x[0], x[0]]))  # a signed input scale, s_x = 1
    y = matrix.matmul(x)
    # ±128·3·127 is exactly ± the full scale: codes ±127, no rounding, no clipping
    np.testing.assert_array_equal(y, [[ROWS * LEVELS * INPUT_TOP, -ROWS * LEVELS * INPUT_TOP]])


# ---- static errors ------------------------------------------------------------------------------

STEP = ROWS * LEVELS * INPUT_TOP / 127  # signed_case's ADC step: 384 level units
COLUMNS_PER_ADC = 8  # physical columns: 4 analog pairs, i.e. outputs 4a .. 4a + 3 share ADC a


def served(cfg_overrides: dict, vectors: int, seed: int):
    """signed_case with static errors: (matrix, exact X_q·W_q, simulated output)."""
    cfg, w, x = signed_case(vectors, seed)
    matrix = cimsim.AnalogMatrix(w, cfg.override({"adc.columns_per_adc": COLUMNS_PER_ADC, **cfg_overrides}), seed=4)
    return matrix, x @ w, matrix.matmul(x)


def test_offset_shifts_each_column_mean_by_its_adcs_offset():
    matrix, exact, y = served({"adc.offset_lsb": 0.4}, vectors=2000, seed=5)
    errors = matrix.adc_errors
    assert errors.offset_lsb.shape == (16,)  # 128 columns / 8 per ADC, one array
    np.testing.assert_array_equal(errors.gain, 0.0)  # not drawn
    adc_of_output = np.arange(y.shape[1]) // 4  # physical column 2n, ADC (2n mod 128) // 8
    expected = errors.offset_lsb[adc_of_output] * STEP
    # beyond the offset only rounding: mean 0, sd STEP/√12 per conversion; 5 sd of a mean of M
    tolerance = 5 * STEP / math.sqrt(12 * y.shape[0])
    np.testing.assert_array_less(np.abs((y - exact).mean(axis=0) - expected), tolerance)
    assert np.abs(expected).max() > 10 * tolerance  # the offsets are seen, not lost in the tolerance


def test_gain_error_is_the_slope_of_each_column():
    matrix, exact, y = served({"adc.gain_error": 0.05}, vectors=2000, seed=6)
    gain = matrix.adc_errors.gain[np.arange(y.shape[1]) // 4]
    np.testing.assert_array_equal(matrix.adc_errors.offset_lsb, 0.0)
    # least squares through the origin (no offset): slope = Σ y·e / Σ e² per column
    slope = (y * exact).sum(axis=0) / (exact**2).sum(axis=0)
    # rounding error sd STEP/√12 on each point: the slope's sd is that over sqrt(Σ e²); allow 5 sd
    tolerance = 5 * STEP / math.sqrt(12) / np.sqrt((exact**2).sum(axis=0))
    np.testing.assert_array_less(np.abs(slope - (1 + gain)), tolerance)
    assert np.abs(gain).max() > 10 * tolerance.max()


def test_static_errors_are_drawn_after_everything_else_from_the_seed():
    plain, _, y_plain = served({}, vectors=20, seed=7)
    matrix, _, _ = served({"adc.offset_lsb": 0.4, "adc.gain_error": 0.01, "adc.dnl_lsb": 0.2}, vectors=20, seed=7)
    again, _, _ = served({"adc.offset_lsb": 0.4, "adc.gain_error": 0.01, "adc.dnl_lsb": 0.2}, vectors=20, seed=7)
    np.testing.assert_array_equal(matrix.cells.g_prog_us, plain.cells.g_prog_us)
    for field in ("offset_lsb", "gain", "thresholds"):
        np.testing.assert_array_equal(getattr(matrix.adc_errors, field), getattr(again.adc_errors, field))
    assert plain.adc_errors.thresholds.shape == (0, 0)  # ideal transfer: no table


def convert_ramp(readings: np.ndarray, thresholds: np.ndarray, adc: Adc) -> np.ndarray:
    """The codes one ADC (``thresholds``, one row) gives ``readings`` (in LSB), through the kernel."""
    n = readings.size
    out = np.zeros((n, 1))
    one, zero, index = np.ones(1), np.zeros((1, 1)), np.zeros(1, dtype=np.int64)
    kernels.convert_accumulate(
        readings[:, None], np.zeros((n, 1)), index, np.empty((0, 0)), zero, one, one, np.array([0, 1]), index,
        one, np.ones((1, 1)), np.ones((1, 1)), float(adc.bottom_code), float(adc.top_code), zero, index,
        thresholds, np.zeros(1, dtype=bool), 0.0, np.zeros(n), False, np.uint64(0), 0, 0, out,
    )
    return out[:, 0]


def unsigned_adc(**errors) -> tuple[Adc, np.ndarray]:
    """An 8-bit unsigned ADC (codes 0..255) of the ideal preset and one ADC's transition levels."""
    cfg = IDEAL.override({"adc.bits": 8, **{f"adc.{k}": v for k, v in errors.items()}})
    adc = Adc.for_config(cfg)
    assert (adc.bottom_code, adc.top_code) == (0, 255)
    return adc, draw_adc_errors(cfg, adc, 1, np.random.default_rng(9)).thresholds


def test_dnl_code_histogram_of_a_ramp_gives_the_code_widths():
    dnl = 0.3
    adc, thresholds = unsigned_adc(dnl_lsb=dnl)
    per_lsb = 200
    h = 1.0 / per_lsb
    ramp = 0.5 + h * (np.arange(254 * per_lsb) + 0.5)  # uniform over the inner codes' span, 0.5 .. 254.5
    codes = convert_ramp(ramp, thresholds, adc)
    assert np.all(np.diff(codes) >= 0)  # monotonic
    counts = np.bincount(codes.astype(int), minlength=256)[1:255]
    widths = np.diff(thresholds[0])  # widths of codes 1..254 (LSB)
    # a ramp of spacing h puts width/h points in a code, ± 1 at its two ends
    np.testing.assert_array_less(np.abs(counts - widths / h), 1.0 + 1e-9)
    # end-point fit: the first and last transitions stay at 0.5 and 254.5
    np.testing.assert_allclose(thresholds[0, [0, -1]], [0.5, 254.5], rtol=0, atol=1e-9)
    # the measured DNL (count / mean count − 1) has sd dnl (254 draws: the sample sd's relative
    # sd is 1/sqrt(2·254) = 4.4 %; allow 5 of those)
    measured = counts / counts.mean() - 1
    assert abs(measured.std() / dnl - 1) < 5 / math.sqrt(2 * 254)


def test_inl_bows_the_transitions_by_amplitude_at_mid_scale():
    inl = 2.0
    adc, thresholds = unsigned_adc(inl_lsb=inl)
    h = 1e-3
    ramp = np.arange(0.0, 255.0, h)
    codes = convert_ramp(ramp, thresholds, adc)
    # the i-th transition (code i → i + 1) is the first ramp point reading code i + 1
    measured = ramp[np.searchsorted(codes, np.arange(1, 256))]
    i = np.arange(255)
    x = i / 254  # fraction of the code range
    ideal = i + 0.5
    np.testing.assert_allclose(measured, ideal + inl * 4 * x * (1 - x), rtol=0, atol=h + 1e-9)
    assert measured[127] - ideal[127] == pytest.approx(inl * 4 * (127 / 254) * (127 / 254), abs=h + 1e-9)


def test_inl_through_a_matrix_is_the_bowed_transfer():
    inl = 3.0
    matrix, exact, y = served({"adc.inl_lsb": inl}, vectors=100, seed=8)
    # signed ADC, codes −127..127: transition i at −126.5 + i + inl·4x(1 − x), x = i / 253
    i = np.arange(254)
    transitions = -126.5 + i + inl * 4 * (i / 253) * (1 - i / 253)
    reading = exact * (1.0 / STEP)  # in LSB, as the kernel scales it
    codes = -127 + (transitions[None, None, :] <= reading[:, :, None]).sum(axis=2)
    np.testing.assert_array_equal(y, codes * STEP)
    assert not np.array_equal(y, np.clip(np.floor(reading + 0.5), -127, 127) * STEP)  # the bow is seen


def test_inl_or_dnl_on_an_adc_too_wide_to_tabulate_is_refused():
    cfg = IDEAL.override({"adc.inl_lsb": 0.5})  # 24 bits
    with pytest.raises(ConfigError, match=r"adc\.bits = 24.*adc\.inl_lsb = 0\.5.*adc\.bits <= 16"):
        cimsim.AnalogMatrix(np.ones((4, 4)), cfg)
