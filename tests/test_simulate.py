"""cimsim.simulate on the CIM chip: placement, timing against hand formulas, fidelities, errors."""

import numpy as np
import pytest

import cimsim
from cimsim import ConfigError, Gemm, NonGemm, ShapeError, Workload
from cimsim.engine.report import Report
from cimsim.simulate import simulate

ISAAC = cimsim.load_preset("isaac").override({"chip.replication": "none"})  # one copy of each layer
# ISAAC reads a vector in 16 input cycles of 100 ns (ISAAC-05: 16-bit inputs, 1-bit DACs;
# the 100 ns is one 8-bit ADC converting 128 columns at 1.28 GS/s, ISAAC-07/10)
ISAAC_VECTOR_NS = 16 * 128 / 1.28


def fc_workload(m=6, k=256, n=32, seed=0):
    w = np.random.default_rng(seed).standard_normal((k, n))
    return Workload([Gemm("fc", m=m, k=k, n=n, weights=w)], name="fc")


def lenet_workload():
    import tvm_bridge
    import workloads

    return tvm_bridge.extract(workloads.get("lenet5"))


def two_layer_workload():
    rng = np.random.default_rng(1)
    return Workload(
        [
            Gemm("fc1", m=4, k=64, n=48, weights=rng.standard_normal((64, 48))),
            NonGemm("relu", "activation", elements=4 * 48, inputs=("fc1",)),
            Gemm("fc2", m=4, k=48, n=16, weights=rng.standard_normal((48, 16)), inputs=("relu",)),
        ],
        name="two",
    )


# a token through the tile buffer: 256 inputs in and 32 outputs out, 16 bits each, over a
# 256-bit bus at 1.2 GHz (ISAAC-26) = 307.2 bits per ns
ISAAC_BUFFER_NS = (256 + 32) * 16 / 307.2


def test_one_layer_without_contention_is_a_flow_shop_of_its_tokens():
    report = simulate(fc_workload(m=6), ISAAC, mode="layer")
    # the first layer sits on tile 0, where its inputs are: no transfer; 6 tokens through
    # (buffer, arrays): Σ t + 5·max t
    expected = ISAAC_BUFFER_NS + ISAAC_VECTOR_NS + 5 * ISAAC_VECTOR_NS
    assert report.latency_ns == pytest.approx(expected, rel=1e-12)
    assert report.utilisation["arrays:fc"] == pytest.approx(6 * ISAAC_VECTOR_NS / expected)
    assert report.bottleneck == "arrays:fc"


def test_a_bus_slower_than_the_arrays_sets_the_latency_by_its_bandwidth():
    gbps = 0.5
    cfg = ISAAC.override({"chip.noc_topology": "bus", "chip.noc_gbps": gbps})
    report = simulate(fc_workload(m=6), cfg, mode="layer")
    # one token: 256 inputs of 16 bits over the bus, plus one hop's pipeline delay
    # (chip.noc_cycles_per_hop = 2 cycles at 1.2 GHz)
    t_bus = 256 * 16 / gbps + 2 / 1.2
    t_arrays = ISAAC_VECTOR_NS
    assert t_bus > t_arrays
    # flow shop of 6 tokens through (bus, buffer, arrays): Σ t + 5·max t
    assert report.latency_ns == pytest.approx(t_bus + ISAAC_BUFFER_NS + t_arrays + 5 * t_bus, rel=1e-12)
    assert report.bottleneck == "bus"


def test_pipelined_throughput_is_the_slowest_layer():
    wl = lenet_workload()
    slowest_ns = 28 * 28 * ISAAC_VECTOR_NS  # conv1: 28x28 output positions, one vector each
    latencies = [simulate(wl, ISAAC, batch=b).latency_ns for b in (3, 4)]
    assert latencies[1] - latencies[0] == pytest.approx(slowest_ns, rel=1e-9)
    assert simulate(wl, ISAAC, batch=4, mode="layer").latency_ns > latencies[1]


def test_replication_shortens_the_pipeline_of_a_batch():
    wl = lenet_workload()
    plain = simulate(wl, ISAAC, batch=8)
    balanced = simulate(wl, ISAAC.override({"chip.replication": "balance"}), batch=8)
    assert balanced.latency_ns < plain.latency_ns / 4
    assert any("replicated" in note for note in balanced.notes)
    assert balanced.macs == plain.macs


def test_analytical_counts_equal_functional_counts_when_the_statistics_match():
    """Same inputs: expected counts from their statistics equal the crossbar's own counts."""
    wl = two_layer_workload()
    rng = np.random.default_rng(7)
    inputs = {"fc1": rng.standard_normal((4, 64)), "fc2": np.maximum(rng.standard_normal((4, 48)), 0)}
    for preset in ("ideal", "isaac", "rram-22nm", "neurram"):  # noise-free conductances: the sums of G agree too
        # neurram: an integrating ADC's bias is counted once in either fidelity
        cfg = cimsim.load_preset(preset).override({"device.program_noise": 0.0, "device.read_noise": 0.0})
        analytical = simulate(wl, cfg, fidelity="analytical", inputs=inputs)
        functional = simulate(wl, cfg, fidelity="functional", inputs=inputs)
        assert analytical.breakdown.keys() == functional.breakdown.keys()
        for component, energy in functional.breakdown.items():
            assert analytical.breakdown[component] == pytest.approx(energy, rel=1e-9), (preset, component)
        assert analytical.latency_ns == functional.latency_ns


def test_functional_fidelity_reports_each_layers_error_and_is_seeded():
    wl = two_layer_workload()
    cfg = cimsim.load_preset("pcm")  # programming and read noise: the error depends on the seed
    first = simulate(wl, cfg, fidelity="functional", seed=3)
    again = simulate(wl, cfg, fidelity="functional", seed=3)
    other = simulate(wl, cfg, fidelity="functional", seed=4)
    errors = [row.relative_error for row in first.layers if row.kind == "gemm"]
    assert all(0 < e < 1 for e in errors)
    assert first.accuracy["layer_relative_error_rms"] == pytest.approx(float(np.sqrt(np.mean(np.square(errors)))))
    assert again.energy_pj == first.energy_pj and again.accuracy == first.accuracy
    assert other.accuracy != first.accuracy
    ideal = simulate(wl, cimsim.load_preset("ideal"), fidelity="functional", seed=3)
    assert ideal.accuracy["layer_relative_error_rms"] < first.accuracy["layer_relative_error_rms"]


def test_a_model_too_large_for_the_chip_says_how_many_arrays_it_needs():
    small = ISAAC.override({"chip.tiles": 1, "tile.groups_per_tile": 1, "tile.arrays_per_group": 2})
    wl = fc_workload(k=512, n=64)  # 4 row blocks x (64 x 8 cells / 128) = 16 arrays
    with pytest.raises(ConfigError, match=r"needs 16 arrays .* has 2"):
        simulate(wl, small)
    report = simulate(wl, small.override({"chip.oversubscription": "reprogram", "energy.dram_pj_per_bit": 8.0}), batch=2)
    cells = 512 * 64 * 8
    assert report.breakdown["cell"] >= cells * ISAAC.device.write_energy_pj  # written once per batch
    assert report.mode == "layer" and any("time-multiplexed" in note for note in report.notes)
    passes = 8  # 16 arrays on 2
    write_ns = passes * 128 * ISAAC.device.write_ns_per_row
    buffer_ns = (512 + 64) * 16 / 307.2  # a token in and out of the tile buffer (ISAAC-26)
    weight_bits = 512 * 64 * 16  # streamed from DRAM before they are written, once per batch
    dram_ns = weight_bits / 204.8  # ISAAC's off-chip links: 4 x 6.4 GB/s = 204.8 bits per ns (ISAAC-40)
    assert report.latency_ns == pytest.approx(dram_ns + write_ns + buffer_ns + 2 * 6 * passes * ISAAC_VECTOR_NS,
                                              rel=1e-12)
    assert report.breakdown["dram"] == pytest.approx(weight_bits * 8.0, rel=1e-12)


def test_sparse_weights_use_fewer_arrays_and_less_energy():
    w = np.random.default_rng(0).standard_normal((512, 64))
    w[256:] = 0  # half the rows pruned as a block
    ideal = cimsim.load_preset("ideal")  # differential weights: a zero weight is two cells at level 0
    dense = simulate(fc_workload(k=512, n=64), ideal)
    sparse = simulate(Workload([Gemm("fc", m=6, k=512, n=64, weights=w)], name="fc"), ideal)
    assert sparse.layers[0].arrays == dense.layers[0].arrays // 2
    assert sparse.energy_pj < dense.energy_pj


def test_a_report_of_a_simulation_round_trips_through_json(tmp_path):
    report = simulate(two_layer_workload(), ISAAC, batch=2, record_timeline=True)
    assert report.timeline
    assert Report.from_json(report.to_json(tmp_path / "r.json")) == report


@pytest.mark.parametrize(
    "kwargs, error, field",
    [
        ({"mode": "eager"}, ConfigError, "mode"),
        ({"fidelity": "exact"}, ConfigError, "fidelity"),
        ({"batch": 0}, ConfigError, "batch"),
        ({"seed": -1}, ConfigError, "seed"),
        ({"inputs": {"nope": np.zeros((6, 256))}}, ConfigError, "nope"),
        ({"inputs": {"fc": np.zeros((5, 256))}}, ShapeError, "fc"),
        ({"inputs": {"fc": np.full((6, 256), np.nan)}}, ShapeError, "NaN"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, field):
    with pytest.raises(error, match=field):
        simulate(fc_workload(), ISAAC, **kwargs)


def test_only_workloads_and_configs_are_accepted():
    with pytest.raises(ConfigError, match="workload"):
        simulate([Gemm("fc", 1, 2, 3)], ISAAC)
    with pytest.raises(ConfigError, match="cfg"):
        simulate(fc_workload(), {"adc.bits": 8})


@pytest.mark.parametrize("preset", ["isaac", "vn-45nm"])
def test_a_whole_network_in_layer_mode_takes_the_flow_shop_latency(preset):
    """LeNet-5 one layer at a time, no copies: each stage is a flow shop of n identical chunks through
    single servers, after its batch steps: Σ t_s + (n − 1)·max t_s (no two stages overlap)."""
    from cimsim.engine import scheduler
    from cimsim.simulate import machine_plan

    cfg = cimsim.load_preset(preset)
    cfg = cfg.override({"chip.replication": "none"}) if preset == "isaac" else cfg
    plan, mode, _ = machine_plan(lenet_workload(), cfg, batch=2, mode="layer")
    assert all(plan.resources[step.resource] == 1 for stage in plan.stages for step in stage.steps)
    expected = sum(
        sum(step.ns for step in stage.batch_steps)
        + sum(step.ns for step in stage.steps) + (2 * stage.chunks - 1) * max(step.ns for step in stage.steps)
        for stage in plan.stages if stage.steps
    )
    assert scheduler.run(plan, batch=2, mode=mode).latency_ns == pytest.approx(expected, rel=1e-12)


def test_one_layers_energy_is_the_hand_count_of_its_actions():
    """fc 6 x 256 x 32 on ISAAC: 2 row blocks x 2 column arrays (32 outputs x 8 cells / 128)."""
    report = simulate(fc_workload(m=6), ISAAC, mode="layer")
    e = ISAAC.energy
    in_bits = 6 * 256 * 16  # read once from the buffer, broadcast over the bus to both column arrays
    out_bits = 6 * 32 * 16
    assert report.breakdown["buffer"] == pytest.approx((2 * in_bits + out_bits) * e.buffer_pj_per_bit, rel=1e-12)
    assert report.breakdown["bus"] == pytest.approx((in_bits + out_bits) * e.bus_pj_per_bit_hop, rel=1e-12)
    assert "noc" not in report.breakdown  # the first layer's inputs are on its tile
    conversions = 6 * 2 * 256 * 16  # vectors x row blocks x physical columns x input cycles (1 per conversion)
    assert report.breakdown["adc"] == pytest.approx(conversions * e.adc_pj_per_conversion, rel=1e-12)
    assert report.breakdown["static"] == pytest.approx(e.static_power_mw * report.latency_ns, rel=1e-12)


def test_two_layers_reading_one_input_contend_on_the_bus():
    gbps = 0.5
    cfg = ISAAC.override({"chip.noc_topology": "bus", "chip.noc_gbps": gbps})
    w = np.random.default_rng(0).standard_normal((256, 32))
    wl = Workload([Gemm("a", m=6, k=256, n=32, weights=w), Gemm("b", m=6, k=256, n=32, weights=w)], name="two")
    report = simulate(wl, cfg)
    t_bus = 256 * 16 / gbps + 2 / 1.2  # serialisation, then one hop of 2 cycles at 1.2 GHz
    # 12 transfers one after another on the one bus, then the last token's buffer and array steps
    assert report.latency_ns == pytest.approx(12 * t_bus + ISAAC_BUFFER_NS + ISAAC_VECTOR_NS, rel=1e-12)
    assert report.bottleneck == "bus"


def test_on_a_mesh_inputs_cost_their_hops():
    cfg = ISAAC.override({"tile.arrays_per_group": 2, "tile.groups_per_tile": 1, "chip.tiles": 4})
    rng = np.random.default_rng(0)
    wl = Workload([Gemm("a", m=2, k=128, n=32, weights=rng.standard_normal((128, 32))),  # 2 arrays: tile 0
                   Gemm("b", m=2, k=32, n=32, weights=rng.standard_normal((32, 32)), inputs=("a",))], name="mesh")
    report = simulate(wl, cfg)
    assert [row.arrays for row in report.layers] == [2, 2]  # b on tile 1: one hop on a 2 x 2 grid
    bits = 2 * 32 * 16  # b's input: a's 2 x 32 outputs of 16 bits
    assert report.breakdown["noc"] == pytest.approx(bits * 1 * ISAAC.energy.noc_pj_per_bit_hop, rel=1e-12)


def test_placement_does_not_depend_on_the_hash_seed():
    import subprocess
    import sys

    script = (
        "import numpy as np, cimsim\n"
        "w = np.ones((64, 16))\n"
        "wl = cimsim.Workload([cimsim.Gemm(f'l{i}', m=8, k=64, n=16, weights=w) for i in range(6)], name='ties')\n"
        "cfg = cimsim.load_preset('ideal').override({'chip.tiles': 1, 'tile.groups_per_tile': 1,"
        " 'tile.arrays_per_group': 40, 'chip.replication': 'balance'})\n"
        "r = cimsim.simulate(wl, cfg, batch=2)\n"
        "print(r.notes, [row.arrays for row in r.layers], r.latency_ns)\n"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "1", "2")
    }
    assert len(outputs) == 1, outputs


def test_the_garbage_collector_is_paused_while_simulating_and_restored_after(monkeypatch):
    import gc

    from cimsim.arch.builtin import CimChip

    seen = []
    plan = CimChip.plan
    monkeypatch.setattr(CimChip, "plan", lambda self, request: seen.append(gc.isenabled()) or plan(self, request))
    assert gc.isenabled()
    simulate(fc_workload(), ISAAC)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ConfigError):  # restored after an error too
        simulate(fc_workload(), ISAAC, batch=0)
    assert gc.isenabled()
    gc.disable()  # a caller's choice is kept
    try:
        simulate(fc_workload(), ISAAC)
        assert not gc.isenabled()
    finally:
        gc.enable()
