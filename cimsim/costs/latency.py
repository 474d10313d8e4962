"""Timing of reading an array: the stages of every conversion, pipelined or in sequence.

A vector's input cycles are converted in segments (:class:`~cimsim.physics.converters.ConversionPlan`; one
cycle each unless ``adc.cycles_per_conversion`` > 1). The stage times of one segment (ns) are
the ADC kind's (:class:`~cimsim.physics.converters.AdcKind`, chosen by ``adc.kind``):

* ``"sar"``, pipelined: ``dac`` (one clock), ``array`` (the read pulse per input cycle),
  ``adc`` (its conversion columns in turn at ``adc.sample_rate_gsps``), ``shift_add`` (one
  clock); a segment takes its slowest stage, a vector the pipeline's fill plus the sum over
  its segments;
* ``"integrating"`` (NeuRRAM's neuron), in sequence, since one capacitor samples and
  converts: ``sample``, one ``adc.step_ns`` per sample of the column, and ``convert``, one step
  per bit decision plus one to reset, for each conversion it serves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from cimsim.physics.converters import ConversionPlan, adc_kind
from cimsim.config import ChipConfig


@dataclass(frozen=True)
class ReadTiming:
    """Stage times of each segment of one vector (ns), and whether the stages overlap."""

    segment_stages_ns: tuple[dict[str, float], ...]
    pipelined: bool

    @cached_property
    def vector_ns(self) -> float:
        """Time per vector once the pipeline is full (computed once: every layer's reads ask for it)."""
        combine = max if self.pipelined else sum
        return sum([combine(stages.values()) for stages in self.segment_stages_ns])

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

    def with_adc_turns(self, turns: int) -> "ReadTiming":
        """This timing when the ADC stage serves ``turns`` arrays in turn (``adc.arrays_per_adc``)."""
        if turns == 1:
            return self
        stages = tuple({name: ns * turns if name == "adc" else ns for name, ns in segment.items()}
                       for segment in self.segment_stages_ns)
        return replace(self, segment_stages_ns=stages)

    def read_ns(self, vectors: int) -> float:
        """Time to read ``vectors`` vectors one after another."""
        return self.fill_ns + vectors * self.vector_ns if vectors else 0.0


def read_timing(cfg: ChipConfig, plan: ConversionPlan, decisions: np.ndarray) -> ReadTiming:
    """Timing of one vector under ``plan``; ``decisions``: bit decisions of each segment's conversion."""
    kind = adc_kind(cfg.adc.kind)
    return ReadTiming(kind.stage_times_ns(plan, decisions, cfg), pipelined=kind.pipelined)
