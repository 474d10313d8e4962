"""The model zoo (workloads): graphs, weights, MAC counts, numerics, sparsity, ONNX import.

VGG-8 and ResNet-18 are built but not compiled here; mlp, lenet5 and small configurations of
the two transformers are compiled with TVM and checked against a plain-numpy forward pass of
the weights read back from the module's constants.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

tvm = pytest.importorskip("tvm")
from tvm import relax  # noqa: E402

import workloads  # noqa: E402
from cimsim.errors import ConfigError  # noqa: E402

MODELS = ["bert-base-layer", "digits-cnn", "digits-mlp", "gpt2-decode", "lenet5", "mlp", "resnet18", "vgg8"]


# ------------------------------------------------------------------------------------------
# helpers: walk the Relax function


def bindings(mod):
    for block in mod["main"].body.blocks:
        yield from block.bindings


def shape(expr):
    return tuple(int(v) for v in expr.ty.shape.values)


def is_const(expr):
    return isinstance(expr, tvm.ir.GenericConst)


def op_name(value):
    if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op):
        return value.op.name
    return None


def constants_by_layer(mod):
    """{binding name: [constant arrays used by that binding's call]}."""
    out = {}
    for b in bindings(mod):
        if op_name(b.value):
            args = [f for a in b.value.args
                    for f in (a.fields if isinstance(a, relax.Tuple) else [a])]
            arrays = [a.value.numpy() for a in args if is_const(a)]
            if arrays:
                out[b.var.name] = arrays
    return out


def all_constants(mod):
    return [arr for arrays in constants_by_layer(mod).values() for arr in arrays]


def gemm_weights(mod):
    """[(layer, K x N GEMM view of the constant weight)] for every matmul/conv2d of ``mod``."""
    out = []
    for b in bindings(mod):
        name, v = op_name(b.value), b.value
        if name == "relax.matmul" and is_const(v.args[1]):
            out.append((b.var.name, v.args[1].value.numpy()))
        elif name == "relax.nn.conv2d" and is_const(v.args[1]):
            w = v.args[1].value.numpy()
            out.append((b.var.name, w.reshape(w.shape[0], -1).T))
    return out


def count_macs(mod):
    """(MACs of GEMMs with a constant weight, MACs of activation x activation matmuls)."""
    weight = act = 0
    for b in bindings(mod):
        name, v = op_name(b.value), b.value
        if name == "relax.matmul":
            macs = math.prod(shape(v)) * shape(v.args[0])[-1]
            if is_const(v.args[0]) or is_const(v.args[1]):
                weight += macs
            else:
                act += macs
        elif name and name.startswith("relax.nn.conv"):
            weight += math.prod(shape(v)) * math.prod(shape(v.args[1])[1:])
        elif name in ("relax.einsum", "relax.nn.attention"):
            raise AssertionError(f"{name} is not counted")
    return weight, act


_built = {}


def built(name):
    """Default build of each model, shared by the tests (ResNet-18 and GPT-2 are large)."""
    if name not in _built:
        _built[name] = workloads.get(name)
    return _built[name]


# ------------------------------------------------------------------------------------------
# building


def test_list():
    # the whole transformers (bert-base, gpt2-small-decode) are tested in tests/test_transformer_models.py
    assert workloads.list() == sorted(MODELS + ["bert-base", "gpt2-small-decode"])


@pytest.mark.parametrize("name", MODELS)
def test_builds_well_formed(name):
    mod = built(name)
    assert isinstance(mod, tvm.IRModule)
    relax.analysis.well_formed(mod)  # raises on the first violation
    assert relax.analysis.check_well_formed(mod)
    main = mod["main"]
    assert [p.name for p in main.params] == ["x"]  # weights are constants, not parameters
    assert all_constants(mod), "weights are bound"
    allowed = {
        "relax.matmul", "relax.add", "relax.multiply", "relax.nn.relu", "relax.nn.gelu",
        "relax.nn.gelu_tanh", "relax.nn.conv2d", "relax.nn.max_pool2d", "relax.nn.avg_pool2d",
        "relax.nn.softmax", "relax.nn.layer_norm", "relax.reshape", "relax.permute_dims",
        "relax.concat", "relax.mean",
    }
    assert {op_name(b.value) for b in bindings(mod)} - {None} <= allowed


@pytest.mark.parametrize(
    "name, options, batch, in_shape, out_shape",
    [
        ("mlp", {}, 3, (3, 784), (3, 10)),
        ("lenet5", {"pool": "max"}, 2, (2, 1, 28, 28), (2, 10)),
        ("vgg8", {}, 2, (2, 3, 32, 32), (2, 10)),
        ("resnet18", {}, 1, (1, 3, 224, 224), (1, 1000)),
        ("bert-base-layer", {"seq_len": 16}, 2, (2, 16, 768), (2, 16, 768)),
        ("gpt2-decode", {"kv_len": 7, "vocab": 100, "layers": 2}, 3, (3, 768), (3, 100)),
    ],
)
def test_shapes(name, options, batch, in_shape, out_shape):
    mod = built(name) if batch == 1 and not options else workloads.get(name, batch, **options)
    assert shape(mod["main"].params[0]) == in_shape
    assert tuple(int(v) for v in mod["main"].ret_ty.shape.values) == out_shape


def test_default_shapes_of_the_transformers():
    assert shape(built("bert-base-layer")["main"].params[0]) == (1, 128, 768)
    gpt = built("gpt2-decode")
    assert tuple(int(v) for v in gpt["main"].ret_ty.shape.values) == (1, 50257)
    caches = [b for b in bindings(gpt) if op_name(b.value) == "relax.concat"]
    assert len(caches) == 2 * 12
    assert shape(caches[0].value.args[0].fields[0]) == (1, 12, 128, 64)  # the KV cache
    assert shape(caches[0].var) == (1, 12, 129, 64)  # cache + the new token


def test_attention_products_are_explicit_matmuls():
    mod = workloads.get("bert-base-layer", seq_len=8)
    mms = {b.var.name: b.value for b in bindings(mod) if op_name(b.value) == "relax.matmul"}
    qk, av = mms["attn_qk"], mms["attn_av"]
    assert not any(is_const(a) for a in (*qk.args, *av.args))
    assert shape(qk) == (1, 12, 8, 8) and shape(qk.args[1]) == (1, 12, 64, 8)
    assert shape(av) == (1, 12, 8, 64)
    assert sum(1 for v in mms.values() if is_const(v.args[1])) == 6  # q k v o up down


def test_names_are_normalised_and_layers_named():
    mod = workloads.get("BERT_base_layer", seq_len=4)
    names = {b.var.name for b in bindings(mod)}
    assert {"attn_q", "attn_k", "attn_v", "attn_out", "ffn_up", "ffn_down"} <= names
    assert {"conv1", "layer4_1_conv2", "layer2_0_downsample", "fc"} <= {
        n for n, _ in gemm_weights(built("resnet18"))
    }


# ------------------------------------------------------------------------------------------
# weights


def test_same_seed_same_weights_other_seed_different():
    a = all_constants(workloads.get("lenet5", seed=3))
    b = all_constants(workloads.get("lenet5", seed=3))
    c = all_constants(workloads.get("lenet5", seed=4))
    assert len(a) == len(b) == len(c)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not any(np.array_equal(x, y) for x, y in zip(a, c))
    g1 = all_constants(workloads.get("mlp", seed=np.random.default_rng(9)))
    g2 = all_constants(workloads.get("mlp", seed=9))
    assert all(np.array_equal(x, y) for x, y in zip(g1, g2))


def test_weights_are_float32_and_he_scaled():
    for layer, w in gemm_weights(built("resnet18")):
        assert w.dtype == np.float32
        k = w.shape[0]
        gain = w.std() ** 2 * k
        assert 0.4 < gain < 2.2, (layer, gain)


# ------------------------------------------------------------------------------------------
# numerics against numpy (mlp and lenet5 are compiled; nothing bigger is)


def assert_close(out, ref):
    err = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    assert err < 1e-5, err
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def conv2d_ref(x, w, b, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    o, i, kh, kw = w.shape
    ho, wo = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    cols = np.empty((x.shape[0], i, kh, kw, ho, wo))
    for r in range(kh):
        for c in range(kw):
            cols[:, :, r, c] = x[:, :, r : r + ho, c : c + wo]
    y = np.einsum("bikluv,oikl->bouv", cols, w.astype(np.float64))
    return y + b


def pool_ref(x, kind):
    b, c, h, w = x.shape
    blocks = x.reshape(b, c, h // 2, 2, w // 2, 2)
    return blocks.max(axis=(3, 5)) if kind == "max" else blocks.mean(axis=(3, 5))


def test_mlp_matches_numpy(run_relax):
    mod = workloads.get("mlp", batch=4, seed=1)
    p = {k: [a.astype(np.float64) for a in v] for k, v in constants_by_layer(mod).items()}
    x = np.random.default_rng(0).standard_normal((4, 784)).astype(np.float32)
    h = x.astype(np.float64)
    h = np.maximum(h @ p["fc1"][0] + p["fc1_bias"][0], 0)
    h = np.maximum(h @ p["fc2"][0] + p["fc2_bias"][0], 0)
    ref = h @ p["fc3"][0] + p["fc3_bias"][0]
    assert_close(run_relax(mod, x), ref)


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_lenet5_matches_numpy(run_relax, pool):
    mod = workloads.get("lenet5", batch=2, seed=2, pool=pool)
    p = {k: [a.astype(np.float64) for a in v] for k, v in constants_by_layer(mod).items()}
    x = np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype(np.float32)
    h = np.maximum(conv2d_ref(x.astype(np.float64), p["conv1"][0], p["conv1_bias"][0], 2), 0)
    h = pool_ref(h, pool)
    h = np.maximum(conv2d_ref(h, p["conv2"][0], p["conv2_bias"][0], 0), 0)
    h = pool_ref(h, pool).reshape(2, 400)
    h = np.maximum(h @ p["fc1"][0] + p["fc1_bias"][0], 0)
    h = np.maximum(h @ p["fc2"][0] + p["fc2_bias"][0], 0)
    ref = h @ p["fc3"][0] + p["fc3_bias"][0]
    assert_close(run_relax(mod, x), ref)


def layer_norm_ref(x, gamma, beta):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * gamma + beta


def softmax_ref(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_bert_layer_matches_numpy(run_relax):
    b, s, d, nh = 2, 4, 768, 12
    mod = workloads.get("bert-base-layer", batch=b, seq_len=s, seed=3)
    p = {k: [a.astype(np.float64) for a in v] for k, v in constants_by_layer(mod).items()}
    x = np.random.default_rng(2).standard_normal((b, s, d)).astype(np.float32)
    lin = lambda h, n: h @ p[n][0] + p[n + "_bias"][0]  # noqa: E731
    split = lambda t: t.reshape(b, s, nh, d // nh).transpose(0, 2, 1, 3)  # noqa: E731
    h = x.astype(np.float64)
    q, k, v = (split(lin(h, "attn_" + n)) for n in "qkv")
    att = softmax_ref(q @ k.transpose(0, 1, 3, 2) / 8.0)
    ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, s, d)
    h1 = layer_norm_ref(h + lin(ctx, "attn_out"), *p["attn_ln"])
    up = lin(h1, "ffn_up")
    gelu = 0.5 * up * (1 + np.vectorize(math.erf)(up / math.sqrt(2)))
    ref = layer_norm_ref(h1 + lin(gelu, "ffn_down"), *p["ffn_ln"])
    assert_close(run_relax(mod, x), ref)


def test_gpt2_decode_matches_numpy(run_relax):
    b, layers, kv, vocab, d, nh = 2, 2, 3, 10, 768, 12
    mod = workloads.get("gpt2-decode", batch=b, kv_len=kv, vocab=vocab, layers=layers, seed=4)
    p = {k: [a.astype(np.float64) for a in v] for k, v in constants_by_layer(mod).items()}
    x = np.random.default_rng(3).standard_normal((b, d)).astype(np.float32)
    lin = lambda h, n: h @ p[n][0] + p[n + "_bias"][0]  # noqa: E731
    h = x.astype(np.float64)
    for i in range(layers):
        a = layer_norm_ref(h, *p[f"h{i}_ln1"])
        q, k, v = (lin(a, f"h{i}_attn_{n}").reshape(b, nh, 1, d // nh) for n in "qkv")
        k_all = np.concatenate([p[f"h{i}_k_all"][0], k], axis=2)  # cache (b, 12, kv, 64) + new
        v_all = np.concatenate([p[f"h{i}_v_all"][0], v], axis=2)
        att = softmax_ref(q @ k_all.transpose(0, 1, 3, 2) / 8.0)  # (b, 12, 1, kv + 1)
        h = h + lin((att @ v_all).reshape(b, d), f"h{i}_attn_out")
        up = lin(layer_norm_ref(h, *p[f"h{i}_ln2"]), f"h{i}_ffn_up")
        gelu = 0.5 * up * (1 + np.tanh(math.sqrt(2 / math.pi) * (up + 0.044715 * up**3)))
        h = h + lin(gelu, f"h{i}_ffn_down")
    ref = layer_norm_ref(h, *p["ln_f"]) @ p["lm_head"][0]
    assert p["h0_k_all"][0].shape == (b, nh, kv, d // nh)
    assert_close(run_relax(mod, x), ref)


# ------------------------------------------------------------------------------------------
# MAC counts


def test_resnet18_macs_are_the_published_1_81_g():
    # He et al. 2016, Table 1: ResNet-18 has 1.8 GFLOPs, counted as multiply-adds
    weight, act = count_macs(built("resnet18"))
    assert act == 0
    assert abs(weight - 1.81e9) / 1.81e9 < 0.01, weight
    analytic = 112 * 112 * 64 * 3 * 49  # conv1
    hw, cin = 56, 64
    for stage, cout in enumerate((64, 128, 256, 512)):
        if stage:
            hw //= 2
            analytic += hw * hw * cout * cin * 9 + hw * hw * cout * cin  # strided conv + proj
            analytic += 3 * hw * hw * cout * cout * 9
        else:
            analytic += 4 * hw * hw * cout * cout * 9
        cin = cout
    analytic += 512 * 1000
    assert weight == analytic == 1_814_073_344


def test_bert_layer_macs():
    s, d, f, h = 128, 768, 3072, 12
    weight, act = count_macs(built("bert-base-layer"))
    assert weight == 4 * s * d * d + 2 * s * d * f
    assert act == 2 * h * s * s * (d // h)
    assert weight + act == 931_135_488


def test_vgg8_macs():
    analytic, cin, hw = 0, 3, 32
    for cout in (128, 128, "M", 256, 256, "M", 512, 512, "M"):
        if cout == "M":
            hw //= 2
            continue
        analytic += hw * hw * cout * cin * 9
        cin = cout
    analytic += 8192 * 1024 + 1024 * 10
    assert count_macs(built("vgg8")) == (analytic, 0)
    assert analytic == 615_917_568


@pytest.mark.parametrize("batch, kv_len, vocab, layers", [(1, 128, 50257, 12), (2, 5, 300, 2)])
def test_gpt2_decode_macs(batch, kv_len, vocab, layers):
    mod = built("gpt2-decode") if batch == 1 else workloads.get(
        "gpt2-decode", batch, kv_len=kv_len, vocab=vocab, layers=layers
    )
    d, f = 768, 3072
    weight, act = count_macs(mod)
    assert weight == batch * (layers * (4 * d * d + 2 * d * f) + d * vocab)
    assert act == batch * layers * 2 * d * (kv_len + 1)  # q.k over the cache + new, att.v
    if batch == 1:
        assert weight + act == 125_909_760
    # GEMV-bound: every weight GEMM has M = batch
    for b in bindings(mod):
        if op_name(b.value) == "relax.matmul" and is_const(b.value.args[1]):
            assert shape(b.value.args[0])[0] == batch


def test_small_model_macs():
    assert count_macs(built("mlp")) == (784 * 512 + 512 * 512 + 512 * 10, 0)
    lenet = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    assert count_macs(built("lenet5")) == (lenet, 0)
    assert count_macs(workloads.get("mlp", batch=5))[0] == 5 * count_macs(built("mlp"))[0]


# ------------------------------------------------------------------------------------------
# structured sparsity


def check_nm(dense, pruned, n, m):
    """Every group of m along K (axis 0) of a K x N matrix keeps its n largest |w|."""
    k = dense.shape[0]
    for start in range(0, k, m):
        d, p = dense[start : start + m], pruned[start : start + m]
        kept = p != 0
        assert (kept.sum(axis=0) <= n).all()
        assert (kept.sum(axis=0) == min(n, d.shape[0])).all()  # random weights: no zeros
        np.testing.assert_array_equal(p[kept], d[kept])
        mag = np.abs(d)
        smallest_kept = np.where(kept, mag, np.inf).min(axis=0)
        largest_dropped = np.where(kept, -np.inf, mag).max(axis=0)
        assert (smallest_kept >= largest_dropped).all()


@pytest.mark.parametrize("name, spec", [("lenet5", "2:4"), ("mlp", "1:4"), ("lenet5", "3:8")])
def test_nm_pruning(name, spec):
    n, m = map(int, spec.split(":"))
    dense = gemm_weights(workloads.get(name))
    sparse = gemm_weights(workloads.get(name, sparsity=spec))
    assert [a for a, _ in dense] == [a for a, _ in sparse]
    for (_, d), (_, p) in zip(dense, sparse):
        check_nm(d, p, n, m)
    # biases are not pruned
    biases = [v for k, v in constants_by_layer(workloads.get(name, sparsity=spec)).items()
              if k.endswith("_bias")]
    assert all(np.count_nonzero(b[0]) == b[0].size for b in biases)


@pytest.mark.parametrize("name, n, m", [("mlp", 2, 4), ("lenet5", 1, 4)])
def test_row_nm_pruning_shares_one_pattern_across_columns(name, n, m):
    """'N:M:rows': in each group of M rows, the N rows of largest L2 norm are kept whole."""
    dense = gemm_weights(workloads.get(name))
    sparse = gemm_weights(workloads.get(name, sparsity=f"{n}:{m}:rows"))
    for (_, d), (_, p) in zip(dense, sparse):
        kept = (p != 0).any(axis=1)
        np.testing.assert_array_equal(p[kept], d[kept])  # a kept row is kept whole
        assert not p[~kept].any()
        for start in range(0, d.shape[0] - d.shape[0] % m, m):  # full groups: exactly n rows each
            group = slice(start, start + m)
            assert kept[group].sum() == n
            norms = np.linalg.norm(d[group], axis=1)
            assert norms[kept[group]].min() >= norms[~kept[group]].max()


@pytest.mark.parametrize("spec", ["2:4", "block:4x4:0.5"])
def test_sparsify_pass_equals_building_sparse(spec):
    dense = built("resnet18")
    a = all_constants(workloads.sparsify(dense, spec))
    b = all_constants(workloads.get("resnet18", sparsity=spec))
    assert len(a) == len(b)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert workloads.sparsify(dense, None) is dense


def test_sparsify_pass_in_a_sequential():
    mod = workloads.get("mlp")
    seq = tvm.transform.Sequential([workloads.sparsify_pass("2:4")])
    a, b = gemm_weights(seq(mod)), gemm_weights(workloads.get("mlp", sparsity="2:4"))
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a, b))


def test_sparsify_leaves_activation_products_and_kv_cache_alone():
    dense = workloads.get("gpt2-decode", kv_len=4, vocab=64, layers=1)
    sparse = workloads.sparsify(dense, "1:4")
    cache = lambda mod: [b.value.args[0].fields[0].value.numpy()  # noqa: E731
                         for b in bindings(mod) if op_name(b.value) == "relax.concat"]
    assert all(np.array_equal(x, y) for x, y in zip(cache(dense), cache(sparse)))
    for (_, d), (_, p) in zip(gemm_weights(dense), gemm_weights(sparse)):
        check_nm(d, p, 1, 4)


def _module(emit, x_shape, layout="NCHW"):
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(x_shape, "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(emit(bb, x))
        bb.emit_func_output(out)
    return bb.get()


def test_sparsify_any_module_follows_transposes_layouts_and_groups():
    rng = np.random.default_rng(5)
    w_lin = rng.standard_normal((6, 10)).astype(np.float32)  # linear: (N, K), x @ w.T
    w_left = rng.standard_normal((3, 10)).astype(np.float32)  # constant on the left: (M, K)
    w_grp = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)  # groups=2: (O, I/g, kh, kw)
    w_hwio = rng.standard_normal((3, 3, 6, 5)).astype(np.float32)  # HWIO kernel
    bias = rng.standard_normal((6,)).astype(np.float32)

    def emit(bb, x):  # x: (2, 10)
        y = bb.emit(relax.op.linear(x, relax.const(w_lin), relax.const(bias)))  # (2, 6)
        z = bb.emit(relax.op.matmul(relax.const(w_left), relax.op.permute_dims(x)))  # (3, 2)
        a = bb.emit(relax.op.matmul(x, relax.op.permute_dims(x)))  # activation x activation
        img = bb.emit(relax.op.reshape(relax.op.concat([y, y, y], axis=1), (1, 6, 2, 3)))
        c = bb.emit(relax.op.nn.conv2d(img, relax.const(w_grp), padding=1, groups=2))
        nhwc = bb.emit(relax.op.permute_dims(img, [0, 2, 3, 1]))
        h = bb.emit(relax.op.nn.conv2d(nhwc, relax.const(w_hwio), padding=1,
                                       data_layout="NHWC", kernel_layout="HWIO"))
        return relax.Tuple([z, a, c, h])

    mod = _module(emit, (2, 10))
    out = workloads.sparsify(mod, "1:4")
    relax.analysis.well_formed(out)
    got = {tuple(c.shape): c for c in all_constants(out)}
    check_nm(w_lin.T, got[(6, 10)].T, 1, 4)  # K is the transposed weight's axis 1
    check_nm(w_left.T, got[(3, 10)].T, 1, 4)  # K is the left constant's last axis
    check_nm(w_grp.reshape(4, -1).T, got[(4, 3, 3, 3)].reshape(4, -1).T, 1, 4)
    o_first = lambda w: np.transpose(w, (3, 2, 0, 1)).reshape(5, -1).T  # noqa: E731  HWIO->OIHW
    check_nm(o_first(w_hwio), o_first(got[(3, 3, 6, 5)]), 1, 4)
    np.testing.assert_array_equal(got[(6,)], bias)  # not a GEMM weight
    # the graph itself is unchanged
    assert [op_name(b.value) for b in bindings(out)] == [op_name(b.value) for b in bindings(mod)]


def block_norms(w, r, c):
    k, n = w.shape
    bk, bn = -(-k // r), -(-n // c)
    padded = np.zeros((bk * r, bn * c))
    padded[:k, :n] = np.abs(w)
    return padded.reshape(bk, r, bn, c).sum(axis=(1, 3))


@pytest.mark.parametrize("spec", ["block:4x4:0.5", "block:8x2:0.25", "block:3×5:0.9"])
def test_block_pruning(spec):
    dims, frac = spec.split(":")[1], float(spec.split(":")[2])
    r, c = (int(v) for v in dims.replace("×", "x").split("x"))
    dense = gemm_weights(workloads.get("lenet5"))
    sparse = gemm_weights(workloads.get("lenet5", sparsity=spec))
    total_zero = total = 0
    for (_, d), (_, p) in zip(dense, sparse):
        before, after = block_norms(d, r, c), block_norms(p, r, c)
        zeroed = after == 0
        assert zeroed.sum() == math.floor(frac * zeroed.size + 0.5)
        if zeroed.any() and (~zeroed).any():
            assert before[zeroed].max() <= before[~zeroed].min()
        np.testing.assert_array_equal(p[p != 0], d[p != 0])  # kept blocks untouched
        total_zero += zeroed.sum()
        total += zeroed.size
    assert abs(total_zero / total - frac) < 0.02


def test_pruning_is_deterministic_on_ties():
    from workloads.sparsity import prune_matrix

    w = np.array([[1.0], [-1.0], [1.0], [0.5]], dtype=np.float32)
    np.testing.assert_array_equal(prune_matrix(w, "2:4")[:, 0], [1.0, -1.0, 0.0, 0.0])
    blocks = np.ones((4, 4), dtype=np.float32)
    np.testing.assert_array_equal(
        prune_matrix(blocks, "block:2x2:0.5"), [[0] * 4, [0] * 4, [1] * 4, [1] * 4]
    )


# ------------------------------------------------------------------------------------------
# errors


def test_unknown_model_lists_the_names():
    with pytest.raises(ConfigError) as err:
        workloads.get("alexnet")
    assert "alexnet" in str(err.value)
    assert all(name in str(err.value) for name in MODELS)


@pytest.mark.parametrize(
    "spec", ["2:2", "0:4", "5:4", "2:4:1", "2:4:cols", "4:4:rows", "two:four", "block:4x4", "block:0x4:0.5",
             "block:4x4:1.5", "block:4x4:-0.1", "", 4, 0.5]
)
def test_bad_sparsity(spec):
    with pytest.raises(ConfigError, match="sparsity"):
        workloads.get("mlp", sparsity=spec)
    with pytest.raises(ConfigError, match="sparsity"):
        workloads.sparsify(built("mlp"), spec)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"batch": 0}, "batch"), ({"batch": -1}, "batch"), ({"batch": 1.5}, "batch"),
        ({"batch": True}, "batch"), ({"seed": -1}, "seed"), ({"seed": "a"}, "seed"),
        ({"seq_len": 8}, "seq_len"),  # not an option of mlp
    ],
)
def test_bad_arguments(kwargs, word):
    with pytest.raises(ConfigError, match=word):
        workloads.get("mlp", **kwargs)


@pytest.mark.parametrize(
    "name, kwargs, word",
    [
        ("bert-base-layer", {"seq_len": 0}, "seq_len"),
        ("bert-base-layer", {"kv_len": 4}, "kv_len"),
        ("gpt2-decode", {"vocab": 2.5}, "vocab"),
        ("gpt2-decode", {"kv_len": 0}, "kv_len"),
        ("lenet5", {"pool": "min"}, "pool"),
    ],
)
def test_bad_options(name, kwargs, word):
    with pytest.raises(ConfigError, match=word) as err:
        workloads.get(name, **kwargs)
    assert "expected" in str(err.value) or "options are" in str(err.value)


def test_sparsify_needs_a_module():
    with pytest.raises(ConfigError, match="IRModule"):
        workloads.sparsify("mlp", "2:4")


# ------------------------------------------------------------------------------------------
# ONNX import


def test_from_onnx_without_onnx_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ConfigError, match="pip install onnx"):
        workloads.from_onnx("model.onnx")


def test_from_torch_without_torch_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ConfigError, match=r"pip install torch==2\.13\.0"):
        workloads.from_torch(object(), ())


def _onnx_model():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    conv_w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    conv_b = rng.standard_normal(4).astype(np.float32)
    fc_w = rng.standard_normal((5, 4 * 6 * 6)).astype(np.float32)  # Gemm transB=1: (N, K)
    fc_b = rng.standard_normal(5).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])],
        [numpy_helper.from_array(a, n) for a, n in
         ((conv_w, "conv_w"), (conv_b, "conv_b"), (fc_w, "fc_w"), (fc_b, "fc_b"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, conv_w, conv_b, fc_w, fc_b


def test_from_onnx(run_relax, tmp_path):
    onnx = pytest.importorskip("onnx")
    model, conv_w, conv_b, fc_w, fc_b = _onnx_model()
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    mod = workloads.from_onnx(path)
    relax.analysis.well_formed(mod)
    assert [p.name for p in mod["main"].params] == ["x"]
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    h = np.maximum(conv2d_ref(x.astype(np.float64), conv_w, conv_b.reshape(1, 4, 1, 1), 0), 0)
    ref = h.reshape(2, -1) @ fc_w.T.astype(np.float64) + fc_b
    assert_close(run_relax(mod, x), ref)

    sparse = workloads.from_onnx(model, sparsity="2:4")
    got = {tuple(c.shape): c for c in all_constants(sparse)}
    check_nm(fc_w.T, got[(5, 144)].T, 2, 4)
    check_nm(conv_w.reshape(4, -1).T, got[(4, 3, 3, 3)].reshape(4, -1).T, 2, 4)
    with pytest.raises(ConfigError, match="no such file"):
        workloads.from_onnx(tmp_path / "missing.onnx")
