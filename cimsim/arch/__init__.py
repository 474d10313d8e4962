"""Architectures as the engine sees them: a workload turned into the plan the engine runs.

- :mod:`~cimsim.arch.base`: the interface every architecture offers (:class:`Architecture`:
  a :class:`PlanRequest` in, a :class:`PlannedRun` out);
- :mod:`~cimsim.arch.registry`: the architectures by name (:func:`register_architecture`,
  :func:`list_architectures`); :mod:`~cimsim.arch.builtin`: the two built in, behind the interface;
- :mod:`~cimsim.arch.cim`: the CIM chip (placement on arrays and tiles, stages, replication,
  reprogramming);
- :mod:`~cimsim.arch.von_neumann`: the von Neumann baseline (PE array, buffers, DRAM roofline);
- :mod:`~cimsim.arch.noc`: the interconnect between a CIM chip's tiles (XY routes over a mesh's
  links, or one bus) and the time of a transfer;
- :mod:`~cimsim.arch.memory`: what stays in a CIM chip's tile buffers, and what spills to the
  global buffer or DRAM;
- :mod:`~cimsim.arch.chunking`: work items (output rows, tokens, batch slices) and what each
  needs of its producers;
- :mod:`~cimsim.arch.plan_cache`: per-process caches of what a CIM plan computes from the weights
  and a few configuration fields (weight statistics, input statistics), so that sweep points
  that change other fields do not recompute them.
"""

from cimsim.arch.base import Architecture, PlannedRun, PlanRequest
from cimsim.arch.registry import list_architectures, register_architecture, unregister_architecture

__all__ = ["Architecture", "PlanRequest", "PlannedRun", "list_architectures", "register_architecture",
           "unregister_architecture"]
