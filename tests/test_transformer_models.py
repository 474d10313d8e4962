"""Whole transformers of the zoo: ``bert-base`` (12 encoder layers) and ``gpt2-small-decode``
(GPT-2 small: a 128-token prefill, then 32 decode steps over a growing KV cache).

Op counts and MACs are checked against hand counts written out below; each default model is
built and extracted once for this module (a few seconds: 85 M and 124 M seeded weights).
"""

from __future__ import annotations

import numpy as np
import pytest

tvm = pytest.importorskip("tvm")
import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.workload import Gemm, NonGemm  # noqa: E402
from workloads.catalogue import DESCRIPTIONS  # noqa: E402
from workloads.generation import weight_parameters  # noqa: E402

D, HEADS, FFN, LAYERS = 768, 12, 3072, 12
OPS_PER_LAYER = 8 + 6  # products q k v qk av out up down; ln, softmax, add, ln, gelu, add


@pytest.fixture(scope="module")
def bert():
    return tvm_bridge.extract(workloads.get("bert-base"))


@pytest.fixture(scope="module")
def gpt2():
    return tvm_bridge.extract(workloads.get("gpt2-small-decode"))


def weight_and_activation_macs(workload):
    weight = sum(g.macs for g in workload.gemms if g.constant)
    return weight, workload.macs - weight


# ------------------------------------------------------------------------------------------
# bert-base


def test_bert_base_op_counts_and_macs(bert):
    s = 128
    assert len(bert.ops) == LAYERS * OPS_PER_LAYER
    assert len(bert.gemms) == LAYERS * 8
    weight, act = weight_and_activation_macs(bert)
    # per token per layer: q, k, v, out (4·d²) and the FFN (2·d·f); attention: q·kᵀ and p·v,
    # each s·d per token (12 heads of 64)
    assert weight == LAYERS * s * (4 * D * D + 2 * D * FFN)
    assert act == LAYERS * 2 * s * s * D
    assert bert.macs == 12 * 931_135_488 == 11_173_625_856  # 12 × bert-base-layer's
    assert all(g.weights is not None for g in bert.gemms if g.constant)  # seeded values kept
    kinds = [op.kind for op in bert.non_gemms]
    assert kinds.count("normalisation") == 2 * LAYERS and kinds.count("softmax") == LAYERS
    assert kinds.count("residual_add") == 2 * LAYERS and kinds.count("activation") == LAYERS


def test_bert_base_layers_are_chained_and_names_unique(bert):
    names = [op.name for op in bert.ops]
    assert len(set(names)) == len(names)
    first_q = [g for g in bert.gemms if g.constant and g.k == D and g.n == D]
    # layer i's q, k and v read layer i-1's last layer norm (layer 0: the input)
    assert first_q[0].inputs == ()
    norms = [op.name for op in bert.non_gemms if op.kind == "normalisation"]
    assert first_q[4].inputs == (norms[1],)  # 4 square products per layer: q k v out


def test_bert_base_layer_count_option():
    small = tvm_bridge.extract(workloads.get("bert-base", seq_len=8, layers=2))
    assert len(small.ops) == 2 * OPS_PER_LAYER
    assert small.macs == 2 * (8 * (4 * D * D + 2 * D * FFN) + 2 * 8 * 8 * D)


# ------------------------------------------------------------------------------------------
# gpt2-small-decode


def passes(workload):
    """The ops split into the prefill and the decode steps: each pass ends with the LM head."""
    out, current = [], []
    for op in workload.ops:
        current.append(op)
        if isinstance(op, Gemm) and op.n == 50257:
            out.append(current)
            current = []
    assert not current
    return out


def test_gpt2_small_decode_op_counts_and_macs(gpt2):
    prompt, generated, vocab = 128, 32, 50257
    per_pass = LAYERS * OPS_PER_LAYER + 2  # + final layer norm and LM head
    assert len(gpt2.ops) == (1 + generated) * per_pass == 5610
    weight, act = weight_and_activation_macs(gpt2)
    per_token = LAYERS * (4 * D * D + 2 * D * FFN)
    # prefill: every prompt token through the layers, the LM head on the last one only;
    # decode step t: one token, its LM head, and attention over prompt + t + 1 positions
    assert weight == prompt * per_token + vocab * D + generated * (per_token + vocab * D)
    assert act == LAYERS * 2 * prompt * prompt * D + sum(
        LAYERS * 2 * D * (prompt + t + 1) for t in range(generated))
    assert weight == 14_863_258_368 and act == 387_219_456


def test_gpt2_small_decode_kv_cache_grows_one_position_per_step(gpt2):
    prompt = 128
    steps = passes(gpt2)
    assert len(steps) == 33
    for t, ops in enumerate(steps):
        qk = [g for g in ops if isinstance(g, Gemm) and not g.constant and g.k == 64]
        av = [g for g in ops if isinstance(g, Gemm) and not g.constant and g.n == 64]
        assert len(qk) == len(av) == LAYERS
        if t == 0:  # the prefill: the prompt attends to itself
            assert {(g.m, g.n, g.count) for g in qk} == {(prompt, prompt, HEADS)}
            assert {(g.m, g.k, g.count) for g in av} == {(prompt, prompt, HEADS)}
        else:  # decode step t - 1: one query over the cache of prompt + t - 1 and itself
            kv = prompt + t
            assert {(g.m, g.n, g.count) for g in qk} == {(1, kv, HEADS)}
            assert {(g.m, g.k, g.count) for g in av} == {(1, kv, HEADS)}
            # q·kᵀ reads this step's query and the key projections of every earlier pass
            assert len(qk[0].inputs) == 1 + t + 1


def test_gpt2_small_decode_weights_once_then_shared(gpt2):
    steps = passes(gpt2)
    prefill = [g for g in steps[0] if isinstance(g, Gemm) and g.constant]
    assert len(prefill) == 6 * LAYERS + 1 and all(g.weights is not None for g in prefill)
    assert prefill[0].m == 128 and prefill[-1].m == 1  # the LM head reads the last position only
    for ops in steps[1:]:
        decode = [g for g in ops if isinstance(g, Gemm) and g.constant]
        assert [(g.k, g.n) for g in decode] == [(g.k, g.n) for g in prefill]
        assert all(g.m == 1 and g.weights is None for g in decode)


def test_gpt2_small_decode_steps_are_chained_and_names_unique(gpt2):
    names = [op.name for op in gpt2.ops]
    assert len(set(names)) == len(names)
    steps = passes(gpt2)
    for before, ops in zip(steps, steps[1:]):
        first = ops[0]  # the step's first layer norm reads the token chosen from the logits before
        assert isinstance(first, NonGemm) and first.inputs == (before[-1].name,)


def test_gpt2_small_decode_matches_numpy(run_relax):
    """A small configuration run by TVM equals greedy GPT-2 generation with a KV cache in numpy."""
    prompt, generated, vocab, layers, batch = 5, 3, 40, 2, 2
    mod = workloads.get("gpt2-small-decode", batch=batch, prompt=prompt, generated=generated, vocab=vocab,
                        layers=layers, seed=5)
    consts = {b.var.name: [a.value.numpy() for a in b.value.args if isinstance(a, tvm.ir.GenericConst)]
              for block in mod["main"].body.blocks for b in block.bindings
              if b.var.name.startswith("prefill_")}
    matrices = [consts[f"prefill_{name}"][0] for name, _ in weight_parameters(vocab, layers)]
    x = np.random.default_rng(1).standard_normal((batch, prompt, D)).astype(np.float32)
    got = run_relax(mod, x, *matrices)

    def ln(h, name):
        gamma, beta = consts[f"prefill_{name}"]
        mu, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
        return (h - mu) / np.sqrt(var + 1e-5) * gamma + beta

    def linear(h, name):
        arrays = consts[f"prefill_{name}"]
        bias = consts.get(f"prefill_{name}_bias", [0])[0]
        return h @ arrays[0].astype(np.float64) + bias

    def gelu(v):
        return 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v**3)))

    caches = [[None, None] for _ in range(layers)]

    def forward(h):  # h (B, T, 768) of new positions
        for i in range(layers):
            p = f"h{i}_"
            a = ln(h, p + "ln1")
            q, k, v = (linear(a, p + n).reshape(batch, -1, HEADS, 64).transpose(0, 2, 1, 3)
                       for n in ("attn_q", "attn_k", "attn_v"))
            for j, new in enumerate((k, v)):
                caches[i][j] = new if caches[i][j] is None else np.concatenate([caches[i][j], new], axis=2)
            s = q @ caches[i][0].transpose(0, 1, 3, 2) / 8.0
            pr = np.exp(s - s.max(-1, keepdims=True))
            pr /= pr.sum(-1, keepdims=True)
            c = (pr @ caches[i][1]).transpose(0, 2, 1, 3).reshape(batch, -1, D)
            h = h + linear(c, p + "attn_out")
            h = h + linear(gelu(linear(ln(h, p + "ln2"), p + "ffn_up")), p + "ffn_down")
        return linear(ln(h[:, -1], "ln_f"), "lm_head")

    logits = forward(x.astype(np.float64))
    for _ in range(generated):
        token = logits.argmax(-1)
        logits = forward(matrices[-1][:, token].T[:, None, :].astype(np.float64))
    err = np.linalg.norm(got - logits) / np.linalg.norm(logits)
    assert err < 1e-4, err  # float32 through 2 layers and 4 passes against float64


# ------------------------------------------------------------------------------------------
# catalogue


def test_both_are_listed_with_descriptions():
    assert {"bert-base", "gpt2-small-decode"} <= set(workloads.list())
    assert "12" in DESCRIPTIONS["bert-base"] and "KV cache" in DESCRIPTIONS["gpt2-small-decode"]


def test_extract_reads_a_product_by_a_weight_parameter_as_a_constant_product_without_values():
    from tvm import relax

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((4, 16), "float32"))
    w = relax.Var("w", relax.TensorType((16, 8), "float32"))
    u = relax.Var("u", relax.TensorType((3, 4), "float32"))
    with bb.function("main", [x, w, u], attrs={"num_input": 1}):
        with bb.dataflow():
            y = bb.emit(relax.op.matmul(x, w))  # x @ W: W stationary
            z = bb.emit(relax.op.matmul(u, y))  # U @ y: mapped transposed, yᵀ @ Uᵀ, U stationary
            out = bb.emit_output(z)
        bb.emit_func_output(out)
    first, second = tvm_bridge.extract(bb.get()).gemms
    assert (first.m, first.k, first.n, first.constant, first.weights) == (4, 16, 8, True, None)
    assert (second.m, second.k, second.n, second.constant, second.weights) == (8, 4, 3, True, None)
