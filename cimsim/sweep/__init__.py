"""Design-space sweeps: a TOML file of axes, one simulation per point, one table of results.

- :mod:`~cimsim.sweep.spec`: the sweep file, validated up front, and its points (stable ids,
  their own seeds);
- :mod:`~cimsim.sweep.point`: one point simulated into one table row;
- :mod:`~cimsim.sweep.run`: :func:`run_sweep` on a local process pool or a Dask cluster,
  with resume and fault tolerance;
- :mod:`~cimsim.sweep.table`: the table (CSV or Parquet), rewritten atomically; :func:`load` reads
  it as a pandas DataFrame (the ``data`` extra).
"""

from cimsim.sweep.run import SweepResult, main, run_sweep
from cimsim.sweep.spec import SweepSpec, load_sweep
from cimsim.sweep.table import load, read_table

__all__ = ["SweepResult", "SweepSpec", "load", "load_sweep", "main", "read_table", "run_sweep"]
