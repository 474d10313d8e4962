"""A bounded per-process cache of what placing a layer computes from its weights alone.

A sweep plans the same workload at many design points; most points change fields (``adc.bits``,
``dac.bits``, prices, ``batch``) that the weights' footprint on the arrays and the modelled
input statistics do not read, yet recomputing them is most of an analytical point's time (the
numba walks over every weight in :func:`cimsim.costs.array_counts.footprint`). This module keeps
them, each under a key made of everything its computation reads:

* a product's footprints (:func:`layer_footprints`): the weights' content (a BLAKE2b digest of
  their bytes, dtype and shape, computed once per weight array object), the group, K and N,
  and the values of :data:`FOOTPRINT_FIELDS`;
* the statistics of modelled inputs (:func:`input_statistics`): K, the input model, the seed
  and the values of :data:`STATISTICS_FIELDS`;
* what one vector of those inputs does on those arrays (:func:`expected_activity`): kept per
  pair of a cached footprint and cached statistics (both read-only), as long as both live.

(A product's MACs with a non-zero weight are counted once by the product itself,
``Gemm.effective_macs``.)

What depends on a workload's operations alone is kept per workload object
(:func:`workload_structure`): every operation's chunks and what each waits for of its producers
(:mod:`cimsim.arch.chunking`, for each way of cutting products into weight tiles that a plan
asks for, at most :data:`MAX_TILINGS`), and the input model of every product
(:func:`~cimsim.physics.input_model.input_models`). It follows the object's lifetime and is
computed again when ``workload.ops`` is replaced; the ``needs`` arrays are read-only and shared by
the plans (each plan gets its own dicts).

The field lists are the one written record of what those computations read of a
configuration; ``tests/test_plan_cache.py`` changes every field of the configuration tree and
fails if a cached result then differs from a fresh one. Cached arrays are read-only. A
:class:`~cimsim.workload.Gemm`'s weights are a read-only view, taken as never changing: an array
changed in place through another reference after its digest was taken is not seen.

Each cache holds at most :data:`MAX_ENTRIES` results, the least recently used dropped first
(a footprint holds three float64 arrays of K entries: 1,024 entries of K = 4,608 are ~110 MB).
"""

from __future__ import annotations

import functools
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from cimsim.arch.chunking import operation_needs, tiled_needs, workload_chunks
from cimsim.config import ChipConfig
from cimsim.costs.array_counts import Footprint, InputStatistics, activity_per_vector, footprint, modelled_statistics
from cimsim.physics.input_model import InputModel, input_models
from cimsim.workload import Gemm, Workload

FOOTPRINT_FIELDS = (
    "array.rows", "array.cols", "array.bits_per_cell",
    "mapping.weight_bits", "mapping.weight_encoding", "mapping.differential_sensing", "mapping.flip_columns",
    "mapping.weight_scale", "mapping.compact_rows",
    "device.g_min_us", "device.g_max_us",
)
"""The configuration fields :func:`~cimsim.costs.array_counts.footprint` reads (through ``array_geometry`` too)."""

STATISTICS_FIELDS = ("mapping.input_bits", "mapping.input_encoding", "dac.bits")
"""The configuration fields :func:`~cimsim.costs.array_counts.modelled_statistics` reads."""

MAX_ENTRIES = 1024
MAX_TILINGS = 8  # ways of cutting one workload's products into weight tiles kept (von Neumann: weights streamed or not)


class BoundedCache:
    """At most ``size`` results by key, the least recently used dropped first; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size, self.hits, self.misses = size, 0, 0
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key]
            self.misses += 1
        value = compute()
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` under ``key`` (replacing what was there), as the most recently used."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


_FOOTPRINTS = BoundedCache(MAX_ENTRIES)
_STATISTICS = BoundedCache(MAX_ENTRIES)
_DIGESTS: dict[int, tuple[weakref.ref, str]] = {}  # id(weights) -> (the array, its digest)
_WORKLOADS: dict[int, tuple[weakref.ref, tuple, WorkloadStructure]] = {}  # id(workload) -> (it, its ops, structure)
_FIELD_VALUES: dict[int, tuple[weakref.ref, dict[tuple[str, ...], tuple]]] = {}  # id(cfg) -> (it, paths -> values)
_ACTIVITIES: dict[tuple[int, int], tuple[weakref.ref, weakref.ref, tuple[float, float, float]]] = {}
# (id(footprint), id(statistics)) -> (the footprint, the statistics, their activity per vector)


def field_values(cfg: ChipConfig, paths: tuple[str, ...]) -> tuple:
    """The values of the dotted fields ``paths`` of ``cfg``, in order (read once per configuration object,
    which is frozen, and ``paths``: a plan asks for the same fields for each of its layers)."""
    known = _FIELD_VALUES.get(id(cfg))
    if known is None or known[0]() is not cfg:
        key = id(cfg)
        known = _FIELD_VALUES[key] = (weakref.ref(cfg, lambda _ref: _FIELD_VALUES.pop(key, None)), {})
    values = known[1].get(paths)
    if values is None:
        values = known[1][paths] = tuple(getattr(getattr(cfg, section), name) for section, name in _split(paths))
    return values


@functools.lru_cache(maxsize=None)
def _split(paths: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(path.split(".")) for path in paths)


def weights_digest(weights: np.ndarray) -> str:
    """A BLAKE2b digest of ``weights``' dtype, shape and bytes, computed once per array object."""
    known = _DIGESTS.get(id(weights))
    if known is not None and known[0]() is weights:
        return known[1]
    h = hashlib.blake2b(f"{weights.dtype.str}{weights.shape}".encode(), digest_size=20)
    h.update(memoryview(np.ascontiguousarray(weights)).cast("B"))
    key = id(weights)
    _DIGESTS[key] = (weakref.ref(weights, lambda _ref: _DIGESTS.pop(key, None)), h.hexdigest())
    return _DIGESTS[key][1]


def layer_footprints(gemm: Gemm, cfg: ChipConfig) -> list[Footprint]:
    """The footprint of each group of ``gemm``'s weights on ``cfg``'s arrays (cached; module docstring)."""
    fields = field_values(cfg, FOOTPRINT_FIELDS)
    if gemm.weights is None:
        key = (None, gemm.k, gemm.n, fields)
        return [_FOOTPRINTS.get(key, lambda: _frozen(footprint(None, gemm.k, gemm.n, cfg)))] * gemm.count
    weights = gemm.weights
    digest = weights_digest(weights)
    groups = [weights] if gemm.count == 1 else list(weights)
    return [_FOOTPRINTS.get((digest, i, gemm.k, gemm.n, fields), lambda w=w: _frozen(footprint(w, gemm.k, gemm.n, cfg)))
            for i, w in enumerate(groups)]


def input_statistics(k: int, cfg: ChipConfig, model: InputModel, seed: int) -> InputStatistics:
    """:func:`~cimsim.costs.array_counts.modelled_statistics` of ``k`` rows (cached; module docstring)."""
    key = (k, model, seed, field_values(cfg, STATISTICS_FIELDS))
    return _STATISTICS.get(key, lambda: _frozen(modelled_statistics(k, cfg, model, seed)))


def expected_activity(fp: Footprint, stats: InputStatistics) -> tuple[float, float, float]:
    """:func:`~cimsim.costs.array_counts.activity_per_vector` of a footprint and statistics from
    :func:`layer_footprints` and :func:`input_statistics` (computed once per pair of those read-only
    objects: a sweep point that changes neither reads them again)."""
    key = (id(fp), id(stats))
    known = _ACTIVITIES.get(key)
    if known is not None and known[0]() is fp and known[1]() is stats:
        return known[2]
    forget = lambda _ref: _ACTIVITIES.pop(key, None)  # noqa: E731 - when either object goes
    activity = activity_per_vector(fp, stats)
    _ACTIVITIES[key] = (weakref.ref(fp, forget), weakref.ref(stats, forget), activity)
    return activity


class WorkloadStructure:
    """What a workload's operations alone decide (module docstring): built on first use, then kept."""

    def __init__(self, workload: Workload) -> None:
        self.workload = weakref.ref(workload)
        self.chunks = workload_chunks(workload)
        self.input_models = input_models(workload)
        self._needs: dict[tuple[int, ...] | None, dict[str, dict[str, np.ndarray]]] = {}

    def needs(self, tiles: dict[str, int] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Operation -> producer -> ``needs`` (read-only); with ``tiles`` (operation -> weight tiles), of
        chunks cut into (row, tile) pairs (:func:`~cimsim.arch.chunking.tiled_needs`)."""
        key = None if tiles is None else tuple(tiles.values())
        needs = self._needs.get(key)
        if needs is None:
            needs = self._computed_needs(tiles)
            if len(self._needs) >= MAX_TILINGS:
                self._needs.clear()
            self._needs[key] = needs
        return needs

    def _computed_needs(self, tiles: dict[str, int] | None) -> dict[str, dict[str, np.ndarray]]:
        workload, needs = self.workload(), {}
        for op in workload.ops:
            own = operation_needs(op, self.chunks)
            if tiles is not None:
                own = {p: tiled_needs(n, tiles[op.name], tiles[p]) for p, n in own.items()}
            for array in own.values():
                array.flags.writeable = False
            needs[op.name] = own
        return needs


def workload_structure(workload: Workload) -> WorkloadStructure:
    """The :class:`WorkloadStructure` of ``workload``, built once per workload object and its ``ops``."""
    known = _WORKLOADS.get(id(workload))
    if known is not None and known[0]() is workload and known[1] is workload.ops:
        return known[2]
    key = id(workload)
    structure = WorkloadStructure(workload)
    _WORKLOADS[key] = (weakref.ref(workload, lambda _ref: _WORKLOADS.pop(key, None)), workload.ops, structure)
    return structure


def cache_counts() -> dict[str, tuple[int, int]]:
    """(hits, misses) of each cache since the process started or :func:`clear_plan_cache`."""
    caches = {"footprints": _FOOTPRINTS, "statistics": _STATISTICS}
    return {name: (cache.hits, cache.misses) for name, cache in caches.items()}


def clear_plan_cache() -> None:
    """Empty the caches (the digests and activities stay: they follow their objects' lifetimes)."""
    for cache in (_FOOTPRINTS, _STATISTICS):
        cache.clear()


def _frozen(value):
    """``value`` with its numpy arrays made read-only (a cached result is shared by every later plan)."""
    for item in vars(value).values():
        if isinstance(item, np.ndarray):
            item.flags.writeable = False
    return value
