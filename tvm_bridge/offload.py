"""Run a TVM model's matrix products on simulated crossbars: ``offload(mod, cfg, seed)``.

A Relax pass rewrites every ``relax.matmul`` whose right operand is a constant (seen through
``permute_dims``, so ``linear`` layers count) into

    R.call_dps_packed("cimsim.matmul", (x, R.prim_value(model), R.prim_value(gemm)), out_ty)

and programs that constant once, at offload time, onto an :class:`cimsim.AnalogMatrix`
(programming noise drawn once per offloaded model, from ``seed``). The registered function
``cimsim.matmul`` (:func:`register`, idempotent; ``offload`` calls it) looks the matrix up and
reads it: the input's leading dimensions are flattened into vectors, the output written in
place into TVM's destination tensor (zero-copy through DLPack). Every call adds its actions to
the model's ledger (:func:`ledger`, :func:`reset`).

Products of two activations (attention) stay digital, in TVM. With ``adc.range =
"calibrated"`` each matrix fixes its input scale and ADC ranges on its first call's inputs
unless :func:`calibrate` is given data first.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import tvm
import tvm_ffi
from tvm import relax
from tvm.relax.expr_functor import PyExprMutator, mutator

import cimsim
from cimsim.errors import ConfigError
from cimsim.seeding import generator

MATMUL = tvm.ir.Op.get("relax.matmul")
PERMUTE = tvm.ir.Op.get("relax.permute_dims")
MODEL_ATTR = "cimsim_model"
_MODELS: dict[int, OffloadedModel] = {}
_model_ids = itertools.count()


@dataclass
class OffloadedModel:
    """The crossbars of one offloaded module: one AnalogMatrix per rewritten product."""

    cfg: cimsim.ChipConfig
    matrices: list[cimsim.AnalogMatrix] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    calls: int = 0

    @property
    def ledger(self) -> cimsim.Ledger:
        """Every action since programming (or since :func:`reset`), one layer per product."""
        total = cimsim.Ledger()
        for name, matrix in zip(self.names, self.matrices):
            for (_, component, action), count, energy in matrix.ledger.entries():
                total.add(component, action, count, energy, layer=name)
        return total


def register() -> None:
    """Register ``cimsim.matmul`` with TVM's global function registry (idempotent).

    cimsim's errors are registered with TVM's FFI too, so that a ConfigError or ShapeError
    raised inside a call comes out of the VM as itself, not as a RuntimeError.
    """
    for error in (cimsim.ConfigError, cimsim.ShapeError):
        tvm_ffi.register_error(error.__name__, error)
    tvm.register_global_func("cimsim.matmul", _matmul, override=True)


def _matmul(x, model_id: int, gemm: int, out) -> None:
    model = _MODELS.get(int(model_id))
    if model is None:
        raise ConfigError(f"cimsim.matmul: model {model_id} is not offloaded in this process; call tvm_bridge.offload")
    matrix = model.matrices[int(gemm)]
    k = matrix.shape[0]
    inputs = np.from_dlpack(x)
    if matrix.input_scale is None and model.cfg.adc.range == "calibrated":
        matrix.calibrate(inputs.reshape(-1, k))
    result = matrix.matmul(inputs.reshape(-1, k))
    destination = np.from_dlpack(out)
    destination[...] = result.reshape(destination.shape)
    model.calls += 1


def _constant(expr, lookup) -> np.ndarray | None:
    """The value of ``expr`` if it is a constant, or a permute_dims of one, seen through bindings."""
    bound = lookup(expr) if isinstance(expr, relax.Var) else None
    expr = bound if bound is not None else expr
    if isinstance(expr, tvm.ir.GenericConst):
        return expr.value.numpy()
    if isinstance(expr, relax.Call) and expr.op.same_as(PERMUTE):
        inner = _constant(expr.args[0], lookup)
        if inner is not None:
            axes = expr.attrs.axes
            return np.transpose(inner, None if axes is None else [int(a) for a in axes])
    return None


def _static_shape(expr) -> tuple[int, ...] | None:
    shape = getattr(expr.ty, "shape", None)
    values = getattr(shape, "values", None)
    if values is None or not all(isinstance(v, tvm.tirx.IntImm) for v in values):
        return None
    return tuple(int(v) for v in values)


@mutator
class _Offload(PyExprMutator):
    def __init__(self, mod: tvm.IRModule, model_id: int, model: OffloadedModel, rng: np.random.Generator):
        super().__init__(mod)
        self.mod_, self.model_id, self.model, self.rng = mod, model_id, model, rng

    def visit_call_(self, call):
        call = self.visit_expr_post_order(call)
        if not (isinstance(call.op, tvm.ir.Op) and call.op.same_as(MATMUL)):
            return call
        weights = _constant(call.args[1], self.lookup_binding)
        shape = _static_shape(call.args[0])
        if weights is None or weights.ndim != 2 or shape is None:
            return call  # activation x activation, batched weights or symbolic shapes stay in TVM
        index = len(self.model.matrices)
        self.model.matrices.append(cimsim.AnalogMatrix(weights, self.model.cfg, seed=self.rng))
        self.model.names.append(f"matmul_{index}")
        args = [call.args[0], relax.prim_value(self.model_id), relax.prim_value(index)]
        return relax.call_dps_packed("cimsim.matmul", args, out_ty=call.ty)

    def run(self) -> tvm.IRModule:
        for gv, func in self.mod_.functions_items():
            if isinstance(func, relax.Function):
                self.builder_.update_func(gv, self.visit_expr(func))
        return self.builder_.get()


def offload(mod: tvm.IRModule, cfg: cimsim.ChipConfig, seed: int | np.random.Generator = 0) -> tvm.IRModule:
    """``mod`` with every constant-weight matmul running on crossbars programmed now (module docstring)."""
    if not isinstance(mod, tvm.IRModule):
        raise ConfigError(f"offload: expected a tvm.IRModule, got {type(mod).__name__}")
    if not isinstance(cfg, cimsim.ChipConfig):
        raise ConfigError(f"offload: cfg must be a cimsim.ChipConfig, got {type(cfg).__name__}")
    register()
    model_id = next(_model_ids)
    model = OffloadedModel(cfg)
    rewritten = relax.transform.DeadCodeElimination()(_Offload(mod, model_id, model, generator(seed)).run())
    _MODELS[model_id] = model
    return rewritten.with_attr(MODEL_ATTR, model_id)


def model_of(mod: tvm.IRModule) -> OffloadedModel:
    """The crossbars behind an offloaded module."""
    attrs = mod.attrs
    if attrs is None or MODEL_ATTR not in attrs:
        raise ConfigError("this IRModule was not produced by tvm_bridge.offload (it has no cimsim model)")
    return _MODELS[int(attrs[MODEL_ATTR])]


def ledger(mod: tvm.IRModule) -> cimsim.Ledger:
    """Every action of the offloaded module's crossbars since programming or the last :func:`reset`."""
    return model_of(mod).ledger


def reset(mod: tvm.IRModule) -> None:
    """Start the module's ledger afresh (the programmed cells are kept)."""
    for matrix in model_of(mod).matrices:
        matrix.ledger = cimsim.Ledger()
        matrix.latency_ns = 0.0
