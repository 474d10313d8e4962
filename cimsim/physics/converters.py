"""The column ADC: its codes, full scale and step, in level units (see crossbar.py).

* **Signed or not**: the ADC is signed when a column current can be negative — the pair of a
  differential weight subtracted in analog, or a bipolar DAC — with codes
  −(2^(b−1) − 1) .. 2^(b−1) − 1; otherwise unipolar with codes 0 .. 2^b − 1.
* **Full scale** ``max``: the largest possible column current of an array,
  ``rows·(2^c − 1)·(2^d − 1)`` level units, or ``floor(rows·(2^c − 1) / 2)·(2^d − 1)`` with
  ISAAC's flipped columns (no column then stores more than half its levels).
  ``calibrated``: a percentile of measured currents (the crossbar supplies it).
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.config import ChipConfig
from cimsim.errors import ConfigError
from cimsim.physics.mapping import ceil_div


def analog_differential(cfg: ChipConfig) -> bool:
    """True when G+ and G− currents are subtracted before one conversion."""
    m = cfg.mapping
    return m.weight_encoding == "differential" and m.differential_sensing == "analog"


@dataclass(frozen=True)
class Adc:
    """The ADC a configuration implies."""

    bits: int
    signed: bool

    @classmethod
    def for_config(cls, cfg: ChipConfig) -> Adc:
        signed = analog_differential(cfg) or cfg.mapping.input_encoding == "bipolar"
        if signed and cfg.adc.bits < 2:
            raise ConfigError(
                f"adc.bits = {cfg.adc.bits}: a signed ADC (analog differential sensing or a bipolar DAC) needs >= 2 bits"
            )
        return cls(bits=cfg.adc.bits, signed=signed)

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


def cycle_full_scale(cfg: ChipConfig) -> float:
    """The largest possible column current of one array in one input cycle, level units."""
    top_level = 2**cfg.array.bits_per_cell - 1
    rows = cfg.array.rows
    column_levels = (rows * top_level) // 2 if cfg.mapping.flip_columns else rows * top_level
    return float(column_levels * (2**cfg.dac.bits - 1))


def max_full_scale(cfg: ChipConfig) -> float:
    """The largest possible column charge of one conversion, level units (module docstring).

    With ``adc.cycles_per_conversion`` = k, a conversion integrates up to k cycles weighted
    1, 2^d, …, 2^(d·(k−1)): the range of one cycle times their sum.
    """
    d = cfg.dac.bits
    return cycle_full_scale(cfg) * ((2 ** (d * cfg.adc.cycles_per_conversion) - 1) // (2**d - 1))


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


def conversion_plan(cycle_weight: np.ndarray, cycles_per_conversion: int) -> ConversionPlan:
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


def conversions(cfg: ChipConfig, adc: Adc, cycle_weight: np.ndarray, column_steps: np.ndarray) -> Conversions:
    """Conversions of a vector whose cycles have ``cycle_weight``; ``column_steps`` from :meth:`Adc.step`."""
    plan = conversion_plan(cycle_weight, cfg.adc.cycles_per_conversion)
    integrating = cfg.adc.kind == "integrating"
    ratio = plan.significance.max() / plan.significance if integrating else np.ones(plan.segments)
    adc_steps = ratio[:, None] * column_steps[None, :]
    steps = np.maximum(1.0, adc_steps)
    return Conversions(plan, adc_steps, steps, adc.decisions(cycle_full_scale(cfg) * plan.samples[:, None], steps))
