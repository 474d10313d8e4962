"""From real numbers to integers, cell levels and input voltage planes (docs/physics.md, sections 1–5).

Weights ``W`` are K×N (inputs on rows, outputs on columns); inputs ``X`` are M×K.

* **Weight quantisation** to b_w bits, symmetric: ``q_max = 2^(b_w−1) − 1``,
  ``s_w = max|W| / q_max`` per tensor or per column, ``W_q = clip(rint(W / s_w), −q_max, q_max)``.
* **Signed weights**: ``differential`` stores ``max(W_q, 0)`` on a G+ column and ``max(−W_q, 0)``
  on a G− column (b_w − 1 magnitude bits each); ``offset`` stores ``W_q + 2^(b_w−1)`` (b_w bits,
  always positive) and the offset is removed digitally from the known inputs.
* **Bit slicing**: c = ``array.bits_per_cell`` bits per cell, S = ceil(bits / c) slices,
  ``level_s = (W_stored >> c·s) & (2^c − 1)``.
* **Inputs**: all-non-negative inputs are quantised unsigned over b_x bits
  (``s_x = max X / (2^b_x − 1)``); otherwise signed, ``s_x = max|X| / (2^(b_x−1) − 1)``.
  The magnitude is streamed ``dac.bits`` = d bits per cycle, T = ceil(bits / d) cycles.
  Signed inputs are applied by ``mapping.input_encoding``:
  ``two_phase`` (positive parts, then negative parts, in separate cycles of a unipolar DAC),
  ``bipolar`` (the DAC drives ±V: each cycle carries the sign) or
  ``offset`` (``X_q + 2^(b_x−1)`` applied unsigned, the offset removed digitally).

Physical columns are ordered (output n, slice s, sign p), so the two cells of a differential
pair sit side by side. What follows from the configuration alone (slices, signs, columns per
array, conversion columns, levels, ADCs per array) is its :class:`ArrayGeometry`, computed once
per configuration by :func:`array_geometry`; functions that need only geometry take it.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cimsim.errors import ConfigError

if TYPE_CHECKING:
    from cimsim.config import ChipConfig
    from cimsim.config.sections import ADCConfig, ArrayConfig, MappingConfig


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def symmetric_scale(max_abs: np.ndarray, q_max: int) -> np.ndarray:
    """Scale that maps ``max_abs`` to ``q_max``; 1 where everything is zero."""
    return np.where(max_abs > 0, max_abs / q_max, 1.0)


QUANTIZE_CHUNK_ELEMENTS = 2**20  # weights quantised at a time: one float64 temporary of 8 MB


def weight_dtype(q_max: int) -> type[np.signedinteger]:
    """The smallest signed integer type holding ±``q_max`` (int8 up to 8-bit weights, int16 up to 16)."""
    return np.int8 if q_max <= np.iinfo(np.int8).max else np.int16 if q_max <= np.iinfo(np.int16).max else np.int64


def quantize_weights(w: np.ndarray, weight_bits: int, per_column: bool,
                     rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric b_w-bit quantisation of ``w[rows]`` (every row when None): returns ``W_q``
    (rows × N, :func:`weight_dtype`: 1 byte a weight up to 8 bits) and ``s_w`` (float64, N).
    Rows are quantised :data:`QUANTIZE_CHUNK_ELEMENTS` weights at a time, so that the float64
    temporaries (and the selection of rows) do not grow with ``w``."""
    q_max = 2 ** (weight_bits - 1) - 1
    count = w.shape[0] if rows is None else rows.size
    step = max(1, QUANTIZE_CHUNK_ELEMENTS // max(1, w.shape[1]))
    chunks = [slice(r0, r0 + step) for r0 in range(0, count, step)]

    def part(chunk: slice) -> np.ndarray:
        return w[chunk] if rows is None else w[rows[chunk]]

    max_abs = np.max([np.abs(part(chunk)).max(axis=0) for chunk in chunks], axis=0)  # the exact column maxima
    scale = symmetric_scale(max_abs if per_column else np.full(w.shape[1], max_abs.max()), q_max)
    w_q = np.empty((count, w.shape[1]), dtype=weight_dtype(q_max))
    for chunk in chunks:
        quotient = part(chunk) / scale
        np.clip(np.rint(quotient, out=quotient), -q_max, q_max, out=quotient)  # in place: one float64 temporary
        w_q[chunk] = quotient  # integers within ±q_max: the cast is exact
    return w_q, scale


@dataclass(frozen=True)
class WeightLayout:
    """Integer weights laid out as cell levels on physical columns.

    ``w_q``: the K×N quantised weights; ``scale``: s_w per output column; ``geometry``: the
    slices, signs, weight offset and levels of the cells (:class:`ArrayGeometry`). The cell
    levels (K × C_phys, 0 .. 2^c − 1, columns ordered (n, s, p)) are not held: they are
    ``cell_levels(w_q)``, computed for the rows asked (:meth:`levels_of`), a byte per cell saved.
    """

    w_q: np.ndarray
    scale: np.ndarray
    geometry: ArrayGeometry

    @property
    def physical_columns(self) -> int:
        return self.w_q.shape[1] * self.geometry.cells_per_weight

    def levels_of(self, r0: int, r1: int) -> np.ndarray:
        """The cell levels of stored rows r0 .. r1 − 1 (uint8, rows × physical columns)."""
        return cell_levels(self.w_q[r0:r1], self.geometry)

    @property
    def levels(self) -> np.ndarray:
        """Every cell level (stored rows × physical columns), computed on demand."""
        return self.levels_of(0, self.w_q.shape[0])

    @property
    def n_out(self) -> int:
        return self.w_q.shape[1]

    def column_output(self) -> np.ndarray:
        """Output index n of each physical column."""
        return np.repeat(np.arange(self.n_out), self.geometry.cells_per_weight)

    def column_slice(self) -> np.ndarray:
        """Slice index s of each physical column."""
        return np.tile(np.repeat(np.arange(self.geometry.slices), self.geometry.signs), self.n_out)

    def column_sign(self) -> np.ndarray:
        """+1 for G+ (and offset) columns, −1 for G− columns."""
        return np.tile(np.array([1.0, -1.0][: self.geometry.signs]), self.n_out * self.geometry.slices)


@dataclass(frozen=True)
class ArrayGeometry:
    """How weights sit on one array and its periphery: derived once per configuration (:func:`array_geometry`).

    ``slices`` × ``signs`` cells hold one weight along the columns (``signs`` = 2 for a
    differential pair, else 1); ``columns_per_array`` of the ``cols`` physical columns are used
    (an even number when pairs are sensed in analog: a pair never splits); an analog pair is
    one conversion column, any other column is one on its own. ``weight_offset`` is added to
    every stored weight (2^(b_w−1) for ``offset`` weights, else 0); ``flip_columns``: ISAAC's
    flips. ``adcs_per_array`` = ceil(cols / ``adc.columns_per_adc``), each serving
    ``conversions_per_adc`` conversion columns in turn.
    """

    rows: int
    cols: int
    bits_per_cell: int
    slices: int
    signs: int
    columns_per_array: int
    analog_differential: bool
    weight_offset: int
    flip_columns: bool
    adcs_per_array: int
    conversions_per_adc: int

    @property
    def cells_per_weight(self) -> int:
        return self.slices * self.signs

    @property
    def max_level(self) -> int:
        """The top conductance level of a cell, 2^c − 1."""
        return 2**self.bits_per_cell - 1

    def physical_columns(self, n: int) -> int:
        """Physical columns of ``n`` outputs."""
        return n * self.cells_per_weight

    def conversion_columns(self, n: int) -> int:
        """Columns converted per row block for ``n`` outputs: one per analog pair, else one per physical column."""
        physical = self.physical_columns(n)
        return physical // 2 if self.analog_differential else physical

    def grid(self, k: int, n: int) -> tuple[int, int]:
        """Arrays a K×N weight matrix takes: (row blocks, arrays side by side along its columns)."""
        return ceil_div(k, self.rows), ceil_div(self.physical_columns(n), self.columns_per_array)


def array_geometry(cfg: ChipConfig) -> ArrayGeometry:
    """The :class:`ArrayGeometry` of ``cfg`` (computed once per ``array``, ``mapping`` and ``adc`` section,
    and looked up by that once per configuration object: a plan asks for it a few dozen times)."""
    known = _GEOMETRIES.get(id(cfg))
    if known is not None and known[0]() is cfg:
        return known[1]
    geometry = _geometry(cfg.array, cfg.mapping, cfg.adc)
    key = id(cfg)
    _GEOMETRIES[key] = (weakref.ref(cfg, lambda _ref: _GEOMETRIES.pop(key, None)), geometry)
    return geometry


_GEOMETRIES: dict[int, tuple[weakref.ref, ArrayGeometry]] = {}  # id(cfg) -> (the config, its geometry)


@functools.lru_cache(maxsize=256)
def _geometry(array: ArrayConfig, mapping: MappingConfig, adc: ADCConfig) -> ArrayGeometry:
    differential = mapping.weight_encoding == "differential"
    analog = differential and mapping.differential_sensing == "analog"
    if analog and array.cols < 2:
        raise ConfigError("array.cols = 1: analog differential sensing needs both cells of a pair in one array")
    stored_bits = mapping.weight_bits - 1 if differential else mapping.weight_bits
    return ArrayGeometry(
        rows=array.rows,
        cols=array.cols,
        bits_per_cell=array.bits_per_cell,
        slices=ceil_div(stored_bits, array.bits_per_cell),
        signs=2 if differential else 1,
        columns_per_array=array.cols - array.cols % 2 if analog else array.cols,
        analog_differential=analog,
        weight_offset=0 if differential else 2 ** (mapping.weight_bits - 1),
        flip_columns=mapping.flip_columns,
        adcs_per_array=ceil_div(array.cols, adc.columns_per_adc),
        conversions_per_adc=max(1, adc.columns_per_adc // (2 if analog else 1)),
    )


def live_rows(stored_levels: np.ndarray, geometry: ArrayGeometry) -> np.ndarray:
    """K × column arrays: does row k hold a level above 0 among the cells it has in array c?

    A row whose cells in an array are all at level 0 (g_min) carries no signal there: it need
    not be driven, and an array with no such row need not exist.
    """
    width = geometry.columns_per_array
    arrays = ceil_div(stored_levels.shape[1], width)
    nonzero = stored_levels != 0
    return np.stack([nonzero[:, c * width : (c + 1) * width].any(axis=1) for c in range(arrays)], axis=1)


def occupied_arrays(live: np.ndarray, rows: int) -> int:
    """Arrays (row block × column array) holding at least one live row."""
    return int(sum(live[b : b + rows].any(axis=0).sum() for b in range(0, live.shape[0], rows)))


def layout_weights(w: np.ndarray, cfg: ChipConfig, rows: np.ndarray | None = None) -> WeightLayout:
    """Quantise, encode the sign and bit-slice ``w[rows]`` (every row of the K×N ``w`` when None)
    as ``cfg.mapping`` and ``cfg.array`` say."""
    mapping = cfg.mapping
    w_q, scale = quantize_weights(w, mapping.weight_bits, mapping.weight_scale == "column", rows)
    geometry = array_geometry(cfg)
    return WeightLayout(w_q=w_q, scale=scale, geometry=geometry)


def kept_rows(w: np.ndarray, cfg: ChipConfig) -> np.ndarray | None:
    """Rows of ``w`` (K×N) that the arrays store: all, or with ``mapping.compact_rows`` those whose
    quantised weights are not all zero (at least one). None when every row is kept."""
    if not cfg.mapping.compact_rows:
        return None
    w_q, _ = quantize_weights(w, cfg.mapping.weight_bits, cfg.mapping.weight_scale == "column")
    live = np.flatnonzero(w_q.any(axis=1))
    if live.size == w.shape[0]:
        return None
    return live if live.size else np.zeros(1, dtype=np.int64)


LEVEL_CHUNK_CELLS = 2**20


def cell_levels(w_q: np.ndarray, geometry: ArrayGeometry) -> np.ndarray:
    """K × physical columns of cell levels (uint8) of the integer weights ``w_q``, columns ordered (n, s, p).

    Computed :data:`LEVEL_CHUNK_CELLS` cells at a time, so that its int64 temporaries stay small."""
    c = geometry.bits_per_cell
    shifts = (c * np.arange(geometry.slices))[None, None, :, None]
    levels = np.empty((w_q.shape[0], w_q.shape[1] * geometry.slices * geometry.signs), dtype=np.uint8)
    step = max(1, LEVEL_CHUNK_CELLS // max(1, levels.shape[1]))
    for r0 in range(0, w_q.shape[0], step):
        part = w_q[r0 : r0 + step].astype(np.int64)  # room for the offset and the shifts
        if geometry.signs == 2:
            stored = np.stack([np.maximum(part, 0), np.maximum(-part, 0)], axis=-1)  # rows, N, 2
        else:
            stored = (part + geometry.weight_offset)[..., None]  # rows, N, 1
        chunk = (stored[:, :, None, :] >> shifts) & (2**c - 1)  # rows, N, S, P
        levels[r0 : r0 + step] = chunk.reshape(chunk.shape[0], -1)  # 0 .. 2^c − 1 with c <= 8
    return levels


@dataclass(frozen=True)
class InputScale:
    """A fixed input quantisation: ``s_x`` and whether inputs are taken as signed."""

    scale: float
    signed: bool


def input_scale_for(x_min: float, x_max: float, input_bits: int) -> InputScale:
    """The scale that maps the largest |x| to the largest code, from the extremes of the inputs."""
    signed = x_min < 0
    if signed and input_bits < 2:
        raise ConfigError(
            f"mapping.input_bits = {input_bits}: signed inputs need at least 2 bits (sign and magnitude)"
        )
    q_max = 2 ** (input_bits - 1) - 1 if signed else 2**input_bits - 1
    max_abs = max(abs(x_min), abs(x_max))
    return InputScale(scale=max_abs / q_max if max_abs > 0 else 1.0, signed=signed)


def input_code_range(input_bits: int, fixed: InputScale) -> tuple[int, int]:
    """Smallest and largest ``X_q`` under a scale."""
    if fixed.signed:
        q_max = 2 ** (input_bits - 1) - 1
        return -q_max, q_max
    return 0, 2**input_bits - 1


def quantize_inputs(x: np.ndarray, input_bits: int, fixed: InputScale) -> np.ndarray:
    """``X_q`` (int64) under a given scale; values beyond the range clip to the extreme codes."""
    low, high = input_code_range(input_bits, fixed)
    return np.clip(np.rint(x / fixed.scale), low, high).astype(np.int64)


@dataclass(frozen=True)
class InputPlanes:
    """The DAC codes applied cycle by cycle.

    ``codes``: M × T × K integers in −(2^d − 1) .. 2^d − 1 (negative only for a bipolar DAC);
    ``weight``: T factors (±2^(d·t)) by which each cycle's result is shifted and signed;
    ``offset``: the value added to every input before it was applied (removed digitally).
    """

    codes: np.ndarray
    weight: np.ndarray
    offset: int


def _bit_planes(magnitude: np.ndarray, bits: int, dac_bits: int) -> tuple[np.ndarray, np.ndarray]:
    cycles = ceil_div(bits, dac_bits)
    shifts = dac_bits * np.arange(cycles)
    codes = (magnitude[:, None, :] >> shifts[None, :, None]) & (2**dac_bits - 1)
    return codes, 2.0**shifts


def input_planes(x_q: np.ndarray, signed: bool, cfg: ChipConfig) -> InputPlanes:
    """Split ``X_q`` (M×K) into the DAC codes of each cycle (module docstring).

    The numpy reference of :func:`cimsim.physics.kernels.encode_inputs`, which the crossbar uses.
    """
    bits, d = cfg.mapping.input_bits, cfg.dac.bits
    if not signed:
        codes, weight = _bit_planes(x_q, bits, d)
        return InputPlanes(codes, weight, 0)
    encoding = cfg.mapping.input_encoding
    if encoding == "offset":
        offset = 2 ** (bits - 1)
        codes, weight = _bit_planes(x_q + offset, bits, d)
        return InputPlanes(codes, weight, offset)
    if encoding == "bipolar":
        codes, weight = _bit_planes(np.abs(x_q), bits - 1, d)
        return InputPlanes(codes * np.sign(x_q)[:, None, :], weight, 0)
    positive, weight = _bit_planes(np.maximum(x_q, 0), bits - 1, d)
    negative, _ = _bit_planes(np.maximum(-x_q, 0), bits - 1, d)
    return InputPlanes(np.concatenate([positive, negative], axis=1), np.concatenate([weight, -weight]), 0)


@dataclass(frozen=True)
class InputSchedule:
    """How inputs under one scale are streamed: the parameters of kernels.encode_inputs.

    ``mode``: one of kernels' UNSIGNED, OFFSET, BIPOLAR, TWO_PHASE; ``offset`` added to X_q;
    ``magnitude_cycles`` to stream one magnitude; ``weight``: the signed shift of each cycle;
    ``top_code``: the largest DAC code a cycle can carry (below 2^d − 1 when a magnitude has
    fewer bits than the DAC).
    """

    mode: int
    offset: int
    magnitude_cycles: int
    weight: np.ndarray
    top_code: int

    @property
    def cycles(self) -> int:
        return self.weight.size


def input_schedule(signed: bool, cfg: ChipConfig) -> InputSchedule:
    """The cycle plan of :func:`input_planes`, without the data (made once per signedness, input bits,
    DAC bits and encoding; its ``weight`` is read-only, shared by every caller)."""
    return _input_schedule(bool(signed), cfg.mapping.input_bits, cfg.dac.bits, cfg.mapping.input_encoding)


@functools.lru_cache(maxsize=256)
def _input_schedule(signed: bool, bits: int, d: int, encoding: str) -> InputSchedule:
    schedule = _computed_schedule(signed, bits, d, encoding)
    schedule.weight.flags.writeable = False
    return schedule


def _computed_schedule(signed: bool, bits: int, d: int, encoding: str) -> InputSchedule:
    from cimsim.physics.kernels import BIPOLAR, OFFSET, TWO_PHASE, UNSIGNED

    if not signed or encoding == "offset":
        cycles = ceil_div(bits, d)
        weight = 2.0 ** (d * np.arange(cycles))
        mode, offset = (OFFSET, 2 ** (bits - 1)) if signed else (UNSIGNED, 0)
        return InputSchedule(mode, offset, cycles, weight, 2 ** min(d, bits) - 1)
    cycles = ceil_div(bits - 1, d)
    weight = 2.0 ** (d * np.arange(cycles))
    top_code = 2 ** min(d, bits - 1) - 1
    if encoding == "bipolar":
        return InputSchedule(BIPOLAR, 0, cycles, weight, top_code)
    return InputSchedule(TWO_PHASE, 0, cycles, np.concatenate([weight, -weight]), top_code)
