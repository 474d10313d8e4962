"""The Workload data model: Gemm, NonGemm, N:M detection, JSON and npz round trips, validation."""

import numpy as np
import pytest

import cimsim
from cimsim.workload import detect_nm_sparsity


def pruned(k, n, keep, group, seed=0):
    """K x N weights keeping the ``keep`` largest |w| of every ``group`` consecutive rows per column."""
    w = np.random.default_rng(seed).standard_normal((k, n))
    g = w.reshape(k // group, group, n)
    order = np.argsort(-np.abs(g), axis=1)
    mask = np.zeros_like(g, dtype=bool)
    np.put_along_axis(mask, order[:, :keep], True, axis=1)
    return (g * mask).reshape(k, n)


@pytest.mark.parametrize("keep, group", [(1, 2), (2, 4), (1, 4), (2, 8)])
def test_nm_sparsity_is_detected_along_k(keep, group):
    w = pruned(64, 10, keep, group)
    assert detect_nm_sparsity(w) == (keep, group)
    assert cimsim.Gemm("fc", m=3, k=64, n=10, weights=w).sparsity == (keep, group)


def test_dense_weights_and_activation_products_have_no_sparsity():
    assert detect_nm_sparsity(np.ones((16, 4))) is None
    assert detect_nm_sparsity(None) is None
    assert cimsim.Gemm("qk", m=8, k=64, n=8, count=12).sparsity is None


def test_sparsity_needs_every_group_not_just_the_average():
    w = pruned(16, 4, 2, 4)
    w[0:4, 0] = 1.0  # one dense group breaks 2:4 even though the matrix is ~half zeros
    assert detect_nm_sparsity(w) is None


def test_macs_count_dense_and_non_zero_weights():
    w = pruned(32, 6, 1, 4)
    g = cimsim.Gemm("fc", m=5, k=32, n=6, weights=w)
    assert g.macs == 5 * 32 * 6
    assert g.effective_macs == 5 * 32 * 6 // 4
    grouped = cimsim.Gemm("conv", m=9, k=18, n=4, count=3, weights=np.ones((3, 18, 4)))
    assert grouped.macs == grouped.effective_macs == 9 * 18 * 4 * 3


def test_bad_shapes_and_kinds_name_what_is_wrong():
    with pytest.raises(cimsim.ShapeError, match="expected \\(4, 3\\)"):
        cimsim.Gemm("fc", m=1, k=4, n=3, weights=np.ones((3, 4)))
    with pytest.raises(cimsim.ShapeError, match="m = 0"):
        cimsim.Gemm("fc", m=0, k=4, n=3)
    with pytest.raises(cimsim.ConfigError, match="gelu"):
        cimsim.NonGemm("act", "gelu", 10)


def test_workload_checks_names_and_inputs():
    fc = cimsim.Gemm("fc", m=1, k=4, n=3)
    with pytest.raises(cimsim.ConfigError, match="two operations"):
        cimsim.Workload([fc, cimsim.Gemm("fc", m=1, k=3, n=2)])
    with pytest.raises(cimsim.ConfigError, match="relu"):
        cimsim.Workload([cimsim.Gemm("fc2", m=1, k=3, n=2, inputs=("relu",)), fc])


def small_workload():
    conv = cimsim.ConvGeometry(4, 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, (8, 8), (8, 8))
    w1 = pruned(36, 8, 2, 4, seed=1)
    return cimsim.Workload(
        [
            cimsim.Gemm("conv", m=64, k=36, n=8, weights=w1, conv=conv),
            cimsim.NonGemm("relu", "activation", 512, inputs=("conv",)),
            cimsim.Gemm("fc", m=1, k=512, n=10, weights=np.random.default_rng(2).standard_normal((512, 10)), inputs=("relu",)),
            cimsim.Gemm("qk", m=4, k=16, n=4, count=2, inputs=("fc",)),
            cimsim.NonGemm("softmax", "softmax", 32, inputs=("qk",)),
        ],
        name="small",
    )


def test_json_round_trip_keeps_everything_but_weights(tmp_path):
    wl = small_workload()
    back = cimsim.Workload.from_json(wl.to_json(tmp_path / "w.json"))
    assert back == wl and back.to_dict() == wl.to_dict()
    assert back.gemms[0].weights is None and back.gemms[0].sparsity == (2, 4)  # the sparsity is data
    assert back.gemms[0].conv == wl.gemms[0].conv
    assert back.macs == wl.macs == 64 * 36 * 8 + 512 * 10 + 4 * 16 * 4 * 2


def test_npz_round_trip_keeps_the_weights(tmp_path):
    wl = small_workload()
    back = cimsim.Workload.load_npz(wl.save_npz(tmp_path / "w.npz"))
    assert back == wl
    for a, b in zip(wl.gemms, back.gemms):
        if a.weights is None:
            assert b.weights is None
        else:
            np.testing.assert_array_equal(a.weights, b.weights)
    assert not list(tmp_path.glob(".*.tmp"))


def test_unreadable_files_are_config_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(cimsim.ConfigError, match="bad.json"):
        cimsim.Workload.from_json(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(cimsim.ConfigError, match="Workload"):
        cimsim.Workload.from_json(tmp_path / "other.json")
    with pytest.raises(cimsim.ConfigError, match="missing.npz"):
        cimsim.Workload.load_npz(tmp_path / "missing.npz")
