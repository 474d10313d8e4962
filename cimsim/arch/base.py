"""What an architecture is to :func:`cimsim.simulate`: a planner of workloads for the event engine.

An architecture turns a :class:`PlanRequest` (a workload, the configuration of one machine, the
batch, the mode and fidelity asked for, the seed, the inputs of a functional run and whether to
show progress) into a :class:`PlannedRun`:

* ``plan``: the :class:`~cimsim.engine.plan.MachinePlan` the engine runs: the machine's resources
  and one stage per operation, with the priced actions (ledgers) of each; energy is the
  architecture's to count and price, time the engine's to measure;
* ``mode``: the mode it runs in, the one asked for unless the machine cannot (a CIM chip whose
  arrays are time-multiplexed runs one layer at a time: ``"layer"``);
* ``layer_errors``: each layer's relative error ``||y - y_exact|| / ||y_exact||`` when the run is
  functional, else empty.

Its ``fidelities`` (of :data:`cimsim.modes.FIDELITIES`) are those it honours, the first being the
one it runs when asked for another: a machine whose counts do not depend on data honours only
``"analytical"``, and its reports say so. Architectures are registered under the name their
configurations give in ``meta.architecture`` (:mod:`cimsim.arch.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from cimsim.config.tree import ConfigRoot
from cimsim.engine.plan import MachinePlan
from cimsim.errors import ConfigError
from cimsim.modes import FIDELITIES
from cimsim.workload import Workload


@dataclass(frozen=True)
class PlanRequest:
    """What :func:`cimsim.simulate` asks of an architecture (module docstring); checked before it is made."""

    workload: Workload
    cfg: ConfigRoot
    batch: int = 1  # inferences run together
    mode: str = "pipelined"  # asked for; the plan may run in another (PlannedRun.mode)
    fidelity: str = "analytical"  # one the architecture honours
    seed: int = 0  # every random draw of the run comes from it
    inputs: dict[str, np.ndarray] | None = None  # layer name -> (M x K) inputs of one inference
    progress: bool | None = None  # show a progress bar (None: when stderr is a terminal)


class PlannedRun(NamedTuple):
    """What an architecture hands the engine (module docstring)."""

    plan: MachinePlan
    mode: str
    layer_errors: dict[str, float]


@runtime_checkable
class Architecture(Protocol):
    """A machine cimsim can simulate (module docstring)."""

    fidelities: tuple[str, ...]

    def plan(self, request: PlanRequest) -> PlannedRun:
        """The plan of ``request.workload`` on ``request.cfg``, its mode and its layers' errors."""


def check_architecture(architecture: object) -> None:
    """ConfigError unless ``architecture`` has a ``plan`` method and ``fidelities`` drawn from FIDELITIES."""
    if isinstance(architecture, type) or not isinstance(architecture, Architecture) or not callable(architecture.plan):
        raise ConfigError(f"architecture = {architecture!r}; allowed: an object (not a class) with a plan(request) "
                          "method and a tuple of fidelities (cimsim.arch.base.Architecture)")
    fidelities = architecture.fidelities
    if not isinstance(fidelities, tuple) or not fidelities or any(f not in FIDELITIES for f in fidelities):
        raise ConfigError(f"architecture.fidelities = {fidelities!r}; allowed: a non-empty tuple of "
                          f"{', '.join(map(repr, FIDELITIES))}")


def honoured_fidelity(architecture: Architecture, fidelity: str) -> str:
    """``fidelity`` when ``architecture`` honours it, else the first fidelity it honours."""
    return fidelity if fidelity in architecture.fidelities else architecture.fidelities[0]
