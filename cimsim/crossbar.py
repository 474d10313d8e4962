"""``AnalogMatrix``: a weight matrix programmed onto resistive arrays, and its analog product.

The functional model of docs/physics.md. Quantities in "level units" are currents
divided by the current of one conductance level at one DAC step,
``(v_read / (2^d − 1)) · (g_max − g_min) / (2^c − 1)``, after the ``g_min·ΣV`` offset has been
removed (exactly, from the known inputs). In level units a noise-free column reads an integer.

* **Programmed state** (:mod:`cimsim.physics.programmed_state`): the matrix holds its quantised
  weights (int8) and the generator states of its programming, not its cells' levels or
  conductances; at every device time (:meth:`drift_to`) it draws the cells again, a chunk of
  rows at a time, and keeps only what reads use (:mod:`cimsim.physics.read_operands`): 1.2 to
  4.4 bytes per cell, 8.2 with a per-cell read-noise variance (docs/physics.md §13).
* Rows are split into blocks of ``array.rows``; every block is read and converted on its own and
  the partial sums are added digitally. Physical columns are tiled over arrays of
  ``array.cols``; with analog differential sensing the two cells of a pair always share an
  array (a digitally sensed pair may straddle two, as each column is converted on its own).
  The geometry is the configuration's :class:`~cimsim.physics.mapping.ArrayGeometry`; the
  conversion columns and ISAAC's flips are :mod:`cimsim.physics.columns`'.
* The product of one row block is one BLAS call: every (vector, input cycle) against every
  column, ``(M·T) × rows`` times ``rows × columns``, in float32 (float64 when the
  operand is integer-valued and an exact sum could exceed float32's 2^24).
* **Read noise** is a per-device Gaussian, drawn once per evaluation time into the conductances
  at :meth:`drift_to` (``device.read_noise_draw = "per_evaluation"``, aihwkit's convention) or
  anew at every read (``"per_read"``). Per read, its exact column-level
  equivalent is used: a column current ``I = Σ_k V_k (G_k + ε_k)`` with independent
  ``ε_k ~ N(0, σ_k²)`` is ``N(Σ V_k G_k, Σ V_k² σ_k²)``, so each conversion draws one Gaussian.
  Only rows driven in the column's array count (see *Sparse weights*: a row not live there, or
  with a code of 0, carries no current). When σ is a constant fraction of g_max the variance
  is ``σ² · ΣV²`` over those rows (per vector, cycle and column array); when it depends on the
  conductance it takes a second product, V² times σ².
* **IR drop** (``array.ir_drop``, when ``array.wire_resistance_ohm`` > 0): the conductances reads
  see, solved per array or first order (:func:`~cimsim.physics.circuit.matrix_ir_drop`), once per
  device state; the column currents stay ``V @ G_eff``, one BLAS product.
* **ADC** (cimsim/physics/converters.py): codes, full scale and step, and the kind's step per
  segment. With ``adc.range = "calibrated"`` the
  full scale of each weight slice is a percentile of the noise-free currents seen by
  :meth:`calibrate`. Input-referred noise ``adc.noise_lsb`` adds to the read noise before
  rounding; readings clip at the rails. Each ADC's static errors (offset, gain, INL, DNL:
  :class:`~cimsim.physics.converters.AdcErrors`) are drawn at programming, after every other
  draw, into :attr:`AnalogMatrix.adc_errors`.
* **Reconstruction**: shift-and-add over slices and cycles, differential columns subtracted,
  flipped columns restored, offsets of ``offset`` encodings removed, scaled by s_x · s_w.
* **Sparse weights**: a row whose cells in one array all hold level 0 (g_min) carries no signal
  there, so it is not driven in that array (no DAC drive, no cell read, no read noise energy),
  and an array none of whose rows carries a level is not needed: pruned weights (block sparsity,
  whole zero rows) use fewer drives, reads, energy and arrays. Rows are not re-packed into fewer
  row blocks: N:M sparsity with a pattern per column leaves no row empty and saves no array.
* **Counting**: each chunk of vectors hands what its codes did (row drives, cell reads,
  Σ code²·G) to :func:`~cimsim.costs.array_reads.array_read_actions`, the one function that
  counts array reads, and charges the result to :attr:`AnalogMatrix.ledger`.
"""

from __future__ import annotations

import math
import os
from typing import IO

import numpy as np

from cimsim.config import ChipConfig
from cimsim.costs.array_reads import ReadActivity, Reading, ReadShape, array_read_actions, array_reading
from cimsim.costs.energy import EnergyModel
from cimsim.costs.ledger import Ledger
from cimsim.errors import ConfigError, ShapeError, as_real_matrix
from cimsim.host_memory import check_allocation, programming_bytes
from cimsim.physics import device, kernels, random_stream
from cimsim.physics.calibration import SliceSamples, sums_exact_in_float32
from cimsim.physics.columns import conversion_columns, flip_mask, integrate_segments, stored_levels
from cimsim.physics.converters import Adc, AdcErrors, conversion_plan, draw_adc_errors, max_full_scale
from cimsim.physics.drift_compensation import GlobalDriftCompensation
from cimsim.physics.encoding import EncodedChunk, encode_chunk
from cimsim.physics.mapping import (
    LEVEL_CHUNK_CELLS,
    InputScale,
    InputSchedule,
    array_geometry,
    input_schedule,
    input_scale_for,
    kept_rows,
    layout_weights,
    live_rows,
    occupied_arrays,
)
from cimsim.physics.matrix_file import SavedMatrix, read_matrix, write_matrix
from cimsim.physics.programmed_state import ProgrammedState, checked_compensation
from cimsim.physics.read_operands import CellMap, rows_per_chunk
from cimsim.physics.seeding import generator

CURRENT_BUFFER_ELEMENTS = 2**23  # one chunk's currents (32 MB in float32): a few thousand BLAS rows
CALIBRATION_SAMPLES_PER_SLICE = 2**22  # charges per weight slice a calibration takes its percentile over


class AnalogMatrix(ProgrammedState):
    """A K×N weight matrix programmed once onto crossbar arrays; :meth:`matmul` reads it.

    Parameters
    ----------
    weights : array (K, N)
        inputs on rows, outputs on columns.
    cfg : ChipConfig
        the chip; docs/configuration.md lists its fields.
    seed : int or numpy.random.Generator
        the source of every random draw: programming noise, faults and drift exponents are
        drawn here, once; each call to :meth:`matmul` then draws its read and ADC noise from a
        stream keyed by this seed and the call's index (read noise drawn per evaluation: from a
        stream keyed by this seed and the time of :meth:`drift_to`).
    drift_compensation : GlobalDriftCompensation or None
        None (default): reads see the drifted conductances as they are. A
        :class:`~cimsim.physics.drift_compensation.GlobalDriftCompensation`: its probe is read at
        programming time and at every :meth:`drift_to`, and the outputs of :meth:`matmul` are
        multiplied by the ratio, :attr:`drift_gain` (aihwkit's global drift compensation).
    """

    def __init__(self, weights, cfg: ChipConfig, seed: int | np.random.Generator = 0,
                 drift_compensation: GlobalDriftCompensation | None = None):
        if not isinstance(cfg, ChipConfig):
            raise ConfigError(f"cfg: expected a cimsim.ChipConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.geometry = array_geometry(cfg)  # rejects arrays too narrow for the mapping now, not at the first read
        self._lay_out(weights)
        rng = generator(seed)
        adcs = self._arrange()
        shape = (self.stored_rows, self.physical_columns)
        draws = device.draw_states(shape, self._cell_map.target_us, cfg.device, rng, self._cell_map.rows_per_chunk)
        noise_key = np.uint64(rng.integers(0, 2**63))
        adc_errors = draw_adc_errors(cfg, self.adc, adcs, rng)  # after every other draw: they keep their values
        self._settle(draws, noise_key, adc_errors, drift_compensation)
        self.energy.charge(self.ledger, "cell", "writes", shape[0] * shape[1])

    def _lay_out(self, weights) -> None:
        """Quantise and slice ``weights`` into :attr:`layout` (their float64 copy ends here)."""
        w = as_real_matrix(weights, "weights")
        if 0 in w.shape:
            raise ShapeError(f"weights: expected a non-empty K x N matrix, got shape {w.shape}")
        self._k = w.shape[0]
        self.rows_kept = kept_rows(w, self.cfg)  # None: every row is stored
        self._check_memory(w.shape[0] if self.rows_kept is None else self.rows_kept.size, w.shape[1])
        self.layout = layout_weights(w, self.cfg, self.rows_kept)  # no copy of the kept rows

    def _settle(self, cells: device.DrawStates | device.ProgrammedCells, noise_key: np.uint64,
                adc_errors: AdcErrors, drift_compensation: GlobalDriftCompensation | None) -> None:
        """Hold the programmed state, at programming time: no read yet, no calibration, an empty ledger.

        ``cells``: the generator states the cells are drawn again from (programmed here), or the
        cells themselves (loaded from a file)."""
        cfg = self.cfg
        self._cell_source, self._noise_key, self.adc_errors = cells, noise_key, adc_errors
        self._calls = 0
        self.energy = EnergyModel(cfg)
        self.ledger = Ledger()
        self.latency_ns = 0.0
        self.input_scale: InputScale | None = None
        self._schedules: dict[bool, InputSchedule] = {}
        self._readings: dict[bool, Reading] = {}
        self._adc_lsb = None  # the calibrated steps (adc.range = "calibrated")
        self.drift_compensation = checked_compensation(drift_compensation)
        self._drift_reference: float | None = None  # the probe's readout at programming time
        self.drift_to(0.0)  # programming time: G = G_prog under either device.drift_clock

    def _arrange(self) -> int:
        """Everything the layout fixes (columns, flips, driven rows, ADCs); returns the number of ADCs."""
        cfg = self.cfg
        self.adc = Adc.for_config(cfg)
        self._columns = conversion_columns(self.layout)
        self._column_array = self._columns.plus // self.geometry.columns_per_array
        self._flipped, self._live = self._flips_and_live_rows()
        self._cell_map = CellMap(cfg, self.geometry, self._columns, self.layout, self._flipped, self._live)
        self.read_shape = self._read_shape()
        self._column_adc = self._conversion_adcs()
        adcs = self.row_blocks * self.column_arrays * self.geometry.adcs_per_array
        if cfg.adc.inl_lsb or cfg.adc.dnl_lsb:
            check_allocation(
                adcs * 2**cfg.adc.bits * 8, f"the transition levels of {adcs:,} ADCs of {cfg.adc.bits} bits",
                "lower adc.bits or program the matrix in column slices",
            )
        return adcs

    def _flips_and_live_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """ISAAC's flips (row blocks × physical columns) and the rows driven in each column array
        (stored rows × column arrays), from the levels of whole row blocks of about
        :data:`~cimsim.physics.mapping.LEVEL_CHUNK_CELLS` cells at a time (not held)."""
        g = self.geometry
        rows = g.rows
        step = rows * max(1, LEVEL_CHUNK_CELLS // (rows * self.physical_columns))
        flipped, live = [], []
        for r0 in range(0, self.stored_rows, step):
            levels = self.layout.levels_of(r0, r0 + step)
            flipped.append(flip_mask(levels, g))  # the chunk starts a row block
            live.append(live_rows(stored_levels(levels, flipped[-1], g), g))
        return np.concatenate(flipped), np.concatenate(live)

    def save(self, target: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the programmed state to a path (atomically, the name as given) or a binary file:
        a ``.npz`` without pickle (:mod:`cimsim.physics.matrix_file` lists what it keeps)."""
        write_matrix(target, SavedMatrix(self.cfg, self.shape, self.rows_kept, self.layout, self.cells, self.adc_errors,
                                         self._noise_key, self._calls, self.t_s, self.input_scale, self._adc_lsb,
                                         self.drift_compensation))

    @classmethod
    def load(cls, source: str | os.PathLike[str] | IO[bytes]) -> AnalogMatrix:
        """The matrix :meth:`save` wrote: it reads bit-identically to the saved one (same noise streams
        from the same read on), at the same time since programming, calibrated as it was. Its ledger
        and latency start at zero."""
        saved = read_matrix(source)
        matrix = cls.__new__(cls)
        matrix.cfg, matrix.geometry, matrix.layout = saved.cfg, saved.layout.geometry, saved.layout
        matrix._k, matrix.rows_kept = saved.shape[0], saved.rows_kept
        matrix._arrange()
        matrix._settle(saved.cells, saved.read_key, saved.adc_errors, saved.drift_compensation)  # at programming time
        matrix._calls, matrix.input_scale, matrix._adc_lsb = saved.reads_done, saved.input_scale, saved.adc_lsb
        matrix.drift_to(saved.t_s)
        return matrix

    def _check_memory(self, rows: int, n: int) -> None:
        columns = n * self.geometry.cells_per_weight
        chunk_cells = rows_per_chunk(self.cfg, columns) * columns
        cells = rows * columns
        check_allocation(programming_bytes(cells, chunk_cells), f"programming a {rows} x {n} matrix ({cells:,} cells)",
                         "program it in column slices (one AnalogMatrix per block of outputs) or raise the limit")

    # ---- geometry ---------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """(K, N) of the weight matrix, every row counted."""
        return self._k, self.layout.w_q.shape[1]

    @property
    def stored_rows(self) -> int:
        """Rows the arrays hold: K less the all-zero rows left out (``mapping.compact_rows``)."""
        return self.layout.w_q.shape[0]

    @property
    def row_blocks(self) -> int:
        return self.read_shape.row_blocks

    @property
    def physical_columns(self) -> int:
        return self.layout.physical_columns

    @property
    def column_arrays(self) -> int:
        """Arrays side by side along the columns of one row block."""
        return self.read_shape.column_arrays

    @property
    def arrays(self) -> int:
        """Arrays the matrix occupies: those with at least one cell above level 0."""
        return self.read_shape.arrays

    def _read_shape(self) -> ReadShape:
        row_blocks, column_arrays = self.geometry.grid(*self.layout.w_q.shape)
        return ReadShape(
            stored_rows=self.stored_rows, outputs=self.shape[1], row_blocks=row_blocks, column_arrays=column_arrays,
            conversion_columns=self._columns.output.size, arrays=occupied_arrays(self._live, self.geometry.rows),
        )

    def _conversion_adcs(self) -> np.ndarray:
        """Row blocks × conversion columns: the ADC converting each.

        Numbered as :class:`~cimsim.physics.converters.AdcErrors` says."""
        g, plus = self.geometry, self._columns.plus
        in_block = (plus // g.columns_per_array) * g.adcs_per_array
        in_block = in_block + (plus % g.columns_per_array) // self.cfg.adc.columns_per_adc
        per_block = self.column_arrays * g.adcs_per_array
        return np.arange(self.row_blocks)[:, None] * per_block + in_block[None, :]

    # ---- calibration --------------------------------------------------------------------------

    def calibrate(self, x) -> None:
        """Fix the input scale from ``x`` (M×K) and, with ``adc.range = "calibrated"``, the ADC ranges.

        The full scale of each weight slice's ADCs becomes the ``adc.calibration_percentile``-th
        percentile of |noise-free column charge| over every conversion of ``x`` (a current, or the
        integrated charge of a segment of cycles), computed in float64 so that it does not depend
        on how the vectors are chunked; beyond 2^22 readings per slice, over a fixed-seed random
        subsample of that size.
        """
        x, x_min, x_max = self._check_inputs(x)
        if x.shape[0] == 0:
            raise ShapeError(f"calibrate: x has no vectors (shape {x.shape}); give at least one")
        self.input_scale = input_scale_for(x_min, x_max, self.cfg.mapping.input_bits)
        if self.cfg.adc.range != "calibrated":
            return
        step = self._chunk_vectors(x.shape[0], self.input_scale)
        plan = conversion_plan(self._schedule(self.input_scale.signed).weight, self.cfg.adc.cycles_per_conversion)
        of_slice = [np.flatnonzero(self._columns.slice == s) for s in range(self.geometry.slices)]
        one_cycle_each = plan.starts.size - 1 == plan.relative_weight.size  # each charge is one cycle's current
        exact_in_float32 = sums_exact_in_float32(self._operand, self._product_dtype, self.cfg.array.rows,
                                                 self.cfg.dac.bits)
        readings = x.shape[0] * (plan.starts.size - 1) * self.row_blocks  # per conversion column
        samples = SliceSamples.for_slices([readings * columns.size for columns in of_slice], CALIBRATION_SAMPLES_PER_SLICE)
        for m0 in range(0, x.shape[0], step):
            encoded = self._encode(x[m0 : m0 + step], self.input_scale)
            for b in range(self.row_blocks):
                rows = self._block_rows(b)
                if exact_in_float32:  # integer sums below 2^24: float32 gives float64's numbers, faster
                    currents = encoded.codes[:, rows] @ self._operand_rows(rows)  # widened where kept (exactly)
                else:
                    currents = encoded.codes[:, rows].astype(np.float64) @ self._operand[rows].astype(np.float64)
                charges = currents if one_cycle_each else integrate_segments(currents, plan)
                for kept, columns in zip(samples, of_slice):
                    kept.offer(charges, columns)
        lsb = np.empty(self._columns.output.size)
        for kept, columns in zip(samples, of_slice):
            lsb[columns] = self.adc.step(kept.full_scale(self.cfg.adc.calibration_percentile))
        self._adc_lsb = lsb
        self._readings.clear()

    # ---- reading ------------------------------------------------------------------------------

    def _check_inputs(self, x) -> tuple[np.ndarray, float, float]:
        """``x`` as M×K float32 or float64, with its smallest and largest value."""
        array = np.asarray(x)
        if array.dtype not in (np.float32, np.float64):
            array = as_real_matrix(array, "x", ndim=(1, 2))
        k = self.shape[0]
        if array.ndim not in (1, 2) or array.shape[-1] != k:
            raise ShapeError(f"x: expected {k} inputs per vector (the matrix is {k} x {self.shape[1]}), got shape {array.shape}")
        array = array.reshape(-1, k)
        if array.size == 0:
            return self._stored_inputs(array), 0.0, 0.0
        x_min, x_max = float(array.min()), float(array.max())
        if not (math.isfinite(x_min) and math.isfinite(x_max)):
            raise ShapeError(f"x: contains NaN or infinity ({int((~np.isfinite(array)).sum())} entries)")
        return self._stored_inputs(array), x_min, x_max

    def _stored_inputs(self, x: np.ndarray) -> np.ndarray:
        """The inputs of the stored rows (all of them unless rows were left out).

        The input scale still comes from every input, as the producer of the activations
        quantised them, so leaving out zero rows does not change the product."""
        return x if self.rows_kept is None else np.ascontiguousarray(x[:, self.rows_kept])

    def _chunk_vectors(self, m: int, scale: InputScale) -> int:
        """Vectors read together: their currents (and codes) fit in CURRENT_BUFFER_ELEMENTS."""
        cycles = self._schedule(scale.signed).cycles
        return max(1, min(m, CURRENT_BUFFER_ELEMENTS // (cycles * max(self._operand.shape[1], self.stored_rows))))

    def _block_rows(self, b: int) -> slice:
        rows = self.cfg.array.rows
        return slice(b * rows, min((b + 1) * rows, self.stored_rows))

    def _operand_rows(self, rows: slice) -> np.ndarray:
        """The operand of ``rows`` in the products' dtype (an int8 operand widened, one row block at a time)."""
        return self._operand[rows].astype(self._product_dtype, copy=False)

    def _workspace(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """A reusable scratch array of the products' dtype (first touches of fresh pages cost time)."""
        size = shape[0] * shape[1]
        held = self._scratch.get(name)
        if held is None or held.size < size:
            held = self._scratch[name] = np.empty(size, dtype=self._product_dtype)
        return held[:size].reshape(shape)

    def _encode(self, x: np.ndarray, scale: InputScale) -> EncodedChunk:
        schedule = self._schedule(scale.signed)
        codes = self._workspace("codes", (x.shape[0] * schedule.cycles, x.shape[1]))
        return encode_chunk(x, scale, schedule, self._row_loads, self._live, codes, self.cfg)

    def matmul(self, x) -> np.ndarray:
        """``x @ W`` on the simulated arrays: (M×K) → (M×N), or (K,) → (N,).

        Inputs are quantised with the scale fixed by :meth:`calibrate`, or else with one scale
        from this call's own ``x``. Every action is added, priced, to :attr:`ledger`, and the
        read time to :attr:`latency_ns`: all arrays work in parallel, vectors and their input
        cycles one after another through the array pipeline.
        """
        vector = np.ndim(x) == 1
        x, x_min, x_max = self._check_inputs(x)
        if self.cfg.adc.range == "calibrated" and self._adc_lsb is None:
            raise ConfigError("adc.range = 'calibrated': call AnalogMatrix.calibrate(x_cal) before matmul")
        scale = self.input_scale or input_scale_for(x_min, x_max, self.cfg.mapping.input_bits)
        key = np.uint64(random_stream.row_key(self._noise_key, self._calls, 0, 0))
        self._calls += 1
        out = np.zeros((x.shape[0], self.shape[1]))
        step = self._chunk_vectors(x.shape[0], scale)
        for m0 in range(0, x.shape[0], step):
            encoded = self._encode(x[m0 : m0 + step], scale)
            self._read_chunk(encoded, m0, key, out[m0 : m0 + step])
        out *= (scale.scale * self.layout.scale * self.drift_gain)[None, :]
        self.latency_ns += self._reading(scale.signed).timing.read_ns(x.shape[0])  # all arrays in parallel
        return out[0] if vector else out

    def _schedule(self, signed: bool) -> InputSchedule:
        if signed not in self._schedules:
            self._schedules[signed] = input_schedule(signed, self.cfg)
        return self._schedules[signed]

    def _reading(self, signed: bool) -> Reading:
        """How inputs of a signedness are streamed, converted and timed (cached until recalibration)."""
        if signed not in self._readings:
            self._readings[signed] = array_reading(self.cfg, signed, self._column_steps(signed))
        return self._readings[signed]

    def _column_steps(self, signed: bool) -> np.ndarray:
        """The ADC step of each conversion column, level units: calibrated, or over the reachable maximum."""
        if self.cfg.adc.range == "calibrated":
            return self._adc_lsb
        full_scale = max_full_scale(self.cfg, self._schedule(signed).top_code)
        return np.full(self._columns.output.size, self.adc.step(full_scale))

    def _noisy(self) -> bool:
        return self._read_var is not None or self._constant_read_var > 0 or self.cfg.adc.noise_lsb > 0

    def _read_chunk(self, enc: EncodedChunk, m0: int, key, acc: np.ndarray) -> None:
        """Read one chunk of encoded inputs into ``acc`` (its rows of the zeroed output)."""
        cols = self._columns
        reading = self._reading(enc.schedule.mode != kernels.UNSIGNED)
        conv = reading.conversions
        plan, steps = conv.plan, conv.steps
        errors = self.adc_errors
        adc_var = (self.cfg.adc.noise_lsb * conv.adc_steps) ** 2
        buffer = self._workspace("currents", (enc.codes.shape[0], cols.output.size))
        no_cell_var = np.empty((0, 0))
        for b in range(self.row_blocks):
            rows = self._block_rows(b)
            np.matmul(enc.codes[:, rows], self._operand_rows(rows), out=buffer)
            cell_var = no_cell_var
            if self._read_var is not None:  # rows not driven in a column's array add no noise to it
                driven = self._live[rows][:, self._column_array]
                cell_var = np.square(enc.codes[:, rows]) @ (self._read_var[rows] * driven)
            adcs = self._column_adc[b]
            inv_lsb = (1.0 + errors.gain[adcs])[None, :] / steps  # a gain error scales the reading
            code_offset = errors.offset_lsb[adcs][None, :] * conv.adc_steps / steps  # the ADC's LSB, in steps
            kernels.convert_accumulate(
                buffer, enc.code_sq_sum[:, b] * self._constant_read_var, self._column_array, cell_var, adc_var,
                enc.schedule.weight, plan.relative_weight, plan.starts, cols.output, cols.weight, inv_lsb, steps,
                float(self.adc.bottom_code), float(self.adc.top_code), code_offset, adcs, errors.thresholds,
                self._flipped[b][cols.plus], float(self.geometry.max_level), enc.code_sum[:, b], self._noisy(), key,
                b, m0, acc,
            )
        self._count_reads(enc, reading)
        self._remove_offsets(acc, enc)

    def _remove_offsets(self, acc: np.ndarray, enc: EncodedChunk) -> None:
        """Subtract what the encodings added: a·ΣW_q + b·ΣX_q + K·a·b."""
        a, b = enc.schedule.offset, self.geometry.weight_offset
        if a:
            acc -= a * self.layout.w_q.sum(axis=0)[None, :]
        if b:
            acc -= b * enc.xq_sum[:, None]
        if a and b:
            acc -= self.stored_rows * a * b

    # ---- counting ---------------------------------------------------------------------------

    def _count_reads(self, enc: EncodedChunk, reading: Reading) -> None:
        """Data-dependent action counts of one chunk: an input code of 0 drives no row, nor does an empty one."""
        activity = ReadActivity(
            vectors=enc.vectors,
            row_drives=float(enc.drives.sum()),
            cell_reads=float(enc.reads.sum()),
            code_sq_g_us=float(enc.v2g.sum()),
        )
        for component, action, count in array_read_actions(self.read_shape, activity, reading, self.cfg):
            self.energy.charge(self.ledger, component, action, count)

