"""The von Neumann baseline: its configuration tree, its counts and prices, its plan and its timing.

Expected values are written out from the preset's fields and the first-order model of docs/scheduler.md
("The von Neumann baseline"), independently of cimsim.arch.von_neumann. Float tolerances of 1e-12 cover only the
order of floating-point sums.
"""

import math

import numpy as np
import pytest

import cimsim
from cimsim.engine import scheduler
from cimsim.arch.von_neumann import STREAMING_CHUNKS, baseline_plan, operation_traffic, roofline_ns
from cimsim.config.von_neumann import PEConfig, VonNeumannConfig
from cimsim.arch.chunking import operation_needs, workload_chunks
from cimsim.errors import ConfigError
from cimsim.simulate import simulate
from cimsim.workload import ConvGeometry, Gemm, NonGemm, Workload

VN = cimsim.load_preset("vn-45nm")
KIB = 8 * 1024  # bits


def totals(plan, batch=1):
    """Energy (pJ) and counts of a plan over ``batch`` inferences: per inference × batch + once per batch."""
    ledger = cimsim.Ledger()
    for stage in plan.stages:
        for _ in range(batch):
            ledger = ledger + stage.ledger
        ledger = ledger + stage.batch_ledger
    return ledger


def fc(name, m, k, n, **kwargs):
    return Gemm(name, m=m, k=k, n=n, constant=True, **kwargs)


# --------------------------------------------------------------------------- configuration


def test_defaults_are_the_vn_45nm_preset_and_every_field_is_documented():
    defaults = VonNeumannConfig()
    assert all(defaults.get(section) == VN.get(section) for section in ("pe", "energy", "memory", "area"))
    for section, info in VonNeumannConfig.model_fields.items():
        for name, field in info.annotation.model_fields.items():
            assert field.description, f"{section}.{name} has no description"


@pytest.mark.parametrize("name", ["vn-45nm", "gpu-a100", "edge-npu"])
def test_presets_load_round_trip_and_override(name, tmp_path):
    cfg = cimsim.load_preset(name)
    assert isinstance(cfg, VonNeumannConfig) and cfg.meta.architecture == "von-neumann"
    text = cfg.to_toml()
    assert VonNeumannConfig.from_toml(text) == cfg and VonNeumannConfig.from_toml(text).to_toml() == text
    cfg.save(tmp_path / "x.toml")
    assert cimsim.load_config(tmp_path / "x.toml") == cfg
    new = cfg.override({"pe.pes": 64, "memory.weights_resident": "never", "energy.dram_pj_per_bit": np.float64(5.0)})
    assert (new.pe.pes, new.memory.weights_resident, new.energy.dram_pj_per_bit) == (64, "never", 5.0)
    assert cfg.pe.pes != 64 and cfg.get("pe.pes") == cfg.pe.pes  # the original is unchanged
    assert new.get("memory") == new.memory


@pytest.mark.parametrize(
    "updates, needles",
    [
        ({"pe.pes": 0}, ["pe.pes", "got 0", ">= 1"]),
        ({"pe.pes": 2.5}, ["pe.pes", "2.5", "an integer"]),
        ({"pe.clock_ghz": 0.0}, ["pe.clock_ghz", "0.0", "> 0"]),
        ({"pe.utilisation": 1.5}, ["pe.utilisation", "1.5", "<= 1"]),
        ({"pe.weight_bits": 64}, ["pe.weight_bits", "64", "from 1 to 32"]),
        ({"pe.rf_psum_accesses_per_mac": -1.0}, ["pe.rf_psum_accesses_per_mac", "-1.0", ">= 0"]),
        ({"energy.dram_pj_per_bit": -20.0}, ["energy.dram_pj_per_bit", "-20.0", ">= 0"]),
        ({"energy.mac_pj": "0.23"}, ["energy.mac_pj", "'0.23'", "a finite number"]),
        ({"memory.dram_gb_per_s": 0.0}, ["memory.dram_gb_per_s", "0.0", "> 0"]),
        ({"memory.weights_resident": "always"}, ["memory.weights_resident", "'always'", "'auto'", "'never'"]),
        ({"memory.global_buffer_kib": math.nan}, ["memory.global_buffer_kib", "nan", "finite"]),
        ({"area.chip_mm2": -1.0}, ["area.chip_mm2", "-1.0"]),
        ({"pe.macs": 1}, ["unknown field 'pe.macs'", "pes", "clock_ghz"]),
        ({"meta.architecture": "cim"}, ["meta.architecture", "'cim'", "'von-neumann'"]),
    ],
)
def test_bad_values_raise_config_error_naming_field_value_and_what_is_allowed(updates, needles):
    with pytest.raises(ConfigError) as info:
        VN.override(updates)
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {info.value}"


def test_configs_are_frozen_and_constructors_validate():
    with pytest.raises(ConfigError, match="'pe.pes'.*override"):
        VN.pe.pes = 3
    with pytest.raises(ConfigError, match="pe.clock_ghz"):
        PEConfig(clock_ghz=-1.0)
    with pytest.raises(ConfigError, match="memory.dram_gb_per_s"):
        VonNeumannConfig.from_toml("[memory]\ndram_gb_per_s = -1.0\n")


# --------------------------------------------------------------------------- energy


def test_gemm_energy_equals_the_hand_computation():
    m, k, n = 16, 2048, 2048  # 4 MiB of 8-bit weights: more than the 1 MiB buffer, fetched from DRAM
    plan = baseline_plan(Workload([fc("fc", m, k, n)]), VN, batch=1)
    p, e = VN.pe, VN.energy
    macs = m * k * n
    rf_bits = macs * (p.rf_weight_reads_per_mac * p.weight_bits + p.rf_activation_reads_per_mac * p.activation_bits
                      + p.rf_psum_accesses_per_mac * p.accumulator_bits)
    buffer_bits = m * k * p.activation_bits + m * n * p.output_bits + k * n * p.weight_bits
    dram_bits = k * n * p.weight_bits
    expected = {
        "pe": macs * e.mac_pj,
        "register_file": rf_bits * e.register_file_pj_per_bit,
        "global_buffer": buffer_bits * e.global_buffer_pj_per_bit,
        "dram": dram_bits * e.dram_pj_per_bit,
    }
    ledger = totals(plan)
    assert ledger.by_component() == pytest.approx(expected, rel=1e-12)
    assert ledger.count("pe", "macs") == macs and ledger.count("dram", "bits") == dram_bits
    assert ledger.count("global_buffer", "bits") == buffer_bits and ledger.count("register_file", "bits") == rf_bits
    # with the preset's numbers: 0.23 pJ per MAC, 16 bits of register file per MAC
    assert e.mac_pj == 0.23 and rf_bits == 16 * macs
    assert plan.stages[0].batch_ledger.count("dram", "bits") == dram_bits  # the weights: once per batch
    assert plan.stages[0].ledger.count("dram", "bits") == 0


def test_weights_come_from_dram_once_per_batch():
    wl = Workload([fc("fc", 16, 2048, 2048)])  # activations 32 KiB per inference: no spill up to batch 32
    energy_per_inference = {}
    for batch in (1, 4, 16, 32):
        stage = baseline_plan(wl, VN, batch).stages[0]
        energy_per_inference[batch] = (batch * stage.ledger.energy_pj + stage.batch_ledger.energy_pj) / batch
    base = baseline_plan(wl, VN, 1).stages[0]
    weights_pj = 2048 * 2048 * 8 * VN.energy.dram_pj_per_bit
    assert base.batch_ledger.energy_pj == pytest.approx(weights_pj, rel=1e-12)
    for batch, pj in energy_per_inference.items():
        assert pj == pytest.approx(base.ledger.energy_pj + weights_pj / batch, rel=1e-12)
    assert list(energy_per_inference.values()) == sorted(energy_per_inference.values(), reverse=True)


def test_weights_that_fit_stay_resident():
    wl = Workload([fc("a", 4, 256, 256), fc("b", 4, 256, 512, inputs=("a",))])  # 64 + 128 KiB <= 1 MiB
    plan = baseline_plan(wl, VN, batch=8)
    assert all(s.batch_ledger.energy_pj == 0 and s.batch_steps == () for s in plan.stages)
    assert totals(plan, 8).count("dram", "bits") == 0
    assert "weights resident" in plan.notes[0] and "0.1875 MiB" in plan.notes[0]
    never = baseline_plan(wl, VN.override({"memory.weights_resident": "never"}), batch=8)
    assert [s.batch_ledger.count("dram", "bits") for s in never.stages] == [256 * 256 * 8, 256 * 512 * 8]
    assert "weights_resident = 'never'" in never.notes[0]
    # each layer fits but not all of them: nothing stays resident
    big = Workload([fc("a", 4, 1024, 640), fc("b", 4, 640, 1024, inputs=("a",))])  # 640 + 640 KiB > 1 MiB
    assert all(s.batch_ledger.count("dram", "bits") == 640 * 1024 * 8 for s in baseline_plan(big, VN, 1).stages)


def test_activations_that_overflow_the_buffer_go_through_dram():
    # weights 64 KiB stay resident, leaving 960 KiB; the 1 MiB input does not fit, the 64 KiB output does
    wl = Workload([fc("fc", 1024, 1024, 64)])
    plan = baseline_plan(wl, VN, batch=1)
    assert plan.stages[0].ledger.count("dram", "bits") == 1024 * 1024 * 8
    assert any("fc: input (1024 KiB x batch 1)" in note and "960 KiB" in note for note in plan.notes)
    # held for a batch of 16, the output (64 KiB each) overflows too
    plan16 = baseline_plan(wl, VN, batch=16)
    assert plan16.stages[0].ledger.count("dram", "bits") == 1024 * 1024 * 8 + 1024 * 64 * 8


def test_a_convolution_spills_its_feature_map_not_its_im2col_matrix():
    # 3x3 conv, 64 -> 64 channels, 64x64 image, stride 1, pad 1: im2col input is 9x the feature map
    conv = ConvGeometry(64, 64, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, (64, 64), (64, 64))
    gemm = Gemm("conv", m=64 * 64, k=64 * 9, n=64, constant=True, conv=conv)
    plan = baseline_plan(Workload([gemm]), VN, batch=4)  # 4 x 256 KiB feature maps > 1 MiB - 36 KiB of weights
    feature_map_bits = 64 * 64 * 64 * 8
    assert plan.stages[0].ledger.count("dram", "bits") == 2 * feature_map_bits  # input read, output written
    assert plan.stages[0].ledger.count("global_buffer", "bits") == (64 * 64 * 576 + 576 * 64 + 64 * 64 * 64) * 8
    assert plan.stages[0].chunks == 64 and plan.stages[0].chunk_label == "output row"


def test_an_attention_product_takes_both_operands_from_the_buffer_and_no_weights_from_dram():
    wl = Workload([Gemm("qk", m=128, k=64, n=128, count=12, constant=False)])
    stage = baseline_plan(wl, VN, batch=1).stages[0]
    assert stage.batch_ledger.energy_pj == 0 and stage.batch_steps == ()
    assert stage.ledger.count("global_buffer", "bits") == 12 * (128 * 64 + 64 * 128 + 128 * 128) * 8
    assert stage.ledger.count("dram", "bits") == 0
    assert stage.ledger.count("register_file", "bits") == 12 * 128 * 64 * 128 * 16


def test_non_gemm_operations_are_digital_ops_on_the_pe_array():
    wl = Workload([fc("fc", 8, 64, 100), NonGemm("sm", "softmax", 800, inputs=("fc",))])
    stage = baseline_plan(wl, VN, batch=1).stages[1]
    assert stage.kind == "digital" and stage.macs == 0 and stage.chunks == 8  # streams with its producer
    assert stage.ledger.count("digital", "ops") == 4 * 800  # softmax: 4 ops per element
    assert stage.ledger.energy_pj == pytest.approx(3200 * VN.energy.digital_pj_per_op, rel=1e-12)
    assert [s.resource for s in stage.steps] == ["pe_array"]
    assert stage.steps[0].ns == pytest.approx(3200 / 8 / 256, rel=1e-12)  # 256 PEs at 1 GHz, per chunk


def test_macs_reported_are_non_zero_weight_macs_while_energy_counts_all():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 32))
    w.reshape(16, 4, 32)[:, :2, :] = 0.0  # 2:4 sparse along K
    stage = baseline_plan(Workload([Gemm("sparse", m=4, k=64, n=32, weights=w)]), VN, batch=1).stages[0]
    assert stage.macs == 4 * 32 * 32  # half the weights are zero
    assert stage.ledger.count("pe", "macs") == 4 * 64 * 32  # the baseline multiplies zeros too


# --------------------------------------------------------------------------- plan and timing


def test_plan_has_one_stage_per_operation_on_three_resources():
    wl = Workload([fc("a", 32, 128, 128), NonGemm("r", "activation", 32 * 128, inputs=("a",)),
                   fc("b", 32, 128, 10, inputs=("r",))])
    gpu = cimsim.load_preset("gpu-a100")
    plan = baseline_plan(wl, gpu, batch=2)
    assert [s.name for s in plan.stages] == ["a", "r", "b"]
    assert plan.architecture == "von-neumann" and plan.config_name == "gpu-a100"
    assert plan.resources == {"pe_array": 1, "global_buffer": 1, "dram": 1}
    assert plan.static_power_mw == gpu.energy.static_power_mw
    assert plan.area_um2 == pytest.approx(826.0 * 1e6, rel=1e-12)
    chunks = workload_chunks(wl)
    for stage, op in zip(plan.stages, wl.ops):
        expected = operation_needs(op, chunks)
        assert stage.needs.keys() == expected.keys()
        assert all(np.array_equal(stage.needs[k], expected[k]) for k in expected)
        assert {key[0] for key, _, _ in stage.ledger.entries()} == {op.name}  # every action names its layer


def test_steps_split_each_resource_time_over_the_chunks():
    wl = Workload([fc("fc", 1024, 1024, 64)])  # input spills: a DRAM step per chunk
    stage = baseline_plan(wl, VN, batch=1).stages[0]
    assert stage.chunks == 256 and [s.resource for s in stage.steps] == ["dram", "global_buffer", "pe_array"]
    dram_ns, buffer_ns, pe_ns = (s.ns for s in stage.steps)
    assert dram_ns == pytest.approx(1024 * 1024 * 8 / (8 * 12.8) / 256, rel=1e-12)  # 12.8 GB/s = 102.4 bits/ns
    assert buffer_ns == pytest.approx((1024 * 1024 + 1024 * 64 + 1024 * 64) * 8 / (8 * 64.0) / 256, rel=1e-12)
    assert pe_ns == pytest.approx(1024 * 1024 * 64 / 256 / 256, rel=1e-12)


def test_roofline_matches_the_hand_formula():
    # GEMV 1 x 4096 x 4096 on vn-45nm: 256 MACs/ns, buffer 512 bits/ns, DRAM 102.4 bits/ns
    traffic = operation_traffic(Workload([fc("v", 1, 4096, 4096)]), VN)["v"]
    compute = 4096 * 4096 / 256
    buffer = (4096 * 8 + 4096 * 4096 * 8 + 4096 * 8) / 512
    weights = 4096 * 4096 * 8 / 102.4
    assert roofline_ns(traffic, VN, 1) == pytest.approx(max(compute, buffer, weights), rel=1e-12) == weights
    # the weights are fetched once per batch, so a large enough batch makes the buffer the limit
    assert roofline_ns(traffic, VN, 8) == pytest.approx(8 * buffer, rel=1e-12)
    assert 8 * buffer > weights > 8 * compute


@pytest.mark.parametrize(
    "gemm",
    [
        fc("compute_bound", 256, 1024, 256),  # 256 KiB of weights stay resident; 256 chunks
        fc("dram_bound", 1024, 1024, 64),  # the 1 MiB input spills: a DRAM step in every chunk
    ],
    ids=lambda g: g.name,
)
def test_engine_latency_of_a_large_layer_approaches_the_roofline(gemm):
    wl = Workload([gemm])
    stage = baseline_plan(wl, VN, batch=1).stages[0]
    roofline = roofline_ns(operation_traffic(wl, VN)[gemm.name], VN, 1)
    latency = scheduler.run(baseline_plan(wl, VN, batch=1), batch=1, mode="pipelined").latency_ns
    # n chunks through single servers (a flow shop) take sum(t) + (n - 1) max(t): the roofline
    # n max(t) plus at most one chunk's steps, under 1 % of it with 256 chunks
    assert roofline * (1 - 1e-12) <= latency <= (roofline + stage.chunk_ns) * (1 + 1e-12)
    assert latency <= 1.01 * roofline


def test_a_gemv_streaming_its_weights_overlaps_fetch_and_compute():
    """Tile by tile (double buffering): a GEMV's latency is its weight fetch, within the flow shop's fill."""
    wl = Workload([fc("gemv", 1, 4096, 4096)])
    plan = baseline_plan(wl, VN, batch=1)
    (stage,) = plan.stages
    assert stage.chunks == STREAMING_CHUNKS and stage.batch_steps == ()
    fetch_ns = 4096 * 4096 * 8 / 102.4  # 8-bit weights at 12.8 GB/s = 102.4 bits per ns
    assert sum(s.ns for s in stage.steps if s.resource == "dram") * stage.chunks == pytest.approx(fetch_ns, rel=1e-12)
    latency = scheduler.run(plan, batch=1, mode="pipelined").latency_ns
    assert roofline_ns(operation_traffic(wl, VN)["gemv"], VN) == pytest.approx(fetch_ns, rel=1e-12)
    # a flow shop of n chunks: sum(t) + (n - 1) max(t), i.e. the fetch plus one chunk's other steps
    assert fetch_ns <= latency <= (fetch_ns + stage.chunk_ns) * (1 + 1e-12)
    assert latency <= fetch_ns * (1 + 1 / STREAMING_CHUNKS)


def test_simulate_runs_the_baseline_and_prices_what_the_plan_counts():
    wl = Workload([fc("a", 16, 2048, 2048), NonGemm("r", "activation", 16 * 2048, inputs=("a",))])
    report = simulate(wl, VN, batch=4)
    plan = baseline_plan(wl, VN, 4)
    assert report.architecture == "von-neumann"
    assert report.energy_pj == pytest.approx(totals(plan, 4).energy_pj, rel=1e-12)  # static power is 0


def test_baseline_plan_rejects_a_chip_config_and_a_bad_batch():
    wl = Workload([fc("a", 1, 8, 8)])
    with pytest.raises(ConfigError, match="VonNeumannConfig.*ChipConfig"):
        baseline_plan(wl, cimsim.load_preset("isaac"), 1)
    for batch in (0, 1.5, True):
        with pytest.raises(ConfigError, match="batch"):
            baseline_plan(wl, VN, batch)
