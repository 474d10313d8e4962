"""The event engine on hand-built machines: flow-shop timing, pipelining, contention, dependencies."""

import numpy as np
import pytest

from cimsim import ConfigError
from cimsim.engine import scheduler
from cimsim.engine.closed_form import run_closed_form
from cimsim.arch.chunking import proportional_needs
from cimsim.costs.ledger import Ledger
from cimsim.engine.plan import MachinePlan, StagePlan, Step


def chain(step_ns, chunks, shared_bus_ns=None, batch_steps=None):
    """Stages in a chain, each on its own resource, optionally all crossing one shared bus first."""
    stages, resources, previous = [], {}, None
    for i, (ns, c) in enumerate(zip(step_ns, chunks)):
        resources[f"arrays:{i}"] = 1
        steps = (Step(f"arrays:{i}", ns),)
        if shared_bus_ns is not None:
            steps = (Step("bus", shared_bus_ns),) + steps
            resources["bus"] = 1
        needs = {previous.name: proportional_needs(c, previous.chunks)} if previous else {}
        stage = StagePlan(f"s{i}", "gemm", c, "row", steps, Ledger(), needs=needs,
                          batch_steps=batch_steps[i] if batch_steps else ())
        stages.append(stage)
        previous = stage
    return MachinePlan("hand", "cim", resources, stages, 0.0, {})


def test_layer_mode_equals_the_flow_shop_formula_without_contention():
    plan = chain([10.0, 30.0, 20.0], [4, 5, 6])
    batch = 3
    # one stage at a time, each a single server: n chunks of t ns take n·t
    expected = batch * (4 * 10.0 + 5 * 30.0 + 6 * 20.0)
    result = scheduler.run(plan, batch=batch, mode="layer")
    assert result.latency_ns == pytest.approx(expected, rel=1e-12)
    assert run_closed_form(plan, batch, "layer").latency_ns == pytest.approx(expected, rel=1e-12)


def test_pipelined_throughput_is_that_of_the_slowest_stage():
    plan = chain([10.0, 30.0, 20.0], [4, 4, 4])
    slowest_per_inference = 4 * 30.0
    latencies = [scheduler.run(plan, batch=b, mode="pipelined").latency_ns for b in (8, 9, 10)]
    # in steady state every extra inference costs the slowest stage's time per inference
    assert np.diff(latencies) == pytest.approx([slowest_per_inference] * 2, rel=1e-12)
    # and the pipeline beats one layer at a time
    assert latencies[0] < scheduler.run(plan, batch=8, mode="layer").latency_ns


def test_a_shared_bus_lengthens_latency_by_what_its_bandwidth_predicts():
    # 2 stages, 10 chunks each, 5 ns of compute; every chunk first crosses one shared bus
    fast = scheduler.run(chain([5.0, 5.0], [10, 10], shared_bus_ns=0.0), batch=1, mode="layer")
    slow = scheduler.run(chain([5.0, 5.0], [10, 10], shared_bus_ns=8.0), batch=1, mode="layer")
    # per stage, a flow shop of 10 chunks through (8 ns bus, 5 ns arrays): 8 + 5 + 9·8 = 85 ns
    assert fast.latency_ns == pytest.approx(2 * 10 * 5.0)
    assert slow.latency_ns == pytest.approx(2 * (8 + 5 + 9 * 8.0))
    assert slow.busy_ns["bus"] == pytest.approx(2 * 10 * 8.0)
    busiest = max(slow.busy_ns, key=slow.busy_ns.get)
    assert busiest == "bus"


def test_two_pipelined_stages_contend_on_one_bus():
    alone = scheduler.run(chain([1.0], [20], shared_bus_ns=4.0), batch=1, mode="pipelined").latency_ns
    both = scheduler.run(chain([1.0, 1.0], [20, 20], shared_bus_ns=4.0), batch=1, mode="pipelined").latency_ns
    # the bus carries 40 transfers of 4 ns one after another, then the last chunk computes
    assert alone == pytest.approx(20 * 4.0 + 1.0)
    assert both == pytest.approx(40 * 4.0 + 1.0)


def test_batch_steps_run_once_per_batch_before_the_first_chunk():
    plan = chain([10.0], [3], batch_steps=[(Step("arrays:0", 100.0),)])
    result = scheduler.run(plan, batch=2, mode="layer")
    assert result.latency_ns == pytest.approx(100.0 + 2 * 3 * 10.0)


def test_dependencies_hold_a_consumer_until_its_producer_chunks_are_done():
    plan = chain([10.0, 1.0], [2, 4])
    result = scheduler.run(plan, batch=1, mode="pipelined", record=True)
    starts = sorted(i.start_ns for i in result.timeline if i.stage == "s1")
    # consumer chunks 0,1 need producer chunk 0 (done at 10 ns), chunks 2,3 need chunk 1 (at 20 ns)
    assert starts == pytest.approx([10.0, 11.0, 20.0, 21.0])
    assert result.stage_spans_ns["s1"] == pytest.approx((10.0, 22.0))


def test_events_grow_linearly_with_work_items():
    plan = chain([1.0, 3.0, 2.0, 1.0], [50, 20, 30, 40])
    events = [scheduler.run(plan, batch=b).events for b in (1, 2, 4, 8)]
    # a fixed cost per stage plus the same number of events for every inference's 140 work items
    per_inference = events[1] - events[0]
    assert events == [events[0] + (b - 1) * per_inference for b in (1, 2, 4, 8)]
    assert 140 * 4 <= per_inference <= 140 * 8  # a few events per chunk, never per MAC


@pytest.mark.parametrize("kwargs, field", [({"mode": "eager"}, "mode"), ({"batch": 0}, "batch")])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        scheduler.run(chain([1.0], [1]), **kwargs)


def test_a_step_on_a_missing_resource_is_refused():
    plan = chain([1.0], [1])
    plan.resources.pop("arrays:0")
    with pytest.raises(ConfigError, match="arrays:0"):
        scheduler.run(plan)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda p: p.stages[1].needs.update({"s0": np.array([1, 9])}), "up to 9 chunks"),
        (lambda p: p.stages[1].needs.update({"s0": np.array([-1, 1])}), "up to 1 chunks of 's0', which has 2"),
        (lambda p: p.stages[1].needs.update({"nope": np.array([1, 1])}), "nope"),
        (lambda p: p.resources.update({"arrays:0": 0}), "servers"),
        (lambda p: p.stages[0].__setattr__("steps", (Step("arrays:0", -1.0),)), "-1.0 ns"),
    ],
)
def test_a_plan_the_engine_cannot_finish_is_refused(change, field):
    plan = chain([1.0, 1.0], [2, 2])
    change(plan)
    with pytest.raises(ConfigError, match=field):
        scheduler.run(plan)




def test_the_first_problem_in_stage_order_is_reported_whatever_its_kind():
    # stage s1 waits for 9 of s0's 2 chunks, then stage s2 waits for a stage that does not exist:
    # the wait of s1 comes first. In the other order, the unknown producer comes first.
    plan = chain([1.0, 1.0, 1.0], [2, 2, 2])
    plan.stages[1].needs["s0"] = np.array([1, 9])
    plan.stages[2].needs["nope"] = np.array([1, 1])
    with pytest.raises(ConfigError, match="stage 's1' waits for up to 9 chunks of 's0', which has 2"):
        scheduler.run(plan)
    plan = chain([1.0, 1.0, 1.0], [2, 2, 2])
    plan.stages[1].needs["nope"] = np.array([1, 1])
    plan.stages[2].needs["s1"] = np.array([1, 9])
    with pytest.raises(ConfigError, match="stage 's1' waits for 'nope', which is not an earlier stage"):
        scheduler.run(plan)


def test_a_shared_resource_serves_the_oldest_inference_first():
    # a then b, one chunk each, both on the one resource r for 10 ns; batch 3, pipelined.
    # a's three chunks are ready at 0: a0 runs 0-10, and r passes to the waiting a1 the moment a0
    # frees it (10-20), before b0, ready at 10, asks. At 20 b0 (inference 0) and a2 (inference 2)
    # wait: b0 goes first (20-30); at 30 b1 (ready at 20) goes before a2 (30-40); a2 40-50, b2 50-60.
    # First come first served would run a2 at 20-30 and b0 at 30-40.
    a = StagePlan("a", "gemm", 1, "row", (Step("r", 10.0),), Ledger())
    b = StagePlan("b", "gemm", 1, "row", (Step("r", 10.0),), Ledger(), needs={"a": np.array([1])})
    result = scheduler.run(MachinePlan("hand", "cim", {"r": 1}, [a, b], 0.0, {}), batch=3, record=True)
    assert result.stage_spans_ns["b"] == (20.0, 60.0)
    assert [(i.stage, i.inference, i.start_ns) for i in sorted(result.timeline, key=lambda i: i.start_ns)] == [
        ("a", 0, 0.0), ("a", 1, 10.0), ("b", 0, 20.0), ("b", 1, 30.0), ("a", 2, 40.0), ("b", 2, 50.0)]
