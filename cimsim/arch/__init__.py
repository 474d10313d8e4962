"""Architectures as the engine sees them: a workload turned into the plan the engine runs.

- :mod:`~cimsim.arch.cim`: the CIM chip (placement on arrays and tiles, stages, replication,
  reprogramming);
- :mod:`~cimsim.arch.von_neumann`: the von Neumann baseline (PE array, buffers, DRAM roofline);
- :mod:`~cimsim.arch.chunking`: work items (output rows, tokens, batch slices) and what each
  needs of its producers.
"""
