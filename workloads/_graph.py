"""A small helper that emits plain Relax ops with random, He-scaled constant weights.

Every weight is drawn from one ``numpy.random.Generator`` in the order the layers are built,
so that a model and a seed fix every value. A sparsity pattern, when given, prunes each GEMM
weight as it is made (the same numpy routine that :func:`workloads.sparsify` applies to a
built module, so ``get(name, sparsity=s)`` equals ``sparsify(get(name), s)``).
"""

from __future__ import annotations

import math

import numpy as np
from tvm import relax

from workloads.sparsity import parse_sparsity, prune_gemm

F32 = "float32"


class Graph:
    """Emit ops into a ``relax.BlockBuilder`` dataflow block, making weights on the way.

    Weight layouts are the ones ``tvm_bridge`` reads directly: a fully connected layer is
    ``matmul(x, W)`` with ``W`` a (K, N) constant, a convolution is ``conv2d`` NCHW/OIHW, and a
    bias is a separate ``add`` of a constant (``(N,)`` or ``(1, C, 1, 1)``). Binding names are
    the layer names (``conv1``, ``layer2_0_conv1``, ``l3_attn_q``...), so reports can use them.
    """

    def __init__(self, bb: relax.BlockBuilder, rng: np.random.Generator, sparsity=None):
        self.bb = bb
        self.rng = rng
        self.sparsity = parse_sparsity(sparsity)

    # -- constants --------------------------------------------------------------------------

    def normal(self, shape, std: float) -> np.ndarray:
        return (self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(F32)

    def const(self, array: np.ndarray) -> relax.Expr:
        return relax.const(np.ascontiguousarray(array, dtype=F32), F32)

    def gemm_weight(self, shape, fan_in: int, gain: float, *, k_axes, n_axis) -> relax.Expr:
        """A He-style weight, std = sqrt(gain / fan_in), pruned if the graph is sparse."""
        w = self.normal(shape, math.sqrt(gain / fan_in))
        if self.sparsity is not None:
            w = prune_gemm(w, self.sparsity, k_axes=k_axes, n_axis=n_axis)
        return self.const(w)

    # -- layers -----------------------------------------------------------------------------

    def emit(self, expr, name: str = ""):
        return self.bb.emit(expr, name_hint=name)

    def linear(self, x, k: int, n: int, name: str, *, gain: float = 2.0, bias: bool = True,
               bias_std: float = 0.05):
        """``x @ W (+ b)``, W a (K, N) constant."""
        w = self.gemm_weight((k, n), k, gain, k_axes=[0], n_axis=1)
        y = self.emit(relax.op.matmul(x, w), name)
        if bias:
            y = self.emit(relax.op.add(y, self.const(self.normal((n,), bias_std))), name + "_bias")
        return y

    def conv2d(self, x, cin: int, cout: int, kernel: int, name: str, *, stride: int = 1,
               padding: int = 0, gain: float = 2.0, bias: bool = True, bias_std: float = 0.05):
        """NCHW ``conv2d`` with an OIHW constant kernel (+ a (1, C, 1, 1) bias)."""
        fan_in = cin * kernel * kernel
        w = self.gemm_weight((cout, cin, kernel, kernel), fan_in, gain, k_axes=[1, 2, 3],
                             n_axis=0)
        y = self.emit(
            relax.op.nn.conv2d(x, w, strides=(stride, stride), padding=(padding, padding)), name
        )
        if bias:
            b = self.const(self.normal((1, cout, 1, 1), bias_std))
            y = self.emit(relax.op.add(y, b), name + "_bias")
        return y

    def layer_norm(self, x, dim: int, name: str, eps: float = 1e-5):
        gamma = self.const(1.0 + self.normal((dim,), 0.05))
        beta = self.const(self.normal((dim,), 0.05))
        return self.emit(relax.op.nn.layer_norm(x, gamma, beta, axes=[-1], epsilon=eps), name)

    def relu(self, x, name: str = ""):
        return self.emit(relax.op.nn.relu(x), name)
