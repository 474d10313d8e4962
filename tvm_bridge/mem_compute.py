"""The source article's external function, ``mem_compute.matmul(w, x)``, on simulated crossbars.

The article registers compute-in-memory as an external function of TVM and calls it by name::

    @tvm.register_func("mem_compute.matmul")      # TVM 0.27 spells it tvm.register_global_func
    def mem_compute_matmul(w, x): ...              # program w, read with x
    y = tvm.get_global_func("mem_compute.matmul")(w, x)

:func:`register_mem_compute` registers that function with the same name and signature, backed
by cimsim. ``w`` is an N×K weight matrix and ``x`` a K-vector or a K×M matrix of inputs (numpy
arrays or ``tvm.runtime.Tensor``: TVM's FFI hands either over as a tensor); the result is
``w @ x`` as the crossbars compute it, (N,) or (N×M), a ``tvm.runtime.Tensor`` of numpy's result
type of w, x and float32. The first call with a given ``w`` programs it onto crossbars as the
K×N matrix ``wᵀ`` (inputs on rows, one :class:`cimsim.AnalogMatrix`, programming noise drawn
once, seeded from the seed and the weights' CRC-32 as ``tvm_bridge.offload`` seeds a constant);
the matrix is cached under the SHA-256 checksum of w's dtype, shape and bytes, and later calls
with the same ``w`` (the same object or an equal copy) read it. With ``adc.range =
"calibrated"`` the first call's inputs calibrate it. Every read is counted in the returned
:class:`MemCompute`'s ``ledger``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import tvm

import cimsim
from cimsim.errors import ConfigError, ShapeError, as_real_matrix
from tvm_bridge.offload import OffloadedModel, Product, new_model, read_product, register

FUNCTION = "mem_compute.matmul"
DEFAULT_CHIP = "ideal"


class MemCompute:
    """The registered ``mem_compute.matmul``: its crossbars, cached by the checksum of each ``w``."""

    def __init__(self, model: OffloadedModel):
        self.model = model
        self.products: dict[str, Product] = {}

    @property
    def ledger(self) -> cimsim.Ledger:
        """Every action of the crossbars (one layer per programmed ``w``): writes at programming, then reads."""
        return self.model.ledger

    def __call__(self, w, x) -> np.ndarray:
        """``w @ x`` (N×K times K or K×M) on the crossbars holding ``w`` (module docstring)."""
        weights, inputs = _tensor(w, "w"), _tensor(x, "x")
        w64 = as_real_matrix(weights, f"{FUNCTION}: w")
        x64 = as_real_matrix(inputs, f"{FUNCTION}: x", ndim=(1, 2))
        if 0 in w64.shape or 0 in x64.shape:
            raise ShapeError(f"{FUNCTION}: w has shape {w64.shape} and x {x64.shape}; give non-empty tensors")
        if x64.shape[0] != w64.shape[1]:
            raise ShapeError(f"{FUNCTION}: w has shape {w64.shape} (N x K) and x {x64.shape}: x needs K = "
                             f"{w64.shape[1]} rows (a K-vector or a K x M matrix)")
        product = self._product(weights, w64)
        y = read_product(self.model, product, np.ascontiguousarray(x64.T))  # (M, N): vectors on rows
        return np.ascontiguousarray(y.T, dtype=np.result_type(weights.dtype, inputs.dtype, np.float32))

    def _product(self, weights: np.ndarray, w64: np.ndarray) -> Product:
        digest = hashlib.sha256(f"{weights.dtype.str}{weights.shape}".encode())
        digest.update(np.ascontiguousarray(weights).tobytes())
        key = digest.hexdigest()
        if key not in self.products:
            self.products[key] = self.model.program("mem_compute", [np.ascontiguousarray(w64.T)])
        return self.products[key]


def _tensor(value, name: str) -> np.ndarray:
    """A tensor argument as a numpy view (zero-copy through DLPack)."""
    if not hasattr(value, "__dlpack__"):
        raise ShapeError(f"{FUNCTION}: {name} must be a tensor (a numpy array or tvm.runtime.Tensor), "
                         f"got {type(value).__name__}")
    return np.from_dlpack(value)


def register_mem_compute(chip: str | cimsim.ChipConfig = DEFAULT_CHIP, seed: int | np.random.Generator = 0) -> MemCompute:
    """Register ``mem_compute.matmul(w, x)`` with TVM (replacing an earlier registration) on ``chip``
    (a preset name or a ``cimsim.ChipConfig``; default ``"ideal"``), programming noise from ``seed``.

    Returns the registered function; its ``ledger`` is what its crossbars did. Bad arguments of
    a call are ``cimsim.ShapeError``s naming ``w`` or ``x`` and their shapes, also through TVM.
    """
    cfg = cimsim.load_preset(chip) if isinstance(chip, str) else chip
    if not isinstance(cfg, cimsim.ChipConfig):
        raise ConfigError(f"chip = {chip!r}: give the name of a crossbar preset or a cimsim.ChipConfig "
                          f"(crossbar presets: {', '.join(cimsim.list_presets('cim'))})")
    model, _ = new_model(cfg, seed)
    register()  # carries cimsim's errors across TVM's FFI as themselves
    function = MemCompute(model)
    tvm.register_global_func(FUNCTION, function, override=True)
    return function
