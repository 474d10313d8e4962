"""Structured sparsity of constant weights: N:M and block pruning, on numpy and on Relax.

The spellings are parsed and checked by :mod:`cimsim.sparsity` (:func:`parse_sparsity`,
:class:`NMSparsity`, :class:`BlockSparsity`, re-exported here); this module prunes. What each
spelling does, in detail (``workloads.get(..., sparsity=...)``, :func:`sparsify`):

``"N:M"`` (for example ``"2:4"``, ``"1:4"``, ``"3:8"``; ``1 <= N < M``)
    In every group of M consecutive weights along the reduction (K) dimension, keep the N of
    largest magnitude and zero the others. Ties keep the weight that comes first. A last group
    shorter than M (when K is not a multiple of M) keeps its N largest, or all of it when it
    has N weights or fewer.

``"N:M:rows"`` (for example ``"2:4:rows"``)
    The same N:M pattern for every column of the matrix: in every group of M consecutive rows
    along K, keep the N rows of largest L2 norm (over all N columns) and zero the others. This
    is the crossbar's N:M: a zero row is never stored (``mapping.compact_rows``), so 2:4 halves
    the arrays, drives and conversions, where 2:4 with a pattern per column saves almost
    nothing on a crossbar (a row holds the weights of many columns).

``"block:RxC:fraction"`` (for example ``"block:4x4:0.5"``; ``x``, ``X`` or ``×``)
    View the weight as its K x N GEMM matrix, tile it with R x C blocks (R along K, C along
    N; blocks at the far edges are cut short), and zero the ``round(fraction * blocks)``
    blocks of smallest L1 norm. Ties zero the block that comes first in row-major block order,
    so the result is deterministic.

The GEMM view of a weight (K on rows, N on columns, as a crossbar stores it):

* ``matmul(x, W)`` with a constant ``W`` of shape (..., K, N): K is axis -2, N axis -1; leading
  axes are a batch of independent matrices, each pruned on its own.
* ``matmul(W, x)`` with a constant on the left, shape (..., M, K): K is its last axis.
* ``matmul(x, permute_dims(W))`` (``relax.op.linear``, ONNX ``Gemm(transB=1)``, torch): the
  constant is pruned in its own frame along the axis that the transpose brings to K.
* ``conv1d/2d/3d(x, W)``: K is the flattened ``I/groups x kernel`` axis per output channel
  (in the order I, D, H, W whatever ``kernel_layout`` says); N is the output channels of one
  group, so a block never straddles two groups.
* ``conv*_transpose`` with ``groups == 1``: per output channel, K is the flattened
  ``I x kernel`` axis. Grouped transposed convolutions are left alone.

Activation x activation products (no constant operand) are never touched; neither are
constants that reach a GEMM through anything but variable bindings and ``permute_dims``
(for example the KV cache of ``gpt2-decode``, which goes through ``concat``).
"""

from __future__ import annotations

import math

import numpy as np

from cimsim.errors import ConfigError
from cimsim.sparsity import BlockSparsity, NMSparsity, Sparsity, parse_sparsity

__all__ = [
    "BlockSparsity",
    "NMSparsity",
    "Sparsity",
    "parse_sparsity",
    "prune_gemm",
    "prune_matrix",
    "sparsify",
    "sparsify_pass",
]

# ------------------------------------------------------------------------------------------
# numpy


def _magnitude(a: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.floating) and a.dtype.itemsize >= 4:
        return np.abs(a)
    return np.abs(a.astype(np.float64))


def _prune_nm(stack: np.ndarray, n: int, m: int, rows: bool = False) -> np.ndarray:
    """N:M along axis 1 of a (B, K, N) stack (groups run down each column; with ``rows``, down the
    rows' L2 norms, one pattern for all columns): a pruned copy."""
    b, k, cols = stack.shape
    groups = -(-k // m)
    mag = _magnitude(stack)
    if rows:
        mag = np.sqrt(np.square(mag.astype(np.float64)).sum(axis=2, keepdims=True))
        cols = 1
    if groups * m != k:  # pad K; padding ranks below any |w| and is never kept over a weight
        pad = np.full((b, groups * m - k, cols), -1, dtype=mag.dtype)
        mag = np.concatenate([mag, pad], axis=1)
    mag = mag.reshape(b, groups, m, cols)
    if m <= 16:
        # rank of each weight in its group: how many weights beat it (larger, or equal and
        # earlier); m comparisons over the array are cheaper than an argsort for small m
        rank = np.zeros(mag.shape, dtype=np.int16)
        for j in range(m):
            mj = mag[:, :, j : j + 1, :]
            beats = mj > mag
            beats[:, :, j + 1 :, :] |= mj == mag[:, :, j + 1 :, :]
            rank += beats
        keep = rank < n
    else:
        order = np.argsort(-mag, axis=2, kind="stable")
        keep = np.zeros(mag.shape, dtype=bool)
        np.put_along_axis(keep, order[:, :, :n, :], True, axis=2)
    keep = keep.reshape(b, groups * m, cols)[:, :k, :]  # (b, k, 1) with rows: broadcast over the columns
    return np.where(keep, stack, np.zeros((), dtype=stack.dtype))


def _prune_blocks(a: np.ndarray, r: int, c: int, fraction: float) -> np.ndarray:
    """Block pruning of a 2-D K x N array: a pruned copy."""
    k, n = a.shape
    bk, bn = -(-k // r), -(-n // c)
    padded = np.zeros((bk * r, bn * c), dtype=np.float64)
    padded[:k, :n] = _magnitude(a)
    norms = padded.reshape(bk, r, bn, c).sum(axis=(1, 3)).ravel()
    count = int(math.floor(fraction * norms.size + 0.5))
    out = a.copy()
    if count == 0:
        return out
    mask = np.ones(norms.size, dtype=bool)
    mask[np.argsort(norms, kind="stable")[:count]] = False
    full = np.repeat(np.repeat(mask.reshape(bk, bn), r, axis=0), c, axis=1)[:k, :n]
    out[~full] = 0
    return out


def prune_matrix(w: np.ndarray, spec) -> np.ndarray:
    """Prune a K x N GEMM matrix (or a stack (..., K, N) of them): a pruned copy.

    N:M groups run along K (axis -2) for every column; blocks are R (along K) x C (along N).
    """
    spec = parse_sparsity(spec)
    w = np.asarray(w)
    if spec is None:
        return w.copy()
    if w.ndim == 1:
        return prune_matrix(w[:, None], spec)[:, 0]
    if w.ndim < 1:
        raise ValueError(f"cannot prune a {w.ndim}-D weight")
    k, n = w.shape[-2:]
    stack = w.reshape(-1, k, n)
    if isinstance(spec, NMSparsity):
        return _prune_nm(stack, spec.n, spec.m, spec.rows).reshape(w.shape)
    out = np.empty_like(stack)
    for i, mat in enumerate(stack):
        out[i] = _prune_blocks(mat, spec.rows, spec.cols, spec.fraction)
    return out.reshape(w.shape)


def prune_gemm(w: np.ndarray, spec, *, k_axes, n_axis: int, groups: int = 1) -> np.ndarray:
    """Prune a weight of any layout: a pruned copy with ``w``'s shape and dtype.

    ``k_axes`` are the axes flattened (in that order) into the reduction dimension K, ``n_axis``
    the output axis N; every other axis is a batch of independent matrices. ``groups`` splits
    N into that many independent matrices (grouped convolution).
    """
    spec = parse_sparsity(spec)
    w = np.asarray(w)
    if spec is None:
        return w.copy()
    nd = w.ndim
    k_axes = [a % nd for a in k_axes]
    n_axis %= nd
    batch_axes = [a for a in range(nd) if a not in k_axes and a != n_axis]
    perm = batch_axes + k_axes + [n_axis]
    t = np.transpose(w, perm)
    bshape = [w.shape[a] for a in batch_axes]
    k = int(np.prod([w.shape[a] for a in k_axes], dtype=np.int64))
    n = w.shape[n_axis]
    if groups > 1:
        if n % groups:
            raise ValueError(f"output axis {n} is not divisible by groups={groups}")
        mat = t.reshape(*bshape, k, groups, n // groups)
        mat = np.moveaxis(mat, -2, -3)  # (..., groups, K, N/g)
        pruned = np.moveaxis(prune_matrix(mat, spec), -3, -2).reshape(t.shape)
    else:
        pruned = prune_matrix(t.reshape(*bshape, k, n), spec).reshape(t.shape)
    return np.ascontiguousarray(np.transpose(pruned, np.argsort(perm)))


# ------------------------------------------------------------------------------------------
# Relax

_CONV_OPS = {
    "relax.nn.conv1d": False,
    "relax.nn.conv2d": False,
    "relax.nn.conv3d": False,
    "relax.nn.conv1d_transpose": True,
    "relax.nn.conv2d_transpose": True,
    "relax.nn.conv3d_transpose": True,
}


def _conv_view(layout: str, groups: int, transpose: bool):
    """(k_axes, n_axis, groups) of a conv kernel in ``layout``, or None if unsupported."""
    if not layout.isalpha() or not layout.isupper() or len(set(layout)) != len(layout):
        return None
    if "O" not in layout or "I" not in layout:
        return None
    if transpose and groups != 1:
        return None
    spatial = [c for c in "DHW" if c in layout]
    if len(spatial) + 2 != len(layout):
        return None
    k_axes = [layout.index("I")] + [layout.index(c) for c in spatial]
    return k_axes, layout.index("O"), (1 if transpose else groups)


def _collect(mod):
    """Map every constant that feeds a matmul/conv to the view its pruning uses."""
    import tvm
    from tvm import relax
    from tvm.relax.expr_functor import PyExprVisitor, visitor

    GenericConst = tvm.ir.GenericConst
    found: dict = {}

    @visitor
    class _Collector(PyExprVisitor):
        def __init__(self):
            super().__init__()
            self.values = {}

        def visit_var_binding_(self, binding):
            self.values[binding.var] = binding.value
            super().visit_var_binding_(binding)

        def _resolve(self, expr):
            """Follow var bindings and permute_dims down to a constant: (const, perm)."""
            perm = None
            for _ in range(64):
                if isinstance(expr, GenericConst):
                    return expr, perm
                if isinstance(expr, relax.Var) and expr in self.values:
                    expr = self.values[expr]
                    continue
                if (
                    isinstance(expr, relax.Call)
                    and isinstance(expr.op, tvm.ir.Op)
                    and expr.op.name == "relax.permute_dims"
                ):
                    src = expr.args[0]
                    nd = src.ty.ndim
                    axes = expr.attrs.axes
                    axes = list(range(nd))[::-1] if axes is None else [int(a) for a in axes]
                    # result axis i = source axis axes[i]; compose with the outer permutation
                    perm = axes if perm is None else [axes[p] for p in perm]
                    expr = src
                    continue
                return None, None
            return None, None

        def _record(self, const, view):
            if const in found or const.ty.ndim < 1:
                return
            found[const] = view

        def visit_call_(self, call):
            super().visit_call_(call)
            if not isinstance(call.op, tvm.ir.Op):
                return
            name = call.op.name
            if name == "relax.matmul":
                for side, arg in enumerate(call.args[:2]):
                    const, perm = self._resolve(arg)
                    if const is None:
                        continue
                    nd = const.ty.ndim
                    if nd == 1:
                        view = ([0], None)
                    else:
                        # axes of the matmul operand (after the transposes)
                        k_ax, n_ax = (nd - 2, nd - 1) if side == 1 else (nd - 1, nd - 2)
                        if perm is not None:
                            k_ax, n_ax = perm[k_ax], perm[n_ax]
                        view = ([k_ax], n_ax)
                    self._record(const, (view[0], view[1], 1))
            elif name in _CONV_OPS:
                const, perm = self._resolve(call.args[1])
                if const is None or perm is not None:
                    return
                view = _conv_view(
                    str(call.attrs.kernel_layout), int(call.attrs.groups), _CONV_OPS[name]
                )
                if view is not None:
                    self._record(const, view)

    collector = _Collector()
    for _, func in mod.functions_items():
        if isinstance(func, relax.Function):
            collector.visit_expr(func)
    return found


def sparsify(mod, spec):
    """Prune every constant weight of a matmul/conv in ``mod`` by ``spec``: a new IRModule.

    ``spec`` is ``"N:M"`` or ``"block:RxC:fraction"`` (see the module docstring) or ``None``
    (the module comes back unchanged). Works on any Relax module whose weights are bound
    constants (``workloads.get``, ``workloads.from_onnx``, ``from_exported_program``...).
    Activation x activation matmuls are left alone; the graph itself does not change, only
    the values of the constants (TVM 0.27 has no sparse tensors: the zeros are explicit).
    A constant is replaced everywhere it is used (a tied weight stays tied); if it feeds
    several GEMMs, the first one in binding order sets its K axis.
    """
    import tvm

    if not isinstance(mod, tvm.IRModule):
        raise ConfigError(f"mod={type(mod).__name__} is not allowed: expected a tvm.IRModule")
    parsed = parse_sparsity(spec)
    if parsed is None:
        return mod
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    found = _collect(mod)
    if not found:
        return mod

    @mutator
    class _Replace(PyExprMutator):
        def __init__(self, mod):
            super().__init__(mod)
            self.done = {}

        def visit_generic_const_(self, const):
            if const not in found:
                return const
            if const not in self.done:
                k_axes, n_axis, groups = found[const]
                w = const.value.numpy()
                if n_axis is None:  # a 1-D vector: K is its only axis
                    pruned = prune_matrix(w, parsed)
                else:
                    pruned = prune_gemm(w, parsed, k_axes=k_axes, n_axis=n_axis, groups=groups)
                self.done[const] = relax.const(pruned, str(w.dtype))
            return self.done[const]

    rep = _Replace(mod)
    for gv, func in mod.functions_items():
        if isinstance(func, relax.Function):
            rep.builder_.update_func(gv, rep.visit_expr(func))
    return rep.builder_.get()


def sparsify_pass(spec):
    """:func:`sparsify` as a ``tvm.transform.Pass`` (for ``tvm.transform.Sequential``)."""
    import tvm

    parsed = parse_sparsity(spec)

    @tvm.transform.module_pass(opt_level=0, name="CimsimSparsify")
    def _pass(mod, ctx):
        return sparsify(mod, parsed)

    return _pass
