"""The sweep file: TOML parsed and validated into a :class:`SweepSpec` of :class:`Point` s.

The format is described in :mod:`cimsim.sweep.run`. Everything is checked here, before any point
runs: each chip loads, each workload exists, each axis value is allowed, and every override
set is a valid configuration on every chip. Problems are :class:`~cimsim.errors.ConfigError` s
naming the sweep file, the line (when it can be found; for a TOML syntax error, the line of
tomllib's message), the key, the value given and what is allowed.

A point's id is a hash of its parameters as written (chip, workload, sparsity, batch, seed,
fidelity, mode, timing and the override values as the configuration stores them, so ``0`` and ``0.0``
for a float field are one point), never of its position in the sweep; its seed is one of the
sweep's ``seeds``, so it depends on the point and on nothing else.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cimsim.arch.plan_cache import BoundedCache
from cimsim.config import list_presets, load_config, load_preset
from cimsim.config.tree import parse_toml
from cimsim.errors import ConfigError
from cimsim.modes import FIDELITIES, MODES
from cimsim.sparsity import parse_sparsity
from cimsim.workload_loader import ONNX_SUFFIX, SAVED_SUFFIXES, load_saved, zoo_names

DENSE = "dense"
SWEEP_TIMINGS = ("closed-form", "events")
"""How a sweep times its points, the default first: the closed form (no events, for speed), or the
event engine (``timing = "events"``) where contention on shared resources matters (docs/scheduler.md)."""
AXES = ("chip", "workload", "sparsity", "batch", "seed", "fidelity", "mode", "timing")
"""The point's parameters besides its configuration overrides, in the order of the table's columns."""
_SWEEP_KEYS = {
    "name": "a string",
    "chip": "a preset name or a path to a config .toml, or a list of them",
    "workloads": "a zoo model name or a path to a saved workload (.json, .npz), or a list of them",
    "batch": "an integer >= 1, or a list of them",
    "seeds": "an integer >= 0, or a list of them",
    "sparsity": "'' or 'dense', or a sparsity of cimsim.sparsity such as '2:4', '2:4:rows' or 'block:4x4:0.5' "
    "(zoo models only), or a list of them",
    "fidelity": f"one of {', '.join(map(repr, FIDELITIES))}, or a list of them",
    "mode": f"one of {', '.join(map(repr, MODES))}, or a list of them",
    "timing": f"one of {', '.join(map(repr, SWEEP_TIMINGS))} (the first is the default), or a list of them",
}
_TABLES = ("sweep", "grid", "points")


@dataclass(frozen=True)
class Point:
    """One simulation of a sweep: a workload on a chip with configuration ``overrides``.

    ``base_dir`` resolves relative chip and workload paths; it is not a parameter (not in the id).
    """

    chip: str
    workload: str
    sparsity: str  # "dense" or a sparsity string of cimsim.sparsity
    batch: int
    seed: int
    fidelity: str
    mode: str
    timing: str  # "closed-form" or "events" (cimsim.modes.TIMINGS)
    overrides: tuple[tuple[str, Any], ...]  # (dotted path, value) pairs, sorted by path
    base_dir: str = field(default=".", compare=False)

    def params(self) -> dict[str, Any]:
        """The parameters that identify the point."""
        return {axis: getattr(self, axis) for axis in AXES} | {"overrides": dict(self.overrides)}

    @cached_property
    def id(self) -> str:
        """16 hex digits of the SHA-256 of the parameters as canonical JSON."""
        text = json.dumps(self.params(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: its name, the swept configuration paths (table columns) and its points in order."""

    name: str
    paths: tuple[str, ...]
    points: tuple[Point, ...]
    source: str = "sweep"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: str | Path = ".", name: str = "sweep") -> SweepSpec:
        """A spec from the tables of a sweep file (``{"sweep": {...}, "grid": {...}, "points": [...]}``)."""
        return _build(data, _Locator(None, "sweep"), Path(base_dir).resolve(), name)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate the sweep file at ``path`` (relative chip and workload paths are relative to it)."""
    path = Path(path)
    source = f"sweep file '{path}'"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} cannot be read: {exc}") from None
    return _build(parse_toml(text, source), _Locator(text, source), path.resolve().parent, path.stem)


# --------------------------------------------------------------------------- building


def _build(data: Mapping[str, Any], where: _Locator, base_dir: Path, default_name: str) -> SweepSpec:
    unknown = [key for key in data if key not in _TABLES]
    if unknown:
        raise where.error("", unknown[0], f"unknown table [{unknown[0]}]; allowed: {', '.join(_TABLES)}")
    sweep = _table(data.get("sweep"), where, "sweep")
    _check_keys(sweep, where)
    name = _one_string(sweep.get("name", default_name), where, "name")
    chips = {chip: _chip(chip, base_dir, where) for chip in _strings(sweep, "chip", None, where)}
    axes = _axes(sweep, base_dir, where)
    override_sets, paths = _override_sets(data, chips, where)
    points = _points(chips, axes, override_sets, base_dir, where)
    return SweepSpec(name=name, paths=paths, points=points, source=where.source)


def _check_keys(sweep: dict[str, Any], where: _Locator) -> None:
    for key in sweep:
        if key not in _SWEEP_KEYS:
            raise where.error("sweep", key, f"unknown key; allowed keys of [sweep]: {', '.join(_SWEEP_KEYS)}")
    for key in ("chip", "workloads"):
        if key not in sweep:
            raise where.error("sweep", None, f"missing key {key!r}: {_SWEEP_KEYS[key]}")


def _axes(sweep: dict[str, Any], base_dir: Path, where: _Locator) -> dict[str, list[Any]]:
    """The values of every axis but ``chip``, checked, in the order of :data:`AXES`."""
    workloads = _strings(sweep, "workloads", None, where)
    sparsities = [_sparsity(s, where) for s in _strings(sweep, "sparsity", DENSE, where)]
    fidelities = _choices(sweep, "fidelity", FIDELITIES, where)
    for workload in workloads:
        _check_workload(workload, base_dir, sparsities, fidelities, where)
    return {
        "workload": workloads,
        "sparsity": sparsities,
        "batch": _integers(sweep, "batch", 1, 1, where),
        "seed": _integers(sweep, "seeds", 0, 0, where),
        "fidelity": fidelities,
        "mode": _choices(sweep, "mode", MODES, where),
        "timing": _choices(sweep, "timing", SWEEP_TIMINGS, where),
    }


def _points(chips, axes, override_sets, base_dir: Path, where: _Locator) -> tuple[Point, ...]:
    """Every combination, chip outermost and overrides innermost; a point given twice is kept once."""
    points: dict[str, Point] = {}
    for chip, cfg in chips.items():
        canonical = [_canonical(cfg, chip, base_dir, overrides, where) for overrides in override_sets]
        for values in itertools.product(*axes.values()):
            for overrides in canonical:
                point = Point(chip, *values, overrides=overrides, base_dir=str(base_dir))
                points.setdefault(point.id, point)
    return tuple(points.values())


def _canonical(cfg, chip: str, base_dir: Path, overrides: dict[str, Any],
               where: _Locator) -> tuple[tuple[str, Any], ...]:
    """``overrides`` applied to ``cfg`` all at once, as the configuration stores the values (the
    configuration made, from the chip as read now, is kept for :func:`configured`)."""
    try:
        changed = cfg.override(overrides)
    except ConfigError as exc:
        shown = ", ".join(f"{path} = {value!r}" for path, value in overrides.items())
        raise ConfigError(f"{where.source}: the override set {{{shown}}} is not valid on chip {chip!r}: {exc}") from None
    canonical = tuple(sorted((path, changed.get(path)) for path in overrides))
    _CONFIGURED.put((chip, str(base_dir), canonical), changed)
    return canonical


_CONFIGURED = BoundedCache(1024)


def configured(chip: str, base_dir: str, overrides: tuple[tuple[str, Any], ...]):
    """A point's configuration: ``chip`` with its canonical ``overrides`` applied.

    Kept per process (the last 1,024; configurations are frozen): a sweep run in this process
    makes it when it checks the point, then asks for it for its notes and to run the point."""
    return _CONFIGURED.get((chip, base_dir, overrides), lambda: _chip_file(chip, base_dir).override(dict(overrides)))


# --------------------------------------------------------------------------- chips and workloads


def _chip(chip: str, base_dir: Path, where: _Locator):
    """The configuration a ``chip`` value names (a preset, or a .toml file relative to ``base_dir``)."""
    try:
        return load_chip(chip, base_dir)
    except ConfigError as exc:
        raise where.error("sweep", "chip", str(exc)) from None


def load_chip(chip: str, base_dir: str | Path):
    """A preset by name, or the config file ``chip`` (``.toml``; relative to ``base_dir``).

    A preset is read once per process (:func:`_preset`): a sweep asks for its chips several times
    (to check it, for its notes, in each worker), each time from a new ``base_dir`` when it runs in a new folder.
    """
    if chip.endswith(".toml"):
        return load_config(Path(base_dir) / chip)
    if chip not in list_presets():
        raise ConfigError(f"chip {chip!r} is neither a preset ({', '.join(list_presets())}) nor a .toml file")
    return _preset(chip)


_chip_file = functools.lru_cache(maxsize=16)(load_chip)  # a config file read once per process and folder


@functools.lru_cache(maxsize=None)
def _preset(name: str):
    """:func:`~cimsim.config.load_preset`, once per name: presets are files shipped with the package, and configurations are frozen."""
    return load_preset(name)


def _check_workload(workload: str, base_dir: Path, sparsities: list[str], fidelities: list[str], where: _Locator) -> None:
    """A zoo name that exists, an ONNX file that exists, or a saved workload that loads, is dense and has
    weights if it runs functional."""
    if workload.endswith(ONNX_SUFFIX):
        if not (base_dir / workload).is_file():
            raise where.error("sweep", "workloads", f"no such ONNX file {str(base_dir / workload)!r}")
        return
    if not workload.endswith(SAVED_SUFFIXES):
        if workload not in zoo_names():
            allowed = (f"a zoo model ({', '.join(zoo_names())}), an ONNX file or a saved workload "
                       f"({', '.join(SAVED_SUFFIXES)})")
            raise where.error("sweep", "workloads", f"got {workload!r}, allowed: {allowed}")
        return
    try:
        loaded = load_saved(base_dir / workload)
    except ConfigError as exc:
        raise where.error("sweep", "workloads", str(exc)) from None
    if any(s != DENSE for s in sparsities):
        allowed = f"only dense for the saved workload {workload!r}"
        raise where.error("sweep", "sparsity", f"got {sparsities!r}, allowed: {allowed}")
    if "functional" in fidelities and any(g.constant and g.weights is None for g in loaded.gemms):
        raise where.error(
            "sweep", "fidelity", f"'functional' needs weights, and {workload!r} has none (save it with save_npz)"
        )


def _sparsity(text: str, where: _Locator) -> str:
    if text in ("", DENSE):
        return DENSE
    try:
        parse_sparsity(text)
    except ConfigError as exc:
        raise where.error("sweep", "sparsity", str(exc)) from None
    return text


# --------------------------------------------------------------------------- grid and points


def _override_sets(
    data: Mapping[str, Any], chips: dict[str, Any], where: _Locator
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The grid's product followed by the explicit points; ``[{}]`` when there are neither. Also the paths, in order."""
    grid = _flat(_table(data.get("grid"), where, "grid"))
    for path, values in grid.items():
        grid[path] = values if isinstance(values, list) else [values]
        if not grid[path]:
            raise where.error("grid", path, "got [], allowed: a non-empty list of values")
        for value in grid[path]:
            _check_value(chips, path, value, where, "grid")
    explicit = [_point_table(entry, i, chips, where) for i, entry in enumerate(_point_list(data, where))]
    sets = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())] if grid else []
    sets += explicit
    paths = tuple(dict.fromkeys(path for overrides in [grid, *explicit] for path in overrides))
    return sets or [{}], paths


def _point_list(data: Mapping[str, Any], where: _Locator) -> list[Any]:
    entries = data.get("points", [])
    if not isinstance(entries, list):
        raise where.error("", "points", f"got {entries!r}, allowed: an array of tables [[points]]")
    return entries


def _point_table(entry: Any, index: int, chips: dict[str, Any], where: _Locator) -> dict[str, Any]:
    table = f"points#{index + 1}"
    flat = _flat(_table(entry, where, table))
    for path, value in flat.items():
        if isinstance(value, list):
            raise where.error(table, path, f"got {value!r}, allowed: one value (lists belong in [grid])")
        _check_value(chips, path, value, where, table)
    return flat


def _check_value(chips: dict[str, Any], path: str, value: Any, where: _Locator, table: str) -> None:
    """``{path: value}`` alone is a valid override on every chip."""
    for chip, cfg in chips.items():
        try:
            cfg.override({path: value})
        except ConfigError as exc:
            raise where.error(table, path, f"{value!r} on chip {chip!r}: {exc}") from None


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables (``adc.bits = ...`` unquoted, ``[grid.adc]``) as dotted paths."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= _flat(value, f"{path}.")
        else:
            flat[path] = value
    return flat


# --------------------------------------------------------------------------- typed values


def _table(value: Any, where: _Locator, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise where.error("", name, f"got {value!r}, allowed: a table [{name}]")
    return value


def _listed(sweep: dict[str, Any], key: str, default: Any, where: _Locator) -> list[Any]:
    value = sweep.get(key, default)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise where.error("sweep", key, f"got [], allowed: {_SWEEP_KEYS[key]}")
    return values


def _strings(sweep: dict[str, Any], key: str, default: Any, where: _Locator) -> list[str]:
    values = _listed(sweep, key, default, where)
    for value in values:
        if not isinstance(value, str):
            raise where.error("sweep", key, f"got {value!r}, allowed: {_SWEEP_KEYS[key]}")
    return values


def _one_string(value: Any, where: _Locator, key: str) -> str:
    if not isinstance(value, str):
        raise where.error("sweep", key, f"got {value!r}, allowed: {_SWEEP_KEYS[key]}")
    return value


def _integers(sweep: dict[str, Any], key: str, default: int, minimum: int, where: _Locator) -> list[int]:
    values = _listed(sweep, key, default, where)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise where.error("sweep", key, f"got {value!r}, allowed: {_SWEEP_KEYS[key]}")
    return values


def _choices(sweep: dict[str, Any], key: str, allowed: tuple[str, ...], where: _Locator) -> list[str]:
    values = _strings(sweep, key, allowed[0], where)
    for value in values:
        if value not in allowed:
            raise where.error("sweep", key, f"got {value!r}, allowed: {_SWEEP_KEYS[key]}")
    return values


# --------------------------------------------------------------------------- error locations

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")


def _label(table: str, key: str | None) -> str:
    """``[grid] 'adc.bits'``, ``[[points]] #2 'adc.bits'``, ``[sweep]``."""
    head = f"[[points]] #{table.removeprefix('points#')}" if table.startswith("points#") else f"[{table}]" if table else ""
    return " ".join(part for part in (head, "" if key is None else repr(key)) if part)


class _Locator:
    """Names where a problem is: the sweep file, the line of a key (when it can be found), the table and the key."""

    def __init__(self, text: str | None, source: str) -> None:
        self.source = source
        self._lines = [] if text is None else text.splitlines()

    def error(self, table: str, key: str | None, problem: str) -> ConfigError:
        """A ConfigError for ``key`` of ``table`` ("sweep", "grid", "points#2"; "" for the top level)."""
        line = self._line(table, key)
        parts = [self.source + (f", line {line}" if line else ""), _label(table, key), problem]
        return ConfigError(": ".join(part for part in parts if part))

    def _line(self, table: str, key: str | None) -> int | None:
        """1-based line of ``key`` in ``table`` (or of the table's header when key is None or a table)."""
        current, points_seen = "", 0
        for number, text in enumerate(self._lines, start=1):
            if header := _HEADER.match(text):
                current = header.group(2).strip()
                if header.group(1) == "[[" and current == "points":
                    points_seen += 1
                    current = f"points#{points_seen}"
                if current == key or (key is None and current == table):
                    return number
            elif (match := _KEY.match(text)) and current == table and match.group(1).strip("\"' ") == key:
                return number
        return None
