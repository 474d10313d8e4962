"""Expected counts from shapes and statistics against the crossbar's own counts; the placement kernel."""

import numpy as np
import pytest

import cimsim
from cimsim.physics import kernels
from cimsim.physics.input_model import InputModel
from cimsim.physics.mapping import array_geometry
from cimsim.costs.array_counts import (
    array_level_sums,
    weight_scale,
    array_level_sums_reference,
    footprint,
    measured_statistics,
    modelled_statistics,
    read_counts,
    weight_arrays,
)

PRESETS = ("ideal", "isaac", "rram-22nm", "neurram")  # noise-free conductances: Σ G is the target's


def sparse_weights(k=300, n=40, seed=1):
    w = np.random.default_rng(seed).standard_normal((k, n))
    w[:, :10] = 0  # whole columns pruned
    w[100:200] = 0  # a block of rows pruned
    return w


def read_ledger(w, x, cfg):
    m = cimsim.AnalogMatrix(w, cfg, seed=0)
    if cfg.adc.range == "calibrated":
        m.calibrate(x)
    m.ledger = cimsim.Ledger()
    m.matmul(x)
    return m


@pytest.mark.parametrize("preset", PRESETS)
def test_expected_counts_from_measured_statistics_equal_the_crossbars_counts(preset):
    cfg = cimsim.load_preset(preset)
    w = sparse_weights()
    x = np.maximum(np.random.default_rng(2).standard_normal((7, 300)), 0)
    matrix = read_ledger(w, x, cfg)
    fp = footprint(w, 300, 40, cfg)
    assert fp.arrays == matrix.arrays
    expected = {(c, a): n for c, a, n in read_counts(fp, measured_statistics(x, cfg), 7, cfg)}
    counted = {(c, a): n for (_, c, a), n, _ in matrix.ledger.entries()}
    assert counted.keys() == expected.keys()
    for key, count in counted.items():
        assert expected[key] == pytest.approx(count, rel=1e-12), key


def test_a_matrix_without_weights_counts_as_dense_at_mean_conductance():
    cfg = cimsim.load_preset("ideal")
    dense = footprint(None, 300, 40, cfg)
    assert dense.arrays == dense.row_blocks * dense.column_arrays
    d = cfg.device
    assert dense.g_row_sum_us == pytest.approx(dense.row_cells * (d.g_min_us + d.g_max_us) / 2)


def test_modelled_statistics_follow_the_density_of_the_model():
    cfg = cimsim.load_preset("ideal")
    sparse = modelled_statistics(256, cfg, InputModel(signed=False, density=0.25), seed=0)
    dense = modelled_statistics(256, cfg, InputModel(signed=False, density=1.0), seed=0)
    # non-zero codes scale with the fraction of non-zero inputs; 64 x 256 samples: 2 % is > 5 sigma
    assert sparse.nonzero.mean() / dense.nonzero.mean() == pytest.approx(0.25, rel=0.1)
    assert modelled_statistics(256, cfg, InputModel(signed=True, density=1.0)).signed


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"mapping.weight_scale": "column"},
        {"array.bits_per_cell": 1, "array.cols": 50},
        {"array.bits_per_cell": 4, "mapping.weight_bits": 7, "array.rows": 37},
        {"mapping.weight_encoding": "offset", "mapping.differential_sensing": "digital"},
    ],
)
@pytest.mark.parametrize("preset", ("ideal", "isaac"))
def test_the_placement_kernel_equals_its_numpy_reference(preset, overrides):
    cfg = cimsim.load_preset(preset).override(overrides)
    w = sparse_weights(k=130, n=33, seed=5).astype(np.float32)
    live, level_sums, widths = array_level_sums(w, *weight_scale(w, cfg), array_geometry(cfg))
    reference = array_level_sums_reference(w.astype(np.float64), cfg)
    np.testing.assert_array_equal(level_sums, reference)
    np.testing.assert_array_equal(live, reference > 0)
    assert widths.sum() == cimsim.AnalogMatrix(w, cfg).physical_columns


@pytest.mark.parametrize("preset", ("ideal", "isaac"))
def test_the_zero_row_kernel_equals_numpy_quantisation(preset):
    cfg = cimsim.load_preset(preset).override({"mapping.weight_bits": 4})  # coarse: small weights round to 0
    w = sparse_weights(k=200, n=17, seed=3) * np.random.default_rng(4).random((200, 1)) ** 3
    w_q, _ = cimsim.physics.mapping.quantize_weights(w, 4, per_column=False)
    expected = w_q.any(axis=1)
    assert 0 < expected.sum() < 200  # some rows quantise to zero, some do not
    np.testing.assert_array_equal(kernels.nonzero_rows(w, *weight_scale(w, cfg)), expected)
    fp = footprint(w, 200, 17, cfg)
    np.testing.assert_array_equal(fp.rows_kept, np.flatnonzero(expected))
    assert fp.stored_rows == expected.sum() == cimsim.AnalogMatrix(w, cfg).stored_rows


def test_weight_arrays_count_every_group():
    cfg = cimsim.load_preset("ideal")
    w = sparse_weights(k=64, n=16)
    assert weight_arrays(np.stack([w, w, w]), cfg) == 3 * weight_arrays(w, cfg)
