"""A :class:`~cimsim.engine.report.Report` as pandas DataFrames (pandas is the optional ``data`` extra).

Two tables, chosen by name:

- ``"layers"``: one row per layer in execution order, indexed by ``layer`` (its name), with the
  columns of :data:`LAYER_COLUMNS`: ``kind``, ``macs`` (non-zero-weight MACs over the batch),
  ``energy_pj`` (over the batch), ``latency_ns``, ``start_ns``, ``end_ns``, ``arrays``,
  ``chunks``, ``chunk_label`` and ``relative_error`` (missing when analytical): the report's
  layer CSV without its per-component columns;
- ``"components"``: long (tidy) form, one row per (layer, component) with the columns
  ``layer``, ``component`` and ``energy_pj`` (over the batch), plus one row of component
  ``"static"`` whose ``layer`` is missing (NaN), because static power × latency belongs to no layer. So
  ``energy_pj`` sums to the report's energy, ``groupby("component")`` gives its breakdown
  (``groupby("layer")`` leaves the static row out), and ``pivot_table(index="layer",
  columns="component", values="energy_pj")`` the wide table.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from cimsim.errors import ConfigError
from cimsim.extras import optional_import

if TYPE_CHECKING:
    import pandas

TABLES = ("layers", "components")
LAYER_COLUMNS = ("kind", "macs", "energy_pj", "latency_ns", "start_ns", "end_ns", "arrays", "chunks", "chunk_label",
                 "relative_error")
"""The columns of the ``"layers"`` table, after its index ``layer``."""


def report_dataframe(report: Any, table: str) -> pandas.DataFrame:
    """The table ``table`` (module docstring) of ``report``, a Report (not imported here: report.py imports this
    module); ConfigError for another name."""
    if table not in TABLES:
        raise ConfigError(f"Report.to_dataframe: table = {table!r}; allowed: {', '.join(map(repr, TABLES))}")
    pandas = optional_import("pandas", "Report.to_dataframe", "data")
    if table == "layers":
        records = [asdict(row) | {"layer": row.name, "latency_ns": row.latency_ns} for row in report.layers]
        frame = pandas.DataFrame(records, columns=["layer", *LAYER_COLUMNS]).set_index("layer")
        return frame.astype({"relative_error": float})  # None (analytical) as NaN
    rows = [(row.name, component, pj) for row in report.layers for component, pj in row.energy_by_component.items()]
    rows.append((None, "static", report.static_energy_pj))
    return pandas.DataFrame(rows, columns=["layer", "component", "energy_pj"])
