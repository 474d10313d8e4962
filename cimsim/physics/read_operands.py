"""What reads of a programmed matrix need from its cells, computed a chunk of rows at a time.

A programmed matrix does not hold its cells' conductances: at every device time (programming,
each ``drift_to``) it draws the cells again from the generator states of its programming
(:func:`cimsim.physics.device.programmed_rows`) or reads them from a loaded file, a chunk of
whole row blocks at a time, and keeps only what its reads use (:class:`ReadOperands`):

* the **operand**: the noise-free current of each cell per unit of DAC code, in level units
  (currents over the current of one conductance level at one DAC step), per conversion column:
  ``(G(t)[plus] − G(t)[minus] or g_min) · (2^c − 1) / (g_max − g_min)``, G(t) after drift,
  per-evaluation read noise and IR drop. Products take it in float32, or in float64 when it is
  integer-valued and an exact sum over a row block could exceed float32's 2^24
  (:attr:`ReadOperands.product_dtype`). While every value, rounded to float32, is an integer
  within ±127 (noise-free, undrifted cells: ``ideal``, ``isaac``, ``rram-22nm``) it is held as
  int8, a quarter of the memory, which reads widen a row block at a time to the same float32
  numbers; from the first chunk that is not, in float32 (the rows before copied exactly);
  integers beyond ±127 for float64 products are widened to float64 at the end;
* the **read-noise variance** per unit of code² (level units², per conversion column) when σ
  depends on the conductance and read noise is drawn per read; else one constant;
* the **row loads**: per stored row, the column arrays where it is live, its live cells and
  their Σ G(t) (µS), for counting.

Every per-cell temporary lives for one chunk of about :data:`CELLS_PER_CHUNK` cells (whole row
blocks when IR drop is modelled: it is solved per array, and such chunks start at multiples of
``array.rows``), so chunking changes no number;
nor does it change the random draws (each is drawn in row-major order, chunk after chunk, as one
draw of the whole matrix would be).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from cimsim.config import ChipConfig
from cimsim.physics import device
from cimsim.physics.circuit import matrix_ir_drop
from cimsim.physics.columns import ConversionColumns, stored_levels
from cimsim.physics.encoding import RowLoads
from cimsim.physics.mapping import ArrayGeometry, WeightLayout

FLOAT32_EXACT = 2**24
CELLS_PER_CHUNK = 2**18  # one chunk's float64 temporaries: 2 MB each


def rows_per_chunk(cfg: ChipConfig, physical_columns: int) -> int:
    """Rows of about :data:`CELLS_PER_CHUNK` cells (at least one): whole row blocks of
    ``array.rows`` when IR drop is solved (per array), else any number of rows."""
    block_rows = cfg.array.rows if cfg.array.wire_resistance_ohm > 0 else 1
    return block_rows * max(1, CELLS_PER_CHUNK // (block_rows * max(1, physical_columns)))


@dataclass(frozen=True)
class CellMap:
    """Where a matrix's levels sit: what the layout fixes about its cells.

    ``layout``: the quantised weights whose cell levels (stored rows × physical columns) the
    cells hold; ``flipped``: row blocks × physical columns, ISAAC's complemented columns;
    ``live``: stored rows × column arrays, rows driven there.
    """

    cfg: ChipConfig
    geometry: ArrayGeometry
    columns: ConversionColumns
    layout: WeightLayout
    flipped: np.ndarray
    live: np.ndarray

    @property
    def rows_per_chunk(self) -> int:
        """Rows of one chunk (:func:`rows_per_chunk`)."""
        return rows_per_chunk(self.cfg, self.layout.physical_columns)

    def target_us(self, r0: int, r1: int) -> np.ndarray:
        """Target conductances (µS) of stored rows r0 .. r1 − 1:
        ``g_min + (g_max − g_min) · level / (2^c − 1)`` of the levels the cells hold."""
        d = self.cfg.device
        held = stored_levels(self.layout.levels_of(r0, r1), self.flipped, self.geometry, first_row=r0)
        return d.g_min_us + (d.g_max_us - d.g_min_us) * held / self.geometry.max_level

    def per_level(self) -> float:
        """Level units per µS: (2^c − 1) / (g_max − g_min)."""
        d = self.cfg.device
        return self.geometry.max_level / (d.g_max_us - d.g_min_us)


@dataclass(frozen=True)
class ReadOperands:
    """What reads use at one device time (module docstring)."""

    operand: np.ndarray
    product_dtype: np.dtype
    read_var: np.ndarray | None
    constant_read_var: float
    row_loads: RowLoads


def read_operands(cell_map: CellMap, cells: Iterable[tuple[slice, device.ProgrammedCells]], t_s: float,
                  evaluation: np.random.Generator | None) -> ReadOperands:
    """The operands at time ``t_s`` of ``cells`` (chunks of whole row blocks, in order);
    ``evaluation``: the per-evaluation read-noise stream (None when noise is drawn per read)."""
    d, cols = cell_map.cfg.device, cell_map.columns
    k = cell_map.layout.w_q.shape[0]
    exact_possible = _largest_sum(cell_map) >= FLOAT32_EXACT
    shape = (k, cols.plus.size)
    operand = None  # int8 while every value is an integer within ±127, float32 from the first that is not
    integers = True  # every operand integer-valued so far
    variance_per_cell = d.read_noise_draw == "per_read" and not device.read_noise_is_constant(d)
    read_var = np.empty(shape, dtype=np.float64 if exact_possible else np.float32) if variance_per_cell else None
    g_sum_us, cells_live = np.empty(k), np.empty(k)
    for rows, chunk in cells:
        g_now = _conductance_now(cell_map, chunk, t_s, evaluation)
        live = cell_map.live[rows][:, np.arange(g_now.shape[1]) // cell_map.geometry.columns_per_array]
        cells_live[rows] = live.sum(axis=1)
        g_sum_us[rows] = (g_now * live).sum(axis=1)
        values = _operand(cell_map, g_now)
        integers = integers and np.array_equal(values, np.rint(values))  # float64 products need these
        rounded = values.astype(np.float32)  # what float32 products take
        operand = _held(operand, shape, _small_integers(rounded), rows.start)
        operand[rows] = rounded  # int8: those integers exactly (so are float64 ones, when integers)
        if read_var is not None:
            read_var[rows] = _variance(cell_map, chunk, g_now, t_s)
    product_dtype = np.dtype(np.float64 if integers and exact_possible else np.float32)
    if operand.dtype == np.float32 and product_dtype == np.float64:
        operand = operand.astype(np.float64)  # integers beyond ±127 for float64 products
    loads = RowLoads(cell_map.live.sum(axis=1).astype(np.float64), cells_live, g_sum_us)
    constant = 0.0
    if d.read_noise_draw == "per_read" and not variance_per_cell:
        constant = (d.read_noise * d.g_max_us * cell_map.per_level()) ** 2 * cols.devices
    read_var = None if read_var is None else read_var.astype(product_dtype, copy=False)
    return ReadOperands(operand, product_dtype, read_var, constant, loads)


def _small_integers(values: np.ndarray) -> bool:
    """Are ``values`` (float32, as products would take them) integers within ±127?"""
    return np.array_equal(values, np.rint(values)) and max(float(values.max()), -float(values.min())) <= 127


def _held(operand: np.ndarray | None, shape: tuple[int, int], small: bool, filled: int) -> np.ndarray:
    """The array the next chunk is written to: a new int8 one (``small``: integers within ±127) or
    float32 one at the first chunk, ``operand`` itself after, widened to float32 (its first
    ``filled`` rows copied, exactly) at the first chunk that is not ``small``."""
    if operand is None:
        return np.empty(shape, dtype=np.int8 if small else np.float32)
    if small or operand.dtype != np.int8:
        return operand
    widened = np.empty(shape, dtype=np.float32)
    widened[:filled] = operand[:filled]
    return widened


def _largest_sum(cell_map: CellMap) -> int:
    """The largest noise-free sum of one row block's column, level units × DAC steps."""
    return cell_map.cfg.array.rows * cell_map.geometry.max_level * (2**cell_map.cfg.dac.bits - 1)


def _conductance_now(cell_map: CellMap, cells: device.ProgrammedCells, t_s: float,
                     evaluation: np.random.Generator | None) -> np.ndarray:
    """G(t) of a chunk as reads see it (µS): drifted, with the evaluation's read noise, after IR drop."""
    d = cell_map.cfg.device
    g_cells = device.conductance_at(cells, d, t_s)
    if evaluation is not None:
        g_cells = device.with_read_noise(cells, g_cells, d, t_s, evaluation)
    return matrix_ir_drop(g_cells, cell_map.cfg.array, cell_map.geometry.columns_per_array)


def _operand(cell_map: CellMap, g_now: np.ndarray) -> np.ndarray:
    """Noise-free current per unit of DAC code, level units, per conversion column (float64)."""
    cols = cell_map.columns
    reference = g_now[:, cols.minus] if cols.minus.size else cell_map.cfg.device.g_min_us
    return (g_now[:, cols.plus] - reference) * cell_map.per_level()


def _variance(cell_map: CellMap, cells: device.ProgrammedCells, g_now: np.ndarray, t_s: float) -> np.ndarray:
    """Read-noise variance per unit of code², level units², summed over a conversion's devices."""
    cols = cell_map.columns
    variance = (device.read_noise_sigma_us(cells, g_now, cell_map.cfg.device, t_s) * cell_map.per_level()) ** 2
    return variance[:, cols.plus] + (variance[:, cols.minus] if cols.minus.size else 0.0)
