"""Work items of a workload: how one inference of each operation splits into chunks, and what each waits for.

Chunks (per inference, i.e. per run of the workload as it was extracted):

* a convolution: one chunk per output row of every image (``conv.output_size[0]`` rows; a 1-D
  convolution's "row" is one output position);
* any other product: one chunk per row of its M×K input (a token, or a vector of a batched
  input), at most :data:`MAX_CHUNKS`; a larger M is split into :data:`MAX_CHUNKS` slices of
  M / MAX_CHUNKS vectors on average ("batch slice"; a chunk's time is that average);
* a non-GEMM operation: as many chunks as its first producer (element-wise streaming), or one.

Dependencies (``needs``: for chunk j, how many chunks of a producer must be done):

* a convolution whose producer has one chunk per input row of each image: the rows its
  receptive field reaches (``r·stride − pad_top + (kh − 1)·dilation``, the last input row of
  output row r), scaled when the producer has a different number of rows (a pooling layer
  between them);
* the second operand of an activation × activation product (the keys of Q·Kᵀ, the values of
  A·V), and every operand of a product whose operands come from one producer: all of it;
* otherwise proportional: chunk j of C waits for ceil((j + 1)·C_p / C) of the producer's C_p.
"""

from __future__ import annotations

import math

import numpy as np

from cimsim.workload import Gemm, NonGemm, Workload

MAX_CHUNKS = 256


def gemm_chunks(gemm: Gemm) -> tuple[int, str]:
    """Chunks of one inference of ``gemm`` and what a chunk is."""
    if gemm.conv is not None:
        positions = math.prod(gemm.conv.output_size)
        images = max(1, gemm.m // positions)
        label = "output row" if len(gemm.conv.output_size) > 1 else "output position"
        return images * gemm.conv.output_size[0], label
    if gemm.m <= MAX_CHUNKS:
        return gemm.m, "token" if gemm.m > 1 else "vector"
    return MAX_CHUNKS, "batch slice"


def workload_chunks(workload: Workload) -> dict[str, tuple[int, str]]:
    """Chunks and chunk label of every operation, in execution order."""
    chunks: dict[str, tuple[int, str]] = {}
    for op in workload.ops:
        if isinstance(op, Gemm):
            chunks[op.name] = gemm_chunks(op)
        else:
            chunks[op.name] = chunks[op.inputs[0]] if op.inputs else (1, "vector")
    return chunks


def proportional_needs(chunks: int, producer_chunks: int) -> np.ndarray:
    """Chunk j of ``chunks`` waits for ceil((j + 1)·C_p / C) producer chunks."""
    j = np.arange(1, chunks + 1, dtype=np.int64)
    return -((-j * producer_chunks) // chunks)


def _conv_needs(gemm: Gemm, chunks: int, producer_chunks: int) -> np.ndarray | None:
    """Receptive-field needs of a convolution, or None when the producer's chunks are not image rows."""
    conv = gemm.conv
    out_rows, in_rows = conv.output_size[0], conv.input_size[0]
    images = chunks // out_rows
    if producer_chunks % images:
        return None
    per_image = producer_chunks // images  # producer rows per image (≠ in_rows across a pooling layer)
    r = np.arange(chunks) % out_rows
    last_row = np.clip(r * conv.stride[0] - conv.padding[0] + (conv.kernel[0] - 1) * conv.dilation[0], 0, in_rows - 1)
    within = -((-(last_row + 1) * per_image) // in_rows)
    return (np.arange(chunks) // out_rows) * per_image + within


def tiled_needs(needs: np.ndarray, tiles: int, producer_tiles: int) -> np.ndarray:
    """``needs`` of row chunks, for chunks cut into (row, tile) pairs, row-major on both sides.

    Consumer chunk c belongs to row c // ``tiles`` and waits for every tile of the producer rows
    that row needs."""
    return np.repeat(needs, tiles) * producer_tiles


def operation_needs(op: Gemm | NonGemm, chunks: dict[str, tuple[int, str]]) -> dict[str, np.ndarray]:
    """``needs`` of every producer of ``op`` (module docstring)."""
    own = chunks[op.name][0]
    needs: dict[str, np.ndarray] = {}
    activation_product = isinstance(op, Gemm) and not op.constant
    for position, producer in enumerate(dict.fromkeys(op.inputs)):
        c_p = chunks[producer][0]
        whole = activation_product and (position > 0 or len(set(op.inputs)) == 1)
        if whole:
            needs[producer] = np.full(own, c_p, dtype=np.int64)
            continue
        conv = _conv_needs(op, own, c_p) if isinstance(op, Gemm) and op.conv is not None else None
        needs[producer] = conv if conv is not None else proportional_needs(own, c_p)
    return needs
