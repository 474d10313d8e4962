"""Timing of reading an array: the stages of every conversion, pipelined or in sequence.

A vector's input cycles are converted in segments (:class:`~cimsim.physics.converters.ConversionPlan`; one
cycle each unless ``adc.cycles_per_conversion`` > 1). Stage times of one segment (ns):

* ``adc.kind = "sar"``, pipelined (while the ADC converts one segment, the array is read for
  the next, through sample-and-holds), so a segment takes its slowest stage and a vector the
  pipeline's fill plus the sum over its segments:

  - ``dac``: one digital clock to latch the next input bits into the row drivers;
  - ``array``: the read pulse ``array.t_read_ns`` per input cycle of the segment (a cycle is
    read once; integrating its charge 2^(d·j) times repeats the sample, not the read);
  - ``adc``: one ADC converts its columns in turn at ``adc.sample_rate_gsps`` (one conversion per
    column, or per pair of columns sensed in analog);
  - ``shift_add``: one clock; each conversion is added as it arrives, so only the last one's
    add outlasts the ADC;

* ``adc.kind = "integrating"`` (NeuRRAM's neuron), in sequence, since one capacitor samples and
  converts: ``sample``, one ``adc.step_ns`` per sample of the column, and ``convert``, one step
  per bit decision plus one to reset, for each conversion it serves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cimsim.physics.converters import ConversionPlan, analog_differential
from cimsim.config import ChipConfig


@dataclass(frozen=True)
class ReadTiming:
    """Stage times of each segment of one vector (ns), and whether the stages overlap."""

    segment_stages_ns: tuple[dict[str, float], ...]
    pipelined: bool

    @property
    def vector_ns(self) -> float:
        """Time per vector once the pipeline is full."""
        combine = max if self.pipelined else sum
        return sum(combine(stages.values()) for stages in self.segment_stages_ns)

    @property
    def fill_ns(self) -> float:
        """Extra time of the first vector: every stage but the slowest of a segment, once."""
        if not self.pipelined:
            return 0.0
        last = self.segment_stages_ns[-1]
        return sum(last.values()) - max(last.values())

    @property
    def bottleneck(self) -> str:
        """The stage that takes the most time over a vector."""
        totals: dict[str, float] = {}
        for stages in self.segment_stages_ns:
            for name, ns in stages.items():
                totals[name] = totals.get(name, 0.0) + ns
        return max(totals, key=totals.get)

    def read_ns(self, vectors: int) -> float:
        """Time to read ``vectors`` vectors one after another."""
        return self.fill_ns + vectors * self.vector_ns if vectors else 0.0


def read_timing(cfg: ChipConfig, plan: ConversionPlan, decisions: np.ndarray) -> ReadTiming:
    """Timing of one vector under ``plan``; ``decisions``: bit decisions of each segment's conversion."""
    adc = cfg.adc
    served = max(1, adc.columns_per_adc // (2 if analog_differential(cfg) else 1))  # conversions per ADC
    if adc.kind == "integrating":
        stages = tuple(
            {"sample": served * samples * adc.step_ns, "convert": served * (bits + 1) * adc.step_ns}
            for samples, bits in zip(plan.samples, decisions)
        )
        return ReadTiming(stages, pipelined=False)
    clock_ns = 1.0 / cfg.chip.clock_ghz
    stages = tuple(
        {
            "dac": clock_ns,
            "array": cycles * cfg.array.t_read_ns,
            "adc": served / adc.sample_rate_gsps,
            "shift_add": clock_ns,
        }
        for cycles in np.diff(plan.starts)
    )
    return ReadTiming(stages, pipelined=True)
