"""GPT-2 small generating text: a prefill over the prompt, then one decode step per new token.

``gpt2-small-decode`` is one Relax function ``main(x, *matrices)`` that runs, in order:

* the **prefill**: the 12 pre-LN layers over the ``prompt`` embedded tokens ``x``
  (batch, prompt, 768), attention as explicit matmuls over the prompt (the causal mask costs
  nothing and the products are counted dense, as ``tvm_bridge.extract`` counts them), then the
  final layer norm and the LM head on the last position;
* ``generated`` **decode steps**: step t (from 0) embeds the token its predecessor chose
  (``argmax`` of the logits, looked up in the tied embedding: free operations) and runs the 12
  layers on that one token. Each layer's K and V caches are ``concat``-enated with the step's
  new key and value, so step t's attention reads ``prompt + t + 1`` positions:
  q·kᵀ is (1 × 64) @ (64 × (prompt + t + 1)) and p·v is (1 × (prompt + t + 1)) @ (… × 64) per
  head. The KV cache's growth is in those shapes, step by step.

The prefill's matrices are seeded constants drawn like every zoo model's (``Graph``); the
decode steps multiply by the same matrices passed as the function's weight parameters (after
``num_input`` = 1, one per matrix, in :func:`weight_parameters` order), so that extraction keeps
one copy of 124 M values rather than one per step: their products are constant products
without values (``Gemm.constant`` True, ``weights`` None). Biases and layer norms are the
prefill's constants, shared. Ops of the Workload are named by extraction's counter
(``matmul_k``, ...), in execution order: the prefill's, then each step's.
"""

from __future__ import annotations

import math

from tvm import relax

from workloads._graph import F32, Graph

HIDDEN, HEADS, HEAD_DIM, FFN = 768, 12, 64, 3072
_MATRICES = (("attn_q", HIDDEN, HIDDEN), ("attn_k", HIDDEN, HIDDEN), ("attn_v", HIDDEN, HIDDEN),
             ("attn_out", HIDDEN, HIDDEN), ("ffn_up", HIDDEN, FFN), ("ffn_down", FFN, HIDDEN))


def weight_parameters(vocab: int, layers: int) -> list[tuple[str, tuple[int, int]]]:
    """(name, K×N shape) of every matrix the decode steps take as a parameter, in order."""
    shapes = [(f"h{i}_{name}", (k, n)) for i in range(layers) for name, k, n in _MATRICES]
    return shapes + [("lm_head", (HIDDEN, vocab))]


class _SharedWeights:
    """The model's weights, drawn on first use (the prefill) and reused by every decode step.

    ``linear`` multiplies by the seeded constant in the prefill and by the matching parameter
    in a decode step; biases and layer norms are the same constants in both.
    """

    def __init__(self, g: Graph, parameters: dict):
        self.g = g
        self.parameters = parameters
        self.linears: dict[str, tuple] = {}
        self.norms: dict[str, tuple] = {}

    def linear(self, x, name: str, step: str, *, gain: float, bias: bool = True):
        g = self.g
        if name not in self.linears:
            k, n = self.parameters[name].ty.shape.values
            k, n = int(k), int(n)
            w = g.gemm_weight((k, n), k, gain, k_axes=[0], n_axis=1)
            b = g.const(g.normal((n,), 0.05)) if bias else None
            self.linears[name] = (w, b)
        w, b = self.linears[name]
        matrix = w if step == "prefill" else self.parameters[name]
        y = g.emit(relax.op.matmul(x, matrix), f"{step}_{name}")
        return y if b is None else g.emit(relax.op.add(y, b), f"{step}_{name}_bias")

    def layer_norm(self, x, name: str, step: str):
        g = self.g
        if name not in self.norms:
            self.norms[name] = (g.const(1.0 + g.normal((HIDDEN,), 0.05)), g.const(g.normal((HIDDEN,), 0.05)))
        gamma, beta = self.norms[name]
        return g.emit(relax.op.nn.layer_norm(x, gamma, beta, axes=[-1], epsilon=1e-5), f"{step}_{name}")


def _layer(w: _SharedWeights, h, i: int, step: str, shape: tuple[int, int], cache, resid_gain: float):
    """One pre-LN GPT-2 layer on h (batch·tokens, 768); ``cache`` is (K, V) of earlier positions or None.

    Returns the new h and the layer's (K, V) with this call's positions appended.
    """
    g, p = w.g, f"h{i}_"
    batch, tokens = shape
    a = w.layer_norm(h, p + "ln1", step)
    q, k, v = (w.linear(a, p + name, step, gain=1.0) for name in ("attn_q", "attn_k", "attn_v"))

    def heads(t, name):  # (B·T, 768) -> (B, 12, T, 64)
        t = g.emit(relax.op.reshape(t, (batch, tokens, HEADS, HEAD_DIM)), f"{step}_{p}{name}_split")
        return g.emit(relax.op.permute_dims(t, [0, 2, 1, 3]), f"{step}_{p}{name}_heads")

    qh, kh, vh = heads(q, "q"), heads(k, "k"), heads(v, "v")
    if cache is not None:
        kh = g.emit(relax.op.concat([cache[0], kh], axis=2), f"{step}_{p}k_cache")  # (B, 12, L + T, 64)
        vh = g.emit(relax.op.concat([cache[1], vh], axis=2), f"{step}_{p}v_cache")
    kt = g.emit(relax.op.permute_dims(kh, [0, 1, 3, 2]), f"{step}_{p}k_t")
    s = g.emit(relax.op.matmul(qh, kt), f"{step}_{p}attn_qk")  # (B, 12, T, L + T)
    s = g.emit(relax.op.multiply(s, relax.const(1.0 / math.sqrt(HEAD_DIM), F32)), f"{step}_{p}attn_scale")
    pr = g.emit(relax.op.nn.softmax(s, axis=-1), f"{step}_{p}attn_softmax")
    c = g.emit(relax.op.matmul(pr, vh), f"{step}_{p}attn_av")  # (B, 12, T, 64)
    c = g.emit(relax.op.permute_dims(c, [0, 2, 1, 3]), f"{step}_{p}ctx_merge")
    c = g.emit(relax.op.reshape(c, (batch * tokens, HIDDEN)), f"{step}_{p}ctx")
    h = g.emit(relax.op.add(h, w.linear(c, p + "attn_out", step, gain=resid_gain)), f"{step}_{p}attn_residual")
    a = w.layer_norm(h, p + "ln2", step)
    f = g.emit(relax.op.nn.gelu_tanh(w.linear(a, p + "ffn_up", step, gain=2.0)), f"{step}_{p}ffn_gelu")
    f = w.linear(f, p + "ffn_down", step, gain=resid_gain)
    return g.emit(relax.op.add(h, f), f"{step}_{p}ffn_residual"), (kh, vh)


def _logits(w: _SharedWeights, h, step: str):
    return w.linear(w.layer_norm(h, "ln_f", step), "lm_head", step, gain=1.0, bias=False)


def build_generation(g: Graph, x, batch: int, prompt: int, generated: int, vocab: int, layers: int,
                     parameters: dict):
    """The prefill over ``x`` (batch, prompt, 768), then ``generated`` decode steps; returns the last logits."""
    resid_gain = 1.0 / (2 * layers)  # GPT-2 scales residual projections by 1/sqrt(2 n_layer)
    w = _SharedWeights(g, parameters)
    h = g.emit(relax.op.reshape(x, (batch * prompt, HIDDEN)), "prefill_x")
    caches = []
    for i in range(layers):
        h, cache = _layer(w, h, i, "prefill", (batch, prompt), None, resid_gain)
        caches.append(cache)
    h = g.emit(relax.op.reshape(h, (batch, prompt, HIDDEN)), "prefill_out")
    last = g.emit(relax.op.strided_slice(h, axes=[1], begin=[prompt - 1], end=[prompt]), "prefill_last")
    logits = _logits(w, g.emit(relax.op.reshape(last, (batch, HIDDEN)), "prefill_last_2d"), "prefill")
    embedding = w.linears["lm_head"][0]  # GPT-2 ties the token embedding to the LM head: (768, vocab)
    for t in range(generated):
        step = f"step{t}"
        token = g.emit(relax.op.argmax(logits, axis=-1), f"{step}_token")  # (B,)
        h = g.emit(relax.op.take(embedding, token, axis=1), f"{step}_embedded")  # (768, B)
        h = g.emit(relax.op.permute_dims(h, [1, 0]), f"{step}_x")
        for i in range(layers):
            h, caches[i] = _layer(w, h, i, step, (batch, 1), caches[i], resid_gain)
        logits = _logits(w, h, step)
    return logits
