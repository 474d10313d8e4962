"""Expected action counts of a matrix product on the arrays, from shapes and input statistics.

The functional model (:class:`~cimsim.crossbar.AnalogMatrix`) counts what its inputs do: a
row is driven, and its cells read, in every input cycle whose DAC code is not 0, and the read
energy is Σ code²·ΣG of the row. This module counts the same actions without pushing data:

* :class:`Footprint`: what the counts need of a programmed matrix, from its weights when they
  are known (rows live in each column array, cells read per row, ΣG per row at the *target*
  conductances: programming noise is zero-mean, drift is not modelled here), or else assuming
  every row is live and every cell sits at the mean of its levels;
* :class:`InputStatistics`: per row, the non-zero codes and Σ code² of one vector, over all
  its cycles; measured from data (:func:`measured_statistics`) or drawn from a model of the
  inputs (:func:`modelled_statistics`);
* :func:`read_counts`: the counts of ``vectors`` vectors, the same list that
  ``AnalogMatrix.matmul`` charges. With the statistics measured from the inputs of a
  noise-free product, both give the same counts (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.physics.converters import Adc, analog_differential, conversions, max_full_scale
from cimsim.costs.area import adcs_per_array
from cimsim.config import ChipConfig
from cimsim.physics import kernels
from cimsim.physics.mapping import (
    array_grid,
    cell_levels,
    columns_per_array,
    input_planes,
    input_scale_for,
    input_schedule,
    occupied_arrays,
    quantize_inputs,
    quantize_weights,
    slices_and_signs,
    symmetric_scale,
    weight_offset,
)
from cimsim.physics.input_model import InputModel, model_inputs
from cimsim.physics.seeding import generator


BLOCK_CELLS = 2**22


@dataclass(frozen=True)
class Footprint:
    """One K×N matrix on the arrays, as counting sees it."""

    k: int  # rows stored (K less the all-zero rows left out by mapping.compact_rows)
    n: int
    row_blocks: int
    column_arrays: int
    arrays: int  # arrays holding a live row
    conversion_columns: int  # columns converted per row block
    row_arrays: np.ndarray  # (K,) column arrays in which the row is live
    row_cells: np.ndarray  # (K,) cells read when the row is driven
    g_row_sum_us: np.ndarray  # (K,) Σ G of those cells
    rows_kept: np.ndarray | None = None  # which of the matrix's rows are stored (None: all)


def footprint(weights: np.ndarray | None, k: int, n: int, cfg: ChipConfig) -> Footprint:
    """The footprint of ``weights`` (K×N), or of a dense K×N matrix at mean conductance when None."""
    row_blocks, column_arrays = array_grid(k, n, cfg)
    slices, signs = slices_and_signs(cfg)
    physical = n * slices * signs
    converted = physical // 2 if analog_differential(cfg) else physical
    d = cfg.device
    if weights is None:
        mean_g = (d.g_min_us + d.g_max_us) / 2
        return Footprint(
            k, n, row_blocks, column_arrays, row_blocks * column_arrays, converted,
            np.full(k, float(column_arrays)), np.full(k, float(physical)), np.full(k, physical * mean_g),
        )
    w = np.asarray(weights)
    w = w if np.issubdtype(w.dtype, np.floating) else w.astype(np.float64)
    scale, q_max = _weight_scale(w, cfg)
    kept = None
    if cfg.mapping.compact_rows:
        nonzero = kernels.nonzero_rows(w, scale, q_max)
        if not nonzero.all():
            kept = np.flatnonzero(nonzero) if nonzero.any() else np.zeros(1, dtype=np.int64)
            w = np.ascontiguousarray(w[kept])
            k = w.shape[0]
            row_blocks = array_grid(k, n, cfg)[0]
    live, level_sums, widths = _array_level_sums(w, scale, q_max, cfg)
    max_level = 2**cfg.array.bits_per_cell - 1
    row_cells = (live * widths[None, :]).sum(axis=1).astype(np.float64)
    live_levels = (live * level_sums).sum(axis=1).astype(np.float64)
    g_row_sum = d.g_min_us * row_cells + (d.g_max_us - d.g_min_us) / max_level * live_levels
    return Footprint(
        k, n, row_blocks, column_arrays, occupied_arrays(live, cfg.array.rows), converted,
        live.sum(axis=1).astype(np.float64), row_cells, g_row_sum, kept,
    )


def _weight_scale(w: np.ndarray, cfg: ChipConfig) -> tuple[np.ndarray, float]:
    """s_w per column (float64, as for float64 weights) and the largest integer weight."""
    mapping = cfg.mapping
    q_max = 2 ** (mapping.weight_bits - 1) - 1
    max_abs = np.abs(w).max(axis=0) if mapping.weight_scale == "column" else np.full(w.shape[1], np.abs(w).max())
    return symmetric_scale(max_abs.astype(np.float64), q_max), float(q_max)


def _array_level_sums(
    w: np.ndarray, scale: np.ndarray, q_max: float, cfg: ChipConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row and column array: is the row live, the sum of its stored levels; and each array's width.

    The numba kernel walks the weights once per pass and never holds the cells (GPT-2's 10^8
    weights are 10^9 cells on ISAAC).
    """
    slices, signs = slices_and_signs(cfg)
    width = columns_per_array(cfg)
    level_sums = kernels.array_level_sums(
        w, scale, q_max, weight_offset(cfg), slices, signs,
        cfg.array.bits_per_cell, cfg.array.rows, width, cfg.mapping.flip_columns,
    )
    physical = w.shape[1] * slices * signs
    widths = np.minimum(width, physical - width * np.arange(level_sums.shape[1]))
    return level_sums > 0, level_sums, widths


def array_level_sums_reference(w: np.ndarray, cfg: ChipConfig) -> np.ndarray:
    """K × column arrays: the sum of each row's stored levels in each array (numpy twin of the kernel).

    Lays the levels out as the crossbar does (mapping.cell_levels, then ISAAC's flips), a block
    of about :data:`BLOCK_CELLS` cells at a time.
    """
    mapping = cfg.mapping
    w_q, _ = quantize_weights(w, mapping.weight_bits, mapping.weight_scale == "column")
    slices, signs = slices_and_signs(cfg)
    per_weight, width = slices * signs, columns_per_array(cfg)
    k, n = w_q.shape
    physical = n * per_weight
    arrays = -(-physical // width)
    level_sums = np.empty((k, arrays), dtype=np.int64)
    max_level = 2**cfg.array.bits_per_cell - 1
    step = max(1, BLOCK_CELLS // (k * width))  # column arrays per block
    for a0 in range(0, arrays, step):
        a1 = min(arrays, a0 + step)
        first, last = a0 * width, min(a1 * width, physical)  # physical columns of arrays a0 .. a1 - 1
        n0, n1 = first // per_weight, -(-last // per_weight)
        levels = cell_levels(w_q[:, n0:n1], cfg)[:, first - n0 * per_weight : last - n0 * per_weight]
        padded = np.zeros((k, (a1 - a0) * width), dtype=np.uint8)
        padded[:, : last - first] = _flipped(levels, max_level, cfg)
        level_sums[:, a0:a1] = padded.reshape(k, a1 - a0, width).sum(axis=2, dtype=np.int64)
    return level_sums


def _flipped(levels: np.ndarray, max_level: int, cfg: ChipConfig) -> np.ndarray:
    """Levels as stored, after ISAAC's column flips (a column of a row block storing over half its levels)."""
    if not cfg.mapping.flip_columns:
        return levels
    rows = cfg.array.rows
    stored = levels.copy()
    for b in range(0, levels.shape[0], rows):
        block = levels[b : b + rows]
        flip = 2 * block.sum(axis=0, dtype=np.int64) > block.shape[0] * max_level
        stored[b : b + rows, flip] = max_level - block[:, flip]
    return stored


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


def read_counts(fp: Footprint, stats: InputStatistics, vectors: float, cfg: ChipConfig) -> list[tuple[str, str, float]]:
    """Actions of ``vectors`` vectors on the arrays of ``fp``: what ``AnalogMatrix.matmul`` charges."""
    schedule = input_schedule(stats.signed, cfg)
    adc = Adc.for_config(cfg)
    conv = conversions(cfg, adc, schedule.weight, np.full(fp.conversion_columns, adc.step(max_full_scale(cfg))))
    plan = conv.plan
    v_step = cfg.device.v_read / (2**cfg.dac.bits - 1)
    columns = vectors * fp.row_blocks * fp.conversion_columns
    nonzero, code_sq = (stats.nonzero, stats.code_sq) if fp.rows_kept is None else (
        stats.nonzero[fp.rows_kept], stats.code_sq[fp.rows_kept])
    counts = [
        ("dac", "conversions", vectors * float(nonzero @ fp.row_arrays)),
        ("cell", "reads", vectors * float(nonzero @ fp.row_cells)),
        ("cell", "v2g_v2_us", vectors * float(code_sq @ fp.g_row_sum_us) * v_step**2),
        ("sample_hold", "samples", columns * plan.samples.sum()),
        ("adc", "conversions", columns * plan.segments),
        ("shift_add", "ops", columns * plan.segments),
        ("partial_sum", "adds", vectors * fp.n * (fp.row_blocks - 1)),
        ("input_register", "bits", vectors * fp.k * cfg.mapping.input_bits * fp.column_arrays),
        ("output_register", "bits", vectors * fp.n * cfg.mapping.output_bits),
    ]
    if cfg.adc.kind == "integrating":
        counts.append(("adc", "steps", vectors * fp.row_blocks * float(conv.decisions.sum())))
    return counts


def integrating_active_ns(fp: Footprint, read_ns: float, cfg: ChipConfig) -> list[tuple[str, str, float]]:
    """The bias time of integrating ADCs while the arrays of ``fp`` read for ``read_ns``."""
    if cfg.adc.kind != "integrating":
        return []
    return [("adc", "active_ns", fp.arrays * adcs_per_array(cfg) * read_ns)]


def weight_arrays(weights: np.ndarray, cfg: ChipConfig) -> int:
    """Arrays the constant ``weights`` (K×N, or count×K×N: one matrix per group) occupy."""
    matrices = np.asarray(weights).reshape((-1,) + np.shape(weights)[-2:])
    return sum(footprint(w, *w.shape, cfg).arrays for w in matrices)
