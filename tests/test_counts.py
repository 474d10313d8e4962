"""Action counts of AnalogMatrix (its Ledger) and the array geometry.

Counts are recomputed here from the data, following docs/physics.md (sections 1-12) and
docs/energy.md ("Counting is separate from pricing"), the Ledger docstring and AnalogMatrix's docstrings:
a DAC conversion is a non-zero input code driven on one row of one array, a cell read is a
driven row times a physical column, an ADC conversion is one column reading per
(vector, input cycle, row block), and the read energy term is Σ V²·G over the cells read.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

import cimsim
from cimsim import Ledger
from cimsim.physics.mapping import array_geometry

IDEAL = cimsim.load_preset("ideal")


# --------------------------------------------------------------------------- references


def ref_weight_levels(w: np.ndarray, cfg: cimsim.ChipConfig) -> np.ndarray:
    """K × (N·S·P) cell levels (docs/physics.md sections 1–3): quantise, encode the sign, slice c bits."""
    mp, c = cfg.mapping, cfg.array.bits_per_cell
    q_max = 2 ** (mp.weight_bits - 1) - 1
    max_abs = np.abs(w).max(axis=0) if mp.weight_scale == "column" else np.full(w.shape[1], np.abs(w).max())
    s_w = np.where(max_abs > 0, max_abs / q_max, 1.0)
    w_q = np.clip(np.rint(w / s_w), -q_max, q_max).astype(np.int64)
    if mp.weight_encoding == "differential":
        stored, bits = [np.maximum(w_q, 0), np.maximum(-w_q, 0)], mp.weight_bits - 1
    else:
        stored, bits = [w_q + 2 ** (mp.weight_bits - 1)], mp.weight_bits
    slices = math.ceil(bits / c)
    # K, N, S, P: physical columns ordered (output n, slice s, sign p) as mapping.py documents;
    # the order decides which columns share an array, which decides which rows an array drives
    cells = np.stack([np.stack([(part >> (c * s)) & (2**c - 1) for s in range(slices)], axis=2) for part in stored], axis=3)
    return cells.reshape(w.shape[0], -1)


def ref_input_codes(x: np.ndarray, cfg: cimsim.ChipConfig) -> np.ndarray:
    """M × T × K DAC codes (docs/physics.md section 5, mapping.py docstring), from the formulas."""
    b, d = cfg.mapping.input_bits, cfg.dac.bits
    mask = 2**d - 1

    def planes(magnitude, bits):
        return np.stack([(magnitude >> (d * t)) & mask for t in range(math.ceil(bits / d))], axis=1)

    if x.min() >= 0:
        s_x = x.max() / (2**b - 1) if x.max() > 0 else 1.0
        x_q = np.clip(np.rint(x / s_x), 0, 2**b - 1).astype(np.int64)
        return planes(x_q, b)
    q = 2 ** (b - 1) - 1
    x_q = np.clip(np.rint(x / (np.abs(x).max() / q)), -q, q).astype(np.int64)
    encoding = cfg.mapping.input_encoding
    if encoding == "offset":
        return planes(x_q + 2 ** (b - 1), b)
    if encoding == "bipolar":
        return planes(np.abs(x_q), b - 1) * np.sign(x_q)[:, None, :]
    return np.concatenate([planes(np.maximum(x_q, 0), b - 1), planes(np.maximum(-x_q, 0), b - 1)], axis=1)


def flip_levels(levels: np.ndarray, cfg: cimsim.ChipConfig) -> np.ndarray:
    """ISAAC's flip (crossbar.py): per row block, a column holding more than half the levels is inverted."""
    if not cfg.mapping.flip_columns:
        return levels
    top, rows, out = 2**cfg.array.bits_per_cell - 1, cfg.array.rows, levels.copy()
    for start in range(0, levels.shape[0], rows):
        block = levels[start : start + rows]
        flip = 2 * block.sum(axis=0) > block.shape[0] * top
        out[start : start + rows, flip] = top - block[:, flip]
    return out


def expected_counts(w: np.ndarray, x: np.ndarray, cfg: cimsim.ChipConfig) -> dict[tuple[str, str], float]:
    """What one matmul of x must add to the ledger, recomputed from the data."""
    k, n = w.shape
    m = x.shape[0]
    levels = ref_weight_levels(w, cfg)
    physical = levels.shape[1]
    codes = ref_input_codes(x, cfg)
    cycles = codes.shape[1]
    analog_pairs = cfg.mapping.weight_encoding == "differential" and cfg.mapping.differential_sensing == "analog"
    per_array = cfg.array.cols - cfg.array.cols % 2 if analog_pairs else cfg.array.cols
    column_arrays = math.ceil(physical / per_array)
    row_blocks = math.ceil(k / cfg.array.rows)
    conversion_columns = physical // 2 if analog_pairs else physical
    stored = flip_levels(levels, cfg)
    # a row is driven in an array only if one of its cells there holds a level above 0 (crossbar.py)
    array_of_column = np.arange(physical) // per_array
    live = np.stack([(stored[:, array_of_column == c] != 0).any(axis=1) for c in range(column_arrays)], axis=1)
    live_cells = live[:, array_of_column]  # K x physical
    driven_per_row = np.count_nonzero(codes, axis=(0, 1))  # non-zero codes of each row, all vectors and cycles
    dev = cfg.device
    g = dev.g_min_us + (dev.g_max_us - dev.g_min_us) * stored / (2**cfg.array.bits_per_cell - 1)
    volts = dev.v_read * codes / (2**cfg.dac.bits - 1)  # V = v_read · X_t / (2^d − 1)
    v2g = float(np.einsum("mtk,k->", volts**2, (g * live_cells).sum(axis=1)))  # Σ over reads of V²·G
    return {
        ("dac", "conversions"): int(driven_per_row @ live.sum(axis=1)),
        ("cell", "reads"): int(driven_per_row @ live_cells.sum(axis=1)),
        ("adc", "conversions"): m * cycles * row_blocks * conversion_columns,
        ("cell", "v2g_v2_us"): v2g,
        ("partial_sum", "adds"): m * n * (row_blocks - 1),
    }


def case_seed(*case) -> int:
    return zlib.crc32(repr(case).encode())


# --------------------------------------------------------------------------- action counts

ENCODINGS = {
    "diff-digital": {"mapping.weight_encoding": "differential", "mapping.differential_sensing": "digital"},
    "diff-analog": {"mapping.weight_encoding": "differential", "mapping.differential_sensing": "analog"},
    "offset": {"mapping.weight_encoding": "offset"},
}
INPUTS = ["unsigned", "two_phase", "bipolar", "offset"]


def counting_config(encoding: str, inputs: str, **extra) -> cimsim.ChipConfig:
    # noise-free (ideal preset) so the programmed G is known; g_min > 0 so every read cell counts
    return IDEAL.override(
        {
            "array.rows": 16,
            "array.cols": 11,  # odd: analog pairs use 10 of them
            "array.bits_per_cell": 2,
            "dac.bits": 2,
            "mapping.weight_bits": 6,
            "mapping.input_bits": 5,
            "device.g_min_us": 2.0,
            "device.g_max_us": 50.0,
            "device.v_read": 0.3,
            "mapping.input_encoding": "two_phase" if inputs == "unsigned" else inputs,
            **ENCODINGS[encoding],
            **extra,
        }
    )


def problem(seed: int, k: int = 37, n: int = 5, m: int = 4, signed: bool = True):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(k, n))
    x = rng.normal(size=(m, k)) if signed else rng.exponential(size=(m, k))
    x[rng.random(x.shape) < 0.3] = 0.0
    return w, x


def assert_counts(ledger: Ledger, expected: dict, writes: float) -> None:
    for key, value in expected.items():
        if key == ("cell", "v2g_v2_us"):
            # a float sum of ~10^3 positive terms in another order: ~1e-13 relative
            assert ledger.count(*key) == pytest.approx(value, rel=1e-12), key
        else:
            assert ledger.count(*key) == value, key
    assert ledger.count("cell", "writes") == writes


@pytest.mark.parametrize("inputs", INPUTS)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_counts_of_one_matmul(encoding, inputs):
    cfg = counting_config(encoding, inputs)
    w, x = problem(case_seed(encoding, inputs), signed=inputs != "unsigned")
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    writes = w.shape[0] * ref_weight_levels(w, cfg).shape[1]  # K × physical columns, at programming
    assert m.ledger.count("cell", "writes") == writes
    assert m.ledger.count("adc", "conversions") == 0  # programming converts nothing
    m.matmul(x)
    expected = expected_counts(w, x, cfg)
    assert expected[("partial_sum", "adds")] > 0  # 37 rows on 16-row arrays: 3 blocks
    assert_counts(m.ledger, expected, writes)


@pytest.mark.parametrize("inputs", ["unsigned", "two_phase", "offset"])
def test_counts_with_flipped_columns_read_the_stored_conductances(inputs):
    cfg = counting_config("offset", inputs, **{"mapping.flip_columns": True})
    w, x = problem(case_seed("flip", inputs), k=40, n=6, signed=inputs != "unsigned")
    w[:, 0] = np.abs(w[:, 0])  # a column of large stored values: flipped in every block
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    m.matmul(x)
    expected = expected_counts(w, x, cfg)
    levels = ref_weight_levels(w, cfg)
    assert not np.array_equal(flip_levels(levels, cfg), levels)  # the case does flip something
    assert_counts(m.ledger, expected, w.shape[0] * levels.shape[1])


def test_zero_inputs_drive_nothing_but_still_convert():
    cfg = counting_config("diff-digital", "two_phase")
    w, _ = problem(1)
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    m.matmul(np.zeros((3, 37)))
    led = m.ledger
    assert led.count("dac", "conversions") == 0
    assert led.count("cell", "reads") == 0
    assert led.count("cell", "v2g_v2_us") == 0
    # 3 vectors × 3 cycles (5 unsigned bits on a 2-bit DAC) × 3 row blocks × (5 outputs · 3 slices · 2 signs)
    assert led.count("adc", "conversions") == 3 * 3 * 3 * (5 * 3 * 2)


def test_one_hot_input_counts_by_hand():
    """A single non-zero input code: one row driven in one cycle."""
    cfg = counting_config("offset", "unsigned")
    w, _ = problem(2)
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    x = np.zeros((1, 37))
    x[0, 20] = 1.0  # x_q = 31 = 0b11111: codes 3, 3, 1 over 3 cycles of a 2-bit DAC
    m.matmul(x)
    physical = 5 * 3  # 5 outputs × ceil(6 / 2) slices, offset encoding: one cell per slice
    assert m.ledger.count("dac", "conversions") == 3 * math.ceil(physical / 11)
    assert m.ledger.count("cell", "reads") == 3 * physical
    levels = ref_weight_levels(w, cfg)[20]
    g_row = (2.0 + 48.0 * levels / 3).sum()
    v2g = (0.3**2) * (1 + 1 + (1 / 3) ** 2) * g_row  # V = 0.3·code/3 for codes 3, 3, 1
    assert m.ledger.count("cell", "v2g_v2_us") == pytest.approx(v2g, rel=1e-12)  # float rounding only


def test_doubling_the_batch_doubles_every_count():
    cfg = counting_config("diff-analog", "two_phase")
    w, x = problem(3)
    one = cimsim.AnalogMatrix(w, cfg, seed=0)
    one.matmul(x)
    two = cimsim.AnalogMatrix(w, cfg, seed=0)
    two.matmul(np.vstack([x, x]))  # same extremes, so the same input scale
    single = {(c, a): n for (_, c, a), n, _ in one.ledger.entries()}
    double = {(c, a): n for (_, c, a), n, _ in two.ledger.entries()}
    assert single.keys() == double.keys()
    writes = ("cell", "writes")
    assert double[writes] == single[writes]
    for key in single:
        if key != writes:
            assert double[key] == pytest.approx(2 * single[key], rel=1e-12), key  # v2g: float order only
    assert double[("adc", "conversions")] > 0


def test_two_matmuls_add_up():
    cfg = counting_config("offset", "bipolar")
    w, x1 = problem(4)
    _, x2 = problem(5, m=7)
    both = cimsim.AnalogMatrix(w, cfg, seed=0)
    both.matmul(x1)
    both.matmul(x2)
    first = cimsim.AnalogMatrix(w, cfg, seed=0)
    first.matmul(x1)
    second = cimsim.AnalogMatrix(w, cfg, seed=0)
    second.matmul(x2)
    programming = Ledger()
    writes = both.ledger.count("cell", "writes")
    programming.add("cell", "writes", writes, writes * cfg.device.write_energy_pj)
    total = {key: (count, energy) for key, count, energy in (first.ledger + second.ledger).entries()}
    combined = {key: (count, energy) for key, count, energy in (both.ledger + programming).entries()}
    assert total.keys() == combined.keys()
    for key in total:
        assert combined[key] == pytest.approx(total[key], rel=1e-12), key
    e1, e2 = expected_counts(w, x1, cfg), expected_counts(w, x2, cfg)
    assert both.ledger.count("adc", "conversions") == e1[("adc", "conversions")] + e2[("adc", "conversions")]


def test_counts_do_not_depend_on_chunking():
    """A batch large enough to be read in several chunks counts the same as the sum of its parts."""
    cfg = counting_config("offset", "unsigned")
    rng = np.random.default_rng(8)
    w = rng.normal(size=(37, 200))  # 600 physical columns: a few thousand vectors fill the buffer
    x = rng.exponential(size=(3000, 37))
    x[rng.random(x.shape) < 0.3] = 0.0
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    m.matmul(x)
    assert_counts(m.ledger, expected_counts(w, x, cfg), 37 * 600)


def test_isaac_50_one_adc_conversion_per_16_bit_mac():
    """ISAAC-50 (docs/reference/reference_figures.csv): (16/2 cells per weight)·(16 input cycles)/128 rows = 1.00 conv/MAC."""
    cfg = cimsim.load_preset("isaac")
    k, n, m = 128, 16, 3
    rng = np.random.default_rng(50)
    mat = cimsim.AnalogMatrix(rng.normal(size=(k, n)), cfg, seed=0)
    mat.matmul(rng.normal(size=(m, k)))
    assert mat.ledger.count("adc", "conversions") / (m * k * n) == 1.0
    mat.matmul(rng.random(size=(m, k)))  # unsigned inputs: also 16 cycles of 1 bit
    assert mat.ledger.count("adc", "conversions") / (2 * m * k * n) == 1.0


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize(
    "overrides, k, n, physical, row_blocks, column_arrays",
    [
        # ideal: 128x128, 2-bit cells, 8-bit differential weights: ceil(7/2) = 4 slices × 2 cells
        ({}, 256, 16, 16 * 8, 2, 1),  # multiples of the array
        ({}, 257, 17, 17 * 8, 3, 2),  # not multiples
        ({}, 5, 1, 8, 1, 1),  # smaller than one array
        ({"mapping.weight_encoding": "offset"}, 128, 33, 33 * 4, 1, 2),  # 8 bits / 2 = 4 cells per weight
        # analog differential pairs never straddle two arrays: 5 columns hold 2 pairs
        ({"array.cols": 5, "mapping.differential_sensing": "analog", "mapping.weight_bits": 5}, 10, 5, 20, 1, 5),
        ({"array.cols": 7, "array.rows": 3, "mapping.differential_sensing": "analog", "mapping.weight_bits": 5},
         10, 3, 12, 4, 2),
        ({"array.cols": 6, "mapping.differential_sensing": "analog", "mapping.weight_bits": 5}, 10, 3, 12, 1, 2),
        # digital sensing converts each column alone: 5 columns are all used
        ({"array.cols": 5, "mapping.weight_bits": 5}, 10, 5, 20, 1, 4),
        ({"array.cols": 5, "mapping.weight_encoding": "offset", "mapping.weight_bits": 5, "array.bits_per_cell": 3},
         10, 4, 8, 1, 2),
    ],
)
def test_geometry(overrides, k, n, physical, row_blocks, column_arrays):
    cfg = IDEAL.override(overrides)
    w = np.ones((k, n))  # every weight at the top level: no cell of any array is empty
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    assert m.shape == (k, n)
    assert m.physical_columns == physical
    assert m.row_blocks == row_blocks
    assert m.column_arrays == column_arrays
    assert m.arrays == row_blocks * column_arrays
    # a matmul charges one DAC drive per driven row per column array
    m.matmul(np.ones((1, k)))
    cycles = cfg.mapping.input_bits  # unsigned all-ones input: every one of the 8 bits set, 1-bit DAC
    assert m.ledger.count("dac", "conversions") == k * cycles * column_arrays


def test_analog_pairs_need_two_columns_per_array():
    cfg = IDEAL.override({"array.cols": 1, "mapping.differential_sensing": "analog"})
    with pytest.raises(cimsim.ConfigError, match="array.cols"):
        m = cimsim.AnalogMatrix(np.ones((4, 2)), cfg, seed=0)
        m.matmul(np.ones((1, 4)))


def test_array_geometry_by_hand():
    """7 columns, analog pairs of 5-bit weights on 2-bit cells: ceil(4 / 2) = 2 slices x 2 signs per weight."""
    cfg = IDEAL.override({"array.cols": 7, "array.rows": 3, "mapping.differential_sensing": "analog",
                          "mapping.weight_bits": 5, "adc.columns_per_adc": 4})
    g = array_geometry(cfg)
    assert (g.slices, g.signs, g.cells_per_weight, g.max_level) == (2, 2, 4, 3)
    assert g.columns_per_array == 6 and g.analog_differential  # a pair never splits: 6 of the 7 columns
    assert g.weight_offset == 0 and not g.flip_columns
    assert g.adcs_per_array == 2 and g.conversions_per_adc == 2  # ceil(7 / 4) ADCs, 4 columns = 2 pairs each
    assert g.physical_columns(3) == 12 and g.conversion_columns(3) == 6
    assert g.grid(10, 3) == (4, 2)  # ceil(10 / 3) row blocks, ceil(12 / 6) column arrays
    offset = array_geometry(cfg.override({"mapping.weight_encoding": "offset"}))
    assert (offset.slices, offset.signs, offset.weight_offset) == (3, 1, 16)  # 5 bits in 2-bit cells, + 2^4
    assert not offset.analog_differential and offset.columns_per_array == 7


def test_array_geometry_is_computed_once_per_configuration():
    cfg = cimsim.load_preset("isaac")
    assert array_geometry(cfg) is array_geometry(cimsim.load_preset("isaac"))  # equal configs hash alike
    assert array_geometry(cfg) is array_geometry(cfg.override({"energy.dac_pj_per_conversion": 9.0}))  # no geometry
    assert array_geometry(cfg) is not array_geometry(cfg.override({"array.cols": 64}))


def test_analog_pairs_in_one_column_are_refused_by_the_geometry_and_the_peak_figures():
    cfg = IDEAL.override({"array.cols": 1, "mapping.differential_sensing": "analog"})
    for refused in (array_geometry, cimsim.peak):
        with pytest.raises(cimsim.ConfigError, match="array.cols = 1"):
            refused(cfg)


def shared_nm(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """N:M along K with one pattern for every column: keep the n rows of largest norm in each m."""
    groups = w.reshape(-1, m, w.shape[1]).copy()
    smallest = np.argsort(np.linalg.norm(groups, axis=2), axis=1)[:, : m - n]
    for g, rows in enumerate(smallest):
        groups[g, rows] = 0.0
    return groups.reshape(w.shape)


def test_sparse_weights_use_fewer_arrays_drives_and_energy():
    """Empty rows of an array are not driven, empty arrays are not needed, all-zero rows are not stored."""
    cfg = IDEAL.override({"array.rows": 32, "array.cols": 32})  # 8-bit differential: 8 cells per weight
    rng = np.random.default_rng(9)
    dense = rng.normal(size=(128, 16))
    blocked = dense.copy()
    blocked[32:96, :] = 0.0  # two row blocks of 32 rows are empty for every output
    rows_pruned = dense.copy()
    rows_pruned[::4, :] = 0.0  # a quarter of the rows is empty everywhere
    nm = dense.copy().reshape(32, 4, 16)
    smallest = np.argsort(np.abs(nm), axis=1)[:, :2]  # 2:4 along K, a pattern per column
    np.put_along_axis(nm, smallest, 0.0, axis=1)
    nm = nm.reshape(128, 16)
    weights = {"dense": dense, "blocked": blocked, "rows": rows_pruned, "2:4": nm,
               "2:4:rows": shared_nm(dense, 2, 4), "1:4:rows": shared_nm(dense, 1, 4)}
    x = rng.random((4, 128))
    ledgers, arrays = {}, {}
    for name, w in weights.items():
        m = cimsim.AnalogMatrix(w, cfg, seed=0)
        y = m.matmul(x)
        ledgers[name], arrays[name] = m.ledger, m.arrays
        uncompacted = cimsim.AnalogMatrix(w, cfg.override({"mapping.compact_rows": False}), seed=0)
        np.testing.assert_array_equal(y, uncompacted.matmul(x))  # leaving zero rows out changes nothing
    # 4 column arrays (16 outputs x 8 cells / 32) x row blocks of 32 stored rows: 128 rows -> 4 blocks,
    # blocked: 2 of 4 blocks empty; a quarter of the rows left out: 96 rows -> 3 blocks; 2:4 with one
    # pattern for all columns: 64 rows -> 2 blocks; 1:4: 32 rows -> 1 block; 2:4 per column: no row is
    # empty in every column, so nothing is left out and no array empties
    assert arrays == {"dense": 16, "blocked": 8, "rows": 12, "2:4": 16, "2:4:rows": 8, "1:4:rows": 4}
    drives = {name: led.count("dac", "conversions") for name, led in ledgers.items()}
    assert drives["blocked"] == pytest.approx(drives["dense"] / 2, rel=0.1)  # half the rows, random inputs
    assert drives["rows"] == pytest.approx(drives["dense"] * 3 / 4, rel=0.1)
    assert drives["2:4:rows"] == pytest.approx(drives["dense"] / 2, rel=0.1)
    assert drives["1:4:rows"] == pytest.approx(drives["dense"] / 4, rel=0.1)
    # 2:4 with a pattern per column: a row is empty in an array only when all its 4 weights there
    # (32 columns / 8 cells) are pruned, probability (1/2)^4, so about 15/16 of the drives remain
    assert drives["2:4"] == pytest.approx(drives["dense"] * 15 / 16, rel=0.05)
    conversions = {name: led.count("adc", "conversions") for name, led in ledgers.items()}
    assert conversions["2:4:rows"] == conversions["dense"] / 2  # half the row blocks, each fully converted
    assert conversions["1:4:rows"] == conversions["dense"] / 4
    energy = {name: led.energy_pj for name, led in ledgers.items()}
    assert energy["1:4:rows"] < energy["2:4:rows"] < energy["2:4"] < energy["dense"]
    energy = {name: led.energy_pj for name, led in ledgers.items()}
    assert energy["blocked"] < energy["rows"] < energy["dense"]
