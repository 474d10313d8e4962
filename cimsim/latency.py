"""Timing of the array read pipeline: DAC → array → sample-and-hold → ADC → shift-add.

Stages overlap (while the ADC converts cycle t, the array is read for cycle t + 1), so one
input cycle of an array takes as long as the slowest stage, and a product of T cycles takes
the pipeline's fill plus T cycles. Stage times (ns):

* ``dac``: one digital clock to latch the next input bits into the row drivers;
* ``array``: the read pulse, ``array.t_read_ns`` (the sample-and-hold captures at its end);
* ``adc``: one ADC converts its ``adc.columns_per_adc`` columns in turn at
  ``adc.sample_rate_gsps``;
* ``shift_add``: one clock; each conversion is added as it arrives, so only the last one's add
  outlasts the ADC.
"""

from __future__ import annotations

from dataclasses import dataclass

from cimsim.config import ChipConfig


@dataclass(frozen=True)
class ArrayPipeline:
    """Stage times of one input cycle (ns)."""

    stages_ns: dict[str, float]

    @property
    def cycle_ns(self) -> float:
        """Time per input cycle once the pipeline is full: the slowest stage."""
        return max(self.stages_ns.values())

    @property
    def bottleneck(self) -> str:
        return max(self.stages_ns, key=self.stages_ns.get)

    @property
    def fill_ns(self) -> float:
        """Extra time of the first cycle: every stage but the slowest once."""
        return sum(self.stages_ns.values()) - self.cycle_ns

    def read_ns(self, cycles: int) -> float:
        """Time for ``cycles`` consecutive input cycles."""
        return self.fill_ns + cycles * self.cycle_ns if cycles else 0.0


def array_pipeline(cfg: ChipConfig) -> ArrayPipeline:
    clock_ns = 1.0 / cfg.chip.clock_ghz
    return ArrayPipeline(
        {
            "dac": clock_ns,
            "array": cfg.array.t_read_ns,
            "adc": cfg.adc.columns_per_adc / cfg.adc.sample_rate_gsps,
            "shift_add": clock_ns,
        }
    )
