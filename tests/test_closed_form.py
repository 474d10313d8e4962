"""Closed-form timing (cimsim/engine/closed_form.py) against the event engine and against hand counts.

Where no resource is shared between stages, or stages never overlap ("layer" mode), the closed
form must give the event engine's latency, busy times and stage spans to rounding (1e-9
relative: sums of the same floating-point times in another order). Where shared resources are
contended (pipelined stages on the von Neumann machine's one PE array and memories), it is a
lower bound. Energy is the plan's, whatever the timing, except static energy, charged over the
latency.
"""

from __future__ import annotations

import numpy as np
import pytest

import cimsim
from cimsim.costs.ledger import Ledger
from cimsim.engine import closed_form, scheduler
from cimsim.engine.closed_form import run_closed_form, served_starts
from cimsim.engine.plan import MachinePlan, StagePlan, Step
from cimsim.simulate import machine_plan
from cimsim.workload_loader import load_workload

ROUNDING = 1e-9
# The issue's bound where a shared resource is contended was 1 %; since issue 17's digital work reads
# and writes its tile's buffer (cimsim/arch/digital.py), a pooling layer queues behind the
# convolutions that share its tile's buffer, which the closed form does not see: digits-cnn
# pipelined at batch 4 is -1.75 % on isaac and -2.4 % on rram-22nm (measured). Within 3 %.
CONTENDED = 0.03


def plan_of(stages: list[StagePlan], resources: dict[str, int]) -> MachinePlan:
    return MachinePlan("hand", "cim", resources, stages, 0.0, {})


def test_served_starts_follow_the_queue_by_hand():
    # 5 jobs arriving at 0, 0, 1, 10, 10 on 2 servers of 4 ns: job 2 waits for job 0 (free at 4),
    # job 3 arrives after every server is free, job 4 takes the server job 2 frees at 8.
    starts = served_starts(np.array([0.0, 0.0, 1.0, 10.0, 10.0]), 4.0, 2)
    np.testing.assert_array_equal(starts, [0.0, 0.0, 4.0, 10.0, 10.0])
    np.testing.assert_array_equal(served_starts(np.array([0.0, 0.0, 0.0]), 3.0, 1), [0.0, 3.0, 6.0])


@pytest.mark.parametrize("service_ns", [0.0, 0.25, 3.0, np.inf])
def test_the_step_kernel_times_as_served_starts_does_to_the_bit(service_ns):
    # the numba kernel of a step against its numpy twin: first start and ends, every server count
    rng = np.random.default_rng(5)
    for n, servers in [(1, 1), (7, 1), (40, 1), (40, 3), (40, 40), (12, 64), (113, 4)]:
        arrivals = np.sort(rng.integers(0, 30, n) * 0.5)
        with np.errstate(invalid="ignore"):
            starts = served_starts(arrivals, service_ns, servers)
            ends = np.empty(n)
            first = closed_form._served_ends_kernel(arrivals, service_ns, servers, ends)
            np.testing.assert_array_equal(ends, starts + service_ns)  # nan where numpy's is nan (an infinite step)
            np.testing.assert_array_equal(first, starts[0])


def test_the_wait_kernel_raises_ready_as_numpy_maximum_does():
    # chunk i of inference b waits for the first b * 5 + needs[i] chunks of a producer of 5 chunks
    rng = np.random.default_rng(6)
    done = np.concatenate([[0.0], np.sort(rng.random(3 * 5))])
    needs = np.array([1, 1, 3, 5])
    ready = rng.random(3 * 4) * 0.5
    thresholds = np.add.outer(np.arange(0, 15, 5), needs).ravel()
    expected = np.maximum(ready, done[thresholds])
    closed_form._wait_for(ready, done, needs, 5)
    assert np.array_equal(ready, expected)


def test_the_first_done_kernel_is_a_running_maximum_after_zero():
    def first_done(ends, floor):
        out = np.empty(len(ends) + 1)
        closed_form._first_done(np.array(ends), floor, out)
        return out

    np.testing.assert_array_equal(first_done([3.0, 1.0, 4.0, 2.0], 0.0), [0.0, 3.0, 3.0, 4.0, 4.0])
    np.testing.assert_array_equal(first_done([3.0, 1.0, 4.0, 2.0], 9.0), [0.0, 3.0, 3.0, 4.0, 9.0])  # the last raised
    np.testing.assert_array_equal(first_done([1.0, np.nan, 2.0], 0.0), [0.0, 1.0, np.nan, np.nan])


def test_the_running_max_kernel_is_numpys():
    values = np.array([2.0, 1.0, np.nan, 5.0, 0.0, 7.0])
    expected = np.maximum.accumulate(values)
    closed_form._running_max_in_place(values)
    np.testing.assert_array_equal(values, expected)


def test_a_two_stage_pipeline_by_hand():
    # stage a: 3 chunks of 2 ns on "ra"; stage b: 3 chunks of 5 ns on "rb", chunk j waits for j + 1 chunks of a.
    # a ends at 2, 4, 6; b starts at 2, 7, 12 and ends at 17. Batch 2: a's next chunks end at 8, 10, 12,
    # before b is free, so b's next three run back to back from 17: the batch ends at 32.
    a = StagePlan("a", "gemm", 3, "row", (Step("ra", 2.0),), Ledger())
    b = StagePlan("b", "gemm", 3, "row", (Step("rb", 5.0),), Ledger(), needs={"a": np.array([1, 2, 3])})
    one = run_closed_form(plan_of([a, b], {"ra": 1, "rb": 1}), batch=1)
    assert one.latency_ns == 17.0 and one.stage_spans_ns == {"a": (0.0, 6.0), "b": (2.0, 17.0)}
    two = run_closed_form(plan_of([a, b], {"ra": 1, "rb": 1}), batch=2)
    assert two.latency_ns == 17.0 + 3 * 5.0 and two.busy_ns == {"ra": 12.0, "rb": 30.0}
    layer = run_closed_form(plan_of([a, b], {"ra": 1, "rb": 1}), batch=2, mode="layer")
    assert layer.latency_ns == 6 * 2.0 + 6 * 5.0  # a's whole batch, then b's


def test_a_shared_resource_makes_it_a_lower_bound_no_lower_than_the_load():
    # two independent stages on one server of 3 ns each, 4 chunks each: the events serialise them
    # (24 ns); the recursion alone would say 12; the load bound gives the 24.
    a = StagePlan("a", "gemm", 4, "row", (Step("pe", 3.0),), Ledger())
    b = StagePlan("b", "gemm", 4, "row", (Step("pe", 3.0),), Ledger())
    plan = plan_of([a, b], {"pe": 1})
    assert run_closed_form(plan).latency_ns == scheduler.run(plan).latency_ns == 24.0


CASES = [(w, p) for w in ("lenet5", "mlp", "digits-cnn") for p in ("isaac", "rram-22nm", "pcm", "neurram")]


@pytest.mark.parametrize(("workload", "preset"), CASES)
@pytest.mark.parametrize("mode", ["pipelined", "layer"])
def test_cim_chips_time_alike(workload, preset, mode):
    """Busy times to rounding always; the latency to rounding by layer (stages never overlap), and
    pipelined a lower bound within the issue's 1 %: copies of a replicated layer (rram-22nm) share
    their tile's buffer with the layers beside them, where the events queue and the closed form does not."""
    planned = machine_plan(load_workload(workload), cimsim.load_preset(preset), 4, mode)
    events = scheduler.run(planned.plan, 4, planned.mode)
    closed = run_closed_form(planned.plan, 4, planned.mode)
    assert closed.busy_ns == pytest.approx(events.busy_ns, rel=ROUNDING)
    if planned.mode == "layer":
        assert closed.latency_ns == pytest.approx(events.latency_ns, rel=ROUNDING)
        for stage, span in events.stage_spans_ns.items():
            assert closed.stage_spans_ns[stage] == pytest.approx(span, rel=ROUNDING, abs=ROUNDING)
    else:
        assert events.latency_ns * (1 - CONTENDED) <= closed.latency_ns <= events.latency_ns * (1 + ROUNDING)


@pytest.mark.parametrize("preset", ["vn-45nm", "gpu-a100", "edge-npu"])
@pytest.mark.parametrize("workload", ["lenet5", "digits-cnn"])
def test_von_neumann_is_exact_by_layer_and_a_lower_bound_pipelined(preset, workload):
    wl, cfg = load_workload(workload), cimsim.load_preset(preset)
    layer = machine_plan(wl, cfg, 4, "layer").plan
    assert run_closed_form(layer, 4, "layer").latency_ns == pytest.approx(scheduler.run(layer, 4, "layer").latency_ns,
                                                                           rel=ROUNDING)
    piped = machine_plan(wl, cfg, 4, "pipelined").plan
    assert run_closed_form(piped, 4).latency_ns <= scheduler.run(piped, 4).latency_ns * (1 + ROUNDING)


def test_simulate_closed_form_charges_the_same_actions():
    wl, cfg = load_workload("lenet5"), cimsim.load_preset("isaac")
    events = cimsim.simulate(wl, cfg, batch=4)
    closed = cimsim.simulate(wl, cfg, batch=4, timing="closed-form")
    assert (closed.timing, events.timing, closed.events) == ("closed-form", "events", 0)
    dynamic = {k: v for k, v in events.breakdown.items() if k != "static"}
    assert {k: v for k, v in closed.breakdown.items() if k != "static"} == dynamic
    assert closed.latency_ns == pytest.approx(events.latency_ns, rel=ROUNDING)


@pytest.mark.parametrize(("kwargs", "word"), [({"timing": "fast"}, "timing"),
                                              ({"timing": "closed-form", "record_timeline": True}, "record_timeline")])
def test_bad_timing_is_a_config_error(kwargs, word):
    with pytest.raises(cimsim.ConfigError, match=word):
        cimsim.simulate(load_workload("mlp"), cimsim.load_preset("isaac"), **kwargs)


def test_a_report_written_before_timing_existed_still_loads(tmp_path):
    report = cimsim.simulate(load_workload("mlp"), cimsim.load_preset("isaac"))
    data = report.to_dict()
    del data["timing"]
    assert cimsim.Report.from_dict(data).timing == "events"


def test_one_chunk_stages_by_hand_beside_stages_of_several():
    # batch 1. a: 3 chunks of 2 ns on "ra" (end at 2, 4, 6). b: 1 chunk waiting for all 3 of a,
    # then 1 ns on "rb" and 4 ns on "rc": 6 -> 7 -> 11. c: 1 chunk waiting for a's first chunk and
    # for b, 5 ns on "ra", free after a's chunks: starts at max(2, 11) = 11, ends at 16.
    # d: 2 chunks waiting for b (needs [1, 1]), 3 ns each on "rb": start at 11 and 14, end at 17.
    a = StagePlan("a", "gemm", 3, "row", (Step("ra", 2.0),), Ledger())
    b = StagePlan("b", "gemm", 1, "row", (Step("rb", 1.0), Step("rc", 4.0)), Ledger(), needs={"a": np.array([3])})
    c = StagePlan("c", "gemm", 1, "row", (Step("ra", 5.0),), Ledger(), needs={"a": np.array([1]), "b": np.array([1])})
    d = StagePlan("d", "gemm", 2, "row", (Step("rb", 3.0),), Ledger(), needs={"b": np.array([1, 1])})
    plan = plan_of([a, b, c, d], {"ra": 1, "rb": 1, "rc": 1})
    result = run_closed_form(plan)
    assert result.stage_spans_ns == {"a": (0.0, 6.0), "b": (6.0, 11.0), "c": (11.0, 16.0), "d": (11.0, 17.0)}
    assert result.busy_ns == {"ra": 3 * 2.0 + 5.0, "rb": 1.0 + 2 * 3.0, "rc": 4.0}
    assert result.latency_ns == 17.0 == scheduler.run(plan).latency_ns
    layer = run_closed_form(plan, mode="layer")  # one stage after another: 6, then 5, 5 and 6 ns
    assert layer.latency_ns == 6.0 + 5.0 + 5.0 + 6.0 == scheduler.run(plan, mode="layer").latency_ns


def random_plan(rng: np.random.Generator) -> MachinePlan:
    """Stages of 1 to 5 chunks with random needs, times (not round), servers, steps on several
    resources at once and chunks alternating over places, as a split digital operation's."""
    resources = {f"r{i}": int(rng.integers(1, 4)) for i in range(5)}
    names = list(resources)
    stages: list[StagePlan] = []
    for index in range(8):
        chunks = int(rng.integers(1, 6))

        def steps() -> tuple[Step, ...]:
            picks = rng.choice(names, size=int(rng.integers(1, 4)), replace=False)
            return tuple(Step(str(pick), float(rng.uniform(0.1, 7.0)), also=tuple(map(str, rng.choice(
                [n for n in names if n != pick], size=int(rng.integers(0, 2)), replace=False)))) for pick in picks)

        alternates = tuple(steps() for _ in range(int(rng.integers(2, 4)))) if rng.random() < 0.4 else ()
        producers = stages[-2:] if stages else []
        needs = {p.name: np.sort(rng.integers(0, p.chunks + 1, size=chunks)) for p in producers}
        stages.append(StagePlan(f"s{index}", "digital", chunks, "slice", alternates[0] if alternates else steps(),
                                Ledger(), needs=needs, alternates=alternates))
    return plan_of(stages, resources)


def test_a_lone_chunk_in_python_times_as_the_kernels_do_to_the_bit():
    # the Python path of a stage with one chunk in the batch against the kernels every other stage takes
    rng = np.random.default_rng(17)
    for _ in range(40):
        plan = random_plan(rng)
        for stage in plan.stages:
            ready = float(rng.uniform(0.0, 50.0))
            lone_busy, lone_uses = dict.fromkeys(plan.resources, 0.0), []
            lone_end = closed_form._lone_served(plan, stage, ready, lone_busy, lone_uses)
            busy, uses = dict.fromkeys(plan.resources, 0.0), []
            ends = closed_form._served(plan, stage, np.array([ready]), busy, uses)
            assert (lone_end, lone_busy, lone_uses) == (ends[0], busy, uses)
