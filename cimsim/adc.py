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
  regime of the exactness law.
"""

from __future__ import annotations

from dataclasses import dataclass

from cimsim.config import ChipConfig
from cimsim.errors import ConfigError


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
        """The step (LSB) in level units for a full scale in level units."""
        return max(1.0, full_scale / self.top_code)


def max_full_scale(cfg: ChipConfig) -> float:
    """The largest possible column current of one array, level units (module docstring)."""
    top_level = 2**cfg.array.bits_per_cell - 1
    rows = cfg.array.rows
    column_levels = (rows * top_level) // 2 if cfg.mapping.flip_columns else rows * top_level
    return float(column_levels * (2**cfg.dac.bits - 1))
