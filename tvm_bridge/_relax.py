"""Small helpers for reading Relax IR (TVM 0.27): op names, static shapes, constant values.

Shared by :mod:`tvm_bridge.extract` and the offload pass. Each helper does one thing, reads the
IR without changing it, and works on any Relax expression, so it can be called from a
``PyExprVisitor``/``PyExprMutator`` or from a plain walk over a function's bindings.

TVM 0.27 names used here (see docs/tvm.md, "TVM 0.27 pitfalls"): a constant is a
``tvm.ir.GenericConst`` whose ``.value`` is a ``tvm.runtime.Tensor``; an expression's type is
``expr.ty`` (``relax.TensorType`` with ``.shape``, a ``ShapeExpr`` whose ``.values`` are
``IntImm`` or, when symbolic, ``tirx.Var``); a ``relax.Var`` is a ``tvm.ir.Var`` (``.name``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import tvm
from tvm import relax

from cimsim.errors import ConfigError

__all__ = [
    "binding_map",
    "constant_value",
    "describe_shape",
    "num_elements",
    "op_name",
    "require_static_shape",
    "static_shape",
    "tensor_type",
]

#: Ops whose result is a pure re-arrangement of their first argument, so that a constant seen
#: through them is still a constant (:func:`constant_value` evaluates them with numpy).
LAYOUT_OPS = frozenset({"relax.permute_dims", "relax.reshape", "relax.expand_dims", "relax.squeeze", "relax.astype"})


def op_name(expr) -> str | None:
    """``"relax.matmul"`` for a call to a Relax operator; None for anything else.

    Calls to functions of the module (``GlobalVar``), to extern functions or to closures are
    not operator calls and give None.
    """
    if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op):
        return str(expr.op.name)
    return None


def tensor_type(expr_or_type):
    """The ``relax.TensorType`` of an expression (or of a type), or None when it is not a tensor.

    For a tuple (``batch_norm`` returns ``(out, mean, var)``) it is the type of the first field,
    which is the tensor such ops compute.
    """
    ty = getattr(expr_or_type, "ty", expr_or_type) if not isinstance(expr_or_type, tvm.ir.Type) else expr_or_type
    while isinstance(ty, tvm.ir.TupleType) and len(ty.fields):
        ty = ty.fields[0]
    return ty if isinstance(ty, relax.TensorType) else None


def _dims(expr_or_type) -> list | None:
    """The dimensions of a tensor's shape as IR values (IntImm or tirx.Var); None when unknown."""
    ty = tensor_type(expr_or_type)
    if ty is None or ty.shape is None or not isinstance(ty.shape, relax.ShapeExpr):
        return None
    return list(ty.shape.values)


def static_shape(expr_or_type) -> tuple[int, ...] | None:
    """The shape as Python ints, or None when it is symbolic (a ``tirx.Var`` in it) or unknown.

    Accepts an expression (its ``.ty`` is read) or a type. A tuple-typed value gives its first
    field's shape (:func:`tensor_type`).
    """
    dims = _dims(expr_or_type)
    if dims is None or not all(isinstance(d, tvm.tirx.IntImm) for d in dims):
        return None
    return tuple(int(d.value) for d in dims)


def describe_shape(expr_or_type) -> str:
    """The shape as a readable string for messages: ``"(n, 768)"``, or ``"unknown"``."""
    dims = _dims(expr_or_type)
    if dims is None:
        return "unknown"
    text = ", ".join(str(int(d.value)) if isinstance(d, tvm.tirx.IntImm) else str(d) for d in dims)
    return f"({text},)" if len(dims) == 1 else f"({text})"


def require_static_shape(expr_or_type, where: str, action: str = "extract") -> tuple[int, ...]:
    """:func:`static_shape`, or a :class:`cimsim.ConfigError` that names ``where`` (e.g. ``"relax.matmul lv3"``).

    The message says how to fix a symbolic shape: bind its variables with
    ``relax.transform.BindSymbolicVars`` before ``action``.
    """
    shape = static_shape(expr_or_type)
    if shape is not None:
        return shape
    text = describe_shape(expr_or_type)
    if text == "unknown":
        raise ConfigError(f"{where}: the shape of an operand is unknown (not a tensor with a known rank); "
                          f"{action} needs static tensor shapes")
    raise ConfigError(f"{where}: shape {text} is symbolic; bind it with relax.transform.BindSymbolicVars before {action}")


def num_elements(shape: tuple[int, ...]) -> int:
    """Number of elements of a static shape (1 for a scalar)."""
    return math.prod(shape)


def binding_map(func: relax.Function) -> dict:
    """Every variable bound in ``func`` (``VarBinding`` and ``MatchCast``, nested blocks included) → its value.

    Useful as the ``bindings`` of :func:`constant_value` outside a visitor/mutator (inside one,
    pass its ``lookup_binding``).
    """
    table: dict = {}

    def visit(binding):
        if isinstance(binding, (relax.VarBinding, relax.MatchCast)):
            table[binding.var] = binding.value

    def walk(expr):
        if isinstance(expr, relax.SeqExpr):
            for block in expr.blocks:
                for binding in block.bindings:
                    visit(binding)
                    if isinstance(binding.value, (relax.SeqExpr, relax.If)):
                        walk(binding.value)
            walk(expr.body)
        elif isinstance(expr, relax.If):
            walk(expr.true_branch)
            walk(expr.false_branch)

    walk(func.body)
    return table


def constant_value(expr, bindings: Mapping | Callable | None = None) -> np.ndarray | None:
    """The numpy value of ``expr`` when it is a constant, else None.

    Sees through variables (looked up in ``bindings``: a mapping ``Var → Expr`` such as
    :func:`binding_map`, or a callable such as ``PyExprMutator.lookup_binding`` that returns None
    for unbound variables) and through the layout ops of :data:`LAYOUT_OPS`, which it applies
    with numpy: ``permute_dims(W)`` of a constant ``W`` (N×K) gives ``W.T`` (K×N), exactly the
    matrix the Relax program multiplies by. Function parameters, and anything computed from
    them, are not constants. The result is a new array (never a view of TVM memory).
    """
    lookup = bindings.get if isinstance(bindings, Mapping) else bindings
    seen = 0
    while isinstance(expr, relax.Var) and lookup is not None:
        bound = lookup(expr)
        if bound is None:
            return None
        expr = bound
        seen += 1
        if seen > 10_000:  # a cycle cannot happen in well-formed IR; do not loop forever on bad IR
            return None
    if isinstance(expr, tvm.ir.GenericConst):
        return expr.value.numpy()  # already a copy of the TVM tensor
    name = op_name(expr)
    if name not in LAYOUT_OPS:
        return None
    value = constant_value(expr.args[0], bindings)
    if value is None:
        return None
    if name == "relax.permute_dims":
        axes = expr.attrs.axes
        return np.ascontiguousarray(np.transpose(value, None if axes is None else [int(a) for a in axes]))
    if name == "relax.astype":
        return value.astype(str(expr.attrs.dtype))
    shape = static_shape(expr)  # reshape / expand_dims / squeeze: the call's own (static) result shape
    return None if shape is None else value.reshape(shape)
