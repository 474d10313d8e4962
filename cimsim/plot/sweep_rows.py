"""Which rows of a sweep table one figure may draw together, and how it groups them.

A sweep table's rows carry the parameters of their point and what was measured. A figure of a
measured column against a parameter ``x`` averages the rows that fall on one point of one
curve; that is honest only when those rows are repeats of one configuration that differ in
their ``seed``. So every *parameter column* of the rows must be one of:

- ``x``;
- a **series** key (one curve per value; several keys give one curve per combination);
- a **facet** key (one panel per value; several keys give one panel per combination);
- a **filter** (``where={"batch": 16}``: only the rows with that value are drawn);
- ``seed``, the only column averaged over;
- or hold one value in the rows drawn.

Otherwise :func:`check_honest` refuses with a one-line :class:`~cimsim.errors.ConfigError`
naming the columns left to choose and their values. Parameter columns are the dotted
configuration paths (``adc.bits``, ``array.rows``) and :data:`PARAMETER_COLUMNS` (a sweep's axes
and a study's names); every other column is taken as measured (``energy_pj``, ``bottleneck``,
``point_id``, ...). Values are ordered as numbers when all are numbers, else in the order of
their first row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

from cimsim.errors import ConfigError
from cimsim.pareto import Rows, column

SEED = "seed"
"""The column of a point's seed: the one column a figure averages over."""

PARAMETER_COLUMNS = frozenset(
    {"chip", "preset", "config", "workload", "model", "study", "sparsity", "batch", "fidelity", "mode", "timing", SEED}
)
"""Columns without a dot that name what was run: a sweep's axes (:mod:`cimsim.sweep.spec`) and a study's names."""


def keys(value: str | Sequence[str] | None, argument: str) -> tuple[str, ...]:
    """Column names from ``None``, one name, a comma-separated string or a sequence of names (each may hold commas)."""
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(name, str) for name in names):
        raise ConfigError(f"{argument} = {value!r}; allowed: a column name, comma-separated names or a list of names")
    split = tuple(part.strip() for name in names for part in name.split(","))
    if "" in split or len(set(split)) < len(split):
        raise ConfigError(f"{argument} = {value!r}; allowed: distinct, non-empty column names")
    return split


def is_parameter(name: str) -> bool:
    """Whether column ``name`` names what was run (module docstring) rather than what was measured."""
    return "." in name or name in PARAMETER_COLUMNS


def ordered(values: Sequence[Any]) -> list[Any]:
    """The distinct ``values``: sorted when all are numbers (not booleans), else in order of first appearance."""
    distinct = list(dict.fromkeys(values))
    numbers = all(isinstance(value, Real) and not isinstance(value, bool) for value in distinct)
    return sorted(distinct) if numbers else distinct


def select(rows: Rows, where: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The rows whose column ``key`` equals ``value`` for every item of ``where``.

    A key that is not a column, or a value no row has, is a ConfigError listing the values there are.
    """
    chosen = list(rows)
    for key, value in (where or {}).items():
        present = column(chosen, key)
        kept = [row for row, cell in zip(chosen, present) if cell == value]
        if not kept:
            shown = ", ".join(map(str, ordered(present)))
            raise ConfigError(f"where {key} = {value!r}: no row has that value; {key} holds {shown}")
        chosen = kept
    return chosen


def check_honest(rows: Rows, x: str, y: str, drawn: Sequence[str]) -> None:
    """ConfigError unless every parameter column but ``x``, ``drawn`` (series and facet keys) and the seed
    holds one value in ``rows`` (module docstring)."""
    used = [x, *drawn]
    repeated = [name for name in dict.fromkeys(used) if used.count(name) > 1]
    if repeated:
        raise ConfigError(f"column {repeated[0]!r} is given twice among x, the series and the facets; use it once")
    for name in used:
        column(rows, name)  # a ConfigError naming a column the rows lack
    taken = {SEED, y, *used}
    left = {name: ordered(column(rows, name)) for name in rows[0] if is_parameter(name) and name not in taken}
    left = {name: values for name, values in left.items() if len(values) > 1}
    if left:
        listing = "; ".join(f"{name} ({', '.join(map(str, values))})" for name, values in left.items())
        raise ConfigError(
            f"cannot draw {y} against {x}: the rows differ in {listing}, and a figure averages only over seeds; "
            "make each a series, a facet or a filter (--series, --facet, --where KEY=VALUE on the command line; "
            "series=, facet=, where= in Python)"
        )


def groups(rows: Rows, names: Sequence[str]) -> dict[tuple[Any, ...], list[Mapping[str, Any]]]:
    """The rows by their values of columns ``names`` (``{(): rows}`` without names), keys in :func:`ordered` order."""
    if not names:
        return {(): list(rows)}
    ranks = [{value: rank for rank, value in enumerate(ordered(column(rows, name)))} for name in names]
    grouped: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(tuple(row[name] for name in names), []).append(row)
    return dict(sorted(grouped.items(), key=lambda item: [rank[v] for rank, v in zip(ranks, item[0])]))


def describe(names: Sequence[str], values: Sequence[Any]) -> str:
    """``"chip = isaac, array.rows = 64"``: a facet's panel title or a filter's part of a title."""
    return ", ".join(f"{name} = {value}" for name, value in zip(names, values))
