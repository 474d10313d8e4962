"""Run a TVM model's matrix products on simulated crossbars: ``offload(mod, cfg, seed)``.

A Relax pass rewrites every ``relax.matmul`` whose right operand is a constant (seen through
``permute_dims``, so ``linear`` layers count) into

    R.call_dps_packed("cimsim.matmul", (x, R.prim_value(model), R.prim_value(gemm)), out_ty)

and every NCHW/OIHW ``relax.nn.conv2d`` with a constant kernel into the same call of
``cimsim.conv2d``, and programs each constant once, at offload time, onto
:class:`cimsim.AnalogMatrix` objects (one per convolution group; programming noise drawn once,
from ``seed`` and the weights' checksum, see :meth:`OffloadedModel.program`). The registered functions
(:func:`register`, idempotent; ``offload`` calls it) look the matrices up and read them:
a matmul's leading input dimensions are flattened into vectors; a convolution is read as its
im2col product (each output position a vector of C/g·kh·kw inputs, ordered channel, row,
column). Outputs are written in place into TVM's destination tensor (zero-copy through
DLPack). Every call adds its actions to the model's ledger (:func:`ledger`, :func:`reset`).

Products of two activations (attention) stay digital, in TVM, unless ``activations_on_crossbar``
sends them to crossbars reprogrammed at every call. With ``adc.range =
"calibrated"`` each matrix fixes its input scale and ADC ranges on its first call's inputs,
unless its ``AnalogMatrix.calibrate`` was given data first
(``model_of(mod).products[i].matrices[j].calibrate(X)``).
"""

from __future__ import annotations

import itertools
import numbers
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import tvm
import tvm_ffi
from tvm import relax
from tvm.relax.expr_functor import PyExprMutator, mutator

import cimsim
from cimsim.errors import ConfigError, ShapeError, as_real_matrix
from cimsim.physics.seeding import generator
from tvm_bridge._relax import binding_map, constant_value, op_name, static_shape

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
    spent: cimsim.Ledger = field(default_factory=cimsim.Ledger)  # of matrices programmed per call and gone
    calls: int = 0


@dataclass
class OffloadedModel:
    """The crossbars of one offloaded module; ``base_seed`` seeds each product's programming."""

    cfg: cimsim.ChipConfig
    base_seed: int
    products: list[Product] = field(default_factory=list)
    checksums: Counter[int] = field(default_factory=Counter)

    @property
    def ledger(self) -> cimsim.Ledger:
        """Every action since programming (or since :func:`reset`), one layer per product."""
        total = cimsim.Ledger()
        for product in self.products:
            for part in [product.spent, *(matrix.ledger for matrix in product.matrices)]:
                for (_, component, action), count, energy in part.entries():
                    total.add(component, action, count, energy, layer=product.name)
        return total

    def program(self, name: str, weights: list[np.ndarray], conv: Conv2D | None = None, variable: str = "") -> Product:
        """Program the matrices of one product and keep them.

        ``variable`` is the Relax variable the product is bound to, for messages: NaN or infinite
        weights are a ShapeError naming the product, its variable and the layer's shape, raised
        before any cell is programmed.

        Each matrix draws its cells from a generator seeded by (base seed, CRC-32 of its weights,
        how many matrices with those weights this model programmed before), so a product programs
        the same cells whichever route (offload or BYOC) meets it first, and two products with
        equal weights still get independent noise.
        """
        product_name = f"{name}_{len(self.products)}"
        where = f"layer {product_name!r}" + (f" (Relax variable {variable!r})" if variable else "")
        for w in weights:
            as_real_matrix(w, f"{where}: weights of shape {w.shape}")
        matrices = []
        for w in weights:
            checksum = zlib.crc32(np.ascontiguousarray(w).tobytes())
            rng = np.random.default_rng([self.base_seed, checksum, self.checksums[checksum]])
            self.checksums[checksum] += 1
            matrices.append(cimsim.AnalogMatrix(w, self.cfg, seed=rng))
        product = Product(product_name, matrices, conv)
        self.products.append(product)
        return product


def new_model(cfg: cimsim.ChipConfig, seed: int | np.random.Generator,
              kind: type[OffloadedModel] = OffloadedModel) -> tuple[OffloadedModel, int]:
    """A registered, empty model of ``kind`` for ``cfg``, and its id."""
    if not isinstance(cfg, cimsim.ChipConfig):
        raise ConfigError(f"cfg must be a cimsim.ChipConfig, got {type(cfg).__name__}")
    rng = generator(seed)  # validates the seed
    base_seed = int(rng.integers(0, 2**63)) if isinstance(seed, np.random.Generator) else int(seed)
    model = kind(cfg, base_seed)
    model_id = next(_model_ids)
    _MODELS[model_id] = model
    return model, model_id


def matmul_product(model: OffloadedModel, weights: np.ndarray, variable: str = "") -> Product:
    """A (K, N) constant on one crossbar matrix; ``variable``: the Relax variable bound to the product."""
    return model.program("matmul", [weights], variable=variable)


def conv2d_product(model: OffloadedModel, call: relax.Call, weights: np.ndarray, variable: str = "") -> Product:
    """(O, C/g, kh, kw) → per group a (C/g·kh·kw) × (O/g) matrix, rows ordered channel, row, column."""
    a = call.attrs
    groups = int(a.groups)
    o, per_group, kh, kw = weights.shape
    matrices = [g.reshape(o // groups, per_group * kh * kw).T for g in np.split(weights, groups)]
    conv = Conv2D((kh, kw), tuple(int(v) for v in a.strides), tuple(int(v) for v in a.padding),
                  tuple(int(v) for v in a.dilation), groups)
    return model.program("conv2d", matrices, conv, variable)


def register() -> None:
    """Register ``cimsim.matmul`` and ``cimsim.conv2d`` with TVM's global functions (idempotent).

    cimsim's errors are registered with TVM's FFI too, so that a ConfigError or ShapeError
    raised inside a call comes out of the VM as itself, not as a RuntimeError.
    """
    for error in (cimsim.ConfigError, cimsim.ShapeError):
        tvm_ffi.register_error(error.__name__, error)
    for name in ("cimsim.matmul", "cimsim.conv2d"):
        tvm.register_global_func(name, _call, override=True)
    tvm.register_global_func("cimsim.matmul_dynamic", _dynamic, override=True)


def _call(x, model_id: int, index: int, out) -> None:
    model, product = _product(model_id, index)
    function = "cimsim.matmul" if product.conv is None else "cimsim.conv2d"
    if not product.matrices:
        raise ConfigError(f"{function}: product {int(index)} multiplies two activations; call cimsim.matmul_dynamic")
    x = tensor_argument(function, "x", x)
    expected_out = _expected_output(function, product, x)
    out = tensor_argument(function, "out", out)
    require_shape(function, "out", out.shape, expected_out)
    write(out, read_product(model, product, x))


def _product(model_id, index) -> tuple[OffloadedModel, Product]:
    """The model and product a registered call names; ConfigError when either is unknown."""
    for name, value in (("model_id", model_id), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"cimsim: argument {name!r} = {value!r}; allowed: an integer (as tvm_bridge.offload "
                              "writes it into the rewritten call)")
    model = _MODELS.get(int(model_id))
    if model is None:
        raise ConfigError(f"cimsim: model {model_id} is not offloaded in this process; call tvm_bridge.offload")
    if not 0 <= int(index) < len(model.products):
        raise ConfigError(f"cimsim: product index = {int(index)}; allowed: 0 to {len(model.products) - 1}, "
                          f"the products of offloaded model {int(model_id)}")
    return model, model.products[int(index)]


def tensor_argument(function: str, argument: str, value) -> np.ndarray:
    """``value`` (a TVM tensor or any DLPack array) as numpy, or a ShapeError naming the function and argument."""
    try:
        return np.from_dlpack(value)
    except (TypeError, AttributeError, BufferError, RuntimeError) as error:
        raise ShapeError(f"{function}: argument {argument!r} is a {type(value).__name__}, expected a tensor "
                         f"({error})") from None


def require_shape(function: str, argument: str, shape: tuple[int, ...], expected: tuple) -> None:
    """ShapeError naming ``function``, ``argument``, the shape given and ``expected``.

    ``expected`` holds sizes, None for any size, and may start with ``...`` for any leading dimensions.
    """
    leading = expected[:1] == (...,)
    fixed = expected[1:] if leading else expected
    rank_ok = len(shape) >= len(fixed) if leading else len(shape) == len(fixed)
    tail = tuple(shape)[len(shape) - len(fixed):] if rank_ok else ()
    if not (rank_ok and all(e is None or size == e for size, e in zip(tail, fixed))):
        text = ", ".join("…" if e is ... else "any" if e is None else str(e) for e in expected)
        raise ShapeError(f"{function}: argument {argument!r} has shape {tuple(shape)}, expected ({text})")


def _expected_output(function: str, product: Product, x: np.ndarray) -> tuple[int, ...]:
    """The output shape of ``product`` on input ``x``, after checking ``x`` against the programmed matrices."""
    if product.conv is None:
        rows, cols = product.matrices[0].shape
        require_shape(function, "x", x.shape, (..., rows))
        return x.shape[:-1] + (cols,)
    conv = product.conv
    kh, kw = conv.kernel
    channels = conv.groups * (product.matrices[0].shape[0] // (kh * kw))  # rows per group: C/g·kh·kw
    require_shape(function, "x", x.shape, (None, channels, None, None))
    top, left, bottom, right = conv.padding
    spans = ((conv.dilation[0] * (kh - 1) + 1), (conv.dilation[1] * (kw - 1) + 1))
    padded = (x.shape[2] + top + bottom, x.shape[3] + left + right)
    if padded[0] < spans[0] or padded[1] < spans[1]:
        raise ShapeError(f"{function}: argument 'x' has shape {x.shape}, expected rows and columns of at least "
                         f"{(spans[0] - top - bottom, spans[1] - left - right)} for a {kh}×{kw} kernel")
    sizes = tuple((p - span) // stride + 1 for p, span, stride in zip(padded, spans, conv.strides))
    return (x.shape[0], sum(m.shape[1] for m in product.matrices)) + sizes


def write(destination: np.ndarray, result: np.ndarray) -> None:
    """Store a float result into TVM's output tensor, rounding to the nearest integer for integer dtypes."""
    destination[...] = np.rint(result) if np.issubdtype(destination.dtype, np.integer) else result


def _dynamic(a, b, model_id: int, index: int, out) -> None:
    """An activation × activation matmul on crossbars: each call programs its right operand anew."""
    model, product = _product(model_id, index)
    left, right = (tensor_argument("cimsim.matmul_dynamic", name, v) for name, v in (("a", a), ("b", b)))
    batch = _dynamic_batch(left, right)
    out = tensor_argument("cimsim.matmul_dynamic", "out", out)
    require_shape("cimsim.matmul_dynamic", "out", out.shape, batch + (left.shape[-2], right.shape[-1]))
    left = np.broadcast_to(left, batch + left.shape[-2:]).reshape((-1,) + left.shape[-2:])
    right = np.broadcast_to(right, batch + right.shape[-2:]).reshape((-1,) + right.shape[-2:])
    rng = np.random.default_rng([model.base_seed, int(index), product.calls])  # new cells every call
    product.calls += 1
    results = []
    for x, w in zip(left, right):
        matrix = cimsim.AnalogMatrix(w, model.cfg, seed=rng)
        results.append(_read(model, matrix, x))
        product.spent = product.spent + matrix.ledger
    write(out, np.stack(results).reshape(batch + results[0].shape))


def _dynamic_batch(left: np.ndarray, right: np.ndarray) -> tuple[int, ...]:
    """The broadcast batch shape of (…, M, K) @ (…, K, N); ShapeError naming the argument that does not fit."""
    require_shape("cimsim.matmul_dynamic", "a", left.shape, (..., None, None))
    require_shape("cimsim.matmul_dynamic", "b", right.shape, (..., left.shape[-1], None))
    try:
        return np.broadcast_shapes(left.shape[:-2], right.shape[:-2])
    except ValueError:
        raise ShapeError(f"cimsim.matmul_dynamic: argument 'b' has shape {right.shape}, expected batch dimensions "
                         f"that broadcast with a's {left.shape[:-2]}") from None


def _read(model: OffloadedModel, matrix: cimsim.AnalogMatrix, vectors: np.ndarray) -> np.ndarray:
    if matrix.input_scale is None and model.cfg.adc.range == "calibrated":
        matrix.calibrate(vectors)
    return matrix.matmul(vectors)


def read_product(model: OffloadedModel, product: Product, x: np.ndarray) -> np.ndarray:
    """One product on its crossbars: a matmul's output (…, N), or a convolution's (B, O, OH, OW)."""
    if product.conv is None:
        (matrix,) = product.matrices
        return _read(model, matrix, x.reshape(-1, matrix.shape[0])).reshape(x.shape[:-1] + (matrix.shape[1],))
    columns, (oh, ow) = im2col(x, product.conv)
    per_group = [_read(model, matrix, cols) for matrix, cols in zip(product.matrices, columns)]
    result = np.concatenate(per_group, axis=1)  # (B·OH·OW, O), groups in channel order
    return result.reshape(x.shape[0], oh, ow, -1).transpose(0, 3, 1, 2)


def im2col(x: np.ndarray, conv: Conv2D) -> tuple[np.ndarray, tuple[int, int]]:
    """(B, C, H, W) → (groups, B·OH·OW, C/g·kh·kw), each output position's inputs per group; and (OH, OW)."""
    top, left, bottom, right = conv.padding
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (kh, kw), (dh, dw), (sh, sw) = conv.kernel, conv.dilation, conv.strides
    windows = np.lib.stride_tricks.sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # B, C, OH, OW, kh, kw
    b, c, oh, ow = windows.shape[:4]
    grouped = windows.reshape(b, conv.groups, c // conv.groups, oh, ow, kh, kw)
    return grouped.transpose(1, 0, 3, 4, 2, 5, 6).reshape(conv.groups, b * oh * ow, -1), (oh, ow)


@mutator
class _Offload(PyExprMutator):
    def __init__(self, mod: tvm.IRModule, model_id: int, model: OffloadedModel, activations_on_crossbar: bool):
        super().__init__(mod)
        self.mod_, self.model_id, self.model = mod, model_id, model
        self.activations_on_crossbar = activations_on_crossbar
        self.variables: dict = {}  # each bound call -> the name of its Relax variable, for messages

    def visit_call_(self, call):
        variable = self.variables.get(call, "")
        call = self.visit_expr_post_order(call)
        name = op_name(call)
        if name not in ("relax.matmul", "relax.nn.conv2d"):
            return call
        weights = constant_value(call.args[1], self.lookup_binding)
        if static_shape(call.args[0]) is None:
            return call  # symbolic shapes stay in TVM
        if weights is None:
            return self._activations(call, name)
        if name == "relax.matmul":
            if weights.ndim != 2:
                return call  # batched weights stay in TVM
            return self._rewrite("cimsim.matmul", call, matmul_product(self.model, weights, variable))
        a = call.attrs
        if (a.data_layout, a.kernel_layout, a.out_layout) != ("NCHW", "OIHW", "NCHW"):
            return call  # other layouts stay in TVM
        return self._rewrite("cimsim.conv2d", call, conv2d_product(self.model, call, weights, variable))

    def _activations(self, call, name: str):
        """An activation × activation matmul: digital (in TVM) unless asked for, then reprogrammed per call."""
        if not (self.activations_on_crossbar and name == "relax.matmul" and static_shape(call.args[1]) is not None):
            return call
        self.model.products.append(Product(f"matmul_dynamic_{len(self.model.products)}", []))
        index = len(self.model.products) - 1
        args = [call.args[0], call.args[1], relax.prim_value(self.model_id), relax.prim_value(index)]
        return relax.call_dps_packed("cimsim.matmul_dynamic", args, out_ty=call.ty)

    def _rewrite(self, function: str, call, product: Product):
        index = len(self.model.products) - 1  # the product just programmed
        args = [call.args[0], relax.prim_value(self.model_id), relax.prim_value(index)]
        return relax.call_dps_packed(function, args, out_ty=call.ty)

    def run(self) -> tvm.IRModule:
        for gv, func in self.mod_.functions_items():
            if isinstance(func, relax.Function):
                self.variables = {value: var.name for var, value in binding_map(func).items()}
                self.builder_.update_func(gv, self.visit_expr(func))
        return self.builder_.get()


def offload(
    mod: tvm.IRModule,
    cfg: cimsim.ChipConfig,
    seed: int | np.random.Generator = 0,
    activations_on_crossbar: bool = False,
) -> tvm.IRModule:
    """``mod`` with every constant-weight matmul and NCHW convolution on crossbars programmed now.

    With ``activations_on_crossbar``, products of two activations (attention) run on crossbars
    too, through ``cimsim.matmul_dynamic``: every call programs the right operand of every batch
    element onto fresh cells, and the ledger counts those writes.
    """
    if not isinstance(mod, tvm.IRModule):
        raise ConfigError(f"offload: expected a tvm.IRModule, got {type(mod).__name__}")
    model, model_id = new_model(cfg, seed)
    return rewrite(mod, model, model_id, activations_on_crossbar)


def rewrite(mod: tvm.IRModule, model: OffloadedModel, model_id: int, activations_on_crossbar: bool) -> tvm.IRModule:
    """The offload pass on ``mod`` for the registered ``model``: each product's crossbars come from ``model.program``."""
    register()
    rewritten = relax.transform.DeadCodeElimination()(_Offload(mod, model_id, model, activations_on_crossbar).run())
    return rewritten.with_attr(MODEL_ATTR, model_id)


def model_of(mod: tvm.IRModule) -> OffloadedModel:
    """The crossbars behind an offloaded module."""
    attrs = mod.attrs
    if attrs is None or MODEL_ATTR not in attrs:
        raise ConfigError("this IRModule was not produced by tvm_bridge.offload (it has no cimsim model)")
    model = _MODELS.get(int(attrs[MODEL_ATTR]))
    if model is None:
        raise ConfigError(f"cimsim model {int(attrs[MODEL_ATTR])} is not in this process (released, or offloaded elsewhere)")
    return model


def release(mod: tvm.IRModule) -> None:
    """Free the crossbars of an offloaded module; running it afterwards is an error.

    Programmed crossbars live until released: they hold several arrays per cell (about 31 bytes
    per cell, 8 cells per 8-bit weight on the ``ideal`` preset: ~3 GB for ResNet-18;
    :mod:`cimsim.host_memory`).
    """
    model_of(mod)
    del _MODELS[int(mod.attrs[MODEL_ATTR])]


def ledger(mod: tvm.IRModule) -> cimsim.Ledger:
    """Every action of the offloaded module's crossbars since programming or the last :func:`reset`."""
    return model_of(mod).ledger


def reset(mod: tvm.IRModule) -> None:
    """Start the module's ledger afresh (the programmed cells are kept)."""
    for product in model_of(mod).products:
        product.spent = cimsim.Ledger()
        for matrix in product.matrices:
            matrix.ledger = cimsim.Ledger()
            matrix.latency_ns = 0.0
