"""The event engine: the chunks of a batch flowing through a machine's resources, in SimPy.

Every resource of a :class:`~cimsim.engine.plan.MachinePlan` is a ``simpy.Resource`` with its
servers; each chunk of each inference of each stage is a process that, once the chunks it
needs of its producers are done, holds one server of each of its steps' resources in turn for
the step's time. A step on several resources (a transfer over the links of its route) takes
them in one global order (sorted by name), holding those it has while it waits for the next,
as a worm of flits does, and frees them all at its end; the global order means two steps never
wait for each other. Waiting for a busy server is contention; the engine adds no other delay.
Waiting chunks are served oldest inference first, then first come first served (batch steps
before all): a chunk of inference 0 of a later layer is not queued behind the first layer's
chunks of the whole batch, which are all ready at once.

Modes:

* ``"pipelined"``: a stage's chunk of inference b starts as soon as the chunks it needs of
  inference b of each producer are done, so layers (and inferences) overlap;
* ``"layer"``: one stage at a time, in execution order: a stage starts when the previous one
  has finished every chunk of every inference of the batch.

A stage's ``batch_steps`` (cells reprogrammed) run once per batch before its first chunk
starts: from time 0 when pipelined (while the stages before it work), after the previous
stage in ``"layer"`` mode. Chunks of a stage start in order (inference, then chunk); a stage's
progress is the number of its chunks done in that order.

:mod:`cimsim.engine.closed_form` computes the same timing without events where no shared resource
is contended (``simulate(..., timing="closed-form")``).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from operator import attrgetter

import numpy as np
import simpy
from numba import njit

from cimsim.errors import ConfigError, check_batch
from cimsim.engine.plan import EngineResult, Interval, MachinePlan, StagePlan, Step
from cimsim.modes import MODES


class _SortedRequests(list):
    """A put queue kept in order of the requests' keys (inference, then request time), equal keys in
    arrival order: one insertion per request (SimPy's own sorted queue re-sorts on every append)."""

    def append(self, request) -> None:
        bisect.insort_right(self, request, key=attrgetter("key"))


class _OldestInferenceFirst(simpy.PriorityResource):
    """A resource whose waiting chunks are served oldest inference first, then first come first served."""

    PutQueue = _SortedRequests


class _Progress:
    """Chunks of a stage done in order, and the processes waiting for a count of them."""

    def __init__(self, env: simpy.Environment, total: int):
        self.env = env
        self.done = np.zeros(total, dtype=bool)
        self.count = 0
        self._waiting: list[tuple[int, int, simpy.Event]] = []
        self._order = itertools.count()

    def wait(self, threshold: int) -> simpy.Event | None:
        """An event that fires once ``threshold`` chunks are done (None if they already are)."""
        if self.count >= threshold:
            return None
        event = self.env.event()
        heapq.heappush(self._waiting, (threshold, next(self._order), event))
        return event

    def finish(self, index: int) -> None:
        self.done[index] = True
        while self.count < self.done.size and self.done[self.count]:
            self.count += 1
        while self._waiting and self._waiting[0][0] <= self.count:
            heapq.heappop(self._waiting)[2].succeed()


class _Run:
    """One simulation of a plan: the environment, resources, progress and what was measured."""

    def __init__(self, plan: MachinePlan, batch: int, mode: str, record: bool):
        self.env = simpy.Environment()
        self.plan, self.batch, self.mode, self.record = plan, batch, mode, record
        self.resources = {name: _OldestInferenceFirst(self.env, capacity) for name, capacity in plan.resources.items()}
        self.progress = {s.name: _Progress(self.env, batch * s.chunks) for s in plan.stages}
        self.chunks = {s.name: s.chunks for s in plan.stages}
        self.busy_ns = {name: 0.0 for name in plan.resources}
        self.spans: dict[str, list[float]] = {}
        self.timeline: list[Interval] = []

    def _use(self, stage: StagePlan, step: Step, inference: int, chunk: int):
        held = []
        try:
            for name in sorted(step.resources):  # one global order: two steps never wait on each other
                held.append((self.resources[name], self.resources[name].request(priority=inference)))
                yield held[-1][1]
            begin = self.env.now
            yield self.env.timeout(step.ns)
        finally:
            for resource, request in held:
                resource.release(request)
        end = self.env.now
        for name in step.resources:
            self.busy_ns[name] += step.ns
            if self.record:
                self.timeline.append(Interval(stage.name, inference, chunk, name, begin, end))
        span = self.spans.setdefault(stage.name, [begin, end])
        span[0], span[1] = min(span[0], begin), max(span[1], end)

    def _chunk(self, stage: StagePlan, inference: int, chunk: int):
        for step in stage.chunk_steps(chunk):
            yield from self._use(stage, step, inference, chunk)
        self.progress[stage.name].finish(inference * stage.chunks + chunk)

    def _thresholds(self, stage: StagePlan, previous: StagePlan | None, inference: int, chunk: int):
        if self.mode == "layer":
            if previous is not None:
                yield previous.name, self.batch * previous.chunks
            return
        for producer, needs in stage.needs.items():
            yield producer, inference * self.chunks[producer] + int(needs[chunk])

    def _stage(self, stage: StagePlan, previous: StagePlan | None):
        if self.mode == "layer" and previous is not None:
            yield from self._wait(previous.name, self.batch * previous.chunks)
        for step in stage.batch_steps:
            yield from self._use(stage, step, -1, -1)
        for inference in range(self.batch):
            for chunk in range(stage.chunks):
                for producer, threshold in self._thresholds(stage, previous, inference, chunk):
                    yield from self._wait(producer, threshold)
                self.env.process(self._chunk(stage, inference, chunk))

    def _wait(self, producer: str, threshold: int):
        event = self.progress[producer].wait(threshold)
        if event is not None:
            yield event

    def run(self) -> EngineResult:
        previous = None
        for stage in self.plan.stages:
            self.env.process(self._stage(stage, previous))
            previous = stage
        events = _count_events(self.env)
        for stage in self.plan.stages:  # every chunk ran: check_plan makes every wait reachable
            assert self.progress[stage.name].count == self.batch * stage.chunks, stage.name
        return EngineResult(
            latency_ns=float(self.env.now),
            events=events,
            busy_ns=self.busy_ns,
            stage_spans_ns={name: (span[0], span[1]) for name, span in self.spans.items()},
            timeline=self.timeline,
        )


def _count_events(env: simpy.Environment) -> int:
    """Run ``env`` to the end, counting the events it processes."""
    events = 0
    try:
        while True:
            env.step()
            events += 1
    except simpy.core.EmptySchedule:
        return events


def check_batch_and_mode(batch, mode: str) -> None:
    """ConfigError unless ``batch`` is an integer >= 1 and ``mode`` one of :data:`MODES`."""
    if mode not in MODES:
        raise ConfigError(f"mode = {mode!r}; allowed: {', '.join(MODES)}")
    check_batch(batch)


def check_plan(plan: MachinePlan) -> None:
    """ConfigError for a plan the engine cannot run: unknown resources or producers, negative
    times, resources without a server, or a chunk waiting for more chunks than its producer has."""
    for name, servers in plan.resources.items():
        if isinstance(servers, bool) or not isinstance(servers, (int, np.integer)) or servers < 1:
            raise ConfigError(f"plan {plan.config_name!r}: resource {name!r} has {servers!r} servers; allowed: >= 1")
    waits: list[tuple[StagePlan, str, np.ndarray, int]] = []
    problem = _first_problem(plan, waits)
    _check_waits(waits)  # the waits before the first other problem: checked first
    if problem is not None:
        raise ConfigError(problem)


def _first_problem(plan: MachinePlan, waits: list[tuple[StagePlan, str, np.ndarray, int]]) -> str | None:
    """The first problem of ``plan`` but its waits' bounds, in stage order; ``waits`` gets (stage,
    producer, needs, the producer's chunks) of every wait before it."""
    chunks: dict[str, int] = {}
    for stage in plan.stages:
        for step in stage.all_steps:
            # most steps hold one known resource for a time >= 0: the checks below only for the others
            if step.also or step.resource not in plan.resources or not step.ns >= 0:
                problem = _step_problem(plan, stage, step)
                if problem is not None:
                    return problem
        for producer, needs in stage.needs.items():
            if producer not in chunks:
                return f"stage {stage.name!r} waits for {producer!r}, which is not an earlier stage"
            waits.append((stage, producer, needs, chunks[producer]))
        chunks[stage.name] = stage.chunks
    return None


def _step_problem(plan: MachinePlan, stage: StagePlan, step: Step) -> str | None:
    """The first problem of ``step`` of ``stage``: a resource the machine lacks, one held twice, a time < 0."""
    resources = step.resources
    for resource in resources:
        if resource not in plan.resources:
            return (f"plan {plan.config_name!r}: stage {stage.name!r} uses resource {resource!r}, "
                    f"which the machine does not have; it has {sorted(plan.resources)}")
    if step.also and len(set(resources)) < len(resources):
        return (f"stage {stage.name!r}: a step holds {resources}, a resource twice; "
                "allowed: each resource once per step")
    if not step.ns >= 0:
        return f"stage {stage.name!r}: a step on {step.resource!r} takes {step.ns!r} ns; allowed: >= 0"
    return None


def _check_waits(waits: list[tuple[StagePlan, str, np.ndarray, int]]) -> None:
    """ConfigError for the first ``needs`` outside 0..its producer's chunks."""
    for stage, producer, needs, limit in waits:
        if _any_outside(needs.ravel(), limit):
            raise ConfigError(f"stage {stage.name!r} waits for up to {int(needs.max())} chunks of {producer!r}, "
                              f"which has {limit}")


@njit(cache=True)
def _any_outside(values, limit):
    """Is any of ``values`` below 0, above ``limit`` or NaN? (numba: numpy's comparisons cost more per
    call than a plan's few waits take to check)."""
    for value in values:
        if not (value >= 0 and value <= limit):
            return True
    return False


def run(plan: MachinePlan, batch: int = 1, mode: str = "pipelined", record: bool = False) -> EngineResult:
    """Simulate ``batch`` inferences of ``plan`` (module docstring); ``record`` keeps the timeline."""
    check_batch_and_mode(batch, mode)
    check_plan(plan)
    return _Run(plan, int(batch), mode, record).run()
