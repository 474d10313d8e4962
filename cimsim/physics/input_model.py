"""What a product's inputs look like when no data is given: signed or not, and how many are non-zero.

The counts of a crossbar depend on its inputs (a zero input drives no row). Without data,
cimsim models each product's inputs from the operation that produced them (its first
operand's producer, :attr:`cimsim.Workload` ``inputs``), with magnitudes half-normal:

* the network's input, a product, a normalisation, a residual add, or an activation that keeps
  negative values (GELU, SiLU, tanh, ...): signed, every value non-zero;
* ReLU (``relu``, ``relu6``): unsigned, half of the values zero (a symmetric pre-activation);
* sigmoid-like activations and softmax: unsigned, none zero;
* pooling: as its input, with a value zero only when its whole window is (a 2×2 window of
  independent values: density 1 − (1 − d)⁴).

An activation's function is its :attr:`~cimsim.workload.NonGemm.function` (the TVM operator's
name, which ``tvm_bridge.extract`` records); an activation without one is taken as ReLU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.workload import Gemm, NonGemm, Workload

RELU = frozenset({"relu", "relu6", ""})
POSITIVE = frozenset({"sigmoid", "hard_sigmoid", "softplus"})
POOLING_WINDOW = 4  # a 2x2 window


@dataclass(frozen=True)
class InputModel:
    """Inputs of a product: signed or not, and the fraction of them that is non-zero."""

    signed: bool
    density: float


SIGNED_DENSE = InputModel(signed=True, density=1.0)


def output_model(op: Gemm | NonGemm | None, models: dict[str, InputModel]) -> InputModel:
    """The model of what ``op`` outputs (``models``: the outputs of the operations before it)."""
    if op is None or isinstance(op, Gemm) or op.kind in ("normalisation", "residual_add"):
        return SIGNED_DENSE
    if op.kind == "softmax":
        return InputModel(signed=False, density=1.0)
    if op.kind == "pooling":
        source = models.get(op.inputs[0], SIGNED_DENSE) if op.inputs else SIGNED_DENSE
        return InputModel(source.signed, 1.0 - (1.0 - source.density) ** POOLING_WINDOW)
    if op.function in RELU:
        return InputModel(signed=False, density=0.5)
    if op.function in POSITIVE:
        return InputModel(signed=False, density=1.0)
    return SIGNED_DENSE


def input_models(workload: Workload) -> dict[str, InputModel]:
    """The input model of every product of ``workload``, from the producer of its first operand."""
    outputs: dict[str, InputModel] = {}
    inputs: dict[str, InputModel] = {}
    ops = {op.name: op for op in workload.ops}
    for op in workload.ops:
        if isinstance(op, Gemm):
            inputs[op.name] = output_model(ops[op.inputs[0]] if op.inputs else None, outputs)
        outputs[op.name] = output_model(op, outputs)
    return inputs


def model_inputs(m: int, k: int, model: InputModel, rng: np.random.Generator) -> np.ndarray:
    """An (m × k) draw of ``model``: half-normal magnitudes, a fraction ``density`` non-zero, random signs."""
    x = np.abs(rng.standard_normal((m, k))) * (rng.random((m, k)) < model.density)
    if model.signed:
        x *= rng.choice([-1.0, 1.0], size=x.shape)
    return x
