"""Run a TVM model's matrix products on simulated crossbars: ``offload(mod, cfg, seed)``.

A Relax pass rewrites every ``relax.matmul`` whose right operand is a constant (seen through
``permute_dims``, so ``linear`` layers count) into

    R.call_dps_packed("cimsim.matmul", (x, R.prim_value(model), R.prim_value(gemm)), out_ty)

and every NCHW/OIHW ``relax.nn.conv2d`` with a constant kernel into the same call of
``cimsim.conv2d``, and programs each constant once, at offload time, onto
:class:`cimsim.AnalogMatrix` objects (one per convolution group; programming noise drawn once
per offloaded model, from ``seed``, in the order of the products). The registered functions
(:func:`register`, idempotent; ``offload`` calls it) look the matrices up and read them:
a matmul's leading input dimensions are flattened into vectors; a convolution is read as its
im2col product (each output position a vector of C/g·kh·kw inputs, ordered channel, row,
column). Outputs are written in place into TVM's destination tensor (zero-copy through
DLPack). Every call adds its actions to the model's ledger (:func:`ledger`, :func:`reset`).

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
from tvm_bridge._relax import constant_value, static_shape

MATMUL = tvm.ir.Op.get("relax.matmul")
CONV2D = tvm.ir.Op.get("relax.nn.conv2d")
MODEL_ATTR = "cimsim_model"
_MODELS: dict[int, OffloadedModel] = {}
_model_ids = itertools.count()


@dataclass(frozen=True)
class Conv2D:
    """The geometry of an offloaded NCHW convolution."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    dilation: tuple[int, int]
    groups: int


@dataclass
class Product:
    """One rewritten product: its crossbars (one per convolution group) and, for a conv, its geometry."""

    name: str
    matrices: list[cimsim.AnalogMatrix]
    conv: Conv2D | None = None


@dataclass
class OffloadedModel:
    """The crossbars of one offloaded module."""

    cfg: cimsim.ChipConfig
    products: list[Product] = field(default_factory=list)

    @property
    def ledger(self) -> cimsim.Ledger:
        """Every action since programming (or since :func:`reset`), one layer per product."""
        total = cimsim.Ledger()
        for product in self.products:
            for matrix in product.matrices:
                for (_, component, action), count, energy in matrix.ledger.entries():
                    total.add(component, action, count, energy, layer=product.name)
        return total


def register() -> None:
    """Register ``cimsim.matmul`` and ``cimsim.conv2d`` with TVM's global functions (idempotent).

    cimsim's errors are registered with TVM's FFI too, so that a ConfigError or ShapeError
    raised inside a call comes out of the VM as itself, not as a RuntimeError.
    """
    for error in (cimsim.ConfigError, cimsim.ShapeError):
        tvm_ffi.register_error(error.__name__, error)
    tvm.register_global_func("cimsim.matmul", _matmul, override=True)
    tvm.register_global_func("cimsim.conv2d", _conv2d, override=True)


def _product(model_id: int, index: int) -> tuple[OffloadedModel, Product]:
    model = _MODELS.get(int(model_id))
    if model is None:
        raise ConfigError(f"cimsim: model {model_id} is not offloaded in this process; call tvm_bridge.offload")
    return model, model.products[int(index)]


def _read(model: OffloadedModel, matrix: cimsim.AnalogMatrix, vectors: np.ndarray) -> np.ndarray:
    if matrix.input_scale is None and model.cfg.adc.range == "calibrated":
        matrix.calibrate(vectors)
    return matrix.matmul(vectors)


def _matmul(x, model_id: int, index: int, out) -> None:
    model, product = _product(model_id, index)
    (matrix,) = product.matrices
    destination = np.from_dlpack(out)
    destination[...] = _read(model, matrix, np.from_dlpack(x).reshape(-1, matrix.shape[0])).reshape(destination.shape)


def im2col(x: np.ndarray, conv: Conv2D) -> np.ndarray:
    """(B, C, H, W) → (groups, B·OH·OW, C/g·kh·kw): each output position's inputs, per group."""
    top, left, bottom, right = conv.padding
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (kh, kw), (dh, dw), (sh, sw) = conv.kernel, conv.dilation, conv.strides
    windows = np.lib.stride_tricks.sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # B, C, OH, OW, kh, kw
    b, c, oh, ow = windows.shape[:4]
    grouped = windows.reshape(b, conv.groups, c // conv.groups, oh, ow, kh, kw)
    return grouped.transpose(1, 0, 3, 4, 2, 5, 6).reshape(conv.groups, b * oh * ow, -1)


def _conv2d(x, model_id: int, index: int, out) -> None:
    model, product = _product(model_id, index)
    destination = np.from_dlpack(out)
    b, o, oh, ow = destination.shape
    columns = im2col(np.from_dlpack(x), product.conv)
    per_group = [_read(model, matrix, cols) for matrix, cols in zip(product.matrices, columns)]
    result = np.concatenate(per_group, axis=1)  # (B·OH·OW, O), groups in channel order
    destination[...] = result.reshape(b, oh, ow, o).transpose(0, 3, 1, 2)


@mutator
class _Offload(PyExprMutator):
    def __init__(self, mod: tvm.IRModule, model_id: int, model: OffloadedModel, rng: np.random.Generator):
        super().__init__(mod)
        self.mod_, self.model_id, self.model, self.rng = mod, model_id, model, rng

    def visit_call_(self, call):
        call = self.visit_expr_post_order(call)
        if not isinstance(call.op, tvm.ir.Op):
            return call
        if call.op.same_as(MATMUL):
            return self._matmul(call)
        if call.op.same_as(CONV2D):
            return self._conv2d(call)
        return call

    def _matmul(self, call):
        weights = constant_value(call.args[1], self.lookup_binding)
        if weights is None or weights.ndim != 2 or static_shape(call.args[0]) is None:
            return call  # activation x activation, batched weights or symbolic shapes stay in TVM
        return self._rewrite("cimsim.matmul", call, f"matmul_{len(self.model.products)}", [weights])

    def _conv2d(self, call):
        weights = constant_value(call.args[1], self.lookup_binding)
        a = call.attrs
        layouts = (a.data_layout, a.kernel_layout, a.out_layout)
        if weights is None or static_shape(call.args[0]) is None or layouts != ("NCHW", "OIHW", "NCHW"):
            return call  # other layouts and non-constant kernels stay in TVM
        groups = int(a.groups)
        o, per_group, kh, kw = weights.shape
        # (O, C/g, kh, kw) → per group a (C/g·kh·kw) x (O/g) matrix, rows ordered channel, row, column
        matrices = [g.reshape(o // groups, per_group * kh * kw).T for g in np.split(weights, groups)]
        conv = Conv2D((kh, kw), tuple(int(v) for v in a.strides), tuple(int(v) for v in a.padding),
                      tuple(int(v) for v in a.dilation), groups)
        return self._rewrite("cimsim.conv2d", call, f"conv2d_{len(self.model.products)}", matrices, conv)

    def _rewrite(self, function: str, call, name: str, weights: list[np.ndarray], conv: Conv2D | None = None):
        matrices = [cimsim.AnalogMatrix(w, self.model.cfg, seed=self.rng) for w in weights]
        index = len(self.model.products)
        self.model.products.append(Product(name, matrices, conv))
        args = [call.args[0], relax.prim_value(self.model_id), relax.prim_value(index)]
        return relax.call_dps_packed(function, args, out_ty=call.ty)

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
    for product in model_of(mod).products:
        for matrix in product.matrices:
            matrix.ledger = cimsim.Ledger()
            matrix.latency_ns = 0.0
