"""``AnalogMatrix``: a weight matrix programmed onto resistive arrays, and its analog product.

The functional model of docs/physics.md. Quantities in "level units" are currents
divided by the current of one conductance level at one DAC step,
``(v_read / (2^d − 1)) · (g_max − g_min) / (2^c − 1)``, after the ``g_min·ΣV`` offset has been
removed (exactly, from the known inputs). In level units a noise-free column reads an integer.

* Rows are split into blocks of ``array.rows``; every block is read and converted on its own and
  the partial sums are added digitally. Physical columns are tiled over arrays of
  ``array.cols``; with analog differential sensing the two cells of a pair always share an
  array (a digitally sensed pair may straddle two, as each column is converted on its own).
* The product of one row block is one BLAS call: every (vector, input cycle) against every
  column, ``(M·T) × rows`` times ``rows × columns``, in float32 (float64 when the
  operand is integer-valued and an exact sum could exceed float32's 2^24).
* **Read noise** is a per-device Gaussian drawn anew at every read. Its exact column-level
  equivalent is used: a column current ``I = Σ_k V_k (G_k + ε_k)`` with independent
  ``ε_k ~ N(0, σ_k²)`` is ``N(Σ V_k G_k, Σ V_k² σ_k²)``, so each conversion draws one Gaussian.
  When σ is a constant fraction of g_max the variance is ``σ² · ΣV²`` (per vector and cycle);
  when it depends on the conductance it takes a second product, V² times σ².
* **IR drop** (first order only): a cell at row r, column j of its array sees the wire
  resistance of its path from the row driver (j + 1 segments) and down its column to the sense
  amplifier (rows − r segments) in series, ``G_eff = G / (1 + G·R_wire·n_segments)``, as if it
  alone conducted. Current crowding from the other cells of the row and column, which deepens
  the drop for dense inputs, is not modelled.
* **ADC** (cimsim/physics/converters.py): codes, full scale and step. With ``adc.range = "calibrated"`` the
  full scale of each weight slice is a percentile of the noise-free currents seen by
  :meth:`calibrate`. Input-referred noise ``adc.noise_lsb`` adds to the read noise before
  rounding; readings clip at the rails.
* **Reconstruction**: shift-and-add over slices and cycles, differential columns subtracted,
  flipped columns restored, offsets of ``offset`` encodings removed, scaled by s_x · s_w.
* **Sparse weights**: a row whose cells in one array all hold level 0 (g_min) carries no signal
  there, so it is not driven in that array (no DAC drive, no cell read, no read noise energy),
  and an array none of whose rows carries a level is not needed: pruned weights (block sparsity,
  whole zero rows) use fewer drives, reads, energy and arrays. Rows are not re-packed into fewer
  row blocks: N:M sparsity with a pattern per column leaves no row empty and saves no array.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from cimsim.physics import device

from cimsim.physics import kernels
from cimsim.physics.converters import Adc, ConversionPlan, Conversions, analog_differential, conversion_plan, conversions, max_full_scale
from cimsim.costs.area import adcs_per_array
from cimsim.config import ChipConfig
from cimsim.costs.energy import EnergyModel
from cimsim.errors import ConfigError, ShapeError
from cimsim.costs.latency import ReadTiming, read_timing
from cimsim.costs.ledger import Ledger
from cimsim.host_memory import BYTES_PER_CELL, check_allocation
from cimsim.physics.seeding import generator
from cimsim.physics.mapping import (
    InputSchedule,
    array_grid,
    columns_per_array,
    live_rows,
    occupied_arrays,
    InputScale,
    input_code_range,
    input_schedule,
    input_scale_for,
    kept_rows,
    layout_weights,
    slices_and_signs,
)

FLOAT32_EXACT = 2**24
CURRENT_BUFFER_ELEMENTS = 2**23  # one chunk's currents (32 MB in float32): a few thousand BLAS rows
CALIBRATION_SAMPLES_PER_SLICE = 2**22


def integrate_segments(currents: np.ndarray, plan: ConversionPlan) -> np.ndarray:
    """(M·T) × C currents → (M·segments) × C charges each conversion sees (relative weights applied)."""
    cycles = plan.relative_weight.size
    weighted = currents.reshape(-1, cycles, currents.shape[1]) * plan.relative_weight[None, :, None]
    return np.add.reduceat(weighted, plan.starts[:-1], axis=1).reshape(-1, currents.shape[1])


def as_real_matrix(value, name: str, ndim: tuple[int, ...] = (2,)) -> np.ndarray:
    """``value`` as a finite float64 array, or a ShapeError that says what was expected."""
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ShapeError(f"{name}: expected a real numeric array, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ShapeError(f"{name}: expected real numbers, got complex dtype {array.dtype}")
    if array.ndim not in ndim:
        allowed = " or ".join(f"{n}-D" for n in ndim)
        raise ShapeError(f"{name}: expected a {allowed} array, got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ShapeError(f"{name}: contains NaN or infinity ({int((~np.isfinite(array)).sum())} entries)")
    return array


@dataclass(frozen=True)
class _Columns:
    """Conversion columns: what the ADCs read, and how each reading is shift-added."""

    output: np.ndarray  # output index n
    weight: np.ndarray  # ±2^(c·s)
    slice: np.ndarray  # slice index s
    plus: np.ndarray  # physical column of the (G+) cell
    minus: np.ndarray  # physical column of the G− cell (analog differential), else empty
    devices: int  # cells summed into one reading


@dataclass(frozen=True)
class _Encoded:
    """One chunk of inputs as DAC codes, with the statistics kernels.encode_inputs gathers."""

    schedule: InputSchedule
    codes: np.ndarray
    code_sq_sum: np.ndarray
    code_sum: np.ndarray
    drives: np.ndarray
    reads: np.ndarray
    v2g: np.ndarray
    xq_sum: np.ndarray


@dataclass(frozen=True)
class _Reading:
    """The input schedule, conversions and timing of inputs of one signedness."""

    schedule: InputSchedule
    conversions: Conversions
    timing: ReadTiming


class AnalogMatrix:
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
        stream keyed by this seed and the call's index.
    """

    def __init__(self, weights, cfg: ChipConfig, seed: int | np.random.Generator = 0):
        if not isinstance(cfg, ChipConfig):
            raise ConfigError(f"cfg: expected a cimsim.ChipConfig, got {type(cfg).__name__}")
        w = as_real_matrix(weights, "weights")
        if 0 in w.shape:
            raise ShapeError(f"weights: expected a non-empty K x N matrix, got shape {w.shape}")
        self.cfg = cfg
        self._k = w.shape[0]
        self.rows_kept = kept_rows(w, cfg)  # None: every row is stored
        self._check_memory(w.shape[0] if self.rows_kept is None else self.rows_kept.size, w.shape[1])
        self.layout = layout_weights(w if self.rows_kept is None else w[self.rows_kept], cfg)
        self.adc = Adc.for_config(cfg)
        rng = generator(seed)
        self._columns = self._conversion_columns()
        columns_per_array(cfg)  # rejects arrays too narrow for the mapping now, not at the first read
        self._flipped = self._flip_mask()
        self.cells = device.program(self._target_conductance(), cfg.device, rng)
        self._live = live_rows(self._stored_levels(), cfg)
        self._row_arrays = self._live.sum(axis=1).astype(np.float64)
        self._row_cells = self._live_cells_per_row()
        self._noise_key = np.uint64(rng.integers(0, 2**63))
        self._calls = 0
        self.energy = EnergyModel(cfg)
        self.ledger = Ledger()
        self.energy.charge(self.ledger, "cell", "writes", self.cells.g_prog_us.size)
        self.latency_ns = 0.0
        self.input_scale: InputScale | None = None
        self._schedules: dict[bool, InputSchedule] = {}
        self._readings: dict[bool, _Reading] = {}
        self._adc_lsb = None
        if cfg.adc.range == "max":
            self._adc_lsb = np.full(self._columns.output.size, self.adc.step(max_full_scale(cfg)))
        self.drift_to(cfg.device.drift_t0_s)

    def _check_memory(self, rows: int, n: int) -> None:
        slices, signs = slices_and_signs(self.cfg)
        cells = rows * n * slices * signs
        check_allocation(cells * BYTES_PER_CELL, f"programming a {rows} x {n} matrix ({cells:,} cells)",
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
        return array_grid(*self.layout.w_q.shape, self.cfg)[0]

    @property
    def physical_columns(self) -> int:
        return self.layout.levels.shape[1]

    @property
    def column_arrays(self) -> int:
        """Arrays side by side along the columns of one row block."""
        return array_grid(*self.layout.w_q.shape, self.cfg)[1]

    @property
    def arrays(self) -> int:
        """Arrays the matrix occupies: those with at least one cell above level 0."""
        return occupied_arrays(self._live, self.cfg.array.rows)

    def _conversion_columns(self) -> _Columns:
        lay = self.layout
        out, sl, sign = lay.column_output(), lay.column_slice(), lay.column_sign()
        shift = 2.0 ** (lay.bits_per_cell * sl)
        physical = np.arange(lay.levels.shape[1])
        if analog_differential(self.cfg):
            plus = physical[sign > 0]
            return _Columns(out[plus], shift[plus], sl[plus], plus, plus + 1, 2)
        return _Columns(out, sign * shift, sl, physical, physical[:0], 1)

    # ---- programming ------------------------------------------------------------------------

    def _flip_mask(self) -> np.ndarray:
        """(row blocks × physical columns) ISAAC flips: columns storing more than half the levels."""
        rows, levels = self.cfg.array.rows, self.layout.levels
        mask = np.zeros((self.row_blocks, levels.shape[1]), dtype=bool)
        if self.cfg.mapping.flip_columns:
            for b in range(self.row_blocks):
                block = levels[b * rows : (b + 1) * rows]
                mask[b] = 2 * block.sum(axis=0) > block.shape[0] * self.layout.max_level
        return mask

    def _stored_levels(self) -> np.ndarray:
        flip_rows = self._flipped[np.arange(self.stored_rows) // self.cfg.array.rows]
        return np.where(flip_rows, self.layout.max_level - self.layout.levels, self.layout.levels)

    def _target_conductance(self) -> np.ndarray:
        d = self.cfg.device
        return d.g_min_us + (d.g_max_us - d.g_min_us) * self._stored_levels() / self.layout.max_level

    def _ir_drop(self, g_us: np.ndarray) -> np.ndarray:
        r_wire = self.cfg.array.wire_resistance_ohm
        if r_wire == 0:
            return g_us
        rows = self.cfg.array.rows
        row_in_array = np.arange(g_us.shape[0]) % rows
        col_in_array = np.arange(g_us.shape[1]) % columns_per_array(self.cfg)
        segments = (col_in_array[None, :] + 1) + (rows - row_in_array[:, None])
        return g_us / (1.0 + g_us * 1e-6 * r_wire * segments)

    def _live_column_mask(self) -> np.ndarray:
        """K × physical columns: 1 where the cell's row is driven in the cell's array."""
        width = columns_per_array(self.cfg)
        return self._live[:, np.arange(self.physical_columns) // width]

    def _live_cells_per_row(self) -> np.ndarray:
        return self._live_column_mask().sum(axis=1).astype(np.float64)

    def drift_to(self, t_s: float) -> None:
        """Let the cells drift to ``t_s`` seconds after programming (reads use G(t) from now on)."""
        if isinstance(t_s, bool) or not (isinstance(t_s, numbers.Real) and math.isfinite(t_s) and t_s >= 0):
            raise ConfigError(f"drift_to: t_s = {t_s!r} is not allowed; give a finite time >= 0 in seconds")
        self.t_s = float(t_s)
        d = self.cfg.device
        g_now = self._ir_drop(device.conductance_at(self.cells, d, self.t_s))
        per_level = self.layout.max_level / (d.g_max_us - d.g_min_us)
        self._g_row_sum_us = (g_now * self._live_column_mask()).sum(axis=1)
        self._operand = self._read_operand(g_now, per_level)
        self._scratch: dict[str, np.ndarray] = {}
        self._read_var, self._constant_read_var = self._read_variance(g_now, per_level)

    def _read_operand(self, g_now: np.ndarray, per_level: float) -> np.ndarray:
        """Noise-free current of each cell per unit of DAC code, level units, per conversion column."""
        cols = self._columns
        reference = g_now[:, cols.minus] if cols.minus.size else self.cfg.device.g_min_us
        operand = (g_now[:, cols.plus] - reference) * per_level
        return operand.astype(self._product_dtype(operand))

    def _read_variance(self, g_now: np.ndarray, per_level: float) -> tuple[np.ndarray | None, float]:
        """Read-noise variance per unit of code², level units².

        A K × columns matrix when σ depends on the conductance; else None and one constant,
        the same for every cell (summed over the devices of a conversion).
        """
        d, cols = self.cfg.device, self._columns
        if device.read_noise_is_constant(d):
            return None, (d.read_noise * d.g_max_us * per_level) ** 2 * cols.devices
        variance = (device.read_noise_sigma_us(self.cells, g_now, d, self.t_s) * per_level) ** 2
        per_column = variance[:, cols.plus] + (variance[:, cols.minus] if cols.minus.size else 0.0)
        return per_column.astype(self._operand.dtype), 0.0

    def _product_dtype(self, operand: np.ndarray) -> type:
        largest = self.cfg.array.rows * self.layout.max_level * (2**self.cfg.dac.bits - 1)
        exact_needed = largest >= FLOAT32_EXACT and np.array_equal(operand, np.rint(operand))
        return np.float64 if exact_needed else np.float32

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
        samples: list[list[np.ndarray]] = [[] for _ in range(self.layout.slices)]
        step = self._chunk_vectors(x.shape[0], self.input_scale)
        operand = self._operand.astype(np.float64)
        for m0 in range(0, x.shape[0], step):
            encoded = self._encode(x[m0 : m0 + step], self.input_scale)
            plan = conversion_plan(encoded.schedule.weight, self.cfg.adc.cycles_per_conversion)
            for b in range(self.row_blocks):
                rows = self._block_rows(b)
                currents = encoded.codes[:, rows].astype(np.float64) @ operand[rows]
                charges = np.abs(integrate_segments(currents, plan))
                for s in range(self.layout.slices):
                    samples[s].append(charges[:, self._columns.slice == s].ravel())
        lsb = np.empty(self._columns.output.size)
        for s, chunks in enumerate(samples):
            values = np.concatenate(chunks)
            if values.size > CALIBRATION_SAMPLES_PER_SLICE:
                values = values[np.random.default_rng(0).choice(values.size, CALIBRATION_SAMPLES_PER_SLICE, replace=False)]
            full_scale = np.percentile(values, self.cfg.adc.calibration_percentile)
            lsb[self._columns.slice == s] = self.adc.step(full_scale)
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

    def _workspace(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """A reusable scratch array of the product's dtype (first touches of fresh pages cost time)."""
        size = shape[0] * shape[1]
        held = self._scratch.get(name)
        if held is None or held.size < size:
            held = self._scratch[name] = np.empty(size, dtype=self._operand.dtype)
        return held[:size].reshape(shape)

    def _encode(self, x: np.ndarray, scale: InputScale) -> _Encoded:
        schedule = self._schedule(scale.signed)
        m, k = x.shape
        rows = m * schedule.cycles
        enc = _Encoded(
            schedule=schedule,
            codes=self._workspace("codes", (rows, k)),
            code_sq_sum=np.empty((rows, self.row_blocks)),
            code_sum=np.empty((rows, self.row_blocks)),
            drives=np.empty(rows),
            reads=np.empty(rows),
            v2g=np.empty(rows),
            xq_sum=np.empty(m, dtype=np.int64),
        )
        q_min, q_max = input_code_range(self.cfg.mapping.input_bits, scale)
        kernels.encode_inputs(
            x, scale.scale, q_min, q_max, schedule.mode, schedule.offset, self.cfg.dac.bits,
            schedule.magnitude_cycles, self.cfg.array.rows, self._g_row_sum_us, self._row_arrays, self._row_cells,
            enc.codes, enc.code_sq_sum, enc.code_sum, enc.drives, enc.reads, enc.v2g, enc.xq_sum,
        )
        return enc

    def matmul(self, x) -> np.ndarray:
        """``x @ W`` on the simulated arrays: (M×K) → (M×N), or (K,) → (N,).

        Inputs are quantised with the scale fixed by :meth:`calibrate`, or else with one scale
        from this call's own ``x``. Every action is added, priced, to :attr:`ledger`, and the
        read time to :attr:`latency_ns`: all arrays work in parallel, vectors and their input
        cycles one after another through the array pipeline.
        """
        vector = np.ndim(x) == 1
        x, x_min, x_max = self._check_inputs(x)
        if self._adc_lsb is None:
            raise ConfigError("adc.range = 'calibrated': call AnalogMatrix.calibrate(x_cal) before matmul")
        scale = self.input_scale or input_scale_for(x_min, x_max, self.cfg.mapping.input_bits)
        key = np.uint64(kernels.row_key(self._noise_key, self._calls, 0, 0))
        self._calls += 1
        out = np.zeros((x.shape[0], self.shape[1]))
        step = self._chunk_vectors(x.shape[0], scale)
        for m0 in range(0, x.shape[0], step):
            encoded = self._encode(x[m0 : m0 + step], scale)
            self._read_chunk(encoded, m0, key, out[m0 : m0 + step])
        out *= (scale.scale * self.layout.scale)[None, :]
        self._count_time(x.shape[0], self._reading(scale.signed))
        return out[0] if vector else out

    def _count_time(self, vectors: int, reading: _Reading) -> None:
        """Read time of ``vectors`` (all arrays in parallel) and the ADCs' active time in it."""
        elapsed_ns = reading.timing.read_ns(vectors)
        self.latency_ns += elapsed_ns
        if self.cfg.adc.kind == "integrating":
            adcs = self.arrays * adcs_per_array(self.cfg)
            self.energy.charge(self.ledger, "adc", "active_ns", adcs * elapsed_ns)

    def _schedule(self, signed: bool) -> InputSchedule:
        if signed not in self._schedules:
            self._schedules[signed] = input_schedule(signed, self.cfg)
        return self._schedules[signed]

    def _reading(self, signed: bool) -> _Reading:
        """How inputs of a signedness are streamed, converted and timed (cached until recalibration)."""
        if signed not in self._readings:
            schedule = self._schedule(signed)
            conv = conversions(self.cfg, self.adc, schedule.weight, self._adc_lsb)
            timing = read_timing(self.cfg, conv.plan, conv.decisions.max(axis=1))
            self._readings[signed] = _Reading(schedule, conv, timing)
        return self._readings[signed]

    def _noisy(self) -> bool:
        return self._read_var is not None or self._constant_read_var > 0 or self.cfg.adc.noise_lsb > 0

    def _read_chunk(self, enc: _Encoded, m0: int, key, acc: np.ndarray) -> None:
        """Read one chunk of encoded inputs into ``acc`` (its rows of the zeroed output)."""
        cols = self._columns
        conv = self._reading(enc.schedule.mode != kernels.UNSIGNED).conversions
        plan, steps = conv.plan, conv.steps
        adc_var = (self.cfg.adc.noise_lsb * conv.adc_steps) ** 2
        buffer = self._workspace("currents", (enc.codes.shape[0], cols.output.size))
        no_cell_var = np.empty((0, 0))
        for b in range(self.row_blocks):
            rows = self._block_rows(b)
            np.matmul(enc.codes[:, rows], self._operand[rows], out=buffer)
            cell_var = no_cell_var
            if self._read_var is not None:
                cell_var = np.square(enc.codes[:, rows]) @ self._read_var[rows]
            kernels.convert_accumulate(
                buffer, enc.code_sq_sum[:, b] * self._constant_read_var, cell_var, adc_var, enc.schedule.weight,
                plan.relative_weight, plan.starts, cols.output, cols.weight, 1.0 / steps, steps,
                float(self.adc.bottom_code), float(self.adc.top_code), self._flipped[b][cols.plus],
                float(self.layout.max_level), enc.code_sum[:, b], self._noisy(), key, b, m0, acc,
            )
        self._count_reads(enc, conv)
        self._remove_offsets(acc, enc)

    def _remove_offsets(self, acc: np.ndarray, enc: _Encoded) -> None:
        """Subtract what the encodings added: a·ΣW_q + b·ΣX_q + K·a·b."""
        a, b = enc.schedule.offset, self.layout.offset
        if a:
            acc -= a * self.layout.w_q.sum(axis=0)[None, :]
        if b:
            acc -= b * enc.xq_sum[:, None]
        if a and b:
            acc -= self.stored_rows * a * b

    # ---- counting ---------------------------------------------------------------------------

    def _count_reads(self, enc: _Encoded, conv: Conversions) -> None:
        """Data-dependent action counts of one chunk: an input code of 0 drives no row, nor does an empty one."""
        cycles = enc.schedule.cycles
        m, k = enc.codes.shape[0] // cycles, self.stored_rows
        v_step = self.cfg.device.v_read / (2**self.cfg.dac.bits - 1)
        plan = conv.plan
        columns = m * self.row_blocks * self._columns.output.size  # conversion columns read, all blocks
        n = self.shape[1]
        counts = [
            ("dac", "conversions", float(enc.drives.sum())),
            ("cell", "reads", float(enc.reads.sum())),
            ("cell", "v2g_v2_us", float(enc.v2g.sum()) * v_step**2),
            ("sample_hold", "samples", columns * plan.samples.sum()),
            ("adc", "conversions", columns * plan.segments),
            ("shift_add", "ops", columns * plan.segments),
            ("partial_sum", "adds", m * n * (self.row_blocks - 1)),
            ("input_register", "bits", m * k * self.cfg.mapping.input_bits * self.column_arrays),
            ("output_register", "bits", m * n * self.cfg.mapping.output_bits),
        ]
        if self.cfg.adc.kind == "integrating":
            counts.append(("adc", "steps", m * self.row_blocks * float(conv.decisions.sum())))
        for component, action, count in counts:
            self.energy.charge(self.ledger, component, action, count)
