"""One chunk of inputs as the DAC codes of every cycle, with the sums reading and counting need.

:func:`encode_chunk` quantises M vectors under a fixed :class:`~cimsim.physics.mapping.InputScale`
and splits them into the codes of each input cycle (:class:`~cimsim.physics.mapping.InputSchedule`,
``kernels.encode_inputs``). Alongside the codes it gathers, per (vector, cycle) row: Σ code²
per row block and column array over the rows driven there (for read noise: a row whose cells
in an array all hold level 0 is not driven in it, ``mapping.live_rows``), Σ code per row
block (for ISAAC's flips), and over the stored rows with a non-zero code what a drive reads
(:class:`RowLoads`): the arrays driven, the cells read, and Σ code²·G (µS). A code of 0
drives nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.config import ChipConfig
from cimsim.physics import kernels
from cimsim.physics.mapping import InputScale, InputSchedule, ceil_div, input_code_range


@dataclass(frozen=True)
class RowLoads:
    """Per stored row, what driving it reads: column arrays where it is live, cells, and their Σ G (µS)."""

    arrays: np.ndarray
    cells: np.ndarray
    g_sum_us: np.ndarray


@dataclass(frozen=True)
class EncodedChunk:
    """M vectors as (M·T) × K DAC codes (row m·T + t: vector m in cycle t) and their sums (module docstring)."""

    schedule: InputSchedule
    codes: np.ndarray
    code_sq_sum: np.ndarray  # (M·T) × row blocks × column arrays, driven rows only
    code_sum: np.ndarray  # (M·T) × row blocks
    drives: np.ndarray  # (M·T): (row, array) pairs driven
    reads: np.ndarray  # (M·T): cells read
    v2g: np.ndarray  # (M·T): Σ code²·G, µS
    xq_sum: np.ndarray  # M: Σ x_q of each vector

    @property
    def vectors(self) -> int:
        return self.xq_sum.size


def encode_chunk(
    x: np.ndarray, scale: InputScale, schedule: InputSchedule, loads: RowLoads, live: np.ndarray, codes: np.ndarray,
    cfg: ChipConfig,
) -> EncodedChunk:
    """Encode ``x`` (M × stored rows) into ``codes`` ((M·T) × K, a workspace the caller owns).

    ``live``: stored rows × column arrays, where each row is driven (``mapping.live_rows``).
    """
    m, k = x.shape
    rows, blocks = m * schedule.cycles, ceil_div(k, cfg.array.rows)
    enc = EncodedChunk(
        schedule=schedule,
        codes=codes,
        code_sq_sum=np.empty((rows, blocks, live.shape[1])),
        code_sum=np.empty((rows, blocks)),
        drives=np.empty(rows),
        reads=np.empty(rows),
        v2g=np.empty(rows),
        xq_sum=np.empty(m, dtype=np.int64),
    )
    q_min, q_max = input_code_range(cfg.mapping.input_bits, scale)
    kernels.encode_inputs(
        x, scale.scale, q_min, q_max, schedule.mode, schedule.offset, cfg.dac.bits,
        schedule.magnitude_cycles, cfg.array.rows, loads.g_sum_us, live, loads.arrays, loads.cells,
        enc.codes, enc.code_sq_sum, enc.code_sum, enc.drives, enc.reads, enc.v2g, enc.xq_sum,
    )
    return enc
