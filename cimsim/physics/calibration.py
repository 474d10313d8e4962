"""The charges an ADC calibration keeps, per weight slice, and the full scale it takes from them.

Also: when a calibration may compute its currents in float32 (:func:`sums_exact_in_float32`).

``AnalogMatrix.calibrate`` (``adc.range = "calibrated"``) reads every conversion of its inputs
without noise; the full scale of each weight slice's ADCs is the
``adc.calibration_percentile``-th percentile of the |charges| of that slice. Beyond a limit of
charges per slice (``cimsim.crossbar.CALIBRATION_SAMPLES_PER_SLICE``), the percentile is taken over a random
subsample of that size drawn with a fixed seed (0) from all of them, numbered in the order they
are read (vector chunks, then row blocks). Which charges are kept is drawn *before* reading
(the number read is known from the shapes), and only those are kept as they come: the memory
is the subsample's, not every charge's, and the percentile is that of the same charges as when
all of them were gathered first (a percentile does not depend on their order).
"""

from __future__ import annotations

import numpy as np


class SliceSamples:
    """The |charges| kept for one weight slice: ``total`` of them will be offered in order, and
    ``limit`` at most kept (a fixed-seed random choice of that many)."""

    def __init__(self, total: int, limit: int):
        self.total = total
        self.chosen = None
        if total > limit:
            picks = np.random.default_rng(0).choice(total, limit, replace=False)
            self.chosen = np.sort(picks.astype(np.uint32) if total <= 2**32 else picks)  # half the memory
        self.kept: list[np.ndarray] = []
        self.offered = 0

    def offer(self, charges: np.ndarray) -> None:
        """The next charges read (flattened in reading order); those chosen are kept."""
        values = charges.ravel()
        start, self.offered = self.offered, self.offered + values.size
        if self.chosen is None:
            self.kept.append(values)
            return
        lo, hi = np.searchsorted(self.chosen, [start, self.offered])
        self.kept.append(values[self.chosen[lo:hi].astype(np.int64) - start])

    def full_scale(self, percentile: float) -> float:
        """The ``percentile``-th percentile of the kept charges (every offered one below the limit)."""
        if self.offered != self.total:
            raise RuntimeError(f"calibration read {self.offered} charges of a slice, expected {self.total}")
        return float(np.percentile(np.concatenate(self.kept), percentile))


def sums_exact_in_float32(operand: np.ndarray, block_rows: int, dac_bits: int) -> bool:
    """True when every current of a row block is an integer sum below 2^24 in float32, whatever
    the order of its additions (so float32 gives the float64 product's numbers): an integer-valued
    float32 ``operand``, integer DAC codes below 2^``dac_bits``, ``block_rows`` rows."""
    if operand.dtype != np.float32 or not np.array_equal(operand, np.rint(operand)):
        return False
    return block_rows * float(np.abs(operand).max()) * (2**dac_bits - 1) < 2**24
