"""Property tests of the crossbar and the ledger (hypothesis).

* Exactness law: under ``ideal`` (no noise, ADC wide enough), for random shapes, array sizes,
  encodings, bits per cell, DAC bits, signedness and rows pruned to zero (left out by
  ``mapping.compact_rows``), the product equals (X_q @ W_q)·s_x·s_w exactly (docs/physics.md section 12).
* Linearity: under ``ideal`` with a fixed input scale, the product of a sum of inputs is the
  sum of the products, to float rounding, when the quantised codes add up exactly.
* Ledgers: addition is associative and commutative; the total equals the sum over components
  and the sum over layers.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cimsim

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_spec = importlib.util.spec_from_file_location("exactness", Path(__file__).parents[1] / "test_exactness.py")
exactness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exactness)


@st.composite
def crossbar_cases(draw):
    encoding = draw(st.sampled_from(exactness.WEIGHT_ENCODINGS))
    inputs = draw(st.sampled_from(exactness.INPUT_KINDS))
    cfg = cimsim.load_preset("ideal").override({
        "array.rows": draw(st.integers(2, 40)),
        "array.cols": draw(st.integers(2, 40)),
        "array.bits_per_cell": draw(st.integers(1, 4)),
        "dac.bits": draw(st.integers(1, 3)),
        "mapping.weight_bits": draw(st.integers(2, 8)),
        "mapping.input_bits": draw(st.integers(2, 8)),
        "mapping.weight_encoding": encoding[0],
        "mapping.differential_sensing": encoding[1],
        "mapping.weight_scale": draw(st.sampled_from(["tensor", "column"])),
        **exactness.input_overrides(inputs),
    })
    k, n, m = draw(st.integers(1, 70)), draw(st.integers(1, 12)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w, x = exactness.make_data(rng, k, n, m, inputs != "unsigned")
    w[rng.random(k) < draw(st.floats(0, 0.8))] = 0.0  # whole rows pruned: left out of the arrays
    return cfg, w, x


@SETTINGS
@given(crossbar_cases())
def test_exactness_law_for_any_mapping(case):
    cfg, w, x = case
    np.testing.assert_array_equal(cimsim.AnalogMatrix(w, cfg, seed=0).matmul(x), exactness.exact_result(w, x, cfg))


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 10))
def test_the_product_is_linear_in_its_codes(seed, k, n):
    """Codes that add without clipping give products that add: (a + b) W = aW + bW under ideal."""
    rng = np.random.default_rng(seed)
    m = cimsim.AnalogMatrix(rng.normal(size=(k, n)), cimsim.load_preset("ideal"), seed=0)
    full = np.zeros((1, k))
    full[0, 0] = 254.0  # fixes the input scale: unsigned 8-bit codes, s_x = 254 / 255
    m.calibrate(full)
    a = rng.integers(0, 128, size=(1, k)) * (254.0 / 255)  # codes that sum to at most 254 < 255
    b = rng.integers(0, 127, size=(1, k)) * (254.0 / 255)
    np.testing.assert_allclose(m.matmul(a + b), m.matmul(a) + m.matmul(b), rtol=1e-9, atol=1e-9)


ENTRIES = st.lists(
    st.tuples(st.sampled_from(["", "fc1", "fc2"]), st.sampled_from(["adc", "dac", "cell"]),
              st.sampled_from(["conversions", "reads"]), st.integers(0, 10**6), st.integers(0, 10**6)),
    max_size=8,
)


def ledger_of(entries) -> cimsim.Ledger:
    ledger = cimsim.Ledger()
    for layer, component, action, count, energy in entries:
        ledger.add(component, action, count, energy / 8, layer)  # eighths: sums are exact in binary
    return ledger


@SETTINGS
@given(ENTRIES, ENTRIES, ENTRIES)
def test_ledger_addition_is_associative_and_commutative(a, b, c):
    x, y, z = ledger_of(a), ledger_of(b), ledger_of(c)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x


@SETTINGS
@given(ENTRIES)
def test_ledger_totals_equal_the_sums_over_components_and_layers(entries):
    ledger = ledger_of(entries)
    total = math.fsum(energy / 8 for *_, energy in entries)
    assert ledger.energy_pj == total
    assert math.fsum(ledger.by_component().values()) == total
    assert math.fsum(ledger.layer(name).energy_pj for name in ledger.layers()) == total


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(0.02, 0.05))
def test_more_programming_noise_never_helps_on_average(seed, sigma):
    """Four times σ_prog, four times the conductance errors: the mean output error over seeds grows.

    The ADC rounds each conversion to whole levels, so noise well below a level is rounded away
    and near that threshold the error rises in steps (σ = 0.5 % of g_max changes nothing on
    ``ideal``, 1 % and 2 % give nearly the same error). From σ = 2 %, the noise dominates: the
    mean error over 16 seeds roughly triples from σ to 4σ, while the seed-to-seed spread of a
    64x16 product's error is under 20 % of its mean, so the two means cannot cross.
    """
    rng = np.random.default_rng(seed)
    w, x = rng.normal(size=(64, 16)), rng.random((8, 64))
    exact = x @ w

    def mean_error(noise: float) -> float:
        cfg = cimsim.load_preset("ideal").override({"device.program_noise": noise})
        errors = [np.linalg.norm(cimsim.AnalogMatrix(w, cfg, seed=s).matmul(x) - exact) for s in range(16)]
        return float(np.mean(errors)) / np.linalg.norm(exact)

    assert mean_error(sigma) < mean_error(4 * sigma)
