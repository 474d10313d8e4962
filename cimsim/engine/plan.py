"""What an architecture hands the event engine, and what the engine hands back.

An architecture (the CIM chip of :mod:`cimsim.arch.cim`, the von Neumann baseline of
:mod:`cimsim.arch.von_neumann`) turns a :class:`~cimsim.workload.Workload` into a :class:`MachinePlan`:
the machine's resources with their capacities, and one :class:`StagePlan` per operation. A stage
splits one inference of its operation into ``chunks`` work items (an output row of a
convolution, a token, a batch slice; never a single MAC); each chunk uses the stage's ``steps``
one after another, each step holding one server of a resource (or of several resources at once:
a transfer holds every link of its route) for its time (a stage spread over several places
gives ``alternates``: chunk j uses ``alternates[j mod len(alternates)]``). ``needs`` says how
many chunks of each producer a chunk waits for. The engine (:mod:`cimsim.engine.scheduler`) runs the
chunks of every inference of a batch and returns an :class:`EngineResult`.

Energy is counted by the architecture, not by the engine: ``ledger`` holds the priced actions
of one inference of a stage, ``batch_ledger`` those done once per batch (weights fetched from
DRAM, cells reprogrammed). Static power is charged on the engine's latency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cimsim.errors import ShapeError
from cimsim.costs.ledger import Ledger


@dataclass(frozen=True)
class Step:
    """One use of one server of ``resource``, and of each resource in ``also`` at the same time,
    for ``ns`` nanoseconds (a transfer over a mesh holds every link of its route)."""

    resource: str
    ns: float
    also: tuple[str, ...] = ()

    @property
    def resources(self) -> tuple[str, ...]:
        """Every resource the step holds, ``resource`` first."""
        return (self.resource, *self.also)


@dataclass
class StagePlan:
    """One operation of a workload as the engine runs it (module docstring)."""

    name: str
    kind: str  # "gemm" (a matrix product) or "digital" (a non-GEMM operation)
    chunks: int  # work items per inference
    chunk_label: str  # what a chunk is: "output row", "token", "batch slice", ...
    steps: tuple[Step, ...]  # resources each chunk uses, in order
    ledger: Ledger  # priced actions of one inference of this stage (all its chunks)
    macs: int = 0  # MACs of one inference with a non-zero weight (1 MAC = 2 operations)
    needs: dict[str, np.ndarray] = field(default_factory=dict)  # producer -> chunks of it that chunk j waits for
    batch_steps: tuple[Step, ...] = ()  # once per batch, before the stage's first chunk
    batch_ledger: Ledger = field(default_factory=Ledger)  # priced actions once per batch
    arrays: int = 0  # arrays the stage occupies (CIM); 0 elsewhere
    alternates: tuple[tuple[Step, ...], ...] = ()  # when given, chunk j uses alternates[j % len] (steps = the first)

    def __post_init__(self) -> None:
        if self.chunks < 1:
            raise ShapeError(f"stage {self.name!r}: chunks = {self.chunks}, expected >= 1")
        if self.alternates and tuple(self.alternates[0]) != tuple(self.steps):
            raise ShapeError(f"stage {self.name!r}: steps must be alternates[0], the steps of chunk 0")
        for producer, needs in self.needs.items():
            if needs.shape != (self.chunks,):
                raise ShapeError(f"stage {self.name!r}: needs[{producer!r}] has shape {needs.shape}, expected ({self.chunks},)")

    def chunk_steps(self, chunk: int) -> tuple[Step, ...]:
        """The steps of chunk ``chunk`` of an inference: ``steps``, or ``alternates[chunk % len(alternates)]``."""
        return self.alternates[chunk % len(self.alternates)] if self.alternates else self.steps

    @property
    def all_steps(self) -> tuple[Step, ...]:
        """Every step any chunk or the batch uses (for the resources a stage needs)."""
        if not self.alternates:  # most stages: without the generator over places
            return (*self.steps, *self.batch_steps)
        return (*(step for steps in self.alternates for step in steps), *self.batch_steps)

    @property
    def chunk_ns(self) -> float:
        """Time of one chunk through its steps with no waiting."""
        return sum(step.ns for step in self.steps)


@dataclass
class MachinePlan:
    """A workload placed on an architecture: resources (name -> servers) and stages in execution order."""

    config_name: str
    architecture: str  # "cim" or "von-neumann"
    resources: dict[str, int]
    stages: list[StagePlan]
    static_power_mw: float
    area_breakdown_um2: dict[str, float]
    notes: list[str] = field(default_factory=list)  # placement decisions worth reporting
    precision: str = ""  # weight and activation bits, "w8a8": must match when two machines are compared
    input_activity: float | None = None  # CIM: the input activity the workload drove (cimsim.costs.peak)

    @property
    def area_um2(self) -> float:
        return sum(self.area_breakdown_um2.values())


@dataclass(frozen=True)
class Interval:
    """A chunk holding a resource: for the timeline (Gantt plot)."""

    stage: str
    inference: int
    chunk: int
    resource: str
    start_ns: float
    end_ns: float


@dataclass
class EngineResult:
    """What the event engine measured."""

    latency_ns: float  # first start to last end of the batch
    events: int  # SimPy events processed
    busy_ns: dict[str, float]  # per resource, summed over its servers
    stage_spans_ns: dict[str, tuple[float, float]]  # per stage: first start, last end
    timeline: list[Interval] = field(default_factory=list)  # empty unless recorded
