"""Digital work spread over tiles (cimsim/arch/digital.py, issue 17 item 1), hand-counted.

The tiny chip: ISAAC at 8-bit weights and inputs, one 128×128 array per tile, 4 tiles on a 2×2
mesh (tile 0 at (0, 0), tile 1 at (0, 1): one hop), no replication, no buffer step
(``tile.buffer_kib`` = 0). An input vector of 8 bits through 1-bit DACs takes 8 cycles of 100 ns:
a chunk of one vector reads its arrays for r = 800 ns. Links carry 38.4 bits per ns.

The tiny workload: ``q`` and ``k`` (4 tokens × 16 → 16, weights; one array each, so ``q`` on tile
0 and ``k`` on tile 1) and the attention product ``s`` = q · kᵀ (M = 4, K = 16, N = 4): 256 MACs,
512 operations, 4 chunks (one per token).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import cimsim
from cimsim.arch.cim import CimArchitecture
from cimsim.arch.digital import digital_kind, spread_tiles
from cimsim.engine import scheduler
from cimsim.engine.closed_form import run_closed_form
from cimsim.errors import ConfigError
from cimsim.workload import Gemm, NonGemm, Workload

R_NS = 8 * 100.0  # one vector: 8 input bits, 1 bit per 100 ns cycle (ISAAC)
PERIOD_NS = 4 * R_NS  # the busiest weight layer per inference: 4 chunks of r on one copy = 3200 ns
LINK_GBPS = 38.4
HOP_NS = 2 / 1.2  # a hop's pipeline delay: chip.noc_cycles_per_hop = 2 cycles at 1.2 GHz
ROUNDING = 1e-9  # sums of the same floating-point times in another order


def tiny_chip(**changes) -> cimsim.ChipConfig:
    return cimsim.load_preset("isaac").override({
        "mapping.weight_bits": 8, "mapping.input_bits": 8, "tile.arrays_per_group": 1, "tile.groups_per_tile": 1,
        "chip.tiles": 4, "chip.replication": "none", "tile.buffer_kib": 0.0, **changes})


def tiny_workload() -> Workload:
    rng = np.random.default_rng(0)
    return Workload([Gemm("q", 4, 16, 16, weights=rng.standard_normal((16, 16))),
                     Gemm("k", 4, 16, 16, weights=rng.standard_normal((16, 16))),
                     Gemm("s", 4, 16, 4, inputs=("q", "k"))], name="tiny")


def plan_of(cfg, workload=None, batch=1):
    return CimArchitecture(cfg, "analytical", 0, None, batch).plan(workload or tiny_workload(), lambda: None)[0]


def stage(plan, name):
    return next(s for s in plan.stages if s.name == name)


# s takes 1.5 periods on one tile: 512 ops / g = 1.5 · 3200 ns, so g = 512 / 4800 Gop/s
SPLIT = {"chip.digital_gops_per_tile": 512 / (1.5 * PERIOD_NS)}


def test_an_attention_product_splits_over_two_tiles_with_hand_counted_steps():
    plan = plan_of(tiny_chip(**SPLIT))
    s = stage(plan, "s")
    # k = ceil(4800 / 3200) = 2 tiles, both idle: home (tile 0, q's) first, then tile 1 (1 hop; tile 2 is
    # also 1 hop away, the lower index wins). Chunks 0 and 2 on tile 0, chunks 1 and 3 on tile 1.
    compute_ns = 1.5 * PERIOD_NS / 4  # 1200 ns per chunk
    # tile 0 receives k's output whole (16·4·8 = 512 bits) over its 2 chunks: 256 bits a chunk on link:1>0;
    # tile 1 receives q's output streamed (4·16·8 = 512 bits over 4 chunks): 128 bits a chunk on link:0>1;
    # each transfer one hop.
    assert [[(step.resource, step.ns) for step in steps] for steps in s.alternates] == [
        [("link:1>0", pytest.approx(256 / LINK_GBPS + HOP_NS)), ("digital:0", pytest.approx(compute_ns))],
        [("link:0>1", pytest.approx(128 / LINK_GBPS + HOP_NS)), ("digital:1", pytest.approx(compute_ns))],
    ]
    assert [s.chunk_steps(j)[-1].resource for j in range(4)] == ["digital:0", "digital:1", "digital:0", "digital:1"]
    assert plan.resources["digital:0"] == plan.resources["digital:1"] == 1
    assert any("split over tiles [0, 1]" in note for note in plan.notes)
    # energy: 256 MACs; bit-hops 512 (k's output to tile 0) + 2·128 (q's rows to tile 1), each 1 hop
    assert s.ledger.count("digital", "macs") == 256
    assert s.ledger.count("noc", "bit_hops") == pytest.approx(512 + 256)
    # buffer: per chunk 128 bits of q + 256 of k read, 4·4·8 / 4 = 32 of output written, 4 chunks
    assert s.ledger.count("buffer", "bits") == pytest.approx(4 * (128 + 256 + 32))


def test_the_split_product_latency_by_hand_in_both_engines():
    plan = plan_of(tiny_chip(**SPLIT))
    # q: chunk j done at (j + 1)·r. k: its inputs cross link:0>1 first (128 bits, 3.333 ns, and one
    # hop, 1.667 ns), so chunk j is done at 5 + (j + 1)·r. s waits for all of k: t0 = 5 + 4·800 ns.
    # Tile 0: chunk 0's transfer 6.667 + 1.667 ns then 1200 ns; chunk 2's transfer follows on link:1>0
    # and its compute waits for chunk 0's: ends t0 + 8.333 + 2·1200. Tile 1 ends t0 + 5 + 2·1200, earlier.
    latency_ns = (128 / LINK_GBPS + HOP_NS + 4 * R_NS) + (256 / LINK_GBPS + HOP_NS) + 2 * 1200.0
    assert latency_ns == pytest.approx(5613.333333)
    events, closed = scheduler.run(plan, 1), run_closed_form(plan, 1)
    assert events.latency_ns == pytest.approx(latency_ns, rel=ROUNDING)
    assert closed.latency_ns == pytest.approx(latency_ns, rel=ROUNDING)
    assert events.busy_ns["digital:0"] == events.busy_ns["digital:1"] == pytest.approx(2 * 1200.0)
    assert closed.busy_ns == pytest.approx(events.busy_ns, rel=ROUNDING)
    # at 0.9 period on one tile, s stays home: no alternates, every chunk on digital:0
    unsplit = plan_of(tiny_chip(**{"chip.digital_gops_per_tile": 512 / (0.9 * PERIOD_NS)}))
    assert not stage(unsplit, "s").alternates and stage(unsplit, "s").steps[-1].resource == "digital:0"


def test_placement_keeps_an_operation_home_while_the_pipeline_hides_it():
    def on_a_line(home):  # 4 tiles on a line: hops = |t - home|
        return np.abs(np.arange(4) - home)

    assert spread_tiles(3000.0, 3200.0, 2, {}, 8, on_a_line(2)) == [2]
    # home already holds 400 ns: 400 + 3000 > 3200, and one tile suffices: the least loaded, nearest
    assert spread_tiles(3000.0, 3200.0, 2, {2: 400.0}, 8, on_a_line(2)) == [1]
    # 7000 ns: ceil(7000 / 3200) = 3 tiles, at most the chunks (2) and the tiles
    assert spread_tiles(7000.0, 3200.0, 0, {}, 8, on_a_line(0)) == [0, 1, 2]
    assert spread_tiles(7000.0, 3200.0, 0, {}, 2, on_a_line(0)) == [0, 1]
    assert spread_tiles(7000.0, math.inf, 0, {}, 8, on_a_line(0)) == [0]
    # loaded tiles go last whatever their distance: tile 1 is busy, so 0, 2, 3
    assert spread_tiles(7000.0, 3200.0, 0, {0: 0.0, 1: 10.0}, 8, on_a_line(0)) == [0, 2, 3]


def test_kinds_and_their_prices():
    cfg = tiny_chip()
    assert [digital_kind(op) for op in (NonGemm("a", "activation", 8, function="relu"),
                                         NonGemm("b", "activation", 8, function="gelu"),
                                         NonGemm("c", "softmax", 8), NonGemm("d", "residual_add", 8),
                                         Gemm("e", 1, 2, 3))] == ["elementwise", "special", "special", "elementwise", "mac"]
    prices = cimsim.costs.energy.price_table(cfg)
    node = (32 / 45) ** 2  # Horowitz's 45 nm to ISAAC's 32 nm, E ∝ node²
    assert prices[("digital", "special_ops")] == pytest.approx(1.1 * node)  # HOR-07, FP16 whatever the width
    assert prices[("digital", "macs")] == pytest.approx(0.23 * node * (8 / 8) ** 2)  # HOR-03 + HOR-01 at 8 bits
    assert prices[("digital", "ops")] == pytest.approx(0.1 * node * 16 / 32)  # HOR-02 at output_bits = 16


def test_attention_on_crossbars_writes_its_keys_every_inference():
    cfg = tiny_chip(**{"chip.attention_on": "crossbar"})
    plan = plan_of(cfg, batch=2)
    s = stage(plan, "s")
    # k·n = 16 × 4 operands of 8 bits on 2-bit cells: 4 cells each (offset encoding: one column set),
    # 256 cells, written once per inference at 16 pJ (ISAAC preset's device.write_energy_pj)
    assert s.ledger.count("cell", "writes") == 16 * 4 * 4
    assert sum(pj for (_, c, a), _, pj in s.ledger.entries() if (c, a) == ("cell", "writes")) == pytest.approx(256 * 16.0)
    # 16 rows of one array at 1000 ns a row, spread over the 4 chunks, after each chunk's 800 ns read
    assert s.steps[-1] == cimsim.engine.plan.Step("arrays:s", 800.0 + 16 * 1000.0 / 4)
    # q's rows (streamed, 4·16·8 / 4 = 128 bits a chunk) cross from tile 0 to s's tile 2 (one hop down,
    # link:0>2); k's output (512 bits over 4 chunks: 128 a chunk) from tile 1 at (0, 1) to tile 2 at
    # (1, 0): along the row, then down (link:1>0 and link:0>2 held together), two hops
    assert [step.resources for step in s.steps] == [("link:0>2",), ("link:1>0", "link:0>2"), ("arrays:s",)]
    assert s.steps[0].ns == pytest.approx(128 / LINK_GBPS + HOP_NS)
    assert s.steps[1].ns == pytest.approx(128 / LINK_GBPS + 2 * HOP_NS)
    # bit-hops: q's 512 bits from tile 0 (1 hop) in the layer's movement, k's 512 from tile 1 at (0, 1)
    # to tile 2 at (1, 0): 2 hops
    assert s.ledger.count("noc", "bit_hops") == pytest.approx(512 * 1 + 512 * 2)
    assert not any(step.resource.startswith("digital:") for st in plan.stages for step in st.steps)


@pytest.mark.parametrize(("field", "value"), [("chip.attention_on", "analog"), ("chip.digital_special_gops_per_tile", 0.0),
                                              ("chip.digital_elementwise_gops_per_tile", 1e6),
                                              ("energy.digital_pj_per_mac", -0.1),
                                              ("energy.digital_pj_per_special_op", -1.0)])
def test_bad_values_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field.split(".")[1]):
        tiny_chip(**{field: value})


def test_multicast_sends_a_split_products_keys_once():
    # s at 2.5 periods on one tile: k = 3 tiles, home 0 (q's) then tiles 1 and 2 (both one hop, the lower
    # first). k's output (512 bits) is on tile 1; tile 0 at (0, 0), tile 2 at (1, 0).
    split3 = {"chip.digital_gops_per_tile": 512 / (2.5 * PERIOD_NS)}
    q_bit_hops = 2 * 128  # q streamed (128 bits a chunk) to tiles 1 and 2, one chunk each, one hop
    unicast = stage(plan_of(tiny_chip(**split3)), "s")
    assert any("split over tiles [0, 1, 2]" in note for note in plan_of(tiny_chip(**split3)).notes)
    # a copy of k to tile 0 (1 hop) and one to tile 2 (1 > 0 > 2, 2 hops)
    assert unicast.ledger.count("noc", "bit_hops") == pytest.approx(512 * 1 + 512 * 2 + q_bit_hops)
    multicast = stage(plan_of(tiny_chip(**split3, **{"chip.noc_multicast": True})), "s")
    # k once down the tree link:1>0, link:0>2: 512 bits on each of its 2 links
    assert multicast.ledger.count("noc", "bit_hops") == pytest.approx(512 * 2 + q_bit_hops)
    tree = multicast.steps[0]  # every chunk carries its share of the one copy: 512 / 4 bits, to 2 hops
    assert tree.resources == ("link:1>0", "link:0>2")
    assert tree.ns == pytest.approx(128 / LINK_GBPS + 2 * HOP_NS)
