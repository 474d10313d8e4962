"""The actions of reading arrays, counted in one place.

:func:`array_read_actions` turns one read of a matrix's arrays into the list of counted
actions (:mod:`cimsim.costs.actions`). Its three callers differ only in where the activity
comes from:

* :class:`~cimsim.crossbar.AnalogMatrix` (functional): sums over the codes actually driven
  (``kernels.encode_inputs``), per chunk of vectors;
* :func:`cimsim.costs.array_counts.read_counts` (analytical): expected sums from a
  :class:`~cimsim.costs.array_counts.Footprint` and input statistics;
* :func:`cimsim.costs.peak.array_vector_ledger` (peak): one array, one vector, every row driven.

What is read is a :class:`ReadShape` (the arrays and what crosses them), what the inputs do a
:class:`ReadActivity`, and how inputs of one signedness are streamed, converted and timed a
:class:`Reading`. Per read of ``v`` vectors on R row blocks of C conversion columns:

* ``dac.conversions`` = row drives (data-dependent: a row whose code is 0 is not driven);
  ``wordline.row_cycles`` = v·K·(column arrays)·(input cycles), every stored row of every array
  in every input cycle, driven or not (data-independent: circuits that switch or precharge every
  wordline each cycle, as NeuRRAM's, CIM-15); ``cell.reads`` = cells read, ``cell.v2g_v2_us`` = Σ
  code²·G × (``device.v_read`` / (2^d − 1))², the DAC's volts per code squared;
* v·R·C conversion columns read: each sampled ``plan.samples`` times, converted and shift-added
  once per segment;
* ``partial_sum.adds`` = v·N·(R − 1); ``input_register.bits`` = v·K·b_x per array group the
  column arrays of a row block span (:func:`register_fills`: a group's arrays share its register);
  ``output_register.bits`` = v·R·N·``mapping.output_bits``: every row block's partial outputs are
  written to its array group's output register before the row blocks are added (ISAAC's 256 B
  per IMA holds its 8 arrays × 16 outputs × 16 bits, ISAAC-22);
* what the ADC kind adds (:meth:`~cimsim.physics.converters.AdcKind.read_actions`): its bit
  decisions, v·R·Σ decisions of a row block, and its bias over the read, the occupied arrays'
  ADCs × v × the vector time (an integrating ADC's read is not pipelined: no fill).

:func:`tile_movement` counts the tile buffer and bus traffic of array inputs and outputs, the
same for the peak figures and the scheduler: an input is read from the buffer once and broadcast
over the tile's bus to every column array of its row block (as ISAAC and NeuroSim count it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from cimsim.config import ChipConfig
from cimsim.costs.latency import ReadTiming, read_timing
from cimsim.physics.converters import Adc, Conversions, CountedAction, conversions, max_full_scale
from cimsim.physics.mapping import InputSchedule, array_geometry, input_schedule


@dataclass(frozen=True)
class ReadShape:
    """The arrays a matrix occupies, as a read sees them (counts may be fractional for peak's averages)."""

    stored_rows: int  # K less the all-zero rows left out (mapping.compact_rows)
    outputs: float  # N (peak: the weights' columns one array holds, on average)
    row_blocks: int
    column_arrays: int  # arrays side by side along the columns of one row block
    conversion_columns: float  # columns converted per row block
    arrays: int  # arrays holding a live row (their ADCs are biased while they read)


@dataclass(frozen=True)
class ReadActivity:
    """What the inputs of a read do: over ``vectors`` vectors and all their input cycles.

    ``row_drives``: (row, array) pairs driven with a non-zero code; ``cell_reads``: cells on
    those rows; ``code_sq_g_us``: Σ code²·G over the cells read (µS; code in DAC steps).
    """

    vectors: float
    row_drives: float
    cell_reads: float
    code_sq_g_us: float


@dataclass(frozen=True)
class Reading:
    """How inputs of one signedness are streamed (schedule), converted (by ``adc``) and timed."""

    schedule: InputSchedule
    adc: Adc
    conversions: Conversions
    timing: ReadTiming

    @property
    def samples_per_column(self) -> float:
        """Times one conversion column is sampled per vector (over its segments)."""
        return self.conversions.plan.total_samples

    @cached_property
    def decisions_per_column(self) -> np.ndarray:
        """Bit decisions of one vector per column of ``conversions`` (over its segments); kept, as above."""
        return self.conversions.decisions.sum(axis=0)


def array_reading(cfg: ChipConfig, signed: bool, column_steps: np.ndarray | None = None) -> Reading:
    """The :class:`Reading` of inputs of this signedness.

    ``column_steps``: the ADC step of each conversion column (level units, :meth:`Adc.step`);
    None: one column at the largest full scale, standing for every column (``adc.range = "max"``).
    A vector's timing takes each segment's most bit decisions over the columns.
    """
    schedule = input_schedule(signed, cfg)
    adc = Adc.for_config(cfg)
    steps = np.array([adc.step(max_full_scale(cfg, schedule.top_code))]) if column_steps is None else column_steps
    conv = conversions(cfg, adc, schedule, steps)
    return Reading(schedule, adc, conv, read_timing(cfg, conv.plan, conv.decisions.max(axis=1)))


def row_block_decisions(conv: Conversions, conversion_columns: float) -> float:
    """Bit decisions of one vector on one row block: over every column, or one column standing for all."""
    return _row_block_decisions(conv.decisions.sum(axis=0), conversion_columns)


def _row_block_decisions(per_column: np.ndarray, conversion_columns: float) -> float:
    """:func:`row_block_decisions` from the decisions of each column, summed over the segments."""
    if per_column.size == 1:
        return conversion_columns * float(per_column[0])
    return float(per_column.sum())


def array_read_actions(
    shape: ReadShape, activity: ReadActivity, reading: Reading, cfg: ChipConfig
) -> list[CountedAction]:
    """Every action of reading ``activity.vectors`` vectors on the arrays of ``shape`` (module docstring)."""
    geometry = array_geometry(cfg)
    plan, vectors = reading.conversions.plan, activity.vectors
    columns = vectors * shape.row_blocks * shape.conversion_columns  # conversion columns read, all row blocks
    counts = [
        ("dac", "conversions", activity.row_drives),
        ("wordline", "row_cycles", vectors * shape.stored_rows * shape.column_arrays * reading.schedule.cycles),
        ("cell", "reads", activity.cell_reads),
        ("cell", "v2g_v2_us", cell_v2g_v2_us(activity, cfg)),
        ("sample_hold", "samples", columns * reading.samples_per_column),
        ("adc", "conversions", columns * plan.segments),
        ("shift_add", "ops", columns * plan.segments),
        ("partial_sum", "adds", vectors * shape.outputs * (shape.row_blocks - 1)),
        ("input_register", "bits", vectors * shape.stored_rows * cfg.mapping.input_bits * register_fills(shape, cfg)),
        ("output_register", "bits", vectors * shape.row_blocks * shape.outputs * cfg.mapping.output_bits),
    ]
    bit_decisions = vectors * shape.row_blocks * _row_block_decisions(reading.decisions_per_column, shape.conversion_columns)
    biased_adc_ns = shape.arrays * geometry.adcs_per_array * (vectors * reading.timing.vector_ns)
    return counts + reading.adc.kind.read_actions(bit_decisions, biased_adc_ns)


def cell_v2g_v2_us(activity: ReadActivity, cfg: ChipConfig) -> float:
    """Σ V²·G over the cells ``activity`` reads (V²·µS): Σ code²·G at the DAC's volts per code."""
    volts_per_code = cfg.device.v_read / (2**cfg.dac.bits - 1)
    return activity.code_sq_g_us * volts_per_code**2


def register_fills(shape: ReadShape, cfg: ChipConfig) -> int:
    """Input registers one row block's inputs fill: one per array group its column arrays span.

    The arrays of a group share its input register (ISAAC's IMA, NeuroSim's subarray inputs), so
    the column arrays of a row block, placed side by side, take its inputs from
    ceil(column arrays / ``tile.arrays_per_group``) registers, not one copy each.
    """
    return -(-shape.column_arrays // cfg.tile.arrays_per_group)


def tile_movement(input_bits: float, output_bits: float) -> list[CountedAction]:
    """Inputs written into and read from the tile buffer and across its bus; outputs written and across it."""
    return [
        ("buffer", "bits", 2 * input_bits + output_bits),
        ("bus", "bits", input_bits + output_bits),
    ]
