"""tvm_bridge.offload: a compiled TVM model with its matrix products on simulated crossbars."""

import zlib

import numpy as np
import pytest
import tvm
from tvm import relax

import cimsim
import tvm_bridge

RNG = np.random.default_rng(0)
W1 = RNG.standard_normal((16, 32)).astype("float32")  # used as x @ W1
W2 = RNG.standard_normal((10, 32)).astype("float32")  # a linear layer's (out, in) weight: x @ W2.T
X = RNG.standard_normal((4, 16)).astype("float32")


def mlp() -> tvm.IRModule:
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((4, 16), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            h = bb.emit(relax.op.nn.relu(relax.op.matmul(x, relax.const(W1))))
            out = bb.emit_output(relax.op.matmul(h, relax.op.permute_dims(relax.const(W2))))
        bb.emit_func_output(out)
    return bb.get()


def test_offloaded_model_computes_what_the_crossbars_compute(run_relax):
    cfg = cimsim.load_preset("ideal").override({"device.program_noise": 0.02, "device.read_noise": 0.01})
    offloaded = tvm_bridge.offload(mlp(), cfg, seed=7)
    y = run_relax(offloaded, X)
    # the same crossbars by hand: each seeded by (seed, CRC-32 of its weights, occurrence), as documented
    def seeded(w):
        return np.random.default_rng([7, zlib.crc32(np.ascontiguousarray(w).tobytes()), 0])

    first, second = cimsim.AnalogMatrix(W1, cfg, seed=seeded(W1)), cimsim.AnalogMatrix(W2.T, cfg, seed=seeded(W2.T))
    expected = second.matmul(np.maximum(first.matmul(X.astype(np.float64)), 0).astype(np.float32))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)  # float32 hand-over between layers
    float_out = run_relax(mlp(), X)
    # 8-bit weights and inputs and 2 % programming noise over 16- and 32-term sums: a few percent
    assert np.linalg.norm(y - float_out) / np.linalg.norm(float_out) < 0.1


def test_weights_are_programmed_once_and_the_ledger_counts_every_call():
    cfg = cimsim.load_preset("ideal").override({"device.program_noise": 0.05})  # no read noise
    offloaded = tvm_bridge.offload(mlp(), cfg, seed=1)
    vm = relax.VirtualMachine(tvm.compile(offloaded, "llvm"), tvm.cpu())
    first = vm["main"](tvm.runtime.tensor(X)).numpy()
    second = vm["main"](tvm.runtime.tensor(X)).numpy()
    np.testing.assert_array_equal(first, second)  # the same programmed cells both times
    ledger = tvm_bridge.ledger(offloaded)
    assert ledger.count("cell", "writes") == W1.size * 8 + W2.size * 8  # one programming: 8 cells per 8-bit weight
    assert ledger.layers() == ["matmul_0", "matmul_1"]
    # conversions depend only on shapes and signs: two calls count twice what one product of X does
    one = cimsim.AnalogMatrix(W1, cfg, seed=0)
    one.matmul(X)
    assert ledger.layer("matmul_0").count("adc", "conversions") == 2 * one.ledger.count("adc", "conversions")
    tvm_bridge.reset(offloaded)
    assert tvm_bridge.ledger(offloaded).energy_pj == 0
    vm["main"](tvm.runtime.tensor(X))
    assert tvm_bridge.ledger(offloaded).layer("matmul_0").count("adc", "conversions") == one.ledger.count("adc", "conversions")


def test_products_of_two_activations_stay_in_tvm():
    bb = relax.BlockBuilder()
    a = relax.Var("a", relax.TensorType((2, 4, 8), "float32"))
    b = relax.Var("b", relax.TensorType((2, 8, 4), "float32"))
    with bb.function("main", [a, b]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.matmul(a, b))
        bb.emit_func_output(out)
    offloaded = tvm_bridge.offload(bb.get(), cimsim.load_preset("ideal"))
    assert "cimsim.matmul" not in offloaded.script()
    assert tvm_bridge.ledger(offloaded).energy_pj == 0


def test_bad_arguments_and_unknown_models_are_config_errors(run_relax):
    with pytest.raises(cimsim.ConfigError, match="IRModule"):
        tvm_bridge.offload("not a module", cimsim.load_preset("ideal"))
    with pytest.raises(cimsim.ConfigError, match="ChipConfig"):
        tvm_bridge.offload(mlp(), {"adc.bits": 6})
    with pytest.raises(cimsim.ConfigError, match="not produced by tvm_bridge.offload"):
        tvm_bridge.ledger(mlp())
    # a module calling cimsim.matmul for a model this process never offloaded
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((4, 16), "float32"))
    with bb.function("main", [x]):
        call = relax.call_dps_packed(
            "cimsim.matmul", [x, relax.prim_value(10**6), relax.prim_value(0)], out_ty=relax.TensorType((4, 32), "float32")
        )
        bb.emit_func_output(bb.emit(call))
    tvm_bridge.register()
    with pytest.raises(cimsim.ConfigError, match="not offloaded"):
        run_relax(bb.get(), X)


def test_calibrated_presets_calibrate_on_the_first_call(run_relax):
    offloaded = tvm_bridge.offload(mlp(), cimsim.load_preset("rram-22nm"), seed=0)
    y = run_relax(offloaded, X)
    float_out = run_relax(mlp(), X)
    # NeuroSim-like 8-bit weights on 1-bit cells, 5-bit ADC calibrated on the call's own inputs
    assert np.linalg.norm(y - float_out) / np.linalg.norm(float_out) < 0.2


def conv_net(groups: int) -> tvm.IRModule:
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((6, 4 // groups, 3, 3)).astype("float32")
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((2, 4, 9, 9), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            conv = relax.op.nn.conv2d(x, relax.const(kernel), strides=(2, 1), padding=(1, 2, 0, 1), dilation=(2, 1), groups=groups)
            out = bb.emit_output(relax.op.nn.relu(conv))
        bb.emit_func_output(out)
    return bb.get()


@pytest.mark.parametrize("groups", [1, 2])
def test_convolutions_run_as_im2col_products_per_group(run_relax, random_f32, groups):
    """Strides, asymmetric padding, dilation and groups: against TVM's own conv2d."""
    x = random_f32(4, (2, 4, 9, 9))
    wide = cimsim.load_preset("ideal").override({"mapping.weight_bits": 16, "mapping.input_bits": 16})
    offloaded = tvm_bridge.offload(conv_net(groups), wide, seed=0)
    assert "cimsim.conv2d" in offloaded.script()
    y, float_out = run_relax(offloaded, x), run_relax(conv_net(groups), x)
    assert y.shape == float_out.shape
    # 16-bit weights and inputs, lossless ADC: only quantisation, ~2^-15 of the largest values per term
    np.testing.assert_allclose(y, float_out, atol=1e-3 * np.abs(float_out).max())
    products = tvm_bridge.model_of(offloaded).products
    assert [len(p.matrices) for p in products] == [groups]
    assert products[0].matrices[0].shape == (4 // groups * 9, 6 // groups)  # K = C/g x kh x kw, N = O/g


def two_layers_with_equal_weights(dtype: str = "float32") -> tvm.IRModule:
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((4, 16), dtype))
    w = relax.const(np.rint(4 * RNG.standard_normal((16, 16))).astype(dtype))
    with bb.function("main", [x]):
        with bb.dataflow():
            a = bb.emit(relax.op.matmul(x, w))
            b = bb.emit(relax.op.matmul(x, w))
            out = bb.emit_output(relax.op.concat([a, b], axis=1))
        bb.emit_func_output(out)
    return bb.get()


def test_equal_weights_in_two_layers_get_independent_noise(run_relax):
    cfg = cimsim.load_preset("ideal").override({"device.program_noise": 0.05})
    y = run_relax(tvm_bridge.offload(two_layers_with_equal_weights(), cfg, seed=0), X)
    assert not np.array_equal(y[:, :16], y[:, 16:])


def test_integer_outputs_are_rounded_not_truncated(run_relax):
    offloaded = tvm_bridge.offload(two_layers_with_equal_weights("int32"), cimsim.load_preset("ideal"), seed=0)
    x = np.rint(3 * RNG.standard_normal((4, 16))).astype("int32")
    y = run_relax(offloaded, x)
    product = tvm_bridge.model_of(offloaded).products[0]
    exact = product.matrices[0]
    fresh = cimsim.AnalogMatrix(exact.layout.w_q * exact.layout.scale, cimsim.load_preset("ideal"), seed=0)
    np.testing.assert_array_equal(y[:, :16], np.rint(fresh.matmul(x.astype(np.float64))))


def test_released_models_are_gone():
    offloaded = tvm_bridge.offload(mlp(), cimsim.load_preset("ideal"))
    tvm_bridge.release(offloaded)
    with pytest.raises(cimsim.ConfigError, match="not in this process"):
        tvm_bridge.ledger(offloaded)


def attention_like() -> tvm.IRModule:
    bb = relax.BlockBuilder()
    q = relax.Var("q", relax.TensorType((2, 4, 8), "float32"))
    k = relax.Var("k", relax.TensorType((2, 8, 5), "float32"))
    with bb.function("main", [q, k]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.matmul(q, k))
        bb.emit_func_output(out)
    return bb.get()


def test_activation_products_on_crossbars_are_reprogrammed_every_call():
    rng = np.random.default_rng(8)
    q, k = rng.standard_normal((2, 4, 8)).astype("float32"), rng.standard_normal((2, 8, 5)).astype("float32")
    offloaded = tvm_bridge.offload(attention_like(), cimsim.load_preset("ideal"), activations_on_crossbar=True)
    vm = relax.VirtualMachine(tvm.compile(offloaded, "llvm"), tvm.cpu())
    y = vm["main"](tvm.runtime.tensor(q), tvm.runtime.tensor(k)).numpy()
    # 8-bit quantisation of both operands over 8-term sums: about 1 %
    assert np.linalg.norm(y - q @ k) / np.linalg.norm(q @ k) < 0.05
    writes_per_call = 2 * 8 * 5 * 8  # 2 heads x (8 x 5) weights x 8 cells per 8-bit weight
    assert tvm_bridge.ledger(offloaded).count("cell", "writes") == writes_per_call
    vm["main"](tvm.runtime.tensor(q), tvm.runtime.tensor(k))
    assert tvm_bridge.ledger(offloaded).count("cell", "writes") == 2 * writes_per_call


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_an_offloaded_model_given_nan_or_infinity_raises_a_shape_error(run_relax, bad):
    """The crossbar refuses what it cannot quantise, through TVM's call, as the same ShapeError."""
    x = X.copy()
    x[1, 3] = bad
    offloaded = tvm_bridge.offload(mlp(), cimsim.load_preset("ideal"), seed=0)
    with pytest.raises(cimsim.ShapeError, match="NaN or infinity"):
        run_relax(offloaded, x)
