"""The exactness law, the ADC-width law, ADC quantisation, the numba kernels and input checks.

Every expected value here is recomputed in the test from the formulas of docs/physics.md
(sections 1-12, "12. Digital reconstruction and the exactness law") and the docstrings of cimsim/physics/mapping.py,
cimsim/crossbar.py and cimsim/physics/kernels.py; nothing is taken from the code under test except
where a numba kernel is compared with its documented numpy twin.
"""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest

import cimsim
from cimsim.physics import kernels, random_stream
from cimsim.physics.mapping import InputScale, input_planes, input_schedule, quantize_inputs

IDEAL = cimsim.load_preset("ideal")


# --------------------------------------------------------------------------- references


def ref_quantize_weights(w: np.ndarray, bits: int, per_column: bool) -> tuple[np.ndarray, np.ndarray]:
    """docs/physics.md section 1 / mapping.py: q_max = 2^(b−1) − 1, s_w = max|W| / q_max, W_q = clip(rint(W/s_w))."""
    q_max = 2 ** (bits - 1) - 1
    max_abs = np.abs(w).max(axis=0) if per_column else np.full(w.shape[1], np.abs(w).max())
    s_w = np.where(max_abs > 0, max_abs / q_max, 1.0)  # mapping.py: scale 1 where a column is all zero
    w_q = np.clip(np.rint(w / s_w), -q_max, q_max).astype(np.int64)
    return w_q, s_w


def ref_quantize_inputs(x: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    """mapping.py: all x >= 0 -> unsigned, s_x = max X / (2^b − 1); else s_x = max|X| / (2^(b−1) − 1)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return np.zeros(x.shape, dtype=np.int64), 1.0
    if x.min() >= 0:
        low, high = 0, 2**bits - 1
    else:
        low, high = -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1
    max_abs = float(np.abs(x).max())
    s_x = max_abs / high if max_abs > 0 else 1.0
    return np.clip(np.rint(x / s_x), low, high).astype(np.int64), s_x


def exact_result(w: np.ndarray, x: np.ndarray, cfg: cimsim.ChipConfig) -> np.ndarray:
    """The exactness law: (X_q @ W_q) * (s_x * s_w), with the scale product grouped as the crossbar does."""
    w_q, s_w = ref_quantize_weights(w, cfg.mapping.weight_bits, cfg.mapping.weight_scale == "column")
    x_q, s_x = ref_quantize_inputs(x, cfg.mapping.input_bits)
    return (x_q @ w_q) * (s_x * s_w)


# --------------------------------------------------------------------------- exactness law

WEIGHT_ENCODINGS = [("differential", "digital"), ("differential", "analog"), ("offset", "digital")]
INPUT_KINDS = ["unsigned", "two_phase", "bipolar", "offset"]


def make_data(rng, k, n, m, inputs_signed):
    w = rng.normal(size=(k, n))
    w[rng.random(size=w.shape) < 0.1] = 0.0  # exact zeros: level 0 in every slice
    if inputs_signed:
        x = rng.normal(size=(m, k))
    else:
        x = rng.exponential(size=(m, k))
    x[rng.random(size=x.shape) < 0.2] = 0.0  # undriven rows
    return w, x


def case_seed(*case) -> int:
    """A seed fixed by the test case (str hashes vary between processes; crc32 does not)."""
    return zlib.crc32(repr(case).encode())


def input_overrides(kind: str) -> dict:
    # unsigned inputs take the unsigned path whatever the encoding; use the default two_phase
    return {"mapping.input_encoding": "two_phase" if kind == "unsigned" else kind}


@pytest.mark.parametrize("scale", ["tensor", "column"])
@pytest.mark.parametrize("dac_bits", [1, 2, 3])
@pytest.mark.parametrize("bits_per_cell", [1, 2, 3])
@pytest.mark.parametrize("inputs", INPUT_KINDS)
@pytest.mark.parametrize("encoding", WEIGHT_ENCODINGS, ids=["diff-digital", "diff-analog", "offset"])
def test_exactness_law_full_product(encoding, inputs, bits_per_cell, dac_bits, scale):
    """Array 37x19, K=100 (3 row blocks, last partial), N=23: not multiples of the array."""
    cfg = IDEAL.override(
        {
            "array.rows": 37,
            "array.cols": 19,
            "array.bits_per_cell": bits_per_cell,
            "dac.bits": dac_bits,
            "mapping.weight_bits": 6,
            "mapping.input_bits": 5,
            "mapping.weight_encoding": encoding[0],
            "mapping.differential_sensing": encoding[1],
            "mapping.weight_scale": scale,
            **input_overrides(inputs),
        }
    )
    seed = case_seed(encoding, inputs, bits_per_cell, dac_bits, scale)
    rng = np.random.default_rng(seed)
    w, x = make_data(rng, 100, 23, 6, inputs != "unsigned")
    m = cimsim.AnalogMatrix(w, cfg, seed=1)
    np.testing.assert_array_equal(m.matmul(x), exact_result(w, x, cfg))


def _subsample_cases(count: int, seed: int):
    """A seeded subsample of a wider product: shapes with K < rows, other bit widths, g_min > 0, flips."""
    space = list(
        itertools.product(
            WEIGHT_ENCODINGS,
            INPUT_KINDS,
            [1, 2, 3, 4],  # bits_per_cell
            [1, 2, 3],  # dac.bits
            ["tensor", "column"],
            [2, 3, 7, 8],  # weight_bits
            [2, 3, 8],  # input_bits
            [(64, 16, 20, 9), (37, 19, 100, 23), (8, 3, 17, 5)],  # rows, cols, K, N
            [(0.0, 100.0), (0.5, 37.3), (3.7, 250.0)],  # g_min, g_max (µS)
            [False, True],  # flip_columns
        )
    )
    # flipped columns need unipolar currents (config rule): drop analog differential / bipolar with flip
    space = [c for c in space if not (c[-1] and (c[0] == ("differential", "analog") or c[1] == "bipolar"))]
    rng = np.random.default_rng(seed)
    return [space[i] for i in rng.choice(len(space), size=count, replace=False)]


@pytest.mark.parametrize(
    "encoding, inputs, c, d, scale, b_w, b_x, geometry, g_range, flip", _subsample_cases(40, seed=2024)
)
def test_exactness_law_subsample(encoding, inputs, c, d, scale, b_w, b_x, geometry, g_range, flip):
    rows, cols, k, n = geometry
    cfg = IDEAL.override(
        {
            "array.rows": rows,
            "array.cols": cols,
            "array.bits_per_cell": c,
            "dac.bits": d,
            "mapping.weight_bits": b_w,
            "mapping.input_bits": b_x,
            "mapping.weight_encoding": encoding[0],
            "mapping.differential_sensing": encoding[1],
            "mapping.weight_scale": scale,
            "mapping.flip_columns": flip,
            "device.g_min_us": g_range[0],
            "device.g_max_us": g_range[1],
            **input_overrides(inputs),
        }
    )
    rng = np.random.default_rng(case_seed(encoding, inputs, c, d, scale, b_w, b_x, geometry, g_range, flip))
    w, x = make_data(rng, k, n, 5, inputs != "unsigned")
    m = cimsim.AnalogMatrix(w, cfg, seed=3)
    np.testing.assert_array_equal(m.matmul(x), exact_result(w, x, cfg))


@pytest.mark.parametrize("inputs", INPUT_KINDS)
def test_exactness_vector_input_gives_vector_result(inputs):
    cfg = IDEAL.override({"array.rows": 37, "array.cols": 19, **input_overrides(inputs)})
    rng = np.random.default_rng(5)
    w, x = make_data(rng, 100, 23, 1, inputs != "unsigned")
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    y = m.matmul(x[0])
    assert y.shape == (23,)
    np.testing.assert_array_equal(y, exact_result(w, x, cfg)[0])


def test_exactness_zero_column_and_zero_inputs():
    """An all-zero weight column gives 0 whatever its scale; all-zero inputs give 0."""
    cfg = IDEAL.override({"array.rows": 16, "mapping.weight_scale": "column"})
    rng = np.random.default_rng(6)
    w = rng.normal(size=(20, 4))
    w[:, 2] = 0.0
    x = rng.normal(size=(3, 20))
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    y = m.matmul(x)
    np.testing.assert_array_equal(y, exact_result(w, x, cfg))
    assert np.all(y[:, 2] == 0.0)
    np.testing.assert_array_equal(m.matmul(np.zeros((2, 20))), np.zeros((2, 4)))


def test_exactness_rounds_input_ties_half_to_even():
    """x / s_x exactly on .5 rounds like numpy's rint (half to even), as mapping.py specifies."""
    cfg = IDEAL.override({"mapping.input_bits": 4, "array.rows": 8})
    # s_x = 15 / 15 = 1 exactly, so x / s_x = 0.5, 1.5, 2.5, 3.5 -> 0, 2, 2, 4
    x = np.array([[0.5, 1.5, 2.5, 3.5, 15.0, 0.0]])
    w = np.eye(6)
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    s_w = 1.0 / 127  # max|W| = 1, 8-bit weights
    np.testing.assert_array_equal(m.matmul(x), np.array([[0, 2, 2, 4, 15, 0]]) * 127 * (1.0 * s_w))


def test_exactness_float32_and_noncontiguous_inputs():
    cfg = IDEAL.override({"array.rows": 37})
    rng = np.random.default_rng(7)
    w = rng.normal(size=(50, 6))
    x32 = rng.normal(size=(4, 50)).astype(np.float32)
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    np.testing.assert_array_equal(m.matmul(x32), exact_result(w, x32.astype(np.float64), cfg))
    xt = np.asfortranarray(rng.normal(size=(4, 50)))
    np.testing.assert_array_equal(m.matmul(xt), exact_result(w, xt, cfg))
    wide = rng.normal(size=(4, 100))[:, ::2]  # strided view
    np.testing.assert_array_equal(m.matmul(wide), exact_result(w, wide, cfg))


def test_exactness_across_chunks(monkeypatch):
    """A batch read in several chunks (crossbar.CURRENT_BUFFER_ELEMENTS) is still exact."""
    import cimsim.crossbar as crossbar
    from cimsim.physics.mapping import InputScale

    monkeypatch.setattr(crossbar, "CURRENT_BUFFER_ELEMENTS", 2**16)
    cfg = IDEAL.override({"array.rows": 37, "array.cols": 19, "mapping.input_encoding": "offset"})
    rng = np.random.default_rng(12)
    w, x = make_data(rng, 50, 150, 3000, True)
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    assert m._chunk_vectors(3000, InputScale(1.0, True)) < 3000  # the premise: more than one chunk
    np.testing.assert_array_equal(m.matmul(x), exact_result(w, x, cfg))


def test_noisy_result_does_not_depend_on_chunking(monkeypatch):
    """Noise streams are keyed by (block, vector, cycle), not by chunk: chunk size changes nothing."""
    import cimsim.crossbar as crossbar
    from cimsim.physics.mapping import InputScale

    cfg = IDEAL.override({"device.read_noise": 0.03, "adc.noise_lsb": 0.5, "adc.bits": 10, "array.rows": 16})
    rng = np.random.default_rng(13)
    w, x = rng.normal(size=(40, 6)), rng.normal(size=(50, 40))
    whole = cimsim.AnalogMatrix(w, cfg, seed=7).matmul(x)
    monkeypatch.setattr(crossbar, "CURRENT_BUFFER_ELEMENTS", 2000)  # a few vectors per chunk
    m = cimsim.AnalogMatrix(w, cfg, seed=7)
    assert m._chunk_vectors(50, InputScale(1.0, True)) < 10
    np.testing.assert_array_equal(m.matmul(x), whole)
    assert not np.array_equal(whole, exact_result(w, x, cfg))  # the noise is really there


# --------------------------------------------------------------------------- ADC-width law


def lossless_adc_bits(rows: int, c: int, d: int) -> int:
    """docs/physics.md section 12: ceil(log2(rows·(2^c − 1)·(2^d − 1) + 1))."""
    bits = math.ceil(math.log2(rows * (2**c - 1) * (2**d - 1) + 1))
    assert bits == (rows * (2**c - 1) * (2**d - 1)).bit_length()  # the same, in integers
    return bits


def flipped_adc_bits(rows: int, c: int, d: int) -> int:
    """ISAAC's flipped columns hold at most floor(rows·(2^c−1)/2) levels (crossbar.py docstring)."""
    return math.ceil(math.log2((rows * (2**c - 1)) // 2 * (2**d - 1) + 1))


def isaac_formula(rows: int, v: int, w: int) -> int:
    """ISAAC (docs/reference/NOTES.md §1, ISAAC-07): log2(R) + v + w, minus 1 when v or w is 1, for R a power of two."""
    return int(math.log2(rows)) + v + w - (1 if v == 1 or w == 1 else 0)


def adversarial_problem(rows: int, c: int, d: int, seed: int):
    """Offset weights of 2c bits (two slices), unsigned inputs of 2d bits (two cycles), K = rows.

    Columns: 0 = every weight at its top stored value (all slices at the top level: the largest
    current without flips); 1 = alternating stored values 1 and 2^b_w − 2, whose levels add to
    exactly 2^c − 1 per pair in every slice (the largest unflipped current with flips; rows even);
    the rest random. Vector 0 has every input bit set; the rest are random.
    """
    b_w, b_x = 2 * c, 2 * d
    q_max = 2 ** (b_w - 1) - 1
    rng = np.random.default_rng(seed)
    w_q = rng.integers(-q_max, q_max + 1, size=(rows, 8))
    w_q[:, 0] = q_max  # stored q_max + 2^(b_w−1) = 2^b_w − 1: every slice at 2^c − 1
    w_q[0::2, 1] = -q_max  # stored 1
    w_q[1::2, 1] = q_max - 1  # stored 2^b_w − 2 (its complement)
    w_q[0, 2] = q_max  # max|W| = q_max in every column -> s_w = 1 even per column
    x = rng.integers(0, 2**b_x, size=(6, rows)) / (2**b_x - 1)
    x[0] = 1.0  # every input bit set
    # s_w = q_max / q_max = 1 and s_x = 1 / (2^b_x − 1): X_q are the integers drawn
    expected = (np.rint(x * (2**b_x - 1)).astype(np.int64) @ w_q) * (1.0 / (2**b_x - 1) * 1.0)
    return w_q.astype(np.float64), x, expected, b_w, b_x


def width_config(rows, c, d, b_w, b_x, adc_bits, flip):
    return IDEAL.override(
        {
            "array.rows": rows,
            "array.cols": 64,
            "array.bits_per_cell": c,
            "dac.bits": d,
            "adc.bits": adc_bits,
            "mapping.weight_bits": b_w,
            "mapping.input_bits": b_x,
            "mapping.weight_encoding": "offset",
            "mapping.input_encoding": "offset",
            "mapping.flip_columns": flip,
        }
    )


WIDTH_CASES = [(8, 1, 1), (16, 2, 1), (128, 2, 1), (32, 1, 2), (16, 2, 2), (64, 3, 1), (4, 3, 3), (38, 2, 1), (20, 1, 3)]


@pytest.mark.parametrize("rows, c, d", WIDTH_CASES)
def test_adc_width_law_smallest_exact_width(rows, c, d):
    w, x, expected, b_w, b_x = adversarial_problem(rows, c, d, seed=rows * 100 + c * 10 + d)
    bits = lossless_adc_bits(rows, c, d)
    if rows & (rows - 1) == 0:
        assert bits == isaac_formula(rows, d, c)
    exact = cimsim.AnalogMatrix(w, width_config(rows, c, d, b_w, b_x, bits, False), seed=0).matmul(x)
    np.testing.assert_array_equal(exact, expected)
    for narrower in range(1, bits):
        y = cimsim.AnalogMatrix(w, width_config(rows, c, d, b_w, b_x, narrower, False), seed=0).matmul(x)
        assert not np.array_equal(y, expected), f"{narrower}-bit ADC exact, law says {bits} needed"


@pytest.mark.parametrize("rows, c, d", WIDTH_CASES)
def test_adc_width_law_flipped_columns_save_one_bit(rows, c, d):
    w, x, expected, b_w, b_x = adversarial_problem(rows, c, d, seed=rows * 100 + c * 10 + d + 1)
    bits = flipped_adc_bits(rows, c, d)
    assert bits == lossless_adc_bits(rows, c, d) - 1  # for these cases (all even rows)
    exact = cimsim.AnalogMatrix(w, width_config(rows, c, d, b_w, b_x, bits, True), seed=0).matmul(x)
    np.testing.assert_array_equal(exact, expected)
    for narrower in range(1, bits):
        y = cimsim.AnalogMatrix(w, width_config(rows, c, d, b_w, b_x, narrower, True), seed=0).matmul(x)
        assert not np.array_equal(y, expected), f"{narrower}-bit ADC exact with flips, law says {bits} needed"


def test_isaac_preset_is_lossless_with_8_bit_adc_and_needs_9_without_flips():
    """ISAAC-07: 8-bit ADC with flipped encoding; 9 bits needed without it."""
    cfg = cimsim.load_preset("isaac")
    assert (cfg.adc.bits, cfg.array.rows, cfg.array.bits_per_cell, cfg.dac.bits) == (8, 128, 2, 1)
    assert cfg.mapping.flip_columns
    assert flipped_adc_bits(128, 2, 1) == 8 and lossless_adc_bits(128, 2, 1) == 9 == isaac_formula(128, 1, 2)
    rng = np.random.default_rng(11)
    k, n = 200, 12  # two row blocks, the second partial
    w = rng.normal(size=(k, n))
    x = rng.normal(size=(5, k))
    x[0, :] = np.abs(x[0, :])
    expected = exact_result(w, x, cfg)  # 16-bit weights and inputs: integers up to ~2^37, exact in float64
    y = cimsim.AnalogMatrix(w, cfg, seed=0).matmul(x)
    wide = cimsim.AnalogMatrix(w, cfg.override({"adc.bits": 24, "meta.allow_unphysical": True}), seed=0).matmul(x)
    np.testing.assert_array_equal(y, wide)
    np.testing.assert_array_equal(y, expected)
    # unsigned inputs, too
    xu = np.abs(x)
    np.testing.assert_array_equal(cimsim.AnalogMatrix(w, cfg, seed=0).matmul(xu), exact_result(w, xu, cfg))
    # without flips the same 8-bit ADC rounds: the ADC-width law needs 9 bits there
    unflipped = cimsim.AnalogMatrix(w, cfg.override({"mapping.flip_columns": False}), seed=0).matmul(x)
    assert not np.array_equal(unflipped, expected)
    nine = cimsim.AnalogMatrix(w, cfg.override({"mapping.flip_columns": False, "adc.bits": 9}), seed=0).matmul(x)
    np.testing.assert_array_equal(nine, expected)


# --------------------------------------------------------------------------- ADC quantisation alone


@pytest.mark.parametrize("adc_bits", [4, 5, 6, 7, 8])
@pytest.mark.parametrize("encoding", ["offset", "analog-differential"])
def test_adc_quantisation_error_is_uniform_rms_lsb_over_sqrt12(encoding, adc_bits):
    """One slice, one input cycle, one row block: every output is one conversion.

    64 rows, 4-bit cells, 4-bit inputs on a 4-bit DAC; every weight at the top level 15, so
    the current of vector m is I = 15·S_m with S_m = Σ_k x_q[m, k]. Drawing a_m ~ U(0, 1) and
    x_q[m, k] ~ Binomial(15, a_m) makes S_m ~ BetaBinomial(960, 1, 1), i.e. uniform on
    0..960 (exactly), so currents cover the whole range [0, FS] evenly, never beyond it
    (no clipping), across 2^b − 1 (or 2^(b−1) − 1) LSBs.
    """
    rows, levels = 64, 15
    overrides = {
        "array.rows": rows,
        "array.cols": 64,
        "array.bits_per_cell": 4,
        "dac.bits": 4,
        "mapping.input_bits": 4,
        "adc.bits": adc_bits,
    }
    if encoding == "offset":
        overrides |= {"mapping.weight_encoding": "offset", "mapping.weight_bits": 4}  # stored 7 + 8 = 15
        top_code = 2**adc_bits - 1  # unipolar currents: unsigned ADC
    else:
        overrides |= {
            "mapping.weight_encoding": "differential",
            "mapping.differential_sensing": "analog",
            "mapping.weight_bits": 5,  # 4 magnitude bits: one slice, G+ at 15
        }
        top_code = 2 ** (adc_bits - 1) - 1  # signed ADC
    cfg = IDEAL.override(overrides)
    full_scale = rows * levels * levels  # rows·(2^c − 1)·(2^d − 1)
    lsb = full_scale / top_code

    n = 20000
    rng = np.random.default_rng(100 + adc_bits)
    a = rng.random(n)
    x_q = rng.binomial(15, a[:, None], size=(n, rows))
    assert x_q.max() == 15  # so s_x = max X / 15 = 1/15 and x_q round-trips
    x = x_q / 15.0
    w = np.ones((rows, 1))
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    y = m.matmul(x)[:, 0]
    s_x, s_w = 1.0 / 15, 1.0 / (2 ** (cfg.mapping.weight_bits - 1) - 1)
    current = 15.0 * x_q.sum(axis=1)  # X_q @ W_q in level units (W_q = q_max = 15 or 7)
    w_q = 2 ** (cfg.mapping.weight_bits - 1) - 1
    error = y / (s_x * s_w) - x_q.sum(axis=1) * w_q
    assert current.max() <= full_scale  # in range: no reading clips
    # every conversion rounds to the nearest code: |error| <= Δ/2 (plus float rounding of y/(s_x·s_w))
    assert np.abs(error).max() <= lsb / 2 * (1 + 1e-9)
    # sample mean of e² vs Δ²/12: for e ~ U(−Δ/2, Δ/2), Var(e²) = Δ⁴/180, so the mean of n
    # independent e² has relative standard deviation sqrt(Δ⁴/180)/(Δ²/12)/sqrt(n) = 0.894/sqrt(n)
    # (0.63 % at n = 20000); allow 5 of those. The currents' lattice (multiples of 15) makes e
    # discrete with >= 64 values per LSB, shifting E[e²] by < 1/64² relative: negligible.
    mean_square = np.mean(error**2)
    tolerance = 5 * 0.894 / math.sqrt(n)
    assert abs(mean_square / (lsb**2 / 12) - 1) < tolerance, (math.sqrt(mean_square), lsb / math.sqrt(12))


# --------------------------------------------------------------------------- kernels vs references

MODES = {
    # name: (kernel mode, signed inputs)
    "unsigned": (kernels.UNSIGNED, False),
    "offset": (kernels.OFFSET, True),
    "bipolar": (kernels.BIPOLAR, True),
    "two_phase": (kernels.TWO_PHASE, True),
}


@pytest.mark.parametrize("dac_bits", [1, 2, 3])
@pytest.mark.parametrize("input_bits", [2, 5, 8])
@pytest.mark.parametrize("mode", list(MODES))
def test_encode_inputs_matches_numpy_reference(mode, input_bits, dac_bits):
    kernel_mode, signed = MODES[mode]
    m, k, block_rows = 6, 30, 7  # 5 row blocks, the last one partial
    rng = np.random.default_rng(input_bits * 10 + dac_bits)
    x = rng.normal(size=(m, k)) * 3
    if not signed:
        x = np.abs(x)
    x[:, 4] = 0.0
    x[rng.random(x.shape) < 0.1] = 0.0
    # the plan of kernels.encode_inputs' docstring, from the bit widths alone
    if signed:
        q_max = 2 ** (input_bits - 1) - 1
        q_min = -q_max
    else:
        q_min, q_max = 0, 2**input_bits - 1
    scale = np.abs(x).max() / q_max
    magnitude_bits = input_bits if mode in ("unsigned", "offset") else input_bits - 1
    magnitude_cycles = math.ceil(magnitude_bits / dac_bits)
    cycles = 2 * magnitude_cycles if mode == "two_phase" else magnitude_cycles
    offset = 2 ** (input_bits - 1) if mode == "offset" else 0

    cfg = cimsim.ChipConfig().override(
        {
            "mapping.input_bits": input_bits,
            "dac.bits": dac_bits,
            "mapping.input_encoding": "two_phase" if mode == "unsigned" else mode,
        }
    )
    schedule = input_schedule(signed, cfg)
    assert (schedule.mode, schedule.offset, schedule.magnitude_cycles, schedule.cycles) == (
        kernel_mode, offset, magnitude_cycles, cycles,
    )

    blocks, arrays = math.ceil(k / block_rows), 3
    row_g = rng.uniform(1.0, 50.0, size=k)
    row_live = rng.random((k, arrays)) < 0.6  # where each row is driven (live_rows)
    codes = np.full((m * cycles, k), np.nan, dtype=np.float32)
    code_sq_sum = np.full((m * cycles, blocks, arrays), np.nan)
    code_sum = np.full((m * cycles, blocks), np.nan)
    row_arrays = rng.integers(0, 4, size=k).astype(np.float64)  # arrays each row drives (0: empty everywhere)
    row_cells = rng.integers(0, 40, size=k).astype(np.float64)  # cells each row reads
    drives = np.full(m * cycles, np.nan)
    reads = np.full(m * cycles, np.nan)
    v2g = np.full(m * cycles, np.nan)
    xq_sum = np.full(m, -1, dtype=np.int64)
    kernels.encode_inputs(
        x, scale, q_min, q_max, kernel_mode, offset, dac_bits, magnitude_cycles, block_rows, row_g,
        row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives, reads, v2g, xq_sum,
    )

    x_q = quantize_inputs(x, input_bits, InputScale(scale, signed))
    planes = input_planes(x_q, signed, cfg)
    assert planes.codes.shape == (m, cycles, k)
    assert planes.offset == offset
    np.testing.assert_array_equal(planes.weight, schedule.weight)
    ref_codes = planes.codes.reshape(m * cycles, k)
    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_array_equal(xq_sum, x_q.sum(axis=1))
    np.testing.assert_array_equal(drives, (ref_codes != 0) @ row_arrays)  # small integers: exact
    np.testing.assert_array_equal(reads, (ref_codes != 0) @ row_cells)
    for b in range(blocks):
        part = ref_codes[:, b * block_rows : (b + 1) * block_rows]
        # read noise: Σ code² over the rows driven in each array only
        np.testing.assert_array_equal(code_sq_sum[:, b], part**2 @ row_live[b * block_rows : (b + 1) * block_rows])
        np.testing.assert_array_equal(code_sum[:, b], part.sum(axis=1))
    # Σ code²·g: float sums in another order, relative error ~ K·eps
    np.testing.assert_allclose(v2g, (ref_codes.astype(np.float64) ** 2) @ row_g, rtol=1e-13)

    # independent of both: x_q from the formula, and the codes recombine into x_q + offset
    x_q_ref, _ = ref_quantize_inputs(x, input_bits)
    np.testing.assert_array_equal(x_q, x_q_ref)
    assert np.abs(ref_codes).max() <= 2**dac_bits - 1
    recombined = np.einsum("mtk,t->mk", planes.codes.astype(np.float64), planes.weight)
    np.testing.assert_array_equal(recombined, x_q + offset)
    if mode != "bipolar":
        assert ref_codes.min() >= 0  # unipolar DAC


def _convert_inputs(rng, mv, cycles, columns, n_out, *, integer_lsb, with_cell_var, with_flips, same_adc_var):
    currents = rng.uniform(-20, 300, size=(mv * cycles, columns)).astype(np.float32)
    currents[:, 0] = np.rint(currents[:, 0])  # exact ties / integers too
    row_var = rng.uniform(0, 4, size=(mv * cycles, 3))  # per column array
    col_array = rng.integers(0, 3, size=columns)
    cell_var = rng.uniform(0, 9, size=(mv * cycles, columns)).astype(np.float32) if with_cell_var else np.empty((0, 0))
    # the crossbar's ADC noise variance is (noise_lsb·lsb)²: one value per column, often all equal
    adc_var = np.full(columns, rng.uniform(0, 2)) if same_adc_var else rng.uniform(0, 2, size=columns)
    cycle_weight = np.concatenate([2.0 ** np.arange(cycles // 2), -(2.0 ** np.arange(cycles // 2))])
    col_out = rng.integers(0, n_out, size=columns)
    col_weight = rng.choice([1.0, -1.0], size=columns) * 4.0 ** rng.integers(0, 4, size=columns)
    lsb = rng.integers(1, 4, size=columns).astype(float) if integer_lsb else rng.uniform(0.7, 3.3, size=columns)
    flipped = rng.random(columns) < 0.4 if with_flips else np.zeros(columns, dtype=bool)
    code_sums = rng.integers(0, 40, size=(mv * cycles, 3)).astype(np.float64)
    row_sum = code_sums[:, 1]  # a strided column, as the crossbar passes it
    return (currents, row_var, col_array, cell_var, adc_var, cycle_weight, col_out, col_weight, 1.0 / lsb, lsb,
            flipped, row_sum)


@pytest.mark.parametrize("adc_errors", [False, True])
@pytest.mark.parametrize("cycles_per_conversion", [1, 2])
@pytest.mark.parametrize("same_adc_var", [False, True])
@pytest.mark.parametrize("with_flips", [False, True])
@pytest.mark.parametrize("with_cell_var", [False, True])
@pytest.mark.parametrize("noisy", [False, True])
def test_convert_accumulate_matches_reference(
    noisy, with_cell_var, with_flips, same_adc_var, cycles_per_conversion, adc_errors
):
    from cimsim.physics.converters import conversion_plan

    mv, cycles, columns, n_out = 9, 6, 40, 7
    rng = np.random.default_rng(
        case_seed(noisy, with_cell_var, with_flips, same_adc_var, cycles_per_conversion, adc_errors)
    )
    for integer_lsb in (True, False):
        (currents, row_var, col_array, cell_var, adc_var, cycle_weight, col_out, col_weight, inv_lsb, lsb, flipped,
         row_sum) = _convert_inputs(rng, mv, cycles, columns, n_out, integer_lsb=integer_lsb,
                                    with_cell_var=with_cell_var, with_flips=with_flips,
                                    same_adc_var=same_adc_var)
        plan = conversion_plan(cycle_weight, cycles_per_conversion)
        # one step per (segment, column): here a coarser step for the less significant segments
        coarser = (2.0 ** np.arange(plan.segments)[::-1])[:, None]
        lsb2, adc_var2 = coarser * lsb[None, :], np.tile(adc_var, (plan.segments, 1))
        code_lo, code_hi, flip_level = -15.0, 120.0, 3.0  # some readings clip at both rails
        code_offset, col_adc, thresholds = np.zeros_like(lsb2), np.zeros(columns, dtype=np.int64), np.empty((0, 0))
        if adc_errors:  # offsets, and 4 ADCs' ascending transition levels of uneven widths
            code_offset = rng.uniform(-1.0, 1.0, size=lsb2.shape)
            col_adc = rng.integers(0, 4, size=columns)
            widths = rng.uniform(0.2, 1.8, size=(4, int(code_hi - code_lo)))
            thresholds = code_lo + 0.5 + np.cumsum(widths, axis=1) - widths[:, :1]
        key, block, first_vector = np.uint64(0x1234_5678_9ABC), 2, 5
        out = rng.integers(-50, 50, size=(mv, n_out)).astype(np.float64)  # the kernel adds into out
        ref = out.copy()
        kernels.convert_accumulate(
            currents, row_var, col_array, cell_var, adc_var2, cycle_weight, plan.relative_weight, plan.starts, col_out,
            col_weight, 1.0 / lsb2, lsb2, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level,
            row_sum, noisy, key, block, first_vector, out,
        )
        normals = random_stream.normal_matrix(key, block, first_vector, mv, cycles, columns) if noisy else None
        kernels.convert_accumulate_reference(
            currents, row_var, col_array, cell_var, adc_var2, cycle_weight, plan.relative_weight, plan.starts, col_out,
            col_weight, 1.0 / lsb2, lsb2, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level,
            row_sum, normals, ref,
        )
        if integer_lsb and cycles_per_conversion == 1:
            # every term and partial sum is an integer far below 2^53: exactly equal in any order
            np.testing.assert_array_equal(out, ref)
        else:
            # the same codes (integrated charges summed in another order): ~columns·cycles·eps relative
            np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_convert_accumulate_reference_is_the_documented_conversion():
    """A hand-checked case of the reference itself: round, clip, un-flip, shift-add."""
    currents = np.array([[2.4, 2.6, 100.0, -7.0]], dtype=np.float32)  # one vector, one cycle
    lsb = np.array([1.0, 1.0, 2.0, 1.0])
    out = np.zeros((1, 2))
    kernels.convert_accumulate_reference(
        currents, np.zeros((1, 1)), np.zeros(4, dtype=np.int64), np.empty((0, 0)), np.zeros((1, 4)), np.array([1.0]),
        np.array([1.0]),
        np.array([0, 1]), np.array([0, 0, 1, 1]), np.array([1.0, 4.0, 1.0, -1.0]), 1.0 / lsb[None, :],
        lsb[None, :], 0.0, 15.0, np.zeros((1, 4)), np.zeros(4, dtype=np.int64), np.empty((0, 0)),
        np.array([False, True, False, False]), 3.0, np.array([10.0]), None, out,
    )
    # col0: round(2.4)=2 -> 2; col1: round(2.6)=3, flipped: 3·10 − 3 = 27, ×4 = 108;
    # col2: 100/2 = 50 clipped to 15 -> 30; col3: −7 clipped to 0 -> 0, ×(−1)
    np.testing.assert_array_equal(out, [[2 + 108, 30 + 0]])


# --------------------------------------------------------------------------- Gaussian generator


def normal_cdf(z: np.ndarray) -> np.ndarray:
    return np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in np.ravel(z)])


def test_normal_matrix_is_standard_normal():
    key = np.uint64(987654321)
    z = random_stream.normal_matrix(key, 0, 0, 400, 10, 1000).ravel()  # 4e6 draws
    n = z.size
    # mean: sd 1/sqrt(n) = 5e-4; allow 5 sd
    assert abs(z.mean()) < 5 / math.sqrt(n)
    # variance: sd of the sample variance sqrt(2/n) = 7e-4; allow 5 sd
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2.0 / n)
    # Kolmogorov-Smirnov on a grid (the grid sup is <= D): P(sqrt(n)·D > 2.0) ≈ 2 exp(−2·2²) = 6.7e-4
    zs = np.sort(z)
    grid = np.linspace(-5, 5, 2001)
    empirical = np.searchsorted(zs, grid, side="right") / n
    d = np.abs(empirical - normal_cdf(grid)).max()
    assert math.sqrt(n) * d < 2.0, d
    # tails: P(|z| > 3) = 2.6998e-3, P(|z| > 4) = 6.334e-5 (from the CDF); counts are binomial,
    # allow 5 sd. |z| > 4 lies beyond the ziggurat's base strip r = 3.4426: it exercises the tail path.
    for threshold in (3.0, 4.0):
        p = 2 * (1 - normal_cdf(np.array([threshold]))[0])
        count = int((np.abs(z) > threshold).sum())
        sd = math.sqrt(n * p * (1 - p))
        assert abs(count - n * p) < 5 * sd, (threshold, count, n * p)
    # symmetric: the fraction of positive draws is 1/2 ± 5·0.5/sqrt(n)
    assert abs((z > 0).mean() - 0.5) < 5 * 0.5 / math.sqrt(n)


def test_normal_matrix_streams_are_keyed():
    key = np.uint64(42)
    base = random_stream.normal_matrix(key, 1, 0, 20, 4, 300)
    np.testing.assert_array_equal(base, random_stream.normal_matrix(key, 1, 0, 20, 4, 300))  # same key, same stream
    # row m·cycles + t is the stream of (block, first_vector + m, t): a later first_vector is a slice
    np.testing.assert_array_equal(random_stream.normal_matrix(key, 1, 5, 3, 4, 300), base[5 * 4 : 8 * 4])
    # a longer row extends the same stream
    np.testing.assert_array_equal(random_stream.normal_matrix(key, 1, 0, 20, 4, 500)[:, :300], base)
    others = {
        "key": random_stream.normal_matrix(np.uint64(43), 1, 0, 20, 4, 300),
        "block": random_stream.normal_matrix(key, 2, 0, 20, 4, 300),
        "vector": base[4:],  # vectors 1..19 against vectors 0..18 of the same block
    }
    # different cycles of one vector, and different vectors, differ from each other too
    rows = base.reshape(20, 4, 300)
    n = 300 * 20 * 4
    for name, other in others.items():
        a = base if name != "vector" else base[:-4]
        assert not np.any(a == other), name
        # independent streams: correlation ~ N(0, 1/n); allow 5 sd
        r = np.corrcoef(a.ravel(), other.ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(a.size), (name, r)
    r_cycles = np.corrcoef(rows[:, 0].ravel(), rows[:, 1].ravel())[0, 1]
    assert not np.any(rows[:, 0] == rows[:, 1])
    assert abs(r_cycles) < 5 / math.sqrt(n / 4)
    # within a stream, successive draws are uncorrelated
    lag = np.corrcoef(base[:, :-1].ravel(), base[:, 1:].ravel())[0, 1]
    assert abs(lag) < 5 / math.sqrt(base[:, 1:].size)


def test_read_noise_is_deterministic_per_seed_and_call():
    """Same seed, same result; a second call draws new noise (kernels: keyed by the call's index)."""
    cfg = IDEAL.override({"device.read_noise": 0.05, "adc.bits": 12, "array.rows": 32})
    rng = np.random.default_rng(9)
    w, x = rng.normal(size=(40, 5)), rng.normal(size=(3, 40))
    a, b = cimsim.AnalogMatrix(w, cfg, seed=4), cimsim.AnalogMatrix(w, cfg, seed=4)
    first = a.matmul(x)
    np.testing.assert_array_equal(first, b.matmul(x))
    assert not np.array_equal(first, a.matmul(x))
    assert not np.array_equal(first, cimsim.AnalogMatrix(w, cfg, seed=5).matmul(x))


# --------------------------------------------------------------------------- input validation


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(10, 3))
    return w, cimsim.AnalogMatrix(w, IDEAL.override({"array.rows": 8}), seed=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_inputs_are_shape_errors(small, bad, dtype):
    _, m = small
    x = np.ones((2, 10), dtype=dtype)
    x[1, 3] = bad
    with pytest.raises(cimsim.ShapeError, match="NaN"):
        m.matmul(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_shape_errors(bad):
    w = np.ones((4, 2))
    w[2, 1] = bad
    with pytest.raises(cimsim.ShapeError, match="NaN"):
        cimsim.AnalogMatrix(w, IDEAL, seed=0)


@pytest.mark.parametrize("shape", [(2, 9), (2, 11), (9,), (11,), (2, 10, 1)])
def test_wrong_input_size_is_a_shape_error_naming_k(small, shape):
    _, m = small
    with pytest.raises(cimsim.ShapeError) as info:
        m.matmul(np.ones(shape))
    if len(shape) < 3:
        assert "10" in str(info.value)


@pytest.mark.parametrize(
    "x",
    [
        np.ones((2, 5, 10)),
        np.ones((2, 10), dtype=complex),
        np.array([[object()] * 10]),
        np.array([["a"] * 10]),
        np.float64(1.0),
    ],
    ids=["3-D", "complex", "object", "string", "scalar"],
)
def test_bad_input_kinds_are_shape_errors(small, x):
    _, m = small
    with pytest.raises(cimsim.ShapeError):
        m.matmul(x)


@pytest.mark.parametrize(
    "w",
    [np.ones((0, 3)), np.ones((3, 0)), np.ones(5), np.ones((2, 2, 2)), np.ones((2, 2), dtype=complex), [["a", "b"]]],
    ids=["no-rows", "no-cols", "1-D", "3-D", "complex", "string"],
)
def test_bad_weights_are_shape_errors(w):
    with pytest.raises(cimsim.ShapeError):
        cimsim.AnalogMatrix(w, IDEAL, seed=0)


def test_int_bool_float16_inputs_are_converted(small):
    w, m = small
    cfg = m.cfg
    rng = np.random.default_rng(1)
    xi = rng.integers(-5, 6, size=(3, 10))
    np.testing.assert_array_equal(m.matmul(xi), exact_result(w, xi.astype(float), cfg))
    xb = rng.random((3, 10)) < 0.5
    xb[0, 0] = True
    np.testing.assert_array_equal(m.matmul(xb), exact_result(w, xb.astype(float), cfg))
    xh = rng.normal(size=(3, 10)).astype(np.float16)
    np.testing.assert_array_equal(m.matmul(xh), exact_result(w, xh.astype(float), cfg))
    xl = xi.tolist()  # a nested list
    np.testing.assert_array_equal(m.matmul(xl), exact_result(w, xi.astype(float), cfg))


def test_empty_batch_gives_empty_result(small):
    _, m = small
    y = m.matmul(np.empty((0, 10)))
    assert y.shape == (0, 3)
    assert m.matmul(np.empty((0, 10), dtype=np.int64)).shape == (0, 3)


def test_int_weights_are_converted():
    w = np.array([[1, -2], [3, 0], [0, 4]])
    x = np.array([[1.0, 2.0, -1.0]])
    cfg = IDEAL
    np.testing.assert_array_equal(cimsim.AnalogMatrix(w, cfg, seed=0).matmul(x), exact_result(w.astype(float), x, cfg))


def test_cfg_must_be_a_chip_config():
    with pytest.raises(cimsim.ConfigError, match="ChipConfig"):
        cimsim.AnalogMatrix(np.ones((2, 2)), IDEAL.to_dict(), seed=0)
    with pytest.raises(cimsim.ConfigError):
        cimsim.AnalogMatrix(np.ones((2, 2)), "ideal", seed=0)


@pytest.mark.parametrize("t", [-1.0, -1, float("nan"), float("inf"), "10", None])
def test_drift_to_rejects_bad_times(small, t):
    _, m = small
    with pytest.raises(cimsim.ConfigError, match="drift_to"):
        m.drift_to(t)


def test_calibrated_range_needs_calibrate():
    cfg = IDEAL.override({"adc.range": "calibrated", "adc.bits": 8})
    rng = np.random.default_rng(3)
    w, x = rng.normal(size=(12, 4)), rng.normal(size=(5, 12))
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    with pytest.raises(cimsim.ConfigError, match="calibrate"):
        m.matmul(x)
    m.calibrate(x)
    assert m.matmul(x).shape == (5, 4)
