"""The mesh between tiles: XY routes, per-hop timing, and transfers contending on shared links.

Every expected value is counted by hand in the comments; times are in ns, bandwidths in bits
per ns (Gb/s).
"""

import numpy as np
import pytest

import cimsim
from cimsim import ConfigError, Gemm, Workload
from cimsim.arch.noc import Noc
from cimsim.costs.ledger import Ledger
from cimsim.engine import scheduler
from cimsim.engine.plan import MachinePlan, StagePlan, Step
from cimsim.simulate import machine_plan

ISAAC = cimsim.load_preset("isaac").override({"chip.replication": "none"})
HOP_NS = 2 / 1.2  # chip.noc_cycles_per_hop = 2 cycles at chip.clock_ghz = 1.2


def nine_tiles(**fields):
    return ISAAC.override({"chip.tiles": 9, **fields})


def test_an_xy_route_goes_along_the_row_then_down_the_column():
    noc = Noc(nine_tiles())  # 3 x 3 grid: tile t at row t // 3, column t % 3
    assert noc.route(0, 8) == ("link:0>1", "link:1>2", "link:2>5", "link:5>8")
    assert noc.route(8, 0) == ("link:8>7", "link:7>6", "link:6>3", "link:3>0")
    assert noc.route(4, 4) == () and noc.hops(4, 4) == 0
    assert noc.hops(0, 8) == 4 and noc.hops(2, 6) == 4


def test_a_route_whose_corner_is_past_the_last_tile_goes_by_the_column_first():
    noc = Noc(ISAAC.override({"chip.tiles": 7}))  # 3 x 3 grid, row 2 holds only tile 6
    # XY from 6 (row 2, col 0) to 5 (row 1, col 2) would turn at (2, 2) = tile 8, which does not exist
    assert noc.route(6, 5) == ("link:6>3", "link:3>4", "link:4>5")


def test_a_transfer_takes_its_serialisation_plus_one_pipeline_delay_per_hop():
    noc = Noc(nine_tiles())
    step = noc.transfer_step(0, 8, bits=3840.0)
    # 3840 bits / 38.4 bits per ns = 100 ns, plus 4 hops of 2 cycles at 1.2 GHz
    assert step.ns == pytest.approx(100 + 4 * HOP_NS, rel=1e-12)
    assert step.resources == ("link:0>1", "link:1>2", "link:2>5", "link:5>8")
    assert noc.transfer_step(3, 3, bits=3840.0) is None  # within a tile: no link


def test_the_bus_is_one_resource_and_one_hop_for_every_transfer():
    noc = Noc(nine_tiles(**{"chip.noc_topology": "bus"}))
    assert noc.route(0, 8) == ("bus",) and noc.hops(0, 8) == 1 and noc.hops(3, 3) == 1


def two_transfers(second: Step) -> MachinePlan:
    """Stage a sends 0 -> 2 (two hops), stage b sends ``second``; both ready at time 0."""
    noc = Noc(nine_tiles())
    first = noc.transfer_step(0, 2, bits=384.0)
    stages = [StagePlan("a", "gemm", 1, "vector", (first,), Ledger()),
              StagePlan("b", "gemm", 1, "vector", (second,), Ledger())]
    resources = {name: 1 for stage in stages for step in stage.steps for name in step.resources}
    return MachinePlan("mesh", "cim", resources, stages, 0.0, {})


def test_a_two_hop_transfer_and_a_one_hop_transfer_on_a_shared_link_take_turns():
    noc = Noc(nine_tiles())
    two_hop_ns = 384 / 38.4 + 2 * HOP_NS  # 0 -> 1 -> 2: 10 ns of bits, two hops
    one_hop_ns = 384 / 38.4 + HOP_NS  # 1 -> 2
    shared = two_transfers(noc.transfer_step(1, 2, bits=384.0))  # both need link:1>2
    result = scheduler.run(shared, record=True)
    assert result.latency_ns == pytest.approx(two_hop_ns + one_hop_ns, rel=1e-12)  # one after the other
    assert result.busy_ns["link:1>2"] == pytest.approx(two_hop_ns + one_hop_ns, rel=1e-12)
    assert result.busy_ns["link:0>1"] == pytest.approx(two_hop_ns, rel=1e-12)
    held = sorted((i.resource, i.stage) for i in result.timeline)
    assert held == [("link:0>1", "a"), ("link:1>2", "a"), ("link:1>2", "b")]  # a held both its links at once
    apart = two_transfers(noc.transfer_step(4, 5, bits=384.0))  # link:4>5 is not on a's route
    assert scheduler.run(apart).latency_ns == pytest.approx(two_hop_ns, rel=1e-12)  # side by side


def test_closed_form_counts_every_link_of_a_route_in_its_load_bound():
    noc = Noc(nine_tiles())
    plan = two_transfers(noc.transfer_step(1, 2, bits=384.0))
    result = cimsim.engine.closed_form.run_closed_form(plan)
    # each stage alone: max(10 + 2 hops, 10 + 1 hop); link:1>2 carries both: the load bound binds
    assert result.latency_ns == pytest.approx(384 / 38.4 * 2 + 3 * HOP_NS, rel=1e-12)


def test_a_layer_two_tiles_away_receives_its_inputs_over_both_links():
    w = np.random.default_rng(0).standard_normal((128, 8))
    probe = machine_plan(Workload([Gemm("a", m=4, k=128, n=8, weights=w)], name="one"), ISAAC).plan
    per_layer = probe.stages[0].arrays
    cfg = nine_tiles(**{"tile.groups_per_tile": 1, "tile.arrays_per_group": per_layer})  # one layer per tile
    ops = [Gemm("a", m=4, k=128, n=8, weights=w), Gemm("x", m=4, k=128, n=8, weights=w, inputs=("a",)),
           Gemm("b", m=4, k=128, n=8, weights=w, inputs=("a",))]  # a on tile 0, x on 1, b on 2; x and b read a
    stages = {stage.name: stage for stage in machine_plan(Workload(ops, name="fan-out"), cfg).plan.stages}
    bits = 128 * 16  # one vector (a chunk) of 128 inputs of 16 bits
    assert stages["x"].steps[0].resources == ("link:0>1",)
    assert stages["x"].steps[0].ns == pytest.approx(bits / 38.4 + HOP_NS, rel=1e-12)
    assert stages["b"].steps[0].resources == ("link:0>1", "link:1>2")
    assert stages["b"].steps[0].ns == pytest.approx(bits / 38.4 + 2 * HOP_NS, rel=1e-12)


def test_a_step_that_holds_a_resource_twice_is_refused():
    plan = two_transfers(Step("link:0>1", 1.0, also=("link:0>1",)))
    with pytest.raises(ConfigError, match="a resource twice"):
        scheduler.run(plan)


def test_a_multicast_sends_once_down_the_tree_of_its_routes():
    noc = Noc(nine_tiles(**{"chip.noc_multicast": True}))
    # from 0 to 2 and to 5: routes 0>1>2 and 0>1>2>5 share their first links: the tree holds each once
    step = noc.multicast_step(0, [0, 2, 5], bits=384.0)
    assert step.resources == ("link:0>1", "link:1>2", "link:2>5")
    assert step.ns == pytest.approx(384 / 38.4 + 3 * HOP_NS, rel=1e-12)  # to the farthest, 5: three hops
    assert noc.multicast_step(4, [4], bits=384.0) is None  # nothing leaves the tile
