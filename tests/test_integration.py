"""Input cycles integrated in analog before one conversion, and the integrating ADC (NeuRRAM's neuron)."""

import math

import numpy as np
import pytest

import cimsim

IDEAL = cimsim.load_preset("ideal")


def exact_product(w, x, cfg):
    """(X_q @ W_q)·s_x·s_w from the formulas of docs/physics.md sections 1 and 5 (signed inputs, symmetric weights)."""
    qw = 2 ** (cfg.mapping.weight_bits - 1) - 1
    s_w = np.abs(w).max() / qw
    w_q = np.clip(np.rint(w / s_w), -qw, qw)
    qx = 2 ** (cfg.mapping.input_bits - 1) - 1
    s_x = np.abs(x).max() / qx
    x_q = np.clip(np.rint(x / s_x), -qx, qx)
    return (x_q @ w_q) * (s_x * s_w)


@pytest.mark.parametrize("kind", ["sar", "integrating"])
@pytest.mark.parametrize("encoding", ["bipolar", "offset"])
@pytest.mark.parametrize("cycles_per_conversion", [2, 3, 7])
def test_integrating_cycles_keeps_the_exactness_law(kind, encoding, cycles_per_conversion):
    # 8-bit signed inputs, 1-bit DAC: 7 or 8 cycles, integrated in groups; a 24-bit ADC never rounds
    cfg = IDEAL.override(
        {"adc.kind": kind, "adc.cycles_per_conversion": cycles_per_conversion, "mapping.input_encoding": encoding,
         "array.rows": 40, "array.cols": 30}
    )
    rng = np.random.default_rng(cycles_per_conversion)
    w, x = rng.standard_normal((90, 11)), rng.standard_normal((6, 90))
    np.testing.assert_array_equal(cimsim.AnalogMatrix(w, cfg, seed=0).matmul(x), exact_product(w, x, cfg))


def neuron(out_bits: int, magnitude_bits: int, segment: int) -> cimsim.ChipConfig:
    return cimsim.load_preset("neurram").override(
        {"adc.bits": out_bits, "mapping.input_bits": magnitude_bits + 1, "adc.cycles_per_conversion": segment}
    )


def test_one_conversion_per_segment_and_a_sample_per_unit_of_significance():
    cfg = neuron(out_bits=10, magnitude_bits=7, segment=4)  # segments of 4 and 3 bits, MSB first
    rng = np.random.default_rng(0)
    m = cimsim.AnalogMatrix(rng.standard_normal((128, 256)), cfg, seed=0)  # one core: 256 neurons
    m.matmul(rng.standard_normal((3, 128)))
    neurons = 256
    assert m.ledger.count("adc", "conversions") == 3 * 2 * neurons
    assert m.ledger.count("sample_hold", "samples") == 3 * neurons * ((2**4 - 1) + (2**3 - 1))


def test_the_less_significant_segment_needs_fewer_decisions_and_time_follows_the_steps():
    """Same step in units of the result: the 3-bit LSB segment resolves about 10 − 4 bits."""
    cfg = neuron(out_bits=10, magnitude_bits=7, segment=4)
    rng = np.random.default_rng(1)
    m = cimsim.AnalogMatrix(rng.standard_normal((128, 256)), cfg, seed=0)
    m.matmul(rng.standard_normal((2, 128)))
    top = 2**9 - 1  # signed 10-bit codes
    msb_full_scale = 128 * 15 * (2**4 - 1)  # rows x top level x integrated significance
    msb_step = msb_full_scale / top
    lsb_step = 2**3 * msb_step  # the MSB segment starts at significance 2^3
    lsb_bits = math.ceil(math.log2(128 * 15 * (2**3 - 1) / lsb_step + 1)) + 1  # magnitude + sign
    assert lsb_bits == 6  # NeuRRAM: b_out − ceil(n/2) = 10 − 4
    assert m.ledger.count("adc", "steps") == 2 * 256 * (10 + lsb_bits)
    step_ns = cfg.adc.step_ns
    per_vector = ((2**4 - 1) + (10 + 1) + (2**3 - 1) + (lsb_bits + 1)) * step_ns  # sample, decide, reset
    assert m.latency_ns == pytest.approx(2 * per_vector)
    # the neurons' bias runs for the whole read
    assert m.ledger.count("adc", "active_ns") == pytest.approx(256 * 2 * per_vector)


def test_two_phase_inputs_cannot_be_integrated():
    with pytest.raises(cimsim.ConfigError, match="adc.cycles_per_conversion"):
        IDEAL.override({"adc.cycles_per_conversion": 2, "mapping.input_encoding": "two_phase"})
