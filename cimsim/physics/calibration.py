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

The subsample is numpy's ``Generator.choice(total, limit, replace=False)`` (:func:`subsample`),
drawn without the ``total``-long int64 array numpy's own tail shuffle fills (8 GB for 2^30
charges): the same draws, swapped among the positions they touch only, so its memory is about
five int64 arrays of ``limit``.
"""

from __future__ import annotations

import numpy as np

from cimsim.physics.kernels import swap_in_order

TAIL_SHUFFLE_MIN_TOTAL = 10_000  # numpy's choice shuffles the tail above this population ...
TAIL_SHUFFLE_FRACTION = 50  # ... when it picks more than 1/50 of it (else Floyd's algorithm, O(limit) memory)


def subsample(rng: np.random.Generator, total: int, limit: int) -> np.ndarray:
    """``rng.choice(total, limit, replace=False)`` (int64, same values in the same order, same
    generator state after), 0 < ``limit`` < ``total``, in memory proportional to ``limit``.

    Where numpy shuffles a tail (``total`` > 10,000 and ``limit`` > ``total`` // 50), it fills
    ``arange(total)`` and, for i = total − 1 down to f = total − limit, swaps entry i with
    entry j_i, j_i uniform in 0 .. i (one bounded draw each, in that order); entries f .. total − 1
    are the choice. Here the j_i come from one ``rng.integers(0, i + 1)`` over the same bounds
    (numpy's bounded draws, one per bound, in order) and the swaps act on the positions f ..
    total − 1 followed by the distinct j_i below f, the only ones the swaps touch."""
    if total <= TAIL_SHUFFLE_MIN_TOTAL or limit <= total // TAIL_SHUFFLE_FRACTION:
        return rng.choice(total, limit, replace=False)
    first = total - limit
    other = rng.integers(0, np.arange(total, first, -1, dtype=np.int64))  # j_i for i = total - 1, ..., first
    below = other < first
    low_positions, low_slot = np.unique(other[below], return_inverse=True)
    other -= first  # positions f .. total - 1 sit at slots 0 .. limit - 1 ...
    other[below] = limit + low_slot  # ... and the distinct ones below f after them
    values = np.concatenate([np.arange(first, total, dtype=np.int64), low_positions])
    swap_in_order(values, other)
    return values[:limit]


class SliceSamples:
    """The |charges| kept for one weight slice: ``total`` of them will be offered in order, and
    ``limit`` at most kept (a fixed-seed random choice of that many, ``chosen``: sorted, or None
    to keep every one; slices with the same total share it, :meth:`for_slices`)."""

    def __init__(self, total: int, limit: int, chosen: np.ndarray | None = None):
        self.total = total
        if total > limit and chosen is None:
            picks = subsample(np.random.default_rng(0), total, limit)
            chosen = np.sort(picks.astype(np.uint32) if total < 2**32 else picks)  # half the memory
        self.chosen = chosen
        self.kept = np.empty(min(total, limit))  # filled in reading order
        self.offered = 0

    @classmethod
    def for_slices(cls, totals: list[int], limit: int) -> list[SliceSamples]:
        """One per slice; slices offered the same number of charges keep the same positions (one draw)."""
        made: dict[int, SliceSamples] = {}
        samples = []
        for total in totals:
            first = made.get(total)
            samples.append(cls(total, limit, None if first is None else first.chosen))
            made.setdefault(total, samples[-1])
        return samples

    def offer(self, charges: np.ndarray, columns: np.ndarray) -> None:
        """The next charges read: the ``columns`` (indices) of every row of ``charges`` (C-contiguous,
        signed), in that order (row after row); the |charge| of those chosen is kept."""
        start, self.offered = self.offered, self.offered + charges.shape[0] * columns.size
        if self.chosen is None:
            np.abs(charges[:, columns], out=self.kept[start : self.offered].reshape(-1, columns.size))
            return
        lo, hi = np.searchsorted(self.chosen, np.array([start, self.offered], dtype=self.chosen.dtype))
        row, column = np.divmod(self.chosen[lo:hi].astype(np.int64) - start, columns.size)
        row *= charges.shape[1]
        row += columns[column]  # the flat position in charges
        np.abs(charges.ravel()[row], out=self.kept[lo:hi])

    def full_scale(self, percentile: float) -> float:
        """The ``percentile``-th percentile of the kept charges (every offered one below the limit)."""
        if self.offered != self.total:
            raise RuntimeError(f"calibration read {self.offered} charges of a slice, expected {self.total}")
        return float(np.percentile(self.kept, percentile, overwrite_input=True))  # sorts in place: no copy


def sums_exact_in_float32(operand: np.ndarray, product_dtype: np.dtype, block_rows: int, dac_bits: int) -> bool:
    """True when every current of a row block is an integer sum below 2^24 in float32, whatever
    the order of its additions (so float32 gives the float64 product's numbers): products in
    float32 (``product_dtype``), an integer-valued ``operand`` (int8, or float32 holding
    integers), integer DAC codes below 2^``dac_bits``, ``block_rows`` rows."""
    if product_dtype != np.float32:
        return False
    if operand.dtype.kind != "i":
        for r0 in range(0, operand.shape[0], block_rows):  # a row block at a time: no operand-sized temporary
            block = operand[r0 : r0 + block_rows]
            if not np.array_equal(block, np.rint(block)):
                return False
    largest = max(float(operand.max()), -float(operand.min()))
    return block_rows * largest * (2**dac_bits - 1) < 2**24
