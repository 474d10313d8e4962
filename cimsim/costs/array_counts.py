"""Expected action counts of a matrix product on the arrays, from shapes and input statistics.

The functional model (:class:`~cimsim.crossbar.AnalogMatrix`) counts what its inputs do: a
row is driven, and its cells read, in every input cycle whose DAC code is not 0, and the read
energy is Σ code²·ΣG of the row. This module counts the same actions without pushing data:

* :class:`Footprint`: the :class:`~cimsim.costs.array_reads.ReadShape` of a programmed matrix
  and what the counts need per row, from its weights when they are known (rows live in each
  column array, cells read per row, ΣG per row at the *target* conductances: programming noise
  is zero-mean, drift is not modelled here), or else assuming every row is live and every cell
  sits at the mean of its levels;
* :class:`InputStatistics`: per row, the non-zero codes and Σ code² of one vector, over all
  its cycles; measured from data (:func:`measured_statistics`) or drawn from a model of the
  inputs (:func:`modelled_statistics`);
* :func:`read_counts`: the expected activity of ``vectors`` vectors, turned into actions by
  the one counting function, :func:`~cimsim.costs.array_reads.array_read_actions`, which
  ``AnalogMatrix.matmul`` calls with its measured activity. With the statistics measured from
  the inputs of a noise-free product, both give the same counts (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.config import ChipConfig
from cimsim.costs.array_reads import CountedAction, ReadActivity, Reading, ReadShape, array_read_actions, array_reading
from cimsim.physics import kernels
from cimsim.physics.columns import flip_mask, stored_levels
from cimsim.physics.input_model import InputModel, model_inputs
from cimsim.physics.mapping import (
    ArrayGeometry,
    array_geometry,
    cell_levels,
    input_planes,
    input_scale_for,
    occupied_arrays,
    quantize_inputs,
    quantize_weights,
    symmetric_scale,
)
from cimsim.physics.seeding import generator


BLOCK_CELLS = 2**22


@dataclass(frozen=True)
class Footprint(ReadShape):
    """One K×N matrix on the arrays, as counting sees it: its read shape and, per stored row, what a drive reads."""

    row_arrays: np.ndarray  # (K,) column arrays in which the row is live
    row_cells: np.ndarray  # (K,) cells read when the row is driven
    g_row_sum_us: np.ndarray  # (K,) Σ G of those cells
    rows_kept: np.ndarray | None = None  # which of the matrix's rows are stored (None: all)


def footprint(weights: np.ndarray | None, k: int, n: int, cfg: ChipConfig) -> Footprint:
    """The footprint of ``weights`` (K×N), or of a dense K×N matrix at mean conductance when None."""
    geometry = array_geometry(cfg)
    row_blocks, column_arrays = geometry.grid(k, n)
    physical, converted = geometry.physical_columns(n), geometry.conversion_columns(n)
    d = cfg.device
    if weights is None:
        mean_g = (d.g_min_us + d.g_max_us) / 2
        return Footprint(
            stored_rows=k, outputs=n, row_blocks=row_blocks, column_arrays=column_arrays, conversion_columns=converted,
            arrays=row_blocks * column_arrays, row_arrays=np.full(k, float(column_arrays)),
            row_cells=np.full(k, float(physical)), g_row_sum_us=np.full(k, physical * mean_g),
        )
    w = np.asarray(weights)
    w = w if np.issubdtype(w.dtype, np.floating) else w.astype(np.float64)
    scale, q_max = weight_scale(w, cfg)
    kept = None
    if cfg.mapping.compact_rows:
        nonzero = kernels.nonzero_rows(w, scale, q_max)
        if not nonzero.all():
            kept = np.flatnonzero(nonzero) if nonzero.any() else np.zeros(1, dtype=np.int64)
            w = np.ascontiguousarray(w[kept])
            k = w.shape[0]
            row_blocks = geometry.grid(k, n)[0]
    live, level_sums, widths = array_level_sums(w, scale, q_max, geometry)
    row_cells = (live * widths[None, :]).sum(axis=1).astype(np.float64)
    live_levels = (live * level_sums).sum(axis=1).astype(np.float64)
    g_row_sum = d.g_min_us * row_cells + (d.g_max_us - d.g_min_us) / geometry.max_level * live_levels
    return Footprint(
        stored_rows=k, outputs=n, row_blocks=row_blocks, column_arrays=column_arrays, conversion_columns=converted,
        arrays=occupied_arrays(live, geometry.rows), row_arrays=live.sum(axis=1).astype(np.float64),
        row_cells=row_cells, g_row_sum_us=g_row_sum, rows_kept=kept,
    )


def weight_scale(w: np.ndarray, cfg: ChipConfig) -> tuple[np.ndarray, float]:
    """s_w per column (float64, as for float64 weights) and the largest integer weight."""
    mapping = cfg.mapping
    q_max = 2 ** (mapping.weight_bits - 1) - 1
    max_abs = np.abs(w).max(axis=0) if mapping.weight_scale == "column" else np.full(w.shape[1], np.abs(w).max())
    return symmetric_scale(max_abs.astype(np.float64), q_max), float(q_max)


def array_level_sums(
    w: np.ndarray, scale: np.ndarray, q_max: float, geometry: ArrayGeometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row and column array: is the row live, the sum of its stored levels; and each array's width.

    The numba kernel walks the weights once per pass and never holds the cells (GPT-2's 10^8
    weights are 10^9 cells on ISAAC).
    """
    g, width = geometry, geometry.columns_per_array
    level_sums = kernels.array_level_sums(
        w, scale, q_max, g.weight_offset, g.slices, g.signs, g.bits_per_cell, g.rows, width, g.flip_columns,
    )
    physical = g.physical_columns(w.shape[1])
    widths = np.minimum(width, physical - width * np.arange(level_sums.shape[1]))
    return level_sums > 0, level_sums, widths


def array_level_sums_reference(w: np.ndarray, cfg: ChipConfig) -> np.ndarray:
    """K × column arrays: the sum of each row's stored levels in each array (numpy twin of the kernel).

    Lays the levels out as the crossbar does (mapping.cell_levels, then ISAAC's flips of
    physics.columns), a block of about :data:`BLOCK_CELLS` cells at a time.
    """
    mapping = cfg.mapping
    w_q, _ = quantize_weights(w, mapping.weight_bits, mapping.weight_scale == "column")
    geometry = array_geometry(cfg)
    per_weight, width = geometry.cells_per_weight, geometry.columns_per_array
    k, n = w_q.shape
    physical = n * per_weight
    arrays = -(-physical // width)
    level_sums = np.empty((k, arrays), dtype=np.int64)
    step = max(1, BLOCK_CELLS // (k * width))  # column arrays per block
    for a0 in range(0, arrays, step):
        a1 = min(arrays, a0 + step)
        first, last = a0 * width, min(a1 * width, physical)  # physical columns of arrays a0 .. a1 - 1
        n0, n1 = first // per_weight, -(-last // per_weight)
        levels = cell_levels(w_q[:, n0:n1], geometry)[:, first - n0 * per_weight : last - n0 * per_weight]
        padded = np.zeros((k, (a1 - a0) * width), dtype=np.uint8)
        padded[:, : last - first] = stored_levels(levels, flip_mask(levels, geometry), geometry)
        level_sums[:, a0:a1] = padded.reshape(k, a1 - a0, width).sum(axis=2, dtype=np.int64)
    return level_sums


@dataclass(frozen=True)
class InputStatistics:
    """Per row of the matrix, averaged over vectors: non-zero DAC codes and Σ code² over a vector's cycles."""

    nonzero: np.ndarray  # (K,)
    code_sq: np.ndarray  # (K,)
    signed: bool


def measured_statistics(x: np.ndarray, cfg: ChipConfig) -> InputStatistics:
    """Statistics of the inputs ``x`` (M×K), quantised with one scale from their extremes as matmul does."""
    x = np.asarray(x, dtype=np.float64)
    scale = input_scale_for(float(x.min()), float(x.max()), cfg.mapping.input_bits)
    planes = input_planes(quantize_inputs(x, cfg.mapping.input_bits, scale), scale.signed, cfg)
    codes = planes.codes.astype(np.float64)
    m = x.shape[0]
    return InputStatistics((codes != 0).sum(axis=(0, 1)) / m, np.square(codes).sum(axis=(0, 1)) / m, scale.signed)


def modelled_statistics(k: int, cfg: ChipConfig, model: InputModel, seed: int = 0, samples: int = 64) -> InputStatistics:
    """Statistics of inputs drawn from ``model`` (:mod:`cimsim.physics.input_model`), over ``samples`` vectors.

    The same statistic for every row, so the counts do not depend on which rows the zeros hit.
    """
    x = model_inputs(samples, k, model, generator(seed))
    x[0, 0] = -1.0 if model.signed else x[0, 0]  # the scale's signedness follows the model, not the draw
    stats = measured_statistics(x, cfg)
    return InputStatistics(np.full(k, stats.nonzero.mean()), np.full(k, stats.code_sq.mean()), stats.signed)


def read_counts(fp: Footprint, stats: InputStatistics, vectors: float, cfg: ChipConfig) -> list[CountedAction]:
    """Actions of ``vectors`` vectors on the arrays of ``fp``: what ``AnalogMatrix.matmul`` charges."""
    return counts_of_reading(fp, stats, vectors, array_reading(cfg, stats.signed), cfg)


def counts_of_reading(
    fp: Footprint, stats: InputStatistics, vectors: float, reading: Reading, cfg: ChipConfig
) -> list[CountedAction]:
    """:func:`read_counts` with the :class:`~cimsim.costs.array_reads.Reading` of ``stats.signed``
    inputs given (``array_reading(cfg, stats.signed)``, which a plan computes once, not per layer)."""
    return counts_of_expected(fp, activity_per_vector(fp, stats), vectors, reading, cfg)


def activity_per_vector(fp: Footprint, stats: InputStatistics) -> tuple[float, float, float]:
    """The expected row drives, cells read and Σ code²·G (µS) of one vector on the arrays of ``fp``."""
    nonzero, code_sq = (stats.nonzero, stats.code_sq) if fp.rows_kept is None else (
        stats.nonzero[fp.rows_kept], stats.code_sq[fp.rows_kept])
    return float(nonzero @ fp.row_arrays), float(nonzero @ fp.row_cells), float(code_sq @ fp.g_row_sum_us)


def counts_of_expected(
    fp: Footprint, per_vector: tuple[float, float, float], vectors: float, reading: Reading, cfg: ChipConfig
) -> list[CountedAction]:
    """:func:`counts_of_reading` from the :func:`activity_per_vector` of ``fp`` and the statistics."""
    row_drives, cell_reads, code_sq_g_us = per_vector
    activity = ReadActivity(vectors=vectors, row_drives=vectors * row_drives, cell_reads=vectors * cell_reads,
                            code_sq_g_us=vectors * code_sq_g_us)
    return array_read_actions(fp, activity, reading, cfg)


def weight_arrays(weights: np.ndarray, cfg: ChipConfig) -> int:
    """Arrays the constant ``weights`` (K×N, or count×K×N: one matrix per group) occupy."""
    matrices = np.asarray(weights).reshape((-1,) + np.shape(weights)[-2:])
    return sum(footprint(w, *w.shape, cfg).arrays for w in matrices)
