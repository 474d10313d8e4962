"""Read noise only where current flows: a row adds read noise to a column array only where it is driven.

A row whose cells in a column array all hold level 0 is not driven there (``mapping.live_rows``),
and an input code of 0 drives nothing; the ledger counts drives the same way. The case of
issue 14: on ``ideal`` with ``device.read_noise = 0.3``, inputs only on rows whose weights sit in
one column array leave the outputs of the other column array exactly noise-free.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import cimsim
from cimsim.physics.device_models import DeviceModel, unregister_device_model

ROWS, COLS = 128, 128  # the ideal preset's array
HALF = ROWS // 2
READ_NOISE = 0.3


def block_diagonal_case(vectors: int, seed: int):
    """Weights in {−1, 0, 1} (s_w = 1): rows 0..63 hold weights only in the outputs of column array 0,
    rows 64..127 only in those of column array 1; inputs in 0..3 (s_x = 1) only on rows 0..63."""
    cfg = cimsim.load_preset("ideal").override({
        "device.read_noise": READ_NOISE,
        "mapping.weight_bits": 2,  # q ∈ {−1, 0, 1}: one slice, a G+ and a G− column per output
        "mapping.input_bits": 2,
        "dac.bits": 2,  # one input cycle, codes 0..3
    })
    rng = np.random.default_rng(seed)
    outputs_per_array = COLS // 2  # two physical columns per output
    w = np.zeros((ROWS, 2 * outputs_per_array))
    w[:HALF, :outputs_per_array] = rng.choice([-1.0, 1.0], size=(HALF, outputs_per_array))
    w[HALF:, outputs_per_array:] = rng.choice([-1.0, 1.0], size=(HALF, outputs_per_array))
    x = np.zeros((vectors, ROWS))
    x[:, :HALF] = rng.integers(0, 4, size=(vectors, HALF))
    x[0, 0] = 3.0  # the largest code occurs: s_x = 1
    return cfg, w, x, outputs_per_array


def test_undriven_column_array_gets_no_read_noise():
    cfg, w, x, per_array = block_diagonal_case(vectors=200, seed=1)
    matrix = cimsim.AnalogMatrix(w, cfg, seed=7)
    y = matrix.matmul(x)
    # the other column array receives no current: its outputs are exactly 0, spread 0
    assert np.all(y[:, per_array:] == 0.0)
    assert np.std(y[:, per_array:]) == 0.0
    # ... while the driven array is noisy (the test can fail the other way too)
    assert np.std(y[:, :per_array] - x @ w[:, :per_array]) > 1.0


def test_driven_column_array_spread_is_sigma_squared_sum_v_squared():
    cfg, w, x, per_array = block_diagonal_case(vectors=2000, seed=2)
    y = cimsim.AnalogMatrix(w, cfg, seed=11).matmul(x)
    error = y[:, :per_array] - x @ w[:, :per_array]
    # In level units (one conductance level at one DAC step; here X_q·W_q = x·w) a cell's read
    # noise σ = read_noise · g_max is read_noise · (2^bits_per_cell − 1) levels = 0.9: a column's
    # reading has variance σ² · Σ code² over its driven rows (rows 0..63 only), plus 1/12 from
    # rounding to the 1-level step of the 24-bit ADC (Sheppard; σ_conversion ≫ 1 level). Each
    # output is G+ reading − G− reading, two independent conversions.
    sigma_levels = READ_NOISE * 3
    sum_v2 = (x[:, :HALF] ** 2).sum(axis=1)
    variance = 2 * (sigma_levels**2 * sum_v2 + 1 / 12)
    z = error / np.sqrt(variance)[:, None]
    samples = z.size  # 128 000 independent conversions' pairs
    # the sample variance of n standard normals has sd sqrt(2/n) (0.4 %); allow 5 sd
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / samples)
    assert abs(z.mean()) < 5 / math.sqrt(samples)


class FlatPerCell(DeviceModel):
    """σ_read = read_noise·g_max for every cell, level 0 included, but through the per-cell path."""

    def program_noise_sigma_us(self, g_target_us, device):
        return np.zeros_like(g_target_us)

    def drift_nu_mean_std(self, g_target_us, device):
        return np.zeros_like(g_target_us), np.zeros_like(g_target_us)

    def read_noise_sigma_us(self, g_target_us, g_now_us, t_s, device):
        return np.full_like(g_now_us, READ_NOISE * device.g_max_us)


@pytest.fixture
def flat_per_cell():
    cimsim.register_device_model("flat_per_cell_test", FlatPerCell())
    yield "flat_per_cell_test"
    unregister_device_model("flat_per_cell_test")


def test_undriven_rows_add_nothing_through_the_per_cell_path(flat_per_cell):
    """A model whose σ depends on the cell (V² × σ² product): the same law, the same spreads."""
    cfg, w, x, per_array = block_diagonal_case(vectors=2000, seed=2)
    y = cimsim.AnalogMatrix(w, cfg.override({"device.read_noise": flat_per_cell}), seed=11).matmul(x)
    assert np.all(y[:, per_array:] == 0.0)
    # every cell has σ = 0.9 levels, as the constant case: the same variance formula holds
    error = y[:, :per_array] - x @ w[:, :per_array]
    variance = 2 * ((READ_NOISE * 3) ** 2 * (x[:, :HALF] ** 2).sum(axis=1) + 1 / 12)
    z = error / np.sqrt(variance)[:, None]
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / z.size)
