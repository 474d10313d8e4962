"""tvm_bridge.extract: Relax functions → cimsim.Workload (shapes, weights, geometry, order, errors)."""

import warnings

import numpy as np
import pytest

tvm = pytest.importorskip("tvm")
from tvm import relax  # noqa: E402

import cimsim  # noqa: E402
from tvm_bridge.extract import extract  # noqa: E402

F32 = "float32"


def tensor(name, shape, dtype=F32):
    return relax.Var(name, relax.TensorType(shape, dtype))


def bound_name(mod, func, op):
    """The name of the variable bound to the first call of ``op`` in ``func``."""
    for block in mod[func].body.blocks:
        for binding in block.bindings:
            if isinstance(binding.value, relax.Call) and getattr(binding.value.op, "name", None) == op:
                return binding.var.name
    raise AssertionError(f"no {op} in {func}")


# --- linear layers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlp():
    """(batch 2, seq 3, 16) → linear 16→32 + bias → relu → linear 32→8 + bias, weights (out, in) as torch."""
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((32, 16)).astype(F32), rng.standard_normal(32).astype(F32)
    w2, b2 = rng.standard_normal((8, 32)).astype(F32), rng.standard_normal(8).astype(F32)
    bb = relax.BlockBuilder()
    x = tensor("x", (2, 3, 16))
    with bb.function("main", [x]):
        with bb.dataflow():
            h = bb.emit(relax.op.matmul(x, bb.emit(relax.op.permute_dims(relax.const(w1)))))
            h = bb.emit(relax.op.nn.relu(bb.emit(relax.op.add(h, relax.const(b1)))))
            y = bb.emit(relax.op.matmul(h, bb.emit(relax.op.permute_dims(relax.const(w2)))))
            y = bb.emit_output(relax.op.add(relax.const(b2), y))  # bias on the left: still a bias
        bb.emit_func_output(y)
    return bb.get(), (w1, b1, w2, b2)


def test_linear_layers_shapes_weights_and_macs(mlp):
    mod, (w1, b1, w2, b2) = mlp
    wl = extract(mod)
    assert [op.name for op in wl.ops] == ["matmul_0", "relu_1", "matmul_2"]
    fc1, relu, fc2 = wl.ops
    assert (fc1.m, fc1.k, fc1.n, fc1.count) == (6, 16, 32, 1)  # batch·seq rows share one matrix
    assert (fc2.m, fc2.k, fc2.n, fc2.count) == (6, 32, 8, 1)
    np.testing.assert_array_equal(fc1.weights, w1.T)
    np.testing.assert_array_equal(fc2.weights, w2.T)
    assert fc1.weights.dtype == np.float32 and fc1.sparsity is None
    assert relu == cimsim.NonGemm("relu_1", "activation", 2 * 3 * 32, inputs=("matmul_0",), function="relu")
    assert wl.macs == 2 * 3 * (16 * 32 + 32 * 8)
    assert wl.name == "main" and extract(mod, name="mlp").name == "mlp"


def test_linear_weights_reproduce_tvm_output(run_relax, random_f32, mlp):
    mod, (w1, b1, w2, b2) = mlp
    fc1, _, fc2 = extract(mod).ops
    x = random_f32(1, (2, 3, 16))
    rows = x.reshape(fc1.m, fc1.k)
    mine = (np.maximum(rows @ fc1.weights + b1, 0) @ fc2.weights + b2).reshape(2, 3, 8)
    np.testing.assert_allclose(mine, run_relax(mod, x), rtol=1e-5, atol=1e-5)


def test_frontend_nn_module_entry_forward_and_bound_params():
    from tvm.relax.frontend import nn

    class Net(nn.Module):
        def __init__(self):
            self.fc1 = nn.Linear(12, 20)
            self.fc2 = nn.Linear(20, 4)

        def forward(self, x):
            return self.fc2(nn.op.relu(self.fc1(x)))

    mod, params = Net().export_tvm(spec={"forward": {"x": nn.spec.Tensor((5, 12), F32)}})
    with pytest.raises(cimsim.ConfigError, match="'main' is not in the module; Relax functions: forward"):
        extract(mod)

    # weights left as parameters: products without weights, but the bias adds are not residual adds
    unbound = extract(mod, "forward")
    assert [(op.name, type(op).__name__) for op in unbound.ops] == [
        ("matmul_0", "Gemm"), ("relu_1", "NonGemm"), ("matmul_2", "Gemm")]
    assert all(g.weights is None for g in unbound.gemms)

    rng = np.random.default_rng(2)
    values = {name: rng.standard_normal([int(d) for d in p.shape]).astype(F32) for name, p in params}
    bound = relax.transform.BindParams("forward", values)(mod)
    fc1, relu, fc2 = extract(bound, "forward").ops
    assert (fc1.m, fc1.k, fc1.n) == (5, 12, 20) and (fc2.m, fc2.k, fc2.n) == (5, 20, 4)
    np.testing.assert_array_equal(fc1.weights, values["fc1.weight"].T)
    np.testing.assert_array_equal(fc2.weights, values["fc2.weight"].T)
    assert relu.inputs == ("matmul_0",) and fc2.inputs == ("relu_1",)


# --- convolution -----------------------------------------------------------------------------


def im2col_conv(x, gemm):
    """A grouped NCHW convolution computed as ``gemm`` says: per group, patches (M×K) @ weights (K×N)."""
    g = gemm.conv
    (top, left, bottom, right), (sh, sw), (dh, dw), (kh, kw) = g.padding, g.stride, g.dilation, g.kernel
    batch = x.shape[0]
    oh, ow = g.output_size
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    cg = g.in_channels // g.groups
    out = np.zeros((batch, g.out_channels, oh, ow), dtype=np.float64)
    weights = gemm.weights if gemm.count > 1 else gemm.weights[None]
    for grp in range(g.groups):
        # patches[b, y, x, c, i, j] = xp[b, grp·cg + c, y·sh + i·dh, x·sw + j·dw]: K ordered (c, i, j)
        patches = np.empty((batch, oh, ow, cg, kh, kw))
        for i in range(kh):
            for j in range(kw):
                ys = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                xs = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                rows = xp[:, grp * cg:(grp + 1) * cg, ys, xs]
                patches[..., i, j] = rows.transpose(0, 2, 3, 1)
        y = patches.reshape(gemm.m, gemm.k) @ weights[grp]  # (M, N)
        out[:, grp * gemm.n:(grp + 1) * gemm.n] = y.reshape(batch, oh, ow, gemm.n).transpose(0, 3, 1, 2)
    return out


def test_grouped_strided_dilated_padded_conv2d_is_an_im2col_gemm_per_group(run_relax):
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((2, 4, 11, 10)).astype(F32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(F32)  # 6 outputs, 4 inputs in 2 groups
    bb = relax.BlockBuilder()
    x = tensor("x", x_np.shape)
    with bb.function("main", [x]):
        with bb.dataflow():
            y = bb.emit_output(relax.op.nn.conv2d(x, relax.const(w), strides=2, padding=(1, 2, 0, 1), dilation=2, groups=2))
        bb.emit_func_output(y)
    mod = bb.get()
    expected = run_relax(mod, x_np)
    (conv,) = extract(mod).ops
    batch, c_out, oh, ow = expected.shape
    assert (batch, c_out) == (2, 6)
    assert conv.name == "conv2d_0"
    assert (conv.m, conv.k, conv.n, conv.count) == (2 * oh * ow, 2 * 3 * 3, 3, 2)
    assert conv.conv == cimsim.ConvGeometry(in_channels=4, out_channels=6, kernel=(3, 3), stride=(2, 2),
                                            padding=(1, 2, 0, 1), dilation=(2, 2), groups=2,
                                            input_size=(11, 10), output_size=(oh, ow))
    assert conv.weights.shape == (2, 18, 3)
    # output channel 4 (group 1, column 1) reads input channels 2-3; row (c·3 + i)·3 + j holds w[4, c, i, j]
    np.testing.assert_array_equal(conv.weights[1][:, 1], w[4].reshape(-1))
    np.testing.assert_allclose(im2col_conv(x_np, conv), expected, rtol=1e-4, atol=1e-4)
    assert conv.macs == 2 * oh * ow * 6 * 2 * 9


def test_conv1d_geometry_and_ungrouped_weights():
    rng = np.random.default_rng(4)
    w = rng.standard_normal((5, 3, 4)).astype(F32)
    bb = relax.BlockBuilder()
    x = tensor("x", (1, 3, 20))
    with bb.function("main", [x]):
        y = bb.emit(relax.op.nn.conv1d(x, relax.const(w), strides=3, padding=(2, 1)))
        bb.emit_func_output(y)
    (conv,) = extract(bb.get()).ops
    out = (20 + 2 + 1 - 4) // 3 + 1  # 7
    assert (conv.m, conv.k, conv.n, conv.count) == (out, 12, 5, 1)
    assert conv.conv.padding == (2, 1) and conv.conv.output_size == (out,) and conv.conv.kernel == (4,)
    np.testing.assert_array_equal(conv.weights, w.reshape(5, 12).T)


def test_other_conv_layouts_are_refused_by_name():
    bb = relax.BlockBuilder()
    x = tensor("x", (1, 8, 8, 3))
    with bb.function("main", [x]):
        w = relax.const(np.ones((4, 3, 3, 3), F32))
        y = bb.emit(relax.op.nn.conv2d(x, w, data_layout="NHWC", kernel_layout="OHWI"))
        bb.emit_func_output(y)
    mod = bb.get()
    name = bound_name(mod, "main", "relax.nn.conv2d")
    with pytest.raises(cimsim.ConfigError, match=rf"relax.nn.conv2d {name} has data_layout='NHWC', kernel_layout='OHWI'"):
        extract(mod)


# --- activation × activation and attention ---------------------------------------------------


def test_batched_product_of_two_activations_has_no_weights():
    bb = relax.BlockBuilder()
    q, k = tensor("q", (2, 4, 5, 8)), tensor("k", (2, 4, 6, 8))
    with bb.function("main", [q, k]):
        s = bb.emit(relax.op.matmul(q, bb.emit(relax.op.permute_dims(k, [0, 1, 3, 2]))))
        bb.emit_func_output(s)
    (qk,) = extract(bb.get()).ops
    assert (qk.m, qk.k, qk.n, qk.count) == (5, 8, 6, 2 * 4)
    assert qk.weights is None and qk.sparsity is None and qk.inputs == ()


def test_batched_and_left_constant_products():
    rng = np.random.default_rng(5)
    c3 = rng.standard_normal((3, 8, 5)).astype(F32)
    left = rng.standard_normal((7, 8)).astype(F32)
    bb = relax.BlockBuilder()
    x, z = tensor("x", (2, 3, 4, 8)), tensor("z", (8, 4))
    with bb.function("main", [x, z]):
        a = bb.emit(relax.op.matmul(x, relax.const(c3)))  # (3, K, N) broadcast over the leading 2
        b = bb.emit(relax.op.matmul(relax.const(left), z))  # constant on the left
        bb.emit_func_output(relax.Tuple([a, b]))
    batched, lhs = extract(bb.get()).ops
    assert (batched.m, batched.k, batched.n, batched.count) == (4, 8, 5, 6)
    for i in range(6):  # batch element (i // 3, i % 3) multiplies by c3[i % 3]
        np.testing.assert_array_equal(batched.weights[i], c3[i % 3])
    # const (7×8) @ z (8×4) is mapped transposed: zᵀ (4×8) @ constᵀ (8×7)
    assert (lhs.m, lhs.k, lhs.n, lhs.count) == (4, 8, 7, 1)
    z_np = rng.standard_normal((8, 4)).astype(F32)
    np.testing.assert_allclose((z_np.T @ lhs.weights).T, left @ z_np, rtol=1e-6)


@pytest.mark.parametrize("kv_heads", [3, 1])
def test_attention_is_two_products_and_a_softmax(kv_heads):
    batch, s_q, s_kv, heads, d, d_v = 2, 5, 7, 3, 8, 4
    bb = relax.BlockBuilder()
    x = tensor("x", (batch, s_q, heads, d))
    k, v = tensor("k", (batch, s_kv, kv_heads, d)), tensor("v", (batch, s_kv, kv_heads, d_v))
    with bb.function("main", [x, k, v]):
        v2 = bb.emit(relax.op.tanh(v))
        q = bb.emit(relax.op.nn.gelu(x))
        o = bb.emit(relax.op.nn.attention(q, k, v2, causal_mask="TopLeft"))
        bb.emit_func_output(o)
    wl = extract(bb.get())
    assert [op.name for op in wl.ops] == [
        "tanh_0", "gelu_1", "attention_2.qk", "attention_2.softmax", "attention_2.av"]
    _, _, qk, softmax, av = wl.ops
    assert (qk.m, qk.k, qk.n, qk.count, qk.weights) == (s_q, d, s_kv, batch * heads, None)
    assert (av.m, av.k, av.n, av.count, av.weights) == (s_q, s_kv, d_v, batch * heads, None)
    assert softmax.kind == "softmax" and softmax.elements == batch * heads * s_q * s_kv
    assert (qk.inputs, softmax.inputs, av.inputs) == (
        ("gelu_1",), ("attention_2.qk",), ("attention_2.softmax", "tanh_0"))  # operand order: A, then V
    assert wl.macs == batch * heads * s_q * s_kv * (d + d_v)


# --- digital operations, order and inputs ----------------------------------------------------


def test_residual_add_versus_bias_add():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((16, 16)).astype(F32)
    bb = relax.BlockBuilder()
    x = tensor("x", (4, 16))
    with bb.function("main", [x]):
        with bb.dataflow():
            h = bb.emit(relax.op.matmul(x, relax.const(w)))
            h = bb.emit(relax.op.add(h, relax.const(np.ones(16, F32))))  # bias
            bias2 = bb.emit(relax.op.reshape(relax.const(np.ones((1, 16), F32)), (16,)))
            h = bb.emit(relax.op.add(bias2, h))  # a bias seen through a binding and a reshape
            r = bb.emit(relax.op.add(h, x))  # residual: both operands depend on the input
            r2 = bb.emit_output(relax.op.add(r, r))
        bb.emit_func_output(r2)
    wl = extract(bb.get())
    assert [(op.name, getattr(op, "kind", "gemm")) for op in wl.ops] == [
        ("matmul_0", "gemm"), ("add_1", "residual_add"), ("add_2", "residual_add")]
    assert wl.ops[1].elements == 4 * 16 and wl.ops[1].inputs == ("matmul_0",)
    assert wl.ops[2].inputs == ("add_1",)


def test_execution_order_inputs_and_element_counts():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((8, 3, 3, 3)).astype(F32)
    fc = rng.standard_normal((8 * 4 * 4, 10)).astype(F32)
    bb = relax.BlockBuilder()
    x = tensor("x", (2, 3, 8, 8))
    with bb.function("main", [x]):
        with bb.dataflow():
            c = bb.emit(relax.op.nn.conv2d(x, relax.const(w), padding=1))  # (2, 8, 8, 8)
            a = bb.emit(relax.op.nn.relu(c))
            p = bb.emit(relax.op.nn.max_pool2d(a, pool_size=2, strides=2))  # (2, 8, 4, 4)
            flat = bb.emit(relax.op.reshape(p, (2, 128)))  # free
            y = bb.emit(relax.op.matmul(flat, relax.const(fc)))
            n = bb.emit(relax.op.nn.layer_norm(y, relax.const(np.ones(10, F32)), relax.const(np.zeros(10, F32)), axes=-1))
            pooled_again = bb.emit(relax.op.reshape(relax.op.nn.adaptive_avg_pool2d(a, 1), (2, 8)))  # branch from relu
            s = bb.emit(relax.op.nn.softmax(relax.op.concat([n, pooled_again], axis=1)))  # nested calls
            o = bb.emit_output(relax.op.tanh(s))
        bb.emit_func_output(o)
    wl = extract(bb.get())
    expected = [
        ("conv2d_0", ()), ("relu_1", ("conv2d_0",)), ("max_pool2d_2", ("relu_1",)),
        ("matmul_3", ("max_pool2d_2",)), ("layer_norm_4", ("matmul_3",)),
        ("adaptive_avg_pool2d_5", ("relu_1",)), ("softmax_6", ("layer_norm_4", "adaptive_avg_pool2d_5")),
        ("tanh_7", ("softmax_6",)),
    ]
    assert [(op.name, op.inputs) for op in wl.ops] == expected
    kinds = {op.name: (op.kind, op.elements) for op in wl.non_gemms}
    assert kinds == {
        "relu_1": ("activation", 2 * 8 * 8 * 8),
        "max_pool2d_2": ("pooling", 2 * 8 * 8 * 8),  # every input element is read
        "layer_norm_4": ("normalisation", 2 * 10),
        "adaptive_avg_pool2d_5": ("pooling", 2 * 8 * 8 * 8),
        "softmax_6": ("softmax", 2 * 18),
        "tanh_7": ("activation", 2 * 18),
    }
    conv, mm = wl.gemms
    assert (conv.m, conv.k, conv.n) == (2 * 64, 27, 8) and (mm.m, mm.k, mm.n) == (2, 128, 10)


def test_calls_to_other_functions_are_read_inline():
    rng = np.random.default_rng(8)
    w = rng.standard_normal((6, 6)).astype(F32)
    bb = relax.BlockBuilder()
    a = tensor("a", (2, 6))
    with bb.function("block", [a], private=True):
        h = bb.emit(relax.op.nn.relu(bb.emit(relax.op.matmul(a, relax.const(w)))))
        bb.emit_func_output(h)
    block = bb.get().get_global_var("block")
    x = tensor("x", (2, 6))
    with bb.function("main", [x]):
        y = bb.emit(relax.Call(block, [x]))
        z = bb.emit(relax.Call(block, [y]))
        bb.emit_func_output(z)
    wl = extract(bb.get())
    assert [(op.name, op.inputs) for op in wl.ops] == [
        ("matmul_0", ()), ("relu_1", ("matmul_0",)), ("matmul_2", ("relu_1",)), ("relu_3", ("matmul_2",))]
    np.testing.assert_array_equal(wl.ops[2].weights, w)


# --- sparsity --------------------------------------------------------------------------------


def test_two_of_four_pruned_constant_is_detected_through_the_transpose():
    rng = np.random.default_rng(9)
    w = rng.standard_normal((8, 16)).astype(F32)  # (out, in) as a linear layer stores it
    keep = np.argsort(rng.random((8, 4, 4)), axis=2)[..., :2]  # 2 of every 4 inputs, per output
    mask = np.zeros((8, 4, 4), bool)
    np.put_along_axis(mask, keep, True, axis=2)
    pruned = w * mask.reshape(8, 16)
    bb = relax.BlockBuilder()
    x = tensor("x", (3, 16))
    with bb.function("main", [x]):
        p = bb.emit(relax.op.matmul(x, bb.emit(relax.op.permute_dims(relax.const(pruned)))))
        d = bb.emit(relax.op.matmul(x, bb.emit(relax.op.permute_dims(relax.const(w)))))
        bb.emit_func_output(relax.Tuple([p, d]))
    sparse, dense = extract(bb.get()).gemms
    assert sparse.sparsity == (2, 4) and dense.sparsity is None
    assert sparse.effective_macs == 3 * 8 * 8 and dense.effective_macs == dense.macs == 3 * 16 * 8


# --- errors ----------------------------------------------------------------------------------


def test_symbolic_shape_names_the_op_and_binding_fixes_it():
    n = tvm.tirx.Var("n", "int64")
    bb = relax.BlockBuilder()
    x = tensor("x", (n, 24))
    with bb.function("main", [x]):
        y = bb.emit(relax.op.matmul(x, relax.const(np.ones((24, 4), F32))))
        bb.emit_func_output(y)
    mod = bb.get()
    name = bound_name(mod, "main", "relax.matmul")
    with pytest.raises(cimsim.ConfigError, match=rf"relax.matmul {name}: shape \(n, 24\) is symbolic; "
                                                 r"bind it with relax.transform.BindSymbolicVars"):
        extract(mod)
    (gemm,) = extract(relax.transform.BindSymbolicVars({"n": 5})(mod)).ops
    assert (gemm.m, gemm.k, gemm.n) == (5, 24, 4)


def test_bad_arguments():
    with pytest.raises(cimsim.ConfigError, match="expected a tvm.IRModule"):
        extract("not a module")
    bb = relax.BlockBuilder()
    x = tensor("x", (2, 2))
    with bb.function("f1", [x]):
        bb.emit_func_output(x)
    with bb.function("f2", [x]):
        bb.emit_func_output(x)
    with pytest.raises(cimsim.ConfigError, match="func = 'main' is not in the module; Relax functions: f1, f2"):
        extract(bb.get())
    assert len(extract(bb.get(), "f2")) == 0


def test_lowered_module_warns_instead_of_silently_losing_products(mlp):
    mod, _ = mlp
    with pytest.warns(UserWarning, match=r"lowered call\(s\) \(relax.call_tir\) were treated as free"):
        wl = extract(relax.transform.LegalizeOps()(mod))
    assert len(wl) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extract(mod)  # no warning for plain Relax


def test_attention_with_bias_is_read_like_attention():
    bb = relax.BlockBuilder()
    q, k, v = tensor("q", (1, 4, 2, 8)), tensor("k", (1, 6, 2, 8)), tensor("v", (1, 6, 2, 8))
    with bb.function("main", [q, k, v]):
        o = bb.emit(relax.op.nn.attention(q, k, v, relax.const(np.zeros((1, 2, 4, 6), F32))))
        bb.emit_func_output(o)
    mod = bb.get()
    assert bound_name(mod, "main", "relax.nn.attention_bias")
    wl = extract(mod)
    assert [(op.name, getattr(op, "count", None)) for op in wl.ops] == [
        ("attention_bias_0.qk", 2), ("attention_bias_0.softmax", None), ("attention_bias_0.av", 2)]
    assert wl.macs == 2 * 4 * 6 * 8 * 2


# --- the shared Relax helpers ----------------------------------------------------------------


def test_relax_helpers_see_constants_through_bindings_and_layout_ops():
    from tvm.relax.expr_functor import PyExprMutator, mutator

    from tvm_bridge._relax import binding_map, constant_value, describe_shape, static_shape

    w = np.arange(24, dtype=F32).reshape(2, 3, 4)
    bb = relax.BlockBuilder()
    x = tensor("x", (5, 12))
    with bb.function("main", [x]):
        with bb.dataflow():
            r = bb.emit(relax.op.reshape(relax.const(w), (6, 4)))
            t = bb.emit(relax.op.permute_dims(r, [1, 0]))  # (4, 6)
            e = bb.emit(relax.op.permute_dims(bb.emit(relax.op.expand_dims(t, 0)), [0, 2, 1]))  # (1, 6, 4)
            y = bb.emit(relax.op.matmul(relax.op.reshape(x, (1, 5, 12)), relax.op.reshape(e, (1, 12, 2))))
            o = bb.emit_output(relax.op.add(y, relax.const(np.zeros(2, F32))))
        bb.emit_func_output(o)
    func = bb.get()["main"]
    table = binding_map(func)
    np.testing.assert_array_equal(constant_value(t, table), w.reshape(6, 4).T)
    np.testing.assert_array_equal(constant_value(e, table), w.reshape(6, 4)[None])
    assert constant_value(x, table) is None and constant_value(y, table) is None
    assert constant_value(t) is None  # without bindings a variable is opaque
    assert static_shape(t) == (4, 6) and static_shape(relax.TensorType((3, tvm.tirx.Var("n", "int64")), F32)) is None
    assert describe_shape(tensor("s", (tvm.tirx.Var("n", "int64"), 7))) == "(n, 7)"

    seen = []

    @mutator
    class Probe(PyExprMutator):  # inside a mutator, lookup_binding plays the role of the table
        def visit_call_(self, call):
            call = self.visit_expr_post_order(call)
            if call.op.name == "relax.permute_dims":
                seen.append(constant_value(call, self.lookup_binding))
            return call

    Probe(bb.get()).visit_expr(func)
    np.testing.assert_array_equal(seen[0], w.reshape(6, 4).T)
