"""A real ADC: the signed full scale sized to the readings that can occur, and static non-idealities.

Signed inputs carry b_x − 1 magnitude bits, so their largest DAC code is 2^(b_x−1) − 1, not
2^d − 1: with ``dac.bits`` ≥ ``input_bits`` the ``max`` full scale is rows·(2^c − 1)·(2^(b_x−1) − 1).
"""

from __future__ import annotations

import math

import numpy as np

import cimsim

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


def test_signed_full_scale_is_the_reachable_reading_and_halves_the_error(capsys):
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
    with capsys.disabled():
        print(f"\nsigned 8-bit inputs, 8-bit DAC, 8-bit ADC: rms error before {rms_before:.1f}, "
              f"after {rms_after:.1f} (level units; step {before_step:.1f} -> {after_step:.1f})")
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
