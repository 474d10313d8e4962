"""The column ADC: its codes, full scale and step, in level units (see crossbar.py), and its kinds.

* **Signed or not**: the ADC is signed when a column current can be negative — the pair of a
  differential weight subtracted in analog, or a bipolar DAC — with codes
  −(2^(b−1) − 1) .. 2^(b−1) − 1; otherwise unipolar with codes 0 .. 2^b − 1.
* **Full scale** ``max``: the largest column current of an array that the inputs can drive,
  ``rows·(2^c − 1)·D`` level units, or ``floor(rows·(2^c − 1) / 2)·D`` with ISAAC's flipped
  columns (no column then stores more than half its levels). ``D`` is the largest DAC code a
  cycle carries (``InputSchedule.top_code``): 2^d − 1, or less when a magnitude has fewer bits
  than the DAC, e.g. 2^(b_x−1) − 1 for signed inputs (b_x − 1 magnitude bits) with
  ``dac.bits`` ≥ ``input_bits``: sizing to 2^d − 1 there would leave half the codes (one ADC
  bit) unreachable. ``calibrated``: a percentile of measured currents (the crossbar supplies it).
* **Step**: ``full scale / top code``, but never finer than one level: an ADC with more codes
  than the column has levels resolves every level and leaves codes unused, which is the
  regime of the exactness law. Input-referred noise (``adc.noise_lsb``) is in units of the
  ADC's own step, before that floor, so a wider ADC has less of it.
* **Segments** (``adc.cycles_per_conversion``, :func:`conversion_plan`): each input cycle is one
  read pulse; its charge is sampled 2^(d·j) times (the integrator repeats the sample, it does
  not read again), so the read noise of that pulse is scaled by 2^(d·j) with it. A 'sar' ADC
  converts every segment over its full range; an 'integrating' ADC keeps one step in units of
  the final result, so a segment of lower significance converts with a coarser step of its own
  charge and needs fewer bit decisions (as NeuRRAM's neuron does).
* **Static errors** (:class:`AdcErrors`, :func:`draw_adc_errors`; all 0 by default): each ADC
  of a matrix (one per ``adc.columns_per_adc`` physical columns of an array, shared by the
  columns it serves) has an offset, N(0, ``adc.offset_lsb``²) LSB, and a gain error,
  N(0, ``adc.gain_error``²), drawn once at programming: it converts ``(1 + gain)·I + offset``.
  Its decision thresholds (IEEE Std 1241-2010's transition levels) carry a differential
  non-linearity — each inner code's width is ``max(0, 1 + N(0, adc.dnl_lsb²))`` LSB, drawn
  once per ADC, rescaled so the first and last transitions stay where they belong (end-point
  fit: DNL adds no gain or offset; widths >= 0 keep the transfer monotonic, a width of 0 is
  a missing code) — and an integral non-linearity, the smooth bow ``adc.inl_lsb·4x(1 − x)``
  added to the transition at fraction x of the code range (0 at both ends, ``inl_lsb`` at
  mid-scale), the shape a second-order (compressive) input stage gives; the same for every
  ADC. Codes are then those whose interval holds the reading (``kernels.convert_accumulate``).
* **Kinds** (``adc.kind``): one :class:`AdcKind` object per kind, chosen by name through
  :data:`ADC_KINDS` (:func:`adc_kind`): :class:`SarAdc` and :class:`IntegratingAdc`. Each
  carries its step per segment, the stage times of a read (used by
  :func:`cimsim.costs.latency.read_timing`), the actions it adds to every read as plain
  ``(component, action, count)`` tuples, and whether the ADC energy model prices its
  conversions. Nothing else branches on the kind.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cimsim.config import ChipConfig
from cimsim.errors import ConfigError
from cimsim.physics.mapping import InputSchedule, array_geometry, ceil_div


@dataclass(frozen=True)
class ConversionPlan:
    """How the input cycles of one vector become conversions (``adc.cycles_per_conversion``).

    Cycles are grouped into segments of up to k consecutive cycles, counted from the most
    significant cycle down (so a short remainder holds the least significant bits). Within a
    segment, the cycle of relative significance 2^(d·j) is integrated in analog with that
    weight — sampled 2^(d·j) times — and the segment is converted once.

    ``starts``: segment boundaries (segments + 1 cycle indices, ascending); ``relative_weight``:
    per cycle, its weight over the weight of its segment's first cycle; ``samples``: per
    segment, how often the column is sampled (the sum of its relative weights); ``significance``:
    per segment, |weight| of its first cycle.
    """

    starts: np.ndarray
    relative_weight: np.ndarray
    samples: np.ndarray
    significance: np.ndarray

    @property
    def segments(self) -> int:
        return self.starts.size - 1

    @functools.cached_property
    def total_samples(self) -> float:
        """Times a column is sampled per vector, over every segment (kept: a plan is shared by every read)."""
        return float(self.samples.sum())


CountedAction = tuple[str, str, float]
"""A counted action, ``(component, action, count)``, as the Ledger keys it (cimsim/costs/actions.py)."""

StageTimes = tuple[dict[str, float], ...]
"""Per segment of a vector's read, the time of each named stage (ns)."""


class AdcKind(ABC):
    """What a kind of column ADC (``adc.kind``) does its own way.

    ``step_ratio``: each segment's step over the finest one; ``stage_times_ns``: the stages of
    one segment's read and conversion (ns), run ``pipelined`` or in sequence; ``read_actions``:
    the actions it adds to every read beyond the conversions themselves; ``priced_per_conversion``:
    whether a conversion is priced by the ADC energy model (``energy.adc_model``) or, when
    False, by the bit decisions and bias time of :meth:`read_actions`.
    """

    name: ClassVar[str]
    pipelined: ClassVar[bool]
    priced_per_conversion: ClassVar[bool]

    @abstractmethod
    def step_ratio(self, plan: ConversionPlan) -> np.ndarray:
        """Per segment: the step of its conversion over the step of a full-range conversion."""

    @abstractmethod
    def stage_times_ns(self, plan: ConversionPlan, decisions: np.ndarray, cfg: ChipConfig) -> StageTimes:
        """Per segment, the time of each stage (ns); ``decisions``: bit decisions of each segment's conversion."""

    @abstractmethod
    def read_actions(self, bit_decisions: float, biased_adc_ns: float) -> list[CountedAction]:
        """Actions beyond the conversions: ``bit_decisions`` made, ADCs × ns they are biased."""


class SarAdc(AdcKind):
    """A converter at ``adc.sample_rate_gsps``, shared through sample-and-holds, pipelined behind the array.

    While the ADC converts one segment, the array is read for the next, so a segment takes its
    slowest stage: ``dac`` (one digital clock to latch the next input bits), ``array`` (the read
    pulse ``array.t_read_ns`` per input cycle of the segment: integrating a cycle's charge
    2^(d·j) times repeats the sample, not the read), ``adc`` (its conversion columns in turn at
    ``adc.sample_rate_gsps``) and ``shift_add`` (one clock: each conversion is added as it
    arrives, so only the last add outlasts the ADC). Every segment is converted over its full
    range; each conversion is priced by the ADC energy model.
    """

    name = "sar"
    pipelined = True
    priced_per_conversion = True

    def step_ratio(self, plan: ConversionPlan) -> np.ndarray:
        return np.ones(plan.segments)

    def stage_times_ns(self, plan: ConversionPlan, decisions: np.ndarray, cfg: ChipConfig) -> StageTimes:
        clock_ns, t_read_ns = 1.0 / cfg.chip.clock_ghz, cfg.array.t_read_ns
        adc_ns = array_geometry(cfg).conversions_per_adc / cfg.adc.sample_rate_gsps
        starts = plan.starts.tolist()  # Python ints: the same products, without numpy scalars
        return tuple(
            {"dac": clock_ns, "array": (end - start) * t_read_ns, "adc": adc_ns, "shift_add": clock_ns}
            for start, end in zip(starts, starts[1:])
        )

    def read_actions(self, bit_decisions: float, biased_adc_ns: float) -> list[CountedAction]:
        return []


class IntegratingAdc(AdcKind):
    """NeuRRAM's neuron: one capacitor samples and integrates the column charge, then converts it.

    It keeps one step in units of the final result, so a segment of lower significance converts
    with a coarser step of its own charge (fewer bit decisions). Sampling and converting share
    the capacitor, so they run in sequence: ``sample``, one ``adc.step_ns`` per sample, and
    ``convert``, one step per bit decision plus one to reset, for each conversion column it
    serves. Priced per bit decision (``("adc", "steps")``) and by its bias while its array
    reads (``("adc", "active_ns")``), not per conversion.
    """

    name = "integrating"
    pipelined = False
    priced_per_conversion = False

    def step_ratio(self, plan: ConversionPlan) -> np.ndarray:
        return plan.significance.max() / plan.significance

    def stage_times_ns(self, plan: ConversionPlan, decisions: np.ndarray, cfg: ChipConfig) -> StageTimes:
        served, step_ns = array_geometry(cfg).conversions_per_adc, cfg.adc.step_ns
        return tuple(
            {"sample": served * samples * step_ns, "convert": served * (bits + 1) * step_ns}
            for samples, bits in zip(plan.samples, decisions)
        )

    def read_actions(self, bit_decisions: float, biased_adc_ns: float) -> list[CountedAction]:
        return [("adc", "steps", bit_decisions), ("adc", "active_ns", biased_adc_ns)]


ADC_KINDS: dict[str, AdcKind] = {kind.name: kind for kind in (SarAdc(), IntegratingAdc())}
"""The ADC kinds by their ``adc.kind`` name."""


def adc_kind(name: str) -> AdcKind:
    """The :class:`AdcKind` named ``name`` (``adc.kind``)."""
    try:
        return ADC_KINDS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"adc.kind: got {name!r}, allowed: {', '.join(map(repr, ADC_KINDS))}") from None


@dataclass(frozen=True)
class Adc:
    """The ADC a configuration implies: its bits, whether its codes are signed, and its kind."""

    bits: int
    signed: bool
    kind: AdcKind

    @classmethod
    def for_config(cls, cfg: ChipConfig) -> Adc:
        signed = array_geometry(cfg).analog_differential or cfg.mapping.input_encoding == "bipolar"
        if signed and cfg.adc.bits < 2:
            raise ConfigError(
                f"adc.bits = {cfg.adc.bits}: a signed ADC (analog differential sensing or a bipolar DAC) needs >= 2 bits"
            )
        return cls(bits=cfg.adc.bits, signed=signed, kind=adc_kind(cfg.adc.kind))

    @property
    def top_code(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1

    @property
    def bottom_code(self) -> int:
        return -self.top_code if self.signed else 0

    def step(self, full_scale: float) -> float:
        """The step (LSB) that spreads the codes over a full scale, level units (before the floor)."""
        return full_scale / self.top_code

    def decisions(self, full_scale: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Bit decisions to resolve ``full_scale / step`` (sign included), at most ``bits``."""
        magnitude_bits = np.ceil(np.log2(full_scale / step + 1.0))
        return np.minimum(self.bits, magnitude_bits + (1 if self.signed else 0))


def cycle_full_scale(cfg: ChipConfig, dac_top_code: int) -> float:
    """The largest column current of one array in one input cycle whose codes reach ``dac_top_code``, level units."""
    geometry = array_geometry(cfg)
    column_levels = geometry.rows * geometry.max_level
    column_levels = column_levels // 2 if geometry.flip_columns else column_levels
    return float(column_levels * dac_top_code)


def max_full_scale(cfg: ChipConfig, dac_top_code: int) -> float:
    """The largest column charge of one conversion, level units (module docstring).

    ``dac_top_code``: the largest DAC code a cycle carries (``InputSchedule.top_code``). With
    ``adc.cycles_per_conversion`` = k, a conversion integrates up to k cycles weighted
    1, 2^d, …, 2^(d·(k−1)): the range of one cycle times their sum.
    """
    d = cfg.dac.bits
    return cycle_full_scale(cfg, dac_top_code) * ((2 ** (d * cfg.adc.cycles_per_conversion) - 1) // (2**d - 1))


def conversion_plan(cycle_weight: np.ndarray, cycles_per_conversion: int) -> ConversionPlan:
    """The segments of a vector whose input cycles weigh ``cycle_weight`` (:class:`ConversionPlan`).

    Computed once per weights and ``cycles_per_conversion`` (every read of every plan asks for
    one, and there are few); its arrays are read-only, shared by every caller."""
    weight = np.asarray(cycle_weight, dtype=float)
    return _conversion_plan(weight.tobytes(), int(cycles_per_conversion))


@functools.lru_cache(maxsize=256)
def _conversion_plan(cycle_weight_bytes: bytes, cycles_per_conversion: int) -> ConversionPlan:
    plan = _computed_plan(np.frombuffer(cycle_weight_bytes), cycles_per_conversion)
    for array in vars(plan).values():
        array.flags.writeable = False
    return plan


def _computed_plan(cycle_weight: np.ndarray, cycles_per_conversion: int) -> ConversionPlan:
    cycles = cycle_weight.size
    firsts = sorted({max(0, cycles - (i + 1) * cycles_per_conversion) for i in range(ceil_div(cycles, cycles_per_conversion))})
    starts = np.array(firsts + [cycles], dtype=np.int64)
    first_of_cycle = starts[np.searchsorted(starts, np.arange(cycles), side="right") - 1]
    relative = cycle_weight / cycle_weight[first_of_cycle]
    samples = np.array([relative[a:b].sum() for a, b in zip(starts[:-1], starts[1:])])
    return ConversionPlan(starts, relative, samples, np.abs(cycle_weight[starts[:-1]]))


@dataclass(frozen=True)
class Conversions:
    """The conversions of one vector: plan, steps and bit decisions per (segment, column).

    ``adc_steps``: the ADC's own step (its LSB, for its noise); ``steps``: the rounding step,
    never finer than one level; ``decisions``: bit decisions to resolve each segment's range.
    """

    plan: ConversionPlan
    adc_steps: np.ndarray
    steps: np.ndarray
    decisions: np.ndarray


def conversions(cfg: ChipConfig, adc: Adc, schedule: InputSchedule, column_steps: np.ndarray) -> Conversions:
    """Conversions of a vector streamed as ``schedule``; ``column_steps`` from :meth:`Adc.step`."""
    plan = conversion_plan(schedule.weight, cfg.adc.cycles_per_conversion)
    adc_steps = adc.kind.step_ratio(plan)[:, None] * column_steps[None, :]
    steps = np.maximum(1.0, adc_steps)
    reach = cycle_full_scale(cfg, schedule.top_code) * plan.samples[:, None]
    return Conversions(plan, adc_steps, steps, adc.decisions(reach, steps))


TRANSFER_TABLE_MAX_BITS = 16
"""The widest ADC whose transition levels (2^bits − 1 per ADC) are tabulated for INL and DNL."""


@dataclass(frozen=True)
class AdcErrors:
    """The static errors of every ADC of a matrix, drawn once at programming (module docstring).

    ADCs are numbered row block by row block, then column array by column array, then from
    the array's first column: the ADC of physical column p (of ``columns_per_array``) in array
    a of row block b is ``(b·arrays + a)·adcs_per_array + (p mod columns_per_array) //
    adc.columns_per_adc``. ``offset_lsb``: each ADC's offset (its LSB); ``gain``: its gain error
    (a fraction); ``thresholds``: ADCs × (codes − 1) transition levels in LSB, ascending, code
    ``bottom_code + i`` below the i-th; a 0 × 0 array for an ideal transfer (round to nearest).
    """

    offset_lsb: np.ndarray
    gain: np.ndarray
    thresholds: np.ndarray


def draw_adc_errors(cfg: ChipConfig, adc: Adc, adcs: int, rng: np.random.Generator) -> AdcErrors:
    """Draw the errors of ``adcs`` ADCs from ``rng``; an error whose σ is 0 draws nothing."""
    a = cfg.adc
    offset = a.offset_lsb * rng.standard_normal(adcs) if a.offset_lsb else np.zeros(adcs)
    gain = a.gain_error * rng.standard_normal(adcs) if a.gain_error else np.zeros(adcs)
    thresholds = np.empty((0, 0))
    if a.inl_lsb or a.dnl_lsb:
        thresholds = transition_levels(adc, a.inl_lsb, a.dnl_lsb, adcs, rng)
    return AdcErrors(offset, gain, thresholds)


def transition_levels(adc: Adc, inl_lsb: float, dnl_lsb: float, adcs: int, rng: np.random.Generator) -> np.ndarray:
    """ADCs × (codes − 1) transition levels (LSB) with DNL drawn from ``rng`` and the INL bow (module docstring)."""
    if adc.bits > TRANSFER_TABLE_MAX_BITS:
        raise ConfigError(
            f"adc.bits = {adc.bits}: adc.inl_lsb = {inl_lsb} and adc.dnl_lsb = {dnl_lsb} tabulate every code; "
            f"allowed with adc.bits <= {TRANSFER_TABLE_MAX_BITS} (or set both to 0)"
        )
    inner = adc.top_code - adc.bottom_code - 1  # codes with a transition on both sides
    widths = np.ones((adcs, inner))
    if dnl_lsb and inner:
        widths = np.maximum(0.0, 1.0 + dnl_lsb * rng.standard_normal((adcs, inner)))
        widths *= inner / widths.sum(axis=1, keepdims=True)  # end-point fit
    levels = adc.bottom_code + 0.5 + np.concatenate([np.zeros((adcs, 1)), np.cumsum(widths, axis=1)], axis=1)
    x = np.linspace(0.0, 1.0, inner + 1)
    levels += inl_lsb * 4.0 * x * (1.0 - x)
    return np.maximum.accumulate(levels, axis=1)
