"""Conversion columns: what the ADCs of a programmed matrix read, and how each reading is shift-added.

* A **conversion column** is one physical column, or with analog differential sensing one
  pair of columns (G+ minus G−, subtracted before the ADC). Each carries its output n, its
  slice s and its signed shift ±2^(c·s) (the sign of a digitally sensed G− column is its own
  shift's).
* **ISAAC's flips** (``mapping.flip_columns``): in each row block, a column whose cells hold
  more than half of the block's levels stores the complement, max level − level, so no column
  carries more than half the full range; the reading is restored as max level · Σcode − reading.
* **Segments** (:class:`~cimsim.physics.converters.ConversionPlan`): the charges one conversion
  sees are the cycles' currents weighted by their significance relative to the segment's
  first cycle, and summed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.physics.converters import ConversionPlan
from cimsim.physics.mapping import ArrayGeometry, WeightLayout


@dataclass(frozen=True)
class ConversionColumns:
    """Per conversion column: its output, shift-add weight, slice and physical column(s)."""

    output: np.ndarray  # output index n
    weight: np.ndarray  # ±2^(c·s)
    slice: np.ndarray  # slice index s
    plus: np.ndarray  # physical column of the (G+) cell
    minus: np.ndarray  # physical column of the G− cell (analog differential), else empty
    devices: int  # cells summed into one reading


def conversion_columns(layout: WeightLayout) -> ConversionColumns:
    """The conversion columns of ``layout`` (module docstring)."""
    geometry = layout.geometry
    out, sl, sign = layout.column_output(), layout.column_slice(), layout.column_sign()
    shift = 2.0 ** (geometry.bits_per_cell * sl)
    physical = np.arange(layout.physical_columns)
    if geometry.analog_differential:
        plus = physical[sign > 0]
        return ConversionColumns(out[plus], shift[plus], sl[plus], plus, plus + 1, 2)
    return ConversionColumns(out, sign * shift, sl, physical, physical[:0], 1)


def flip_mask(levels: np.ndarray, geometry: ArrayGeometry) -> np.ndarray:
    """(row blocks × physical columns): the columns ISAAC flips, those storing more than half the levels."""
    rows = geometry.rows
    blocks = -(-levels.shape[0] // rows)
    mask = np.zeros((blocks, levels.shape[1]), dtype=bool)
    if geometry.flip_columns:
        for b in range(blocks):
            block = levels[b * rows : (b + 1) * rows]
            mask[b] = 2 * block.sum(axis=0) > block.shape[0] * geometry.max_level
    return mask


def stored_levels(levels: np.ndarray, flipped: np.ndarray, geometry: ArrayGeometry, first_row: int = 0) -> np.ndarray:
    """The levels the cells hold: ``levels`` (stored rows from ``first_row`` on) with the flipped
    columns of each row block complemented."""
    flip_rows = flipped[np.arange(first_row, first_row + levels.shape[0]) // geometry.rows]
    return np.where(flip_rows, geometry.max_level - levels, levels)


def integrate_segments(currents: np.ndarray, plan: ConversionPlan) -> np.ndarray:
    """(M·T) × C currents → (M·segments) × C charges each conversion sees (relative weights applied)."""
    cycles = plan.relative_weight.size
    weighted = currents.reshape(-1, cycles, currents.shape[1]) * plan.relative_weight[None, :, None]
    return np.add.reduceat(weighted, plan.starts[:-1], axis=1).reshape(-1, currents.shape[1])
