"""The numba kernels of cimsim, as pure functions over arrays, each with a numpy reference.

The hot loop of the crossbar model is :func:`convert_accumulate`: for one block of rows it
takes the noise-free column currents of every (vector, input cycle) — one BLAS product done by
the caller — and for each conversion adds the read and ADC noise, converts (round, clip to
the ADC codes), undoes ISAAC's column flip, and shift-adds the result into the output.

Random numbers come from :mod:`cimsim.physics.random_stream`: each (row block, vector, input
cycle) has its own key and draws its Gaussians in column order. A row is always processed by
one thread from its own key, so results are identical for any ``NUMBA_NUM_THREADS``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from cimsim.physics.random_stream import row_key, standard_normal


PARALLEL_MIN_ELEMENTS = 1 << 16
"""Below this many elements a kernel runs on one thread (a pool's wake-up costs ~0.1–1 ms)."""


def convert_accumulate(
    currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
    col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level, row_sum,
    noisy, key, block, first_vector, out,
):
    """ADC conversion and shift-add of one row block, added into ``out``.

    currents: (M·T) × C noise-free column currents in level units (row m·T + t is vector m in
        cycle t); row_var: (M·T) × A read-noise variance shared by every column of a column
        array (its driven rows only); col_array: C column-array indices (0 .. A − 1) of the columns;
        cell_var: (M·T) × C extra per-read variance, or a 0 × 0 array when there is none;
        adc_var: segments × C input-referred ADC noise variances; all variances in level units².
    cycle_weight: T signed shifts ±2^(d·t). Cycles are integrated in analog in segments:
        segment s holds cycles segment_start[s] .. segment_start[s + 1] − 1, each weighted by
        relative_weight[t] = cycle_weight[t] / cycle_weight[first cycle of its segment]; one
        conversion per segment, shift-added with the weight of its first cycle.
    col_out: C output indices; col_weight: C signed shifts ±2^(c·s); inv_lsb, lsb: segments × C
        ADC steps in level units (a gain error of the ADC divides the step: inv_lsb is scaled by
        1 + gain); code_lo, code_hi: the codes; code_offset: segments × C offsets added to the
        reading in steps, before conversion; col_adc: C indices of the ADC converting each column;
        thresholds: per ADC, the reading (in steps) at which each code gives way to the next
        (ADCs × (code_hi − code_lo), ascending), or a 0 × 0 array to round to the nearest code.
    flipped: C flags of ISAAC-flipped columns, whose value is flip_level·row_sum − reading.
    noisy: draw noise at all; key, block, first_vector: identify the random streams (one per
        vector and segment, keyed by the segment's first cycle).
    out: M × N float64 accumulator.

    Vectors are independent: large calls spread them over threads, small ones (below
    PARALLEL_MIN_ELEMENTS currents) run on one, since waking a thread pool costs more than they
    take. Either way each vector's result is the same.
    """
    same_std = (adc_var == adc_var[:, :1]).all(axis=1) & (cell_var.shape[0] == 0)
    driver = _convert_parallel if currents.size >= PARALLEL_MIN_ELEMENTS else _convert_serial
    driver(
        currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
        col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level, row_sum,
        noisy, key, block, first_vector, out, same_std,
    )


@njit(parallel=True, cache=True)
def _convert_parallel(
    currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
    col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level, row_sum,
    noisy, key, block, first_vector, out, same_std,
):
    for m in prange(currents.shape[0] // cycle_weight.shape[0]):
        _convert_vector(
            m, currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
            col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level,
            row_sum, noisy, key, block, first_vector, out, same_std,
        )


@njit(cache=True)
def _convert_serial(
    currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
    col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level, row_sum,
    noisy, key, block, first_vector, out, same_std,
):
    for m in range(currents.shape[0] // cycle_weight.shape[0]):
        _convert_vector(
            m, currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
            col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level,
            row_sum, noisy, key, block, first_vector, out, same_std,
        )


@njit(inline="always", cache=True)
def _convert_vector(
    m, currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
    col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level, row_sum,
    noisy, key, block, first_vector, out, same_std,
):
    """Vector m of :func:`convert_accumulate`; same_std[s]: one noise σ per column array in segment s."""
    columns = currents.shape[1]
    cycles = cycle_weight.shape[0]
    arrays = row_var.shape[1]
    has_cell_var = cell_var.shape[0] > 0
    has_thresholds = thresholds.shape[0] > 0
    segment_var = np.empty(arrays)
    array_std = np.empty(arrays)
    for s in range(segment_start.shape[0] - 1):
        first, stop = segment_start[s], segment_start[s + 1]
        state = row_key(key, block, first_vector + m, first)
        segment_sum = 0.0
        segment_var[:] = 0.0
        for t in range(first, stop):
            w = relative_weight[t]
            for a in range(arrays):
                segment_var[a] += w * w * row_var[m * cycles + t, a]
            segment_sum += w * row_sum[m * cycles + t]
        for a in range(arrays):
            array_std[a] = math.sqrt(segment_var[a] + adc_var[s, 0])
        shift = cycle_weight[first]
        for j in range(columns):
            current = 0.0
            for t in range(first, stop):
                current += relative_weight[t] * np.float64(currents[m * cycles + t, j])
            if noisy:
                std = array_std[col_array[j]]
                if not same_std[s]:
                    variance = segment_var[col_array[j]] + adc_var[s, j]
                    if has_cell_var:
                        for t in range(first, stop):
                            w = relative_weight[t]
                            variance += w * w * cell_var[m * cycles + t, j]
                    std = math.sqrt(variance)
                state, z = standard_normal(state)
                current += std * z
            reading = current * inv_lsb[s, j] + code_offset[s, j]
            if has_thresholds:
                code = code_lo + _thresholds_at_or_below(thresholds[col_adc[j]], reading)
            else:
                code = min(max(math.floor(reading + 0.5), code_lo), code_hi)
            value = code * lsb[s, j]
            if flipped[j]:
                value = flip_level * segment_sum - value
            out[m, col_out[j]] += value * col_weight[j] * shift


@njit(inline="always", cache=True)
def _thresholds_at_or_below(thresholds, reading):
    """How many of the ascending ``thresholds`` are <= ``reading`` (binary search)."""
    low, high = 0, thresholds.shape[0]
    while low < high:
        middle = (low + high) // 2
        if thresholds[middle] <= reading:
            low = middle + 1
        else:
            high = middle
    return low


def convert_accumulate_reference(
    currents, row_var, col_array, cell_var, adc_var, cycle_weight, relative_weight, segment_start, col_out,
    col_weight, inv_lsb, lsb, code_lo, code_hi, code_offset, col_adc, thresholds, flipped, flip_level, row_sum,
    normals, out,
):
    """numpy twin of :func:`convert_accumulate`.

    ``normals``: None, or the draws of :func:`~cimsim.physics.random_stream.normal_matrix`, a row
    per (vector, cycle); a segment uses the row of its first cycle.
    """
    cycles = cycle_weight.shape[0]
    vectors = currents.shape[0] // cycles
    cur = currents.astype(np.float64).reshape(vectors, cycles, -1) * relative_weight[None, :, None]
    var = row_var.reshape(vectors, cycles, -1)[:, :, col_array] * relative_weight[None, :, None] ** 2
    if cell_var.shape[0] > 0:
        var = var + cell_var.reshape(vectors, cycles, -1) * relative_weight[None, :, None] ** 2
    sums = row_sum.reshape(vectors, cycles) * relative_weight[None, :]
    for s in range(segment_start.shape[0] - 1):
        first, stop = segment_start[s], segment_start[s + 1]
        current = cur[:, first:stop].sum(axis=1)
        if normals is not None:
            variance = var[:, first:stop].sum(axis=1) + adc_var[s][None, :]
            current = current + np.sqrt(variance) * normals.reshape(vectors, cycles, -1)[:, first]
        reading = current * inv_lsb[s] + code_offset[s]
        if thresholds.shape[0] > 0:
            above = thresholds[col_adc][None, :, :] <= reading[:, :, None]
            code = code_lo + above.sum(axis=2)
        else:
            code = np.clip(np.floor(reading + 0.5), code_lo, code_hi)
        value = code * lsb[s]
        value = np.where(flipped[None, :], flip_level * sums[:, first:stop].sum(axis=1)[:, None] - value, value)
        np.add.at(out, (slice(None), col_out), value * col_weight[None, :] * cycle_weight[first])


UNSIGNED, OFFSET, BIPOLAR, TWO_PHASE = 0, 1, 2, 3


@njit(inline="always", cache=True)
def _cycle_source(mode, t, magnitude_cycles):
    """Which magnitude cycle t streams (bit cycle) and from which sign (0 positive, 1 negative)."""
    if mode == TWO_PHASE and t >= magnitude_cycles:
        return t - magnitude_cycles, 1
    return t, 0


def encode_inputs(
    x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows, row_conductance,
    row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives, reads, v2g, xq_sum,
):
    """Quantise inputs and split them into the DAC codes of every cycle, with their statistics.

    x: M × K inputs; ``x_q = clip(rint(x / scale), q_min, q_max)``. mode (see
    mapping.input_planes): UNSIGNED and OFFSET stream ``x_q + offset``; BIPOLAR streams |x_q|
    with its sign on every code; TWO_PHASE streams max(x_q, 0) in the first
    ``magnitude_cycles`` cycles and max(−x_q, 0) in the next ones. Each cycle carries
    ``dac_bits`` bits, least significant first.

    Written (row m·T + t is vector m in cycle t; T = codes.shape[0] // M):
    codes: (M·T) × K DAC codes; code_sq_sum: (M·T) × row blocks × column arrays, Σcode² over
    the rows of each block of ``block_rows`` rows that are live in the array (row_live: K ×
    column arrays, ``mapping.live_rows``), the rows a read drives there; code_sum: (M·T) ×
    row blocks, Σcode over each block; drives, reads: (M·T) Σ over non-zero codes of
    row_arrays[k] (arrays the row drives) and row_cells[k] (cells it reads); v2g: (M·T)
    Σ_k code²·row_conductance[k]; xq_sum: M sums of x_q.

    Runs on one thread below PARALLEL_MIN_ELEMENTS codes (see :func:`convert_accumulate`).
    """
    driver = _encode_parallel if codes.size >= PARALLEL_MIN_ELEMENTS else _encode_serial
    driver(x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows, row_conductance,
           row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives, reads, v2g, xq_sum)


@njit(parallel=True, cache=True)
def _encode_parallel(
    x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows, row_conductance,
    row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives, reads, v2g, xq_sum,
):
    for m in prange(x.shape[0]):
        _encode_vector(m, x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows,
                       row_conductance, row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives,
                       reads, v2g, xq_sum)


@njit(cache=True)
def _encode_serial(
    x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows, row_conductance,
    row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives, reads, v2g, xq_sum,
):
    for m in range(x.shape[0]):
        _encode_vector(m, x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows,
                       row_conductance, row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives,
                       reads, v2g, xq_sum)


@njit(inline="always", cache=True)
def _encode_vector(
    m, x, scale, q_min, q_max, mode, offset, dac_bits, magnitude_cycles, block_rows, row_conductance,
    row_live, row_arrays, row_cells, codes, code_sq_sum, code_sum, drives, reads, v2g, xq_sum,
):
    """Vector m of :func:`encode_inputs`."""
    inputs = x.shape[1]
    cycles = codes.shape[0] // x.shape[0]
    blocks, arrays = code_sq_sum.shape[1], code_sq_sum.shape[2]
    mask = (1 << dac_bits) - 1
    low, high = np.float64(q_min), np.float64(q_max)
    quantized = np.empty(inputs, dtype=np.int64)
    for k in range(inputs):
        quantized[k] = np.int64(min(max(np.rint(x[m, k] / scale), low), high))
    xq_sum[m] = quantized.sum()
    magnitude = np.empty((2, inputs), dtype=np.int64)
    sign = np.ones(inputs, dtype=np.int64)
    if mode == UNSIGNED or mode == OFFSET:
        for k in range(inputs):
            magnitude[0, k] = quantized[k] + offset
    elif mode == BIPOLAR:
        for k in range(inputs):
            magnitude[0, k] = abs(quantized[k])
            sign[k] = -1 if quantized[k] < 0 else 1
    else:
        for k in range(inputs):
            magnitude[0, k] = max(quantized[k], 0)
            magnitude[1, k] = max(-quantized[k], 0)
    for t in range(cycles):
        row = m * cycles + t
        bit_cycle, phase = _cycle_source(mode, t, magnitude_cycles)
        shift = dac_bits * bit_cycle
        driven, cells, energy = 0.0, 0.0, 0.0
        for b in range(blocks):
            code_sq_sum[row, b, :] = 0.0
            sums = 0
            for k in range(b * block_rows, min((b + 1) * block_rows, inputs)):
                code = sign[k] * ((magnitude[phase, k] >> shift) & mask)
                codes[row, k] = code
                sums += code
                if code != 0:
                    for a in range(arrays):
                        if row_live[k, a]:
                            code_sq_sum[row, b, a] += code * code
                    driven += row_arrays[k]
                    cells += row_cells[k]
                energy += code * code * row_conductance[k]
            code_sum[row, b] = sums
        drives[row] = driven
        reads[row] = cells
        v2g[row] = energy


# ---- placement: stored levels per row and column array ---------------------------------------


@njit(inline="always", cache=True)
def _stored_value(w, scale, q_max, offset, signs, p):
    """The integer a weight stores in its cell group of sign ``p`` (as mapping.quantize_weights and cell_levels)."""
    q = min(max(np.rint(w / scale), -q_max), q_max)
    if signs == 2:
        return int(max(q, 0.0)) if p == 0 else int(max(-q, 0.0))
    return int(q) + offset


@njit(cache=True, parallel=True)
def _flip_flags(w, scale, q_max, offset, slices, signs, bits, rows, flip):
    """(row blocks × physical columns): does the column of the block store over half its levels (ISAAC)?"""
    k, n = w.shape
    per_weight, mask = slices * signs, (1 << bits) - 1
    blocks = (k + rows - 1) // rows
    flags = np.zeros((blocks, n * per_weight), dtype=np.bool_)
    if not flip:
        return flags
    for b in prange(blocks):
        r1 = min(k, (b + 1) * rows)
        totals = np.zeros(n * per_weight, dtype=np.int64)
        for r in range(b * rows, r1):
            for j in range(n):
                for p in range(signs):
                    value = _stored_value(w[r, j], scale[j], q_max, offset, signs, p)
                    for s in range(slices):
                        totals[j * per_weight + s * signs + p] += (value >> (bits * s)) & mask
        for c in range(n * per_weight):
            flags[b, c] = 2 * totals[c] > (r1 - b * rows) * mask
    return flags


@njit(cache=True, parallel=True)
def array_level_sums(w, scale, q_max, offset, slices, signs, bits, rows, width, flip):
    """K × column arrays: the sum of the stored levels of each row in each array (numba).

    ``w``: K×N weights, ``scale``: s_w per column; weights are quantised to ±``q_max``, stored
    with ``offset`` (one sign) or as a differential pair (``signs`` = 2), cut in ``slices`` of
    ``bits`` bits, columns ordered (n, s, p), and flipped per row block of ``rows`` where
    ``flip`` (ISAAC). Numpy reference: :func:`cimsim.costs.array_counts.array_level_sums_reference`.
    """
    k, n = w.shape
    per_weight, mask = slices * signs, (1 << bits) - 1
    flags = _flip_flags(w, scale, q_max, offset, slices, signs, bits, rows, flip)
    whole = width % per_weight == 0  # every weight's cells in one array: add them up first
    out = np.zeros((k, (n * per_weight + width - 1) // width), dtype=np.int64)
    for r in prange(k):
        b = r // rows
        for j in range(n):
            base = j * per_weight
            total = 0
            for p in range(signs):
                value = _stored_value(w[r, j], scale[j], q_max, offset, signs, p)
                for s in range(slices):
                    column = base + s * signs + p
                    level = (value >> (bits * s)) & mask
                    if flip and flags[b, column]:
                        level = mask - level
                    if whole:
                        total += level
                    else:
                        out[r, column // width] += level
            if whole:
                out[r, base // width] += total
    return out


@njit(cache=True, parallel=True)
def nonzero_rows(w, scale, q_max):
    """(K,): does the row hold a weight that quantises to a non-zero integer? (numba)

    Numpy reference: ``mapping.quantize_weights(w, ...)[0].any(axis=1)``.
    """
    k, n = w.shape
    out = np.zeros(k, dtype=np.bool_)
    for r in prange(k):
        for j in range(n):
            if min(max(np.rint(w[r, j] / scale[j]), -q_max), q_max) != 0:
                out[r] = True
                break
    return out


# ---- calibration: numpy's tail shuffle, on the touched positions only ----------------------------


@njit(cache=True)
def swap_in_order(values, other_slot):
    """Step s = 0, 1, … swaps ``values[L − 1 − s]`` with ``values[other_slot[s]]``, L = other_slot.size (numba).

    The loop of numpy's tail shuffle (``Generator.choice`` without replacement), on a compact
    array of the positions it touches; :func:`cimsim.physics.calibration.subsample` sets it up.
    Numpy reference: ``Generator.choice`` itself (tests/test_memory.py)."""
    last = other_slot.size - 1
    for s in range(other_slot.size):
        here, there = last - s, other_slot[s]
        held = values[here]
        values[here] = values[there]
        values[there] = held
