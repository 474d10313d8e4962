"""Bounded memory: programming is estimated and refused above the limit; reads stay flat as vectors grow."""

import tracemalloc

import numpy as np
import pytest

import cimsim
from cimsim.host_memory import BYTES_PER_CELL, LIMIT_VARIABLE, memory_limit_bytes


def traced_peak(function):
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("preset", ["ideal", "pcm", "isaac"])
def test_programming_stays_within_the_bytes_per_cell_the_guard_assumes(preset):
    w = np.random.default_rng(0).standard_normal((512, 128))
    matrix, peak = traced_peak(lambda: cimsim.AnalogMatrix(w, cimsim.load_preset(preset), seed=0))
    cells = matrix.stored_rows * matrix.physical_columns
    assert peak <= BYTES_PER_CELL * cells


def test_a_matrix_above_the_limit_is_refused_with_its_size_and_advice(monkeypatch):
    monkeypatch.setenv(LIMIT_VARIABLE, "0.001")  # 1 MB
    w = np.ones((512, 64))  # 512 x 64 x 8 cells on ideal (8-bit differential, 2-bit cells): ~19 MB
    with pytest.raises(cimsim.ConfigError, match=r"programming a 512 x 64 matrix .* needs about 0.021 GB.*column slices"):
        cimsim.AnalogMatrix(w, cimsim.load_preset("ideal"))
    monkeypatch.setenv(LIMIT_VARIABLE, "lots")
    with pytest.raises(cimsim.ConfigError, match=LIMIT_VARIABLE):
        memory_limit_bytes()


def test_reads_are_chunked_so_memory_does_not_grow_with_the_vectors():
    """10x the vectors: the peak grows by the output alone (M x N float64), not by the work arrays."""
    rng = np.random.default_rng(1)
    matrix = cimsim.AnalogMatrix(rng.standard_normal((512, 256)), cimsim.load_preset("ideal"), seed=0)
    small, large = (rng.random((m, 512)) for m in (1500, 15000))
    _, peak_small = traced_peak(lambda: matrix.matmul(small))
    _, peak_large = traced_peak(lambda: matrix.matmul(large))
    output_growth = (15000 - 1500) * 256 * 8
    assert peak_large - peak_small < output_growth + 0.25 * peak_small


def test_a_functional_simulation_needs_the_same_memory_at_any_batch():
    rng = np.random.default_rng(2)
    wl = cimsim.Workload([cimsim.Gemm("fc", m=64, k=512, n=256, weights=rng.standard_normal((512, 256)))], name="fc")
    ideal = cimsim.load_preset("ideal")
    _, one = traced_peak(lambda: cimsim.simulate(wl, ideal, batch=1, fidelity="functional"))
    _, ten = traced_peak(lambda: cimsim.simulate(wl, ideal, batch=10, fidelity="functional"))
    assert ten < 1.1 * one  # one inference runs through the arrays; the batch multiplies counts, not data
