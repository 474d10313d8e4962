"""The two architectures cimsim ships, behind the interface of :mod:`cimsim.arch.base`.

* :class:`CimChip` (``"cim"``): the crossbar chip of :mod:`cimsim.arch.cim`, in both fidelities;
  a chip whose arrays are time-multiplexed runs one layer at a time;
* :class:`VonNeumannBaseline` (``"von-neumann"``): the baseline of :mod:`cimsim.arch.von_neumann`,
  whose counts do not depend on data (``"analytical"`` only).
"""

from __future__ import annotations

from cimsim.arch.base import PlannedRun, PlanRequest
from cimsim.arch.cim import CimArchitecture
from cimsim.arch.von_neumann import baseline_plan
from cimsim.modes import FIDELITIES
from cimsim.progress import progress_bar


class CimChip:
    """A workload placed on a CIM chip's arrays (:class:`~cimsim.arch.cim.CimArchitecture`)."""

    fidelities = FIDELITIES

    def plan(self, request: PlanRequest) -> PlannedRun:
        """The chip's plan; a bar of the products placed while ``request.progress`` allows it."""
        workload = request.workload
        chip = CimArchitecture(request.cfg, request.fidelity, request.seed, request.inputs, request.batch)
        with progress_bar(len(workload.gemms), f"placing {workload.name}", "layer", request.progress, leave=False) as bar:
            plan, errors = chip.plan(workload, bar.update)
        return PlannedRun(plan, "layer" if chip.multiplexed else request.mode, errors)


class VonNeumannBaseline:
    """A workload on the von Neumann machine (:func:`~cimsim.arch.von_neumann.baseline_plan`)."""

    fidelities = ("analytical",)

    def plan(self, request: PlanRequest) -> PlannedRun:
        """The baseline's plan, in the mode asked for; no layer errors (its counts do not depend on data)."""
        return PlannedRun(baseline_plan(request.workload, request.cfg, request.batch), request.mode, {})
