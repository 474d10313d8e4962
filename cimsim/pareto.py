"""Pareto fronts of result tables: which rows no other row beats on every objective.

A table is a sequence of rows, each a mapping from column name to value (a sweep's table, a
study's rows): the parameters of a point and what was measured (``"energy_pj"``,
``"layer_relative_error_rms"``, ``"accuracy"``, ...). A missing column, or a non-number where a
number is needed, is a :class:`~cimsim.errors.ConfigError` naming the column. Figures of fronts
are drawn by :mod:`cimsim.plot.sweep`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

from cimsim.errors import ConfigError

Rows = Sequence[Mapping[str, Any]]

HIGHER_IS_BETTER = frozenset(
    {"tops_per_watt", "tops", "tops_per_mm2", "throughput_inferences_per_s", "accuracy", "top1_agreement"}
)
"""Columns a front maximises by default; it minimises all others (energy, latency, errors, ...)."""


def column(rows: Rows, name: str) -> list[Any]:
    """The values of column ``name``, one per row; ConfigError when there are no rows or a row lacks it."""
    if not rows:
        raise ConfigError(f"no rows to plot (column {name!r}): the sweep table is empty")
    for index, row in enumerate(rows):
        if name not in row:
            raise ConfigError(f"column {name!r} is not in row {index} of the sweep table; its columns: {sorted(row)}")
    return [row[name] for row in rows]


def numeric(rows: Rows, name: str) -> list[float]:
    """The values of column ``name`` as floats; ConfigError naming the column at a non-number."""
    values = column(rows, name)
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ConfigError(f"column {name!r} of row {index} is {value!r}, expected a number")
    return [float(value) for value in values]


def pareto_points(
    rows: Rows, minimize: Sequence[str] = ("energy_pj", "layer_relative_error_rms"), maximize: Sequence[str] = ()
) -> list[Mapping[str, Any]]:
    """The rows no other row dominates, in their order.

    Row a dominates row b when a is no worse in every column of ``minimize`` and ``maximize`` and
    better in at least one. Rows with equal objectives do not dominate each other: all are kept.
    """
    if not minimize and not maximize:
        raise ConfigError("pareto_points: no columns to minimize or maximize")
    signed = [numeric(rows, name) for name in minimize] + [[-v for v in numeric(rows, name)] for name in maximize]
    costs = list(zip(*signed))
    return [row for row, cost in zip(rows, costs) if not any(dominates(other, cost) for other in costs)]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether costs ``a`` dominate costs ``b`` (all minimised): no worse anywhere, better somewhere."""
    return all(u <= v for u, v in zip(a, b)) and any(u < v for u, v in zip(a, b))
