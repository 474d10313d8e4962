"""ADC banks shared by several arrays of a tile (``adc.arrays_per_adc``): timing, contention, area, peak.

ISAAC reads a vector in 16 input cycles, each bound by its ADC converting 128 columns at
1.28 GS/s: 100 ns (ISAAC-05, -07, -10); a bank serving n busy arrays takes n turns of that.
The layer fc 6 x 256 x 32 takes 4 arrays (2 row blocks x 2 column arrays: 32 outputs x 8 cells / 128).
"""

import numpy as np
import pytest

import cimsim
from cimsim import ConfigError, Gemm, Workload
from cimsim.simulate import machine_plan, simulate

ISAAC = cimsim.load_preset("isaac").override({"chip.replication": "none"})
CYCLE_NS = 128 / 1.28  # one ADC converting its 128 columns
TOKEN_BUFFER_NS = (256 + 32) * 16 / 307.2  # a token in and out of the tile buffer (ISAAC-26): 15 ns
W = np.random.default_rng(0).standard_normal((256, 32))


def test_sharing_is_refused_where_it_means_nothing():
    with pytest.raises(ConfigError, match="adc.arrays_per_adc"):
        cimsim.load_preset("neurram").override({"adc.arrays_per_adc": 2})  # integrating neurons
    with pytest.raises(ConfigError, match=r"adc.arrays_per_adc.*at most the arrays of a tile \(96\)"):
        ISAAC.override({"adc.arrays_per_adc": 97})


def test_a_bank_of_two_halves_the_adc_area_and_the_peak_throughput():
    shared = ISAAC.override({"adc.arrays_per_adc": 2})
    assert cimsim.peak(shared).area_mm2 < cimsim.peak(ISAAC).area_mm2
    from cimsim.costs.area import area_breakdown_um2
    assert area_breakdown_um2(shared)["adc"] == pytest.approx(area_breakdown_um2(ISAAC)["adc"] / 2, rel=1e-12)
    # the ADC stage (100 ns) binds each cycle: two turns of it make a cycle 200 ns, half the throughput
    assert cimsim.peak(shared).tops == pytest.approx(cimsim.peak(ISAAC).tops / 2, rel=1e-12)
    assert cimsim.peak(shared).cycle_ns == pytest.approx(2 * CYCLE_NS, rel=1e-12)


def test_a_layer_alone_on_its_banks_reads_at_its_turns():
    cfg = ISAAC.override({"adc.arrays_per_adc": 2})  # arrays 0-3: banks 0.0 (arrays 0, 1) and 0.1 (2, 3)
    report = simulate(Workload([Gemm("fc", m=6, k=256, n=32, weights=W)], name="fc"), cfg, mode="layer")
    vector_ns = 16 * 2 * CYCLE_NS  # 16 cycles, each bank converting two arrays in turn
    assert report.latency_ns == pytest.approx(TOKEN_BUFFER_NS + 6 * vector_ns, rel=1e-12)
    stage = machine_plan(Workload([Gemm("fc", m=6, k=256, n=32, weights=W)], name="fc"), cfg).plan.stages[0]
    assert stage.steps[-1].resources == ("arrays:fc",)  # no other layer on its banks: nothing to contend for


def test_two_layers_sharing_a_bank_take_turns_on_it():
    cfg = ISAAC.override({"adc.arrays_per_adc": 3})
    # a: arrays 0-3 -> banks 0.0 (0, 1, 2) and 0.1 (3); b: arrays 4-7 -> banks 0.1 (4, 5) and 0.2 (6, 7)
    two = Workload([Gemm("a", m=6, k=256, n=32, weights=W), Gemm("b", m=6, k=256, n=32, weights=W)], name="two")
    stages = {s.name: s for s in machine_plan(two, cfg).plan.stages}
    assert stages["a"].steps[-1].resources == ("arrays:a", "adcs:0.1")
    assert stages["b"].steps[-1].resources == ("arrays:b", "adcs:0.1")
    a_ns, b_ns = 16 * 3 * CYCLE_NS, 16 * 2 * CYCLE_NS  # a's worst bank serves 3 of its arrays, b's 2
    assert stages["a"].steps[-1].ns == pytest.approx(a_ns, rel=1e-12)
    report = simulate(two, cfg)
    # both read one input: after the first token's buffer step, bank 0.1 is never idle and serves
    # the 6 tokens of a and the 6 of b one at a time
    assert report.latency_ns == pytest.approx(TOKEN_BUFFER_NS + 6 * a_ns + 6 * b_ns, rel=1e-12)
    assert report.bottleneck == "adcs:0.1"


def test_reprogrammed_arrays_still_take_their_banks_turns():
    # fc 6 x 256 x 32 needs 4 arrays; a chip of 2 runs it in 2 passes, one layer at a time, and a
    # bank of 2 converts both arrays of a pass in turn: the reads take twice as long, nothing contends
    small = ISAAC.override({"chip.tiles": 1, "tile.groups_per_tile": 1, "tile.arrays_per_group": 2,
                            "chip.oversubscription": "reprogram"})
    wl = Workload([Gemm("fc", m=6, k=256, n=32, weights=W)], name="fc")
    alone = machine_plan(wl, small).plan.stages[0].steps[-1]
    shared = machine_plan(wl, small.override({"adc.arrays_per_adc": 2})).plan.stages[0].steps[-1]
    assert alone.ns == pytest.approx(2 * 16 * CYCLE_NS, rel=1e-12)  # a token: 2 passes of 16 cycles
    assert shared.ns == pytest.approx(2 * alone.ns, rel=1e-12) and shared.resources == ("arrays:fc",)
