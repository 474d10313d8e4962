"""``extract``: the :class:`cimsim.Workload` of a Relax function (TVM 0.27).

The function is read in execution order (the order of its bindings; calls to other Relax
functions of the module are followed inline) and each operator becomes:

* ``relax.matmul`` A (…, M, K) @ B (…, K, N) → one :class:`cimsim.Gemm`. Batch dimensions
  broadcast as in numpy. When B has no batch dimension (or only 1s), it is one matrix shared
  by every row of A, so A's leading dimensions fold into M: (batch, seq, K) @ (K, N) is
  M = batch·seq, ``count`` 1. Otherwise ``count`` is the number of broadcast batch elements
  and M is A's rows (q @ kᵀ of shape (B, H, S, D) @ (B, H, D, S): M = S, count = B·H).
  ``weights`` is B as float32 (K×N, or count×K×N) when B is a constant, seen through variable
  bindings and layout ops, so that ``matmul(x, permute_dims(W))`` gives ``W.T``; None when B
  is computed from the inputs. When only A is constant (``const @ x``), the product is
  mapped transposed, Cᵀ = xᵀ·Aᵀ: M and N swap and the weights are Aᵀ.
* ``relax.nn.conv1d/2d/3d`` (layouts NCW/NCHW/NCDHW with OIW/OIHW/OIDHW only) → the im2col
  GEMM of each group: M = batch·(output positions), K = (C_in/groups)·(kernel positions),
  N = C_out/groups, ``count`` = groups. The rows of the weights (K) are ordered
  (channel, kernel row, kernel column) — ``W[o, c, i, j]`` is row ``(c·kh + i)·kw + j`` of
  column ``o`` — which is the order of ``w.reshape(C_out, -1)``; weights are K×N for one group
  and groups×K×N otherwise (group g holds output channels g·N … (g+1)·N−1 and reads input
  channels g·(C_in/groups) … ). Its :class:`cimsim.ConvGeometry` has padding as
  (before…, after…) per spatial dimension: (left, right) in 1-D, (top, left, bottom, right)
  in 2-D.
* ``relax.nn.attention`` / ``attention_bias`` with q (B, S, H, D), k (B, S_kv, H_kv, D) and
  v (B, S_kv, H_kv, D_v) → the two products of each query head and the softmax between them:
  ``<name>.qk`` (M = S, K = D, N = S_kv, count = B·H), ``<name>.softmax`` (B·H·S·S_kv
  elements) and ``<name>.av`` (M = S, K = S_kv, N = D_v, count = B·H), all without weights.
  The scale, the bias and a causal mask cost nothing here; a causal mask does not shrink the
  products (they are counted dense).
* Digital operations → :class:`cimsim.NonGemm` of the kind priced by
  ``cimsim.workload.DIGITAL_OPS_PER_ELEMENT``, over the elements of their output:
  activations (relu, gelu, gelu_tanh, silu, sigmoid, tanh, leakyrelu, prelu, selu, softplus,
  clip as used for relu6) → ``activation``; softmax and log_softmax → ``softmax``;
  layer/batch/group/instance/rms norm → ``normalisation``; max/avg/adaptive-avg pools →
  ``pooling`` over the elements of their *input* (every element is read by a window).
* ``relax.add`` of two values that both depend on the function's inputs → ``residual_add``.
  An ``add`` with a constant operand (constants seen through bindings and layout ops, e.g. a
  ``reshape(bias)``) is a bias add: it emits nothing (the bias is folded into the product's
  output stage).
* Everything else (reshape, permute_dims, concat, split, multiply, …) is free: it emits
  nothing, and the data it passes on keeps its origin, so that ``inputs`` see through it.

Names: the k-th Relax call that emits something (counting from 0, in execution order) gets
``<op>_<k>``, where <op> is the operator's last name component (``matmul_0``, ``relu_1``,
``conv2d_2``, ``add_3`` for a residual add, ``attention_4.qk`` / ``.softmax`` / ``.av``).
``inputs`` of an operation are the names of the earlier operations whose outputs it reads,
directly or through free operations, in the order of its operands (a product's A before its
B: the probabilities before the values of attention's A·V), each once; operations that read
only the function's inputs have none.

Weights must be bound as constants to be seen (``relax.transform.BindParams``; models from
``relax.frontend.nn`` keep them as parameters). Parameters after the function's
``num_input`` attribute (as ``relax.frontend.nn`` marks them) are treated as constants whose
values are unknown: an ``add`` of one is a bias add, and a product by one is a weight product
(``constant`` True) without ``weights``.

Errors are :class:`cimsim.ConfigError`: not an IRModule, no such Relax function, symbolic or
unknown shapes of an op that emits something, an unsupported layout, GEMM-like operators this
function does not read (einsum, transposed convolutions, ``attention_var_len``), control flow.
Lowered calls (``call_tir``, ``call_dps_packed``: run ``extract`` before ``LegalizeOps`` or the
offload pass) are treated as free, with a warning.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax

from cimsim.errors import ConfigError
from cimsim.workload import ConvGeometry, Gemm, NonGemm, Workload
from tvm_bridge._relax import constant_value, op_name, require_static_shape

__all__ = ["extract"]

ACTIVATIONS = frozenset({
    "relax.nn.relu", "relax.nn.gelu", "relax.nn.gelu_tanh", "relax.nn.silu", "relax.sigmoid", "relax.tanh",
    "relax.nn.leakyrelu", "relax.nn.prelu", "relax.nn.selu", "relax.nn.softplus", "relax.clip",
})
POOLS = frozenset(
    f"relax.nn.{kind}_pool{d}d" for kind in ("max", "avg", "adaptive_avg") for d in (1, 2, 3)
)
SOFTMAXES = frozenset({"relax.nn.softmax", "relax.nn.log_softmax"})
NORMS = frozenset({
    "relax.nn.layer_norm", "relax.nn.batch_norm", "relax.nn.group_norm", "relax.nn.instance_norm", "relax.nn.rms_norm",
})
#: op → (data layout, kernel layout) that extract reads.
CONVS = {
    "relax.nn.conv1d": ("NCW", "OIW"),
    "relax.nn.conv2d": ("NCHW", "OIHW"),
    "relax.nn.conv3d": ("NCDHW", "OIDHW"),
}
ATTENTIONS = frozenset({"relax.nn.attention", "relax.nn.attention_bias"})
UNSUPPORTED_GEMMS = frozenset({
    "relax.einsum", "relax.nn.conv1d_transpose", "relax.nn.conv2d_transpose", "relax.nn.conv3d_transpose",
    "relax.nn.attention_var_len",
})


@dataclass(frozen=True)
class _Info:
    """What extract knows about a value: which emitted ops it comes from, and whether it is constant."""

    producers: tuple[str, ...] = ()
    const: bool = False


_CONST = _Info(const=True)


def extract(mod, func: str = "main", name: str | None = None) -> Workload:
    """The :class:`cimsim.Workload` of Relax function ``func`` of ``mod`` (module docstring).

    ``name`` is the workload's name (default: the model's name that ``workloads.get`` records
    in the module's ``"cimsim.workload"`` attribute, else ``func``). Raises :class:`cimsim.ConfigError`
    when ``mod`` is not a ``tvm.IRModule``, has no Relax function ``func`` (the message lists
    the functions it has), or an operation cannot be read (symbolic shape, unsupported layout
    or operator); the message names the operator and its bound variable.
    """
    if not isinstance(mod, tvm.IRModule):
        raise ConfigError(f"extract: mod is a {type(mod).__module__}.{type(mod).__qualname__}, expected a tvm.IRModule")
    functions = {gv.name_hint: f for gv, f in mod.functions_items()}
    relax_functions = sorted(n for n, f in functions.items() if isinstance(f, relax.Function))
    if func not in functions or not isinstance(functions[func], relax.Function):
        what = "is not a Relax function" if func in functions else "is not in the module"
        raise ConfigError(f"extract: func = {func!r} {what}; Relax functions: {', '.join(relax_functions) or 'none'}")
    reader = _Reader(mod)
    reader.run(functions[func], func)
    if reader.lowered:
        warnings.warn(
            f"extract({func!r}): {reader.lowered} lowered call(s) ({', '.join(sorted(reader.lowered_ops))}) were "
            "treated as free; run extract on the Relax module before LegalizeOps or offloading",
            stacklevel=2,
        )
    if name is None:
        recorded = mod.attrs["cimsim.workload"] if mod.attrs is not None and "cimsim.workload" in mod.attrs else None
        name = str(recorded) if recorded is not None else func
    return Workload(reader.ops, name=name)


class _Reader:
    """One pass over a function's bindings, in order, emitting cimsim operations."""

    def __init__(self, mod):
        self.mod = mod
        self.ops: list[Gemm | NonGemm] = []
        self.infos: dict = {}  # relax.Var → _Info (or a tuple of them for a tuple value)
        self.bindings: dict = {}  # relax.Var → bound Expr, for constant_value (params of inlined callees too)
        self.calls = 0  # Relax calls that emitted something: the <k> of the names
        self.lowered = 0
        self.lowered_ops: set[str] = set()
        self.stack: list[str] = []

    # --- walking ---------------------------------------------------------------------------

    def run(self, function: relax.Function, fname: str) -> None:
        num_input = len(function.params)
        if function.attrs is not None and "num_input" in function.attrs:
            num_input = int(function.attrs["num_input"])
        for i, param in enumerate(function.params):
            self.infos[param] = _Info(const=i >= num_input)
        self.stack.append(fname)
        self.value(function.body, None)
        self.stack.pop()

    def value(self, expr, var):
        """The _Info of ``expr`` (bound to ``var``, or None), emitting the ops it computes."""
        if isinstance(expr, relax.Var):
            return self.infos.get(expr, _Info())
        if isinstance(expr, tvm.ir.GenericConst):
            return _CONST
        if isinstance(expr, relax.SeqExpr):
            for block in expr.blocks:
                for binding in block.bindings:
                    self.bindings[binding.var] = binding.value
                    self.infos[binding.var] = self.value(binding.value, binding.var)
            return self.value(expr.body, None)
        if isinstance(expr, relax.Tuple):
            return tuple(self.value(field, None) for field in expr.fields)
        if isinstance(expr, relax.TupleGetItem):
            info = self.value(expr.tuple_value, None)
            return info[int(expr.index)] if isinstance(info, tuple) and int(expr.index) < len(info) else _merge([info])
        if isinstance(expr, relax.If):
            where = f"{self.stack[-1]}" + (f" {var.name}" if var is not None else "")
            raise ConfigError(f"extract: {where} is an If; extract reads straight-line functions only "
                              "(no data-dependent control flow)")
        if isinstance(expr, relax.Call):
            return self.call(expr, var)
        return _CONST  # ShapeExpr, PrimValue, StringImm, DataTypeImm, GlobalVar, ExternFunc, Function

    def call(self, call: relax.Call, var):
        args = [self.value(arg, None) for arg in call.args]
        if isinstance(call.op, tvm.ir.GlobalVar):
            return self.inline(call, args)
        name = op_name(call)
        if name is None:  # call of an extern function or a closure: opaque
            return _merge(args)
        where = f"{name} {var.name}" if var is not None else name
        if name in CONVS:
            return self.conv(call, args, name, where)
        if name == "relax.matmul":
            return self.matmul(call, args, where)
        if name in ATTENTIONS:
            return self.attention(call, args, where)
        if name in UNSUPPORTED_GEMMS:
            raise ConfigError(f"extract: {where} is a matrix product extract cannot read yet; supported: "
                              "relax.matmul, relax.nn.conv1d/2d/3d, relax.nn.attention(_bias)")
        if name.startswith("relax.call_"):
            self.lowered += 1
            self.lowered_ops.add(name)
            return _merge(args)
        if name in ACTIVATIONS:
            return self.non_gemm(name, "activation", _elements(call, where), args)
        if name in SOFTMAXES:
            return self.non_gemm(name, "softmax", _elements(call, where), args)
        if name in NORMS:
            return self.non_gemm(name, "normalisation", _elements(call, where), args)
        if name in POOLS:
            return self.non_gemm(name, "pooling", _elements(call.args[0], where), args)
        if name == "relax.add" and not any(a.const for a in _flat(args)):
            return self.non_gemm(name, "residual_add", _elements(call, where), args)
        return _merge(args)  # free: layout, bias add, elementwise arithmetic the digital units do not price

    def inline(self, call: relax.Call, args):
        """A call to another function of the module: read its body as if it were written here."""
        callee = self.mod[call.op]
        if not isinstance(callee, relax.Function):  # a PrimFunc called directly: opaque
            self.lowered += 1
            self.lowered_ops.add(call.op.name_hint)
            return _merge(args)
        if call.op.name_hint in self.stack:
            raise ConfigError(f"extract: {call.op.name_hint} calls itself (through {' → '.join(self.stack)}); "
                              "extract reads non-recursive functions only")
        for param, arg, info in zip(callee.params, call.args, args):
            self.infos[param] = info
            self.bindings[param] = arg
        self.stack.append(call.op.name_hint)
        result = self.value(callee.body, None)
        self.stack.pop()
        return result

    # --- emitting ----------------------------------------------------------------------------

    def _next_name(self, name: str) -> str:
        base = f"{name.rsplit('.', 1)[-1]}_{self.calls}"
        self.calls += 1
        return base

    def _add(self, op) -> None:
        self.ops.append(op)

    def _inputs(self, infos) -> tuple[str, ...]:
        """Producers of the operands, in operand order (A before B of a product), each once."""
        return tuple(dict.fromkeys(p for info in _flat(infos) for p in info.producers))

    def non_gemm(self, name: str, kind: str, elements: int, args) -> _Info:
        op = NonGemm(self._next_name(name), kind, elements, inputs=self._inputs(args), function=name.rsplit(".", 1)[-1])
        self._add(op)
        return _Info((op.name,))

    def matmul(self, call: relax.Call, args, where: str) -> _Info:
        a, b = call.args
        shape_a, shape_b = require_static_shape(a, where), require_static_shape(b, where)
        out_shape = require_static_shape(call, where)
        weight_b = constant_value(b, self.bindings)
        weight_a = constant_value(a, self.bindings) if weight_b is None else None
        # a constant of unknown value (a weight parameter) is stationary too, without weights
        a_stationary = weight_a is not None or (weight_b is None and args[0].const and not args[1].const)
        if a_stationary:  # const @ x: map Cᵀ = xᵀ Aᵀ, so that the constant is the stationary matrix
            ta, tb = _as_matrices(shape_a, shape_b, where)
            m, k, n, count, weights = _matmul_gemm(
                tb[:-2] + (tb[-1], tb[-2]), ta[:-2] + (ta[-1], ta[-2]),
                None if weight_a is None else np.swapaxes(weight_a.reshape(ta), -1, -2), where)
        else:
            ta, tb = _as_matrices(shape_a, shape_b, where)
            m, k, n, count, weights = _matmul_gemm(
                ta, tb, None if weight_b is None else weight_b.reshape(tb), where)
        if m * n * count != math.prod(out_shape):
            raise ConfigError(f"extract: {where}: {count}×({m}×{k} @ {k}×{n}) does not produce the call's output "
                              f"shape {out_shape}")
        constant = weights is not None or (args[0] if a_stationary else args[1]).const
        gemm = Gemm(self._next_name("relax.matmul"), m, k, n, count=count, weights=weights, constant=constant,
                    inputs=self._inputs(args))
        self._add(gemm)
        return _Info((gemm.name,))

    def conv(self, call: relax.Call, args, name: str, where: str) -> _Info:
        data_layout, kernel_layout = CONVS[name]
        attrs = call.attrs
        out_layout = str(attrs.out_layout) if attrs.out_layout else str(attrs.data_layout)
        if (str(attrs.data_layout), str(attrs.kernel_layout), out_layout) != (data_layout, kernel_layout, data_layout):
            raise ConfigError(
                f"extract: {where} has data_layout={str(attrs.data_layout)!r}, kernel_layout="
                f"{str(attrs.kernel_layout)!r}, out_layout={out_layout!r}; extract reads {data_layout}/{kernel_layout} "
                f"only: convert with relax.transform.ConvertLayout({{{name!r}: [{data_layout!r}, {kernel_layout!r}]}})")
        data, weight = call.args
        x_shape, w_shape = require_static_shape(data, where), require_static_shape(weight, where)
        out_shape = require_static_shape(call, where)
        nd = len(data_layout) - 2
        batch, c_in, in_size = x_shape[0], x_shape[1], x_shape[2:]
        c_out, c_per_group, kernel = w_shape[0], w_shape[1], w_shape[2:]
        groups = int(attrs.groups)
        stride = _tuple(attrs.strides, nd, "strides", where)
        dilation = _tuple(attrs.dilation, nd, "dilation", where)
        padding = _padding(attrs.padding, nd, where)
        if c_in % groups or c_out % groups or c_per_group != c_in // groups:
            raise ConfigError(f"extract: {where}: {c_in} input and {c_out} output channels with weights {w_shape} "
                              f"do not split into groups = {groups}")
        out_size = tuple(
            (in_size[i] + padding[i] + padding[nd + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
            for i in range(nd))
        if (batch, c_out) + out_size != out_shape:
            raise ConfigError(f"extract: {where}: output shape {out_shape} differs from {(batch, c_out) + out_size} "
                              f"computed from input {x_shape}, weights {w_shape}, strides {stride}, padding {padding}, "
                              f"dilation {dilation}")
        n = c_out // groups
        k = c_per_group * math.prod(kernel)
        w = constant_value(weight, self.bindings)
        weights = None
        if w is not None:  # (C_out, C_in/g, *kernel) → (g, N, K) → (g, K, N); K ordered (c, kernel rows, kernel cols)
            weights = np.ascontiguousarray(w.reshape(groups, n, k).transpose(0, 2, 1), dtype=np.float32)
            weights = weights[0] if groups == 1 else weights
        geometry = ConvGeometry(in_channels=c_in, out_channels=c_out, kernel=tuple(kernel), stride=stride,
                                padding=padding, dilation=dilation, groups=groups, input_size=tuple(in_size),
                                output_size=out_size)
        gemm = Gemm(self._next_name(name), batch * math.prod(out_size), k, n, count=groups, weights=weights,
                    conv=geometry, inputs=self._inputs(args))
        self._add(gemm)
        return _Info((gemm.name,))

    def attention(self, call: relax.Call, args, where: str) -> _Info:
        q, k, v = call.args[:3]
        shapes = [require_static_shape(t, where) for t in (q, k, v)]
        if any(len(s) != 4 for s in shapes):
            raise ConfigError(f"extract: {where}: q, k, v of shapes {shapes}; expected 4-D (batch, seq, heads, dim)")
        (batch, seq_q, heads, dim), (_, seq_kv, _, _), (_, _, _, dim_v) = shapes
        base = self._next_name(call.op.name)
        count = batch * heads
        qk = Gemm(f"{base}.qk", seq_q, dim, seq_kv, count=count, inputs=self._inputs(args[:2]))
        self._add(qk)
        # the bias (attention_bias) is added to the scores before the softmax
        softmax = NonGemm(f"{base}.softmax", "softmax", count * seq_q * seq_kv,
                          inputs=self._inputs([_Info((qk.name,)), *args[3:4]]))
        self._add(softmax)
        av = Gemm(f"{base}.av", seq_q, seq_kv, dim_v, count=count, inputs=self._inputs([_Info((softmax.name,)), args[2]]))
        self._add(av)
        return _Info((av.name,))


# --- helpers ---------------------------------------------------------------------------------


def _flat(infos):
    for info in infos:
        if isinstance(info, tuple):
            yield from _flat(info)
        else:
            yield info


def _merge(infos) -> _Info:
    """The value computed by a free op from ``infos``: all their producers; constant if they all are."""
    flat = list(_flat(infos))
    producers = []
    for info in flat:
        producers.extend(p for p in info.producers if p not in producers)
    return _Info(tuple(producers), all(info.const for info in flat))


def _elements(expr, where: str) -> int:
    return math.prod(require_static_shape(expr, where))


def _as_matrices(shape_a, shape_b, where: str):
    """numpy matmul's promotion of 1-D operands: A (K,) → (1, K), B (K,) → (K, 1)."""
    if not shape_a or not shape_b:
        raise ConfigError(f"extract: {where}: matmul of a scalar (shapes {shape_a} and {shape_b})")
    ta = shape_a if len(shape_a) >= 2 else (1,) + shape_a
    tb = shape_b if len(shape_b) >= 2 else shape_b + (1,)
    return ta, tb


def _matmul_gemm(ta, tb, weight, where: str):
    """(m, k, n, count, weights) of A ``ta`` (…, M, K) @ B ``tb`` (…, K, N); ``weight`` is B's value or None."""
    (m, k), (k_b, n) = ta[-2:], tb[-2:]
    if k != k_b:
        raise ConfigError(f"extract: {where}: inner dimensions differ ({ta} @ {tb})")
    try:
        batch = np.broadcast_shapes(ta[:-2], tb[:-2])
    except ValueError:
        raise ConfigError(f"extract: {where}: batch dimensions {ta[:-2]} and {tb[:-2]} do not broadcast") from None
    if math.prod(tb[:-2]) == 1:  # one matrix for every row of A: A's leading dimensions fold into M
        m, count = m * math.prod(batch), 1
        weights = None if weight is None else weight.reshape(k, n)
    else:
        count = math.prod(batch)
        weights = None if weight is None else np.broadcast_to(weight, tuple(batch) + (k, n)).reshape(count, k, n)
    if weights is not None:
        weights = np.ascontiguousarray(weights, dtype=np.float32)
    return m, k, n, count, weights


def _tuple(values, nd: int, what: str, where: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in values)
    if len(values) == 1:
        values = values * nd
    if len(values) != nd:
        raise ConfigError(f"extract: {where}: {what} = {values}; expected {nd} values")
    return values


def _padding(values, nd: int, where: str) -> tuple[int, ...]:
    """TVM's padding attribute as (before…, after…) per spatial dimension."""
    values = tuple(int(v) for v in values)
    if len(values) == 1:
        return values * (2 * nd)
    if len(values) == nd:
        return values + values
    if len(values) == 2 * nd:
        return values
    raise ConfigError(f"extract: {where}: padding = {values}; expected 1, {nd} or {2 * nd} values")
