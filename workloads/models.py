"""The model zoo: each model is a function that emits its graph through a :class:`Graph`.

All models are float32 with random weights (He-style scaling: std = sqrt(gain / fan_in), gain 2
before a ReLU/GELU, smaller on residual branches and outputs, so activations stay O(1)). The
entry function is ``main`` with one input ``x``. GEMM weights are constants in the layouts of
:class:`workloads._graph.Graph`: ``matmul(x, W)`` with W (K, N), and NCHW/OIHW ``conv2d``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tvm import relax

from workloads._graph import F32, Graph
from workloads.catalogue import DESCRIPTIONS
from workloads.generation import build_generation, weight_parameters


@dataclass(frozen=True)
class Option:
    """A model option: its default, a check and the words that say what is allowed."""

    default: object
    check: Callable[[object], bool]
    allowed: str


@dataclass(frozen=True)
class Model:
    name: str
    build: Callable  # (g: Graph, x: relax.Var, batch: int, **options) -> relax.Expr
    input_shape: Callable  # (batch, **options) -> tuple
    doc: str
    options: dict[str, Option] = field(default_factory=dict)
    # (**options) -> [(name, shape)]: weight matrices the function takes as parameters after its
    # input (num_input = 1); build then gets them as ``parameters={name: relax.Var}``
    parameters: Callable | None = None


def _positive_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1


_POSITIVE = "an integer >= 1"


# ------------------------------------------------------------------------------------------
# MLP, LeNet-5, VGG-8, ResNet-18


def _mlp(g: Graph, x, batch):
    h = g.relu(g.linear(x, 784, 512, "fc1"), "fc1_relu")
    h = g.relu(g.linear(h, 512, 512, "fc2"), "fc2_relu")
    return g.linear(h, 512, 10, "fc3", gain=1.0)


def _lenet5(g: Graph, x, batch, pool):
    def pool2(h, name):
        fn = relax.op.nn.avg_pool2d if pool == "avg" else relax.op.nn.max_pool2d
        return g.emit(fn(h, pool_size=(2, 2), strides=(2, 2)), name)

    h = g.relu(g.conv2d(x, 1, 6, 5, "conv1", padding=2), "conv1_relu")  # 6x28x28
    h = pool2(h, "pool1")  # 6x14x14
    h = g.relu(g.conv2d(h, 6, 16, 5, "conv2"), "conv2_relu")  # 16x10x10
    h = pool2(h, "pool2")  # 16x5x5
    h = g.emit(relax.op.reshape(h, (batch, 400)), "flatten")
    h = g.relu(g.linear(h, 400, 120, "fc1"), "fc1_relu")
    h = g.relu(g.linear(h, 120, 84, "fc2"), "fc2_relu")
    return g.linear(h, 84, 10, "fc3", gain=1.0)


def _vgg8(g: Graph, x, batch):
    cin = 3
    h = x
    for stage, cout in enumerate((128, 256, 512), start=1):
        for i in (1, 2):
            name = f"conv{2 * stage - 2 + i}"
            h = g.relu(g.conv2d(h, cin, cout, 3, name, padding=1, bias=False), name + "_relu")
            cin = cout
        h = g.emit(relax.op.nn.max_pool2d(h, pool_size=(2, 2), strides=(2, 2)), f"pool{stage}")
    h = g.emit(relax.op.reshape(h, (batch, 512 * 4 * 4)), "flatten")
    h = g.relu(g.linear(h, 8192, 1024, "fc1", bias=False), "fc1_relu")
    return g.linear(h, 1024, 10, "fc2", gain=1.0, bias=False)


def _resnet18(g: Graph, x, batch):
    h = g.relu(g.conv2d(x, 3, 64, 7, "conv1", stride=2, padding=3), "conv1_relu")  # 64x112x112
    h = g.emit(
        relax.op.nn.max_pool2d(h, pool_size=(3, 3), strides=(2, 2), padding=(1, 1)), "maxpool"
    )  # 64x56x56
    cin = 64
    for stage, (cout, first_stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), 1):
        for blk in (0, 1):
            stride = first_stride if blk == 0 else 1
            p = f"layer{stage}_{blk}_"
            y = g.relu(g.conv2d(h, cin, cout, 3, p + "conv1", stride=stride, padding=1),
                       p + "relu1")
            # the residual branch's last conv and the projection are scaled down (as a folded
            # batch norm with a small gamma would) so that the sum stays O(1) over 8 blocks
            y = g.conv2d(y, cout, cout, 3, p + "conv2", padding=1, gain=0.5)
            if stride != 1 or cin != cout:
                sc = g.conv2d(h, cin, cout, 1, p + "downsample", stride=stride, gain=0.5)
            else:
                sc = h
            h = g.relu(g.emit(relax.op.add(y, sc), p + "add"), p + "relu2")
            cin = cout
    h = g.emit(relax.op.mean(h, axis=[2, 3]), "avgpool")  # (batch, 512)
    return g.linear(h, 512, 1000, "fc", gain=1.0)


# ------------------------------------------------------------------------------------------
# Transformers

_HIDDEN, _HEADS, _HEAD_DIM, _FFN = 768, 12, 64, 3072


def _bert_layer(g: Graph, x, batch, seq_len, prefix=""):
    """One post-LN encoder layer on x (batch, seq_len, 768); binding names start with ``prefix``."""
    d, nh, hd = _HIDDEN, _HEADS, _HEAD_DIM
    rows = batch * seq_len
    h = g.emit(relax.op.reshape(x, (rows, d)), prefix + "x_2d")
    q = g.linear(h, d, d, prefix + "attn_q", gain=1.0)
    k = g.linear(h, d, d, prefix + "attn_k", gain=1.0)
    v = g.linear(h, d, d, prefix + "attn_v", gain=1.0)

    def heads(t, name):  # (B*S, 768) -> (B, 12, S, 64)
        t = g.emit(relax.op.reshape(t, (batch, seq_len, nh, hd)), prefix + name + "_split")
        return g.emit(relax.op.permute_dims(t, [0, 2, 1, 3]), prefix + name + "_heads")

    qh, kh, vh = heads(q, "q"), heads(k, "k"), heads(v, "v")
    kt = g.emit(relax.op.permute_dims(kh, [0, 1, 3, 2]), prefix + "k_t")  # (B, 12, 64, S)
    s = g.emit(relax.op.matmul(qh, kt), prefix + "attn_qk")  # (B, 12, S, S)
    s = g.emit(relax.op.multiply(s, relax.const(1.0 / math.sqrt(hd), F32)), prefix + "attn_scale")
    p = g.emit(relax.op.nn.softmax(s, axis=-1), prefix + "attn_softmax")
    c = g.emit(relax.op.matmul(p, vh), prefix + "attn_av")  # (B, 12, S, 64)
    c = g.emit(relax.op.permute_dims(c, [0, 2, 1, 3]), prefix + "ctx_merge")
    c = g.emit(relax.op.reshape(c, (rows, d)), prefix + "ctx_2d")
    o = g.linear(c, d, d, prefix + "attn_out", gain=1.0)
    h1 = g.layer_norm(g.emit(relax.op.add(h, o), prefix + "attn_residual"), d, prefix + "attn_ln")
    f = g.emit(relax.op.nn.gelu(g.linear(h1, d, _FFN, prefix + "ffn_up")), prefix + "ffn_gelu")
    f = g.linear(f, _FFN, d, prefix + "ffn_down", gain=1.0)
    out = g.layer_norm(g.emit(relax.op.add(h1, f), prefix + "ffn_residual"), d, prefix + "ffn_ln")
    return g.emit(relax.op.reshape(out, (batch, seq_len, d)), prefix + "out")


def _bert_base(g: Graph, x, batch, seq_len, layers):
    """BERT-base's encoder: ``layers`` encoder layers in sequence (embeddings and pooler left out)."""
    for i in range(layers):
        x = _bert_layer(g, x, batch, seq_len, prefix=f"l{i}_")
    return x


def _gpt2_decode(g: Graph, x, batch, kv_len, vocab, layers):
    d, nh, hd = _HIDDEN, _HEADS, _HEAD_DIM
    resid_gain = 1.0 / (2 * layers)  # GPT-2 scales residual projections by 1/sqrt(2 n_layer)
    h = x  # (B, 768)
    for i in range(layers):
        p = f"h{i}_"
        a = g.layer_norm(h, d, p + "ln1")
        q = g.linear(a, d, d, p + "attn_q", gain=1.0)
        k = g.linear(a, d, d, p + "attn_k", gain=1.0)
        v = g.linear(a, d, d, p + "attn_v", gain=1.0)
        qh = g.emit(relax.op.reshape(q, (batch, nh, 1, hd)), p + "q_heads")
        kh = g.emit(relax.op.reshape(k, (batch, nh, 1, hd)), p + "k_heads")
        vh = g.emit(relax.op.reshape(v, (batch, nh, 1, hd)), p + "v_heads")
        k_cache = g.const(g.normal((batch, nh, kv_len, hd), 1.0))
        v_cache = g.const(g.normal((batch, nh, kv_len, hd), 1.0))
        k_all = g.emit(relax.op.concat([k_cache, kh], axis=2), p + "k_all")  # (B,12,L+1,64)
        v_all = g.emit(relax.op.concat([v_cache, vh], axis=2), p + "v_all")
        kt = g.emit(relax.op.permute_dims(k_all, [0, 1, 3, 2]), p + "k_t")
        s = g.emit(relax.op.matmul(qh, kt), p + "attn_qk")  # (B, 12, 1, L+1)
        s = g.emit(relax.op.multiply(s, relax.const(1.0 / math.sqrt(hd), F32)), p + "attn_scale")
        pr = g.emit(relax.op.nn.softmax(s, axis=-1), p + "attn_softmax")
        c = g.emit(relax.op.matmul(pr, v_all), p + "attn_av")  # (B, 12, 1, 64)
        c = g.emit(relax.op.reshape(c, (batch, d)), p + "ctx")
        o = g.linear(c, d, d, p + "attn_out", gain=resid_gain)
        h = g.emit(relax.op.add(h, o), p + "attn_residual")
        a = g.layer_norm(h, d, p + "ln2")
        f = g.emit(relax.op.nn.gelu_tanh(g.linear(a, d, _FFN, p + "ffn_up")), p + "ffn_gelu")
        f = g.linear(f, _FFN, d, p + "ffn_down", gain=resid_gain)
        h = g.emit(relax.op.add(h, f), p + "ffn_residual")
    h = g.layer_norm(h, d, "ln_f")
    return g.linear(h, d, vocab, "lm_head", gain=1.0, bias=False)


# ------------------------------------------------------------------------------------------
# registry

MODELS: dict[str, Model] = {}


def _register(model: Model) -> None:
    MODELS[model.name] = model


_register(Model(
    "mlp", lambda g, x, batch: _mlp(g, x, batch), lambda batch: (batch, 784),
    DESCRIPTIONS["mlp"],
))
_register(Model(
    "lenet5", _lenet5, lambda batch, pool: (batch, 1, 28, 28),
    DESCRIPTIONS["lenet5"],
    {"pool": Option("avg", lambda v: v in ("avg", "max"), "'avg' or 'max'")},
))
_register(Model(
    "vgg8", lambda g, x, batch: _vgg8(g, x, batch), lambda batch: (batch, 3, 32, 32),
    DESCRIPTIONS["vgg8"],
))
_register(Model(
    "resnet18", lambda g, x, batch: _resnet18(g, x, batch), lambda batch: (batch, 3, 224, 224),
    DESCRIPTIONS["resnet18"],
))
_register(Model(
    "bert-base-layer", _bert_layer, lambda batch, seq_len: (batch, seq_len, _HIDDEN),
    DESCRIPTIONS["bert-base-layer"],
    {"seq_len": Option(128, _positive_int, _POSITIVE)},
))
_register(Model(
    "bert-base", _bert_base, lambda batch, seq_len, layers: (batch, seq_len, _HIDDEN),
    DESCRIPTIONS["bert-base"],
    {"seq_len": Option(128, _positive_int, _POSITIVE), "layers": Option(12, _positive_int, _POSITIVE)},
))
_register(Model(
    "gpt2-decode", _gpt2_decode, lambda batch, kv_len, vocab, layers: (batch, _HIDDEN),
    DESCRIPTIONS["gpt2-decode"],
    {
        "kv_len": Option(128, _positive_int, _POSITIVE),
        "vocab": Option(50257, _positive_int, _POSITIVE),
        "layers": Option(12, _positive_int, _POSITIVE),
    },
))
_register(Model(
    "gpt2-small-decode", build_generation,
    lambda batch, prompt, generated, vocab, layers: (batch, prompt, _HIDDEN),
    DESCRIPTIONS["gpt2-small-decode"],
    {
        "prompt": Option(128, _positive_int, _POSITIVE),
        "generated": Option(32, _positive_int, _POSITIVE),
        "vocab": Option(50257, _positive_int, _POSITIVE),
        "layers": Option(12, _positive_int, _POSITIVE),
    },
    parameters=lambda prompt, generated, vocab, layers: weight_parameters(vocab, layers),
))

# trained on scikit-learn's bundled digits; their weights come from workloads/data/digits.npz, not the seed
from workloads import digits as _digits  # noqa: E402 - the trained models build on Graph like the others

_register(Model(
    "digits-mlp", _digits.build_mlp, lambda batch: (batch, 64),
    DESCRIPTIONS["digits-mlp"],
))
_register(Model(
    "digits-cnn", _digits.build_cnn, lambda batch: (batch, 1, 8, 8),
    DESCRIPTIONS["digits-cnn"],
))
