"""The article's external function: ``tvm_bridge.register_mem_compute()`` and ``mem_compute.matmul(w, x)``.

The function is called as the article calls it, through TVM's registry
(``tvm.get_global_func("mem_compute.matmul")(w, x)``). On the ``ideal`` preset (no noise, a
24-bit ADC that converts every column sum exactly) the result is the product of the quantised
operands, written out here: s_w = max|w| / 127 over the tensor, s_x = max|x| / 127 over the call's
inputs (8-bit signed), y = s_w · s_x · rint(w / s_w) @ rint(x / s_x), to float32 rounding.
"""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

import cimsim

tvm = pytest.importorskip("tvm")
tvm_bridge = pytest.importorskip("tvm_bridge")

FLOAT32_RTOL = 1e-6  # the result is returned in float32: a few ulps of the largest output


def _operands(n=32, k=64, m=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)).astype("float32"), rng.standard_normal((k, m)).astype("float32")


def _quantised_product(w, x):
    s_w, s_x = np.abs(w).max() / 127, np.abs(x).max() / 127
    return s_w * s_x * (np.rint(w / s_w) @ np.rint(x / s_x))


def _mem_compute():
    return tvm.get_global_func("mem_compute.matmul")


def test_the_article_call_computes_w_at_x_on_the_crossbars():
    tvm_bridge.register_mem_compute()  # the default chip: "ideal"
    w, x = _operands()
    y = _mem_compute()(tvm.runtime.tensor(w), tvm.runtime.tensor(x))
    assert isinstance(y, tvm.runtime.Tensor) and y.shape == (32, 8) and y.dtype == "float32"
    expected = _quantised_product(w.astype(np.float64), x.astype(np.float64))
    np.testing.assert_allclose(y.numpy(), expected, rtol=0, atol=FLOAT32_RTOL * np.abs(expected).max())
    vector = _mem_compute()(w, x[:, 0])  # numpy arrays go through TVM's FFI as tensors too; a K-vector gives (N,)
    expected = _quantised_product(w.astype(np.float64), x[:, 0].astype(np.float64))
    np.testing.assert_allclose(vector.numpy(), expected, rtol=0, atol=FLOAT32_RTOL * np.abs(expected).max())


def test_the_first_call_programs_w_and_later_calls_read_it():
    crossbars = tvm_bridge.register_mem_compute("ideal", seed=0)
    w, x = _operands()
    _mem_compute()(w, x)
    cells = 32 * 64 * 8  # N·K weights, 8 cells each on ideal (4 two-bit slices × a differential pair)
    assert crossbars.ledger.count("cell", "writes") == cells
    _mem_compute()(w.copy(), x)  # an equal copy: the same checksum, the same crossbar
    _mem_compute()(tvm.runtime.tensor(w), 2 * x)
    assert len(crossbars.products) == 1 and crossbars.ledger.count("cell", "writes") == cells
    reads = crossbars.ledger.count("dac", "conversions")
    _mem_compute()(w[:16], x)  # another w: programmed once more
    assert len(crossbars.products) == 2 and crossbars.ledger.count("cell", "writes") == cells + cells // 2
    assert crossbars.ledger.count("dac", "conversions") > reads


def test_w_is_programmed_as_offload_programs_a_constant():
    """Programming noise from default_rng([seed, CRC-32 of the K×N weights, 0]), as tvm_bridge.offload draws it."""
    cfg = cimsim.load_preset("ideal").override({"device.program_noise": 0.05})
    crossbars = tvm_bridge.register_mem_compute(cfg, seed=9)
    w, x = _operands()
    _mem_compute()(w, x)
    weights = np.ascontiguousarray(w.astype(np.float64).T)
    rng = np.random.default_rng([9, zlib.crc32(weights.tobytes()), 0])
    by_hand = cimsim.AnalogMatrix(weights, cfg, seed=rng)
    (product,) = crossbars.products.values()
    assert np.array_equal(product.matrices[0].cells.g_prog_us, by_hand.cells.g_prog_us)


def test_a_calibrated_chip_calibrates_on_the_first_call():
    crossbars = tvm_bridge.register_mem_compute("rram-22nm", seed=1)
    w, x = _operands()
    y = _mem_compute()(w, x).numpy()
    (product,) = crossbars.products.values()
    assert product.matrices[0].input_scale is not None
    assert np.abs(y - w @ x).max() < 0.1 * np.abs(w @ x).max()  # 8-bit operands, a 5-bit calibrated ADC: close, not exact


@pytest.mark.parametrize("w_shape, x_shape, message", [
    ((64,), (64, 8), "mem_compute.matmul: w: expected a 2-D array, got shape (64,)"),
    ((32, 64), (60, 8), "w has shape (32, 64) (N x K) and x (60, 8): x needs K = 64 rows"),
    ((32, 64), (64, 8, 2), "mem_compute.matmul: x: expected a 1-D or 2-D array, got shape (64, 8, 2)"),
    ((32, 0), (0, 8), "w has shape (32, 0) and x (0, 8); give non-empty tensors"),
])
def test_bad_shapes_are_shape_errors_naming_the_argument_and_the_shapes(w_shape, x_shape, message):
    tvm_bridge.register_mem_compute()
    with pytest.raises(cimsim.ShapeError, match=re.escape(message)):
        _mem_compute()(np.ones(w_shape, "float32"), np.ones(x_shape, "float32"))


def test_bad_values_and_non_tensors_are_shape_errors():
    tvm_bridge.register_mem_compute()
    w, x = _operands()
    w[3, 4] = np.nan
    with pytest.raises(cimsim.ShapeError, match=r"w: contains NaN or infinity \(1 entries\)"):
        _mem_compute()(w, x)
    with pytest.raises(cimsim.ShapeError, match="x must be a tensor .* got Array"):
        _mem_compute()(np.ones((2, 3), "float32"), [1.0, 2.0, 3.0])


def test_bad_chips_and_seeds_are_config_errors():
    with pytest.raises(cimsim.ConfigError, match="chip = 'vn-45nm': give the name of a crossbar preset"):
        tvm_bridge.register_mem_compute("vn-45nm")
    with pytest.raises(cimsim.ConfigError, match="nosuch"):
        tvm_bridge.register_mem_compute("nosuch")
    with pytest.raises(cimsim.ConfigError, match="seed = -1"):
        tvm_bridge.register_mem_compute(seed=-1)
