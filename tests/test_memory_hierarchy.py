"""Tile buffers with a capacity, spills to the global buffer or DRAM, weights streamed from DRAM.

Every expected value is counted by hand in the comments (bits, ns, pJ; bandwidths in bits per
ns). The layer: fc 6 x 256 x 32 on ISAAC (16-bit inputs and outputs, one token per chunk).
"""

import numpy as np
import pytest

import cimsim
from cimsim import Gemm, NonGemm, Workload
from cimsim.arch.memory import resident_bits
from cimsim.simulate import machine_plan, simulate
from cimsim.workload import ConvGeometry

ISAAC = cimsim.load_preset("isaac").override({"chip.replication": "none", "energy.dram_pj_per_bit": 8.0})
ISAAC_VECTOR_NS = 16 * 128 / 1.28  # 16 input cycles of 100 ns (ISAAC-05, -07, -10)
TOKEN_BUFFER_BITS = (256 + 32) * 16  # a token's inputs in (one copy, broadcast) and its outputs out
# resident while it runs: two tokens of 256 inputs of 16 bits (double buffering) = 8192 bits = 1 KiB
RESIDENT_BITS = 2 * 256 * 16


def fc(m=6):
    w = np.random.default_rng(0).standard_normal((256, 32))
    return Workload([Gemm("fc", m=m, k=256, n=32, weights=w)], name="fc")


def test_resident_bits_are_counted_as_the_module_says():
    cfg = ISAAC
    assert resident_bits(fc().ops[0], 6, cfg) == RESIDENT_BITS
    conv = ConvGeometry(in_channels=16, out_channels=8, kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1),
                        dilation=(1, 1), groups=1, input_size=(32, 32), output_size=(32, 32))
    g = Gemm("conv", m=32 * 32, k=16 * 9, n=8, conv=conv)
    # a line buffer of (3 - 1) * 1 + 1 + 1 = 4 input rows of 32 positions x 16 channels x 16 bits
    assert resident_bits(g, 32, cfg) == 4 * 32 * 16 * 16
    qk = Gemm("qk", m=128, k=64, n=128, inputs=("q", "k"))  # activation x activation: all the keys stay
    assert resident_bits(qk, 128, cfg) == 2 * 64 * 16 + 64 * 128 * 16
    relu = NonGemm("relu", "activation", elements=6 * 32, inputs=("fc",))
    assert resident_bits(relu, 6, cfg) == 32 * 16  # one token's elements, in place, at output_bits


def test_a_layer_that_fits_spills_nothing():
    plan = machine_plan(fc(), ISAAC.override({"tile.buffer_kib": 1.0})).plan  # exactly 8192 bits
    assert [step.resource for step in plan.stages[0].steps] == ["buffer:0", "arrays:fc"]


def test_half_of_the_traffic_spills_to_dram_when_half_the_residency_fits():
    cfg = ISAAC.override({"tile.buffer_kib": 0.5})  # 4096 bits for 8192 resident: half spills
    report = simulate(fc(), cfg, mode="layer")
    plan = machine_plan(fc(), cfg).plan
    buffer_ns = TOKEN_BUFFER_BITS / 2 / 307.2  # the half that stays: 7.5 ns
    dram_ns = TOKEN_BUFFER_BITS / 2 / 204.8  # the half that spills, over ISAAC's 204.8 Gb/s off chip: 11.25 ns
    steps = {step.resource: step.ns for step in plan.stages[0].steps}
    assert steps == pytest.approx({"buffer:0": buffer_ns, "dram": dram_ns, "arrays:fc": ISAAC_VECTOR_NS}, rel=1e-12)
    # 6 tokens through (buffer, dram, arrays), the arrays slowest: Σ t + 5·max t
    assert report.latency_ns == pytest.approx(buffer_ns + dram_ns + 6 * ISAAC_VECTOR_NS, rel=1e-12)
    traffic = 2 * 6 * 256 * 16 + 6 * 32 * 16  # inputs written and read, outputs written (bits)
    assert report.breakdown["buffer"] == pytest.approx(traffic / 2 * ISAAC.energy.buffer_pj_per_bit, rel=1e-12)
    assert report.breakdown["dram"] == pytest.approx(traffic / 2 * 8.0, rel=1e-12)
    assert any("spill" in note for note in report.notes)


def test_a_spill_that_fits_the_global_buffer_goes_there():
    cfg = ISAAC.override({"tile.buffer_kib": 0.5, "chip.global_buffer_kib": 0.5})  # 4096 spilled bits fit
    plan = machine_plan(fc(), cfg).plan
    steps = {step.resource: step.ns for step in plan.stages[0].steps}
    assert steps["global_buffer"] == pytest.approx(TOKEN_BUFFER_BITS / 2 / 512.0, rel=1e-12)  # 4.5 ns
    report = simulate(fc(), cfg)
    traffic = 2 * 6 * 256 * 16 + 6 * 32 * 16
    # 1.5625 pJ/bit at 45 nm (HOR-11), scaled to ISAAC's 32 nm by (32 / 45)^2
    assert report.breakdown["global_buffer"] == pytest.approx(traffic / 2 * 1.5625 * (32 / 45) ** 2, rel=1e-12)
    assert "dram" not in report.breakdown


def test_spills_share_one_dram_channel_and_contend_on_it():
    w = np.random.default_rng(0).standard_normal((256, 32))
    two = Workload([Gemm("a", m=6, k=256, n=32, weights=w), Gemm("b", m=6, k=256, n=32, weights=w)], name="two")
    cfg = ISAAC.override({"tile.buffer_kib": 0.5, "chip.dram_gbps": 0.5})  # a slow channel: DRAM binds
    report = simulate(two, cfg)
    # both layers on tile 0: 16384 resident bits on 4096, 3/4 of each layer's traffic spills
    dram_ns = TOKEN_BUFFER_BITS * 0.75 / 0.5  # 6912 ns a token
    assert report.bottleneck == "dram"
    buffer_ns = TOKEN_BUFFER_BITS * 0.25 / 307.2  # the quarter that stays in the tile buffer: 3.75 ns
    # the first token's buffer step, 12 tokens one after another on the one channel, the last token's arrays
    assert report.latency_ns == pytest.approx(buffer_ns + 12 * dram_ns + ISAAC_VECTOR_NS, rel=1e-12)
