"""Closed-form timing: the event engine's latency without events, a few array operations per stage.

The event engine (:mod:`cimsim.engine.scheduler`) runs every chunk as a SimPy process. When no
resource is shared between stages, what it computes has a closed form, which this module
evaluates stage by stage in execution order:

* **Readiness.** A stage's chunks are released in order (inference, then chunk). Chunk i of
  inference b is released once, for every producer p, the first ``b·chunks_p + needs_p[i]``
  chunks of p are done (``"pipelined"``), or once the previous stage has finished its whole
  batch (``"layer"``); and never before the chunk released before it (the engine waits for
  each threshold in turn): r = running maximum of the thresholds' finish times.
* **Service.** Each step holds one of the k servers of its resource for t ns, first come first
  served. With identical service times and arrivals in order, chunk j starts at
  s_j = max(a_j, s_{j−k} + t) (the server it takes is the one chunk j − k frees), so within each
  residue class of j mod k, s_i = i·t + cummax(a_i − i·t): exact, one running maximum (a numba
  kernel per step; :func:`served_starts` is its numpy reference).
  The step's ends are the next step's arrivals. A step holding several resources at once (a
  transfer over the links of its route) is served by the fewest servers among them. A stage
  whose chunks alternate over k places (``StagePlan.alternates``) is served per place, chunks
  j ≡ c (mod k) through place c.
* **A stage's own load.** A stage never ends before its first chunk's release plus its busiest
  resource's share of the stage's work (busy time over servers): the chunks of a stage split
  over tiles share the links their operands cross, which the per-place recursion does not see.
* **Batch steps** (cells reprogrammed) run before the stage's first chunk is released: from
  time 0 when pipelined, after the previous stage in ``"layer"`` mode.

**Where it is exact, and the bound elsewhere.** The recursion treats every stage as if it had its
resources to itself. Resources shared between stages (a tile's buffer, digital units and ADC
banks, used by the layers placed on that tile; a mesh link on several routes; the von Neumann
machine's PE array and memories, used by every stage) contend when pipelined stages overlap: the events then queue
behind other stages' chunks, which the recursion does not see. The closed form therefore
returns max(recursion, the most loaded resource's busy time / its servers), a lower bound on
the events' latency that is exact in ``"layer"`` mode (stages never overlap) and whenever no
shared resource is busy in two stages at once, except where the places of one split stage
share a link of their routes (the own-load floor above is then a bound, not the queue). docs/scheduler.md gives the measured agreement
over the zoo, presets and modes; ``tests/test_closed_form.py`` checks it. Energy does not
depend on timing, except static energy, which is charged over the latency.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cimsim.engine.plan import EngineResult, MachinePlan, StagePlan, Step
from cimsim.engine.scheduler import check_batch_and_mode, check_plan


def run_closed_form(plan: MachinePlan, batch: int = 1, mode: str = "pipelined") -> EngineResult:
    """The latency, resource busy times and stage spans of ``batch`` inferences of ``plan`` in
    closed form (module docstring); ``events`` is 0 and there is no timeline."""
    check_batch_and_mode(batch, mode)
    check_plan(plan)
    batch = int(batch)
    # per stage, done[c]: when its first c chunks of the batch are done (done[0] = 0), a list for a lone chunk
    done: dict[str, np.ndarray | list[float]] = {}
    chunks = {stage.name: stage.chunks for stage in plan.stages}
    busy_ns = {name: 0.0 for name in plan.resources}
    spans: dict[str, tuple[float, float]] = {}
    released_ns = 0.0  # "layer": when the previous stage finished its batch
    for stage in plan.stages:
        start_ns = released_ns if mode == "layer" else 0.0
        uses = [start_ns] if stage.batch_steps else []  # first use of a resource, for the stage's span
        for step in stage.batch_steps:
            for resource in step.resources:
                busy_ns[resource] += step.ns
            start_ns += step.ns
        if batch * stage.chunks == 1:
            ready = _lone_ready(stage, start_ns, done) if mode == "pipelined" else start_ns
            done[stage.name] = [0.0, _lone_served(plan, stage, ready, busy_ns, uses)]
        else:
            ready = _ready(stage, batch, chunks, done, start_ns, mode == "pipelined")
            own_busy_ns: dict[str, float] = {}
            ends = _served(plan, stage, ready, own_busy_ns, uses)
            for name, ns in own_busy_ns.items():
                busy_ns[name] += ns
            # its places may share a resource (a split operation's routes): never done before its own load
            own_load_end_ns = float(ready[0]) + max(ns / plan.resources[name] for name, ns in own_busy_ns.items())
            done[stage.name] = first_done = np.empty(ends.size + 1)
            _first_done(ends, own_load_end_ns, first_done)
        released_ns = float(done[stage.name][-1])
        if uses:  # the engine records a span only for a stage that used a resource
            spans[stage.name] = (min(uses), released_ns)
    latency_ns = max((end for _, end in spans.values()), default=0.0)
    load_ns = max((busy_ns[name] / servers for name, servers in plan.resources.items()), default=0.0)
    return EngineResult(latency_ns=float(max(latency_ns, load_ns)), events=0, busy_ns=busy_ns,
                        stage_spans_ns=spans)


@njit(cache=True)
def _first_done(ends_ns, last_end_floor_ns, first_done):
    """Writes to ``first_done`` (one more item than ``ends_ns``) when the first 0, 1, 2, ... chunks are
    done, from each chunk's end (ns): 0, then the running maximum of the ends (a consumer waits for the
    first n chunks done), the last end raised to ``last_end_floor_ns`` first as Python's ``max`` would,
    the maximum as numpy's (a NaN wins, a tie keeps the earlier); one pass (numba; the caller allocates
    ``first_done``: a kernel returning an array costs more than the array's allocation)."""
    n = ends_ns.size
    first_done[0] = 0.0
    for j in range(n):
        end = ends_ns[j]
        if j == n - 1 and last_end_floor_ns > end:
            end = last_end_floor_ns
        if j == 0 or not (first_done[j] >= end or np.isnan(first_done[j])):
            first_done[j + 1] = end
        else:
            first_done[j + 1] = first_done[j]


def _ready(stage: StagePlan, batch: int, chunks: dict[str, int], done: dict[str, np.ndarray | list[float]],
           start_ns: float, pipelined: bool) -> np.ndarray:
    """The release times of a stage's chunks of the batch (inference-major, ns): no earlier than ``start_ns``
    and, when ``pipelined``, than the producers' chunks each waits for; then their running maximum."""
    ready = np.empty(batch * stage.chunks)
    ready.fill(start_ns)  # np.full's values, without its cost per call
    if not pipelined or not stage.needs:  # every chunk released at start_ns: already its own running maximum
        return ready
    for producer, needs in stage.needs.items():
        _wait_for(ready, np.asarray(done[producer]), needs.astype(np.int64, copy=False), chunks[producer])
    _running_max_in_place(ready)
    return ready


@njit(cache=True)
def _wait_for(ready_ns, done_ns, needs, producer_chunks):
    """Chunk i of inference b no earlier than the first b·producer_chunks + needs[i] chunks of its
    producer are done: ``ready_ns`` (inference-major) raised in place to ``done_ns`` at that count, as
    numpy's ``maximum`` would (a NaN wins, a tie keeps ``ready_ns``), in one pass (numba)."""
    chunks = needs.size
    for j in range(ready_ns.size):
        inference = j // chunks
        finished = done_ns[inference * producer_chunks + needs[j - inference * chunks]]
        if not (ready_ns[j] >= finished or np.isnan(ready_ns[j])):
            ready_ns[j] = finished


@njit(cache=True)
def _running_max_in_place(values):
    """``np.maximum.accumulate(values, out=values)`` (a NaN wins, a tie keeps the earlier), in one pass (numba)."""
    for j in range(1, values.size):
        if values[j - 1] >= values[j] or np.isnan(values[j - 1]):
            values[j] = values[j - 1]


def _served(plan: MachinePlan, stage: StagePlan, ready: np.ndarray, busy_ns: dict[str, float],
            uses: list[float]) -> np.ndarray:
    """When chunks released at ``ready`` (non-decreasing, inference-major) end the stage's steps, ns;
    adds the steps' busy time to ``busy_ns`` (created where missing) and each step's first start to ``uses``.

    Chunks that alternate over several places (``stage.alternates``) are served per place: the
    chunks j ≡ c (mod k) of every inference go in order through ``alternates[c]``; a step holding
    several resources is served by the fewest servers among them."""
    if not stage.alternates:
        ends = _through(plan, stage.steps, ready, busy_ns, uses)
        return ready.copy() if ends is ready else ends
    ends = ready.copy()
    places = len(stage.alternates)
    for place, steps in enumerate(stage.alternates):
        members = (np.arange(ready.size) % stage.chunks) % places == place
        if members.any():
            ends[members] = _through(plan, steps, ready[members], busy_ns, uses)
    return ends


def _through(plan: MachinePlan, steps: tuple[Step, ...], arrivals: np.ndarray, busy_ns: dict[str, float],
             uses: list[float]) -> np.ndarray:
    """When jobs arriving at ``arrivals`` (non-empty, non-decreasing) end ``steps``, one after another (ns);
    the steps' busy time and first starts go to ``busy_ns`` and ``uses`` (:func:`_served`)."""
    for step in steps:
        first_start_ns, ends = _served_ends(arrivals, step.ns, _servers(plan, step))
        uses.append(first_start_ns)
        step_busy_ns = step.ns * arrivals.size
        busy_ns[step.resource] = busy_ns.get(step.resource, 0.0) + step_busy_ns
        for resource in step.also:  # step.resources without building the tuple
            busy_ns[resource] = busy_ns.get(resource, 0.0) + step_busy_ns
        arrivals = ends
    return arrivals


def _served_ends(arrivals_ns: np.ndarray, service_ns: float, servers: int) -> tuple[float, np.ndarray]:
    """The first job's start and every job's end (ns) of one step (:func:`served_starts`, then + ``service_ns``)."""
    ends = np.empty(arrivals_ns.size)
    return _served_ends_kernel(arrivals_ns, float(service_ns), int(servers), ends), ends


@njit(cache=True)
def _served_ends_kernel(arrivals_ns, service_ns, servers, ends):
    """The first job's start (returned) and ``served_starts(arrivals_ns, service_ns, servers) + service_ns``
    (written to ``ends``), ns, in one pass (numba): the same operations on each job, in the same order
    (numpy's ``maximum``: a NaN wins, a tie keeps the first), without numpy's cost per call, most of a
    step's time at a stage's tens of chunks."""
    n = arrivals_ns.size
    first_start_ns = 0.0
    latest = np.empty(min(n, servers))  # per server, the running maximum of a − i·t
    for j in range(n):
        rounds = j // servers  # i: the job is its server's i-th
        server = j - rounds * servers
        offset = rounds * service_ns
        shifted = arrivals_ns[j] - offset
        if rounds == 0:
            latest[server] = shifted
        elif not (latest[server] >= shifted or np.isnan(latest[server])):
            latest[server] = shifted
        if j == 0:
            first_start_ns = latest[server] + offset
        ends[j] = latest[server] + offset + service_ns
    return first_start_ns


def _servers(plan: MachinePlan, step: Step) -> int:
    """The servers serving ``step``: the fewest among the resources it holds."""
    if not step.also:  # most steps hold one resource
        return plan.resources[step.resource]
    return min(plan.resources[resource] for resource in step.resources)


def _lone_ready(stage: StagePlan, start_ns: float, done: dict[str, np.ndarray | list[float]]) -> float:
    """The release time of a stage with one chunk in the whole batch (:func:`_ready`), in Python floats."""
    ready = start_ns
    for producer, needs in stage.needs.items():
        ready = max(ready, float(done[producer][int(needs[0])]))
    return ready


def _lone_served(plan: MachinePlan, stage: StagePlan, ready: float, busy_ns: dict[str, float],
                 uses: list[float]) -> float:
    """:func:`_served` of one chunk, in Python floats: a lone job starts on arrival (s_0 = a_0), so
    the same sums without a kernel's cost per call (most stages of a transformer decoding one token)."""
    for step in stage.steps:
        uses.append(ready)
        for resource in step.resources:
            busy_ns[resource] += step.ns
        ready = ready + step.ns
    return ready


def served_starts(arrivals_ns: np.ndarray, service_ns: float, servers: int) -> np.ndarray:
    """Start times of jobs arriving in order at ``arrivals_ns`` (non-decreasing) on ``servers``
    identical first-come-first-served servers of ``service_ns`` each: s_j = max(a_j, s_{j−k} + t).

    The numpy reference of the step kernel the closed form runs (:func:`_served_ends_kernel`)."""
    n, k = arrivals_ns.size, int(servers)
    if k == 1:  # the same sums without the rounds' padding and reshaping (most resources have one server)
        offsets = np.arange(n) * service_ns
        starts = arrivals_ns - offsets
        np.maximum.accumulate(starts, out=starts)
        starts += offsets
        return starts
    if n <= k:  # one round: every job starts on arrival, the same sums as below with i = 0
        zero = 0 * service_ns  # nan for an infinite service time, as the rounds' offsets
        return arrivals_ns - zero + zero
    rounds = -(-n // k)
    padded = arrivals_ns
    if n % k:  # a last round with idle servers: jobs that never start
        padded = np.full(rounds * k, np.inf)
        padded[:n] = arrivals_ns
    by_server = padded.reshape(rounds, k)  # row i: the i-th job of each server
    offsets = np.arange(rounds)[:, None] * service_ns
    starts = np.maximum.accumulate(by_server - offsets, axis=0) + offsets
    return starts.ravel()[:n]
