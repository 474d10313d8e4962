"""The digital units of a CIM chip's tiles: what an operation costs on them, and on which tiles it runs.

Every tile has digital units (``digital:<tile>``, one server) for the work the crossbars do not
do: non-GEMM operations (:class:`~cimsim.workload.NonGemm`) and, with ``chip.attention_on =
"digital"``, activation × activation products (attention). An operation is of one of three
kinds, each with its throughput per tile (Gop/s = elementary operations per ns) and its energy
per unit (pJ, Horowitz's 45 nm figures carried to ``chip.node_nm`` by
:func:`cimsim.costs.scaling.horowitz_digital_pj`, E ∝ node²):

==============  ====================================  =====================================  =============================
kind            operations                            throughput                             energy (action, per unit)
==============  ====================================  =====================================  =============================
``mac``         activation × activation products      ``chip.digital_gops_per_tile``         ``digital.macs``:
                (2 ops per MAC)                                                              ``energy.digital_pj_per_mac``
                                                                                             (HOR-03 + HOR-01) × width²
``elementwise`` ReLU-like activations, pooling,       ``chip.digital_elementwise_gops_per_   ``digital.ops``:
                residual adds                         tile``                                 ``energy.digital_pj_per_op``
                                                                                             (HOR-02) × width
``special``     softmax, normalisation, GELU,         ``chip.digital_special_gops_per_tile`` ``digital.special_ops``:
                sigmoid, tanh, SiLU, ...                                                     ``energy.digital_pj_per_special_op``
                                                                                             (HOR-07, FP16)
==============  ====================================  =====================================  =============================

Elementary operations per element: :data:`cimsim.workload.DIGITAL_OPS_PER_ELEMENT` (a softmax is
4: max, exponential, sum, divide). The throughputs default to 38.4 Gop/s, the assumption the
model has always made (32 lanes at ISAAC's 1.2 GHz); a DaDianNao tile's NFU, the digital
accelerator ISAAC compares itself with, gives 349 Gop/s at 32 nm in a tile of 4.07 mm²
(ISAAC-43, ISAAC-44), ten times an ISAAC tile's area: an upper reference, not a default.

**Placement** (:func:`spread_tiles`): an operation runs on the tile of its first operand's
producer (its *home*) when that tile's digital load per inference, with it, stays within the
*period*: the busiest weight layer's busy time per inference, which the pipeline cannot go below
and so hides any digital work shorter than it. Otherwise it is split over k = ceil(t / period)
tiles (t: its time on one tile; k at most its chunks and the chip's tiles), the least loaded
first (ties: fewer hops from home, then the lower tile), and its chunks alternate over them
(chunk j on the (j mod k)-th). Its operands travel from their producers' tiles to each tile
that computes on them (:func:`operand_bits`: a streamed operand in proportion to the tile's
chunks, the second operand of a product whole to every tile), are read from that tile's buffer,
and its output is written there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from cimsim.config import ChipConfig
from cimsim.workload import DIGITAL_OPS_PER_ELEMENT, Gemm, NonGemm

DIGITAL_KINDS = ("mac", "elementwise", "special")

SPECIAL_NON_GEMMS = frozenset({"softmax", "normalisation"})
"""Kinds of :class:`NonGemm` that are special functions (an exponential, a division, a square root)."""

SPECIAL_FUNCTIONS = frozenset({"gelu", "sigmoid", "tanh", "silu", "swish", "softplus", "erf", "exp", "mish", "elu"})
"""Activations that evaluate a transcendental function: special; every other activation is element-wise."""

_THROUGHPUT_FIELD = {"mac": "digital_gops_per_tile", "elementwise": "digital_elementwise_gops_per_tile",
                     "special": "digital_special_gops_per_tile"}
_ACTION = {"mac": "macs", "elementwise": "ops", "special": "special_ops"}


def digital_kind(op: Gemm | NonGemm) -> str:
    """The kind of digital work ``op`` is (module docstring's table)."""
    if isinstance(op, Gemm):
        return "mac"
    if op.kind in SPECIAL_NON_GEMMS or (op.kind == "activation" and op.function.lower() in SPECIAL_FUNCTIONS):
        return "special"
    return "elementwise"


def digital_ops(op: Gemm | NonGemm) -> float:
    """Elementary operations of one inference of ``op``: 2 per MAC of a product, else elements × ops per element."""
    if isinstance(op, Gemm):
        return 2.0 * op.macs
    return float(op.elements * DIGITAL_OPS_PER_ELEMENT[op.kind])


def gops_per_tile(cfg: ChipConfig, kind: str) -> float:
    """One tile's throughput for work of ``kind`` (Gop/s = ops per ns)."""
    return getattr(cfg.chip, _THROUGHPUT_FIELD[kind])


def digital_ns(cfg: ChipConfig, op: Gemm | NonGemm) -> float:
    """Time of one inference of ``op`` on one tile's digital units (ns)."""
    return digital_ops(op) / gops_per_tile(cfg, digital_kind(op))


def digital_counts(op: Gemm | NonGemm) -> list[tuple[str, str, float]]:
    """The priced digital actions of one inference of ``op``: MACs of a product, else elementary ops of its kind."""
    kind = digital_kind(op)
    count = float(op.macs) if kind == "mac" else digital_ops(op)
    return [("digital", _ACTION[kind], count)]


def operand_bits(op: Gemm | NonGemm, bits: int) -> list[tuple[str | None, float, bool]]:
    """Per operand of one inference of ``op``: (its producer, None for the network's input; its bits;
    whether every chunk needs all of it).

    A product's first operand (M×K per head) is streamed, its second (K×N per head: the keys of
    Q·Kᵀ, the values of A·V) is needed whole, as is every operand of a product whose operands
    come from one producer; a non-GEMM operation streams each of its inputs, ``elements`` values
    each. ``bits``: bits per value (``mapping.input_bits``)."""
    if isinstance(op, Gemm):
        first = op.inputs[0] if op.inputs else None
        second = op.inputs[-1] if op.inputs else None
        one_producer = len(op.inputs) < 2
        return [(first, float(op.m * op.k * op.count * bits), one_producer),
                (second, float(op.k * op.n * op.count * bits), True)]
    return [(name, float(op.elements * bits), False) for name in op.inputs] or [(None, float(op.elements * bits), False)]


def output_bits(op: Gemm | NonGemm, bits: int) -> float:
    """Bits of one inference of ``op``'s output (M×N per head of a product; ``elements`` values otherwise)."""
    return float(op.m * op.n * op.count * bits) if isinstance(op, Gemm) else float(op.elements * bits)


def chunk_shares(chunks: int, k: int) -> list[int]:
    """Chunks of an inference on each of ``k`` tiles when chunk j runs on the (j mod k)-th."""
    if k == 1:  # most operations: every chunk on one tile (counted as below: a Python int)
        return [len(range(chunks))]
    return [len(range(i, chunks, k)) for i in range(k)]


def spread_tiles(op_ns: float, period_ns: float, home: int, load_ns: Mapping[int, float], chunks: int,
                 hops_from_home: np.ndarray) -> list[int]:
    """The tiles an operation of ``op_ns`` per inference on one tile runs on, ``home`` first when kept
    (module docstring).

    ``load_ns``: digital time per inference already placed on each tile; ``period_ns``: what the
    pipeline hides (math.inf: nothing to hide behind, so no split); ``hops_from_home[t]``: the
    hops from ``home`` to tile t, for every tile of the chip. A split uses k = ceil(op_ns /
    period_ns) tiles, at most ``chunks`` and the chip's tiles, the least loaded first, then the
    nearest to home, then the lowest."""
    if load_ns.get(home, 0.0) + op_ns <= period_ns:
        return [home]
    tiles = hops_from_home.size
    k = max(1, min(chunks, tiles, math.ceil(op_ns / period_ns)))
    loads = np.zeros(tiles)
    loads[list(load_ns)] = list(load_ns.values())
    order = np.lexsort((np.arange(tiles), hops_from_home, loads))  # the last key first: load, hops, index
    return [int(tile) for tile in order[:k]]
