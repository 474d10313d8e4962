"""The per-process plan cache (cimsim/arch/plan_cache.py) changes no number.

The key of each cached computation must name every configuration field the computation reads:
each test below changes every field of the configuration tree, one at a time, to other valid
values (those of the other presets, and nudged numbers, flipped switches and the other choices
of a literal), and asserts that the cached result at the changed configuration equals a fresh
computation there, with the cache warmed at the unchanged configuration first. A field read but
missing from the key would hand back the warm entry (the last test shows that this check fails
when a field is taken out of the key)."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pytest

import cimsim
from cimsim.arch import plan_cache
from cimsim.arch.plan_cache import (
    BoundedCache, clear_plan_cache, cache_counts, expected_activity, input_statistics, layer_footprints, weights_digest,
)
from cimsim.costs.array_counts import activity_per_vector, footprint, modelled_statistics
from cimsim.errors import ConfigError
from cimsim.physics.input_model import InputModel
from cimsim.workload import Gemm, NonGemm, Workload

PRESETS = ("isaac", "rram-22nm", "pcm", "neurram")
MODEL = InputModel(signed=False, density=0.5)


def grouped_gemm() -> Gemm:
    """Two groups of 150 × 20 weights with a few zero rows (so row compaction has work) and a wide range."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((2, 150, 20)) * rng.uniform(0.01, 3.0, size=(2, 1, 20))
    w[:, ::7] = 0.0
    w[0, 3, 4] = 40.0  # one large weight: a scale per column and per matrix differ
    return Gemm("conv", m=9, k=150, n=20, count=2, weights=w)


def alternatives(cfg, section: str, name: str) -> list:
    """Other values for one field: the other presets', nudged numbers, flipped switches, other literals."""
    value = getattr(getattr(cfg, section), name)
    values = [getattr(getattr(cimsim.load_preset(p), section), name) for p in PRESETS]
    annotation = type(getattr(cfg, section)).model_fields[name].annotation
    if typing.get_origin(annotation) is typing.Literal:
        values += list(typing.get_args(annotation))
    if isinstance(value, bool):
        values.append(not value)
    elif isinstance(value, int):
        values += [value + 1, value * 2, max(value - 1, 0)]
    elif isinstance(value, float):
        values += [value * 1.5 if value else 0.5, value / 2]
    return [v for v in dict.fromkeys(values) if not (type(v) is type(value) and v == value)]


def changed_configs(cfg):
    """(path, configuration) for every valid single-field change of ``cfg`` outside ``meta``."""
    for section in type(cfg).model_fields:
        if section == "meta":
            continue
        for name in type(getattr(cfg, section)).model_fields:
            for value in alternatives(cfg, section, name):
                try:
                    yield f"{section}.{name}", cfg.override({f"{section}.{name}": value})
                except ConfigError:
                    continue


def assert_same_footprints(cached, fresh, where):
    assert len(cached) == len(fresh), where
    for a, b in zip(cached, fresh):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            assert (x is None and y is None) or np.array_equal(x, y), (where, f.name)


def footprints_mismatch(gemm, base, changed) -> str | None:
    """The first changed field whose cached footprints differ from fresh ones (cache warmed at ``base``)."""
    for path, cfg in changed:
        clear_plan_cache()
        layer_footprints(gemm, base)
        fresh = [footprint(w, gemm.k, gemm.n, cfg) for w in gemm.weights]
        try:
            assert_same_footprints(layer_footprints(gemm, cfg), fresh, path)
        except AssertionError:
            return path
    return None


@pytest.mark.parametrize("preset", PRESETS)
def test_every_field_a_footprint_reads_is_in_its_key(preset):
    base, gemm = cimsim.load_preset(preset), grouped_gemm()
    changed = list(changed_configs(base))
    assert len({path for path, _ in changed}) > 60  # most of the tree's fields have been changed
    assert footprints_mismatch(gemm, base, changed) is None


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("model", [MODEL, InputModel(signed=True, density=1.0)])
def test_every_field_the_input_statistics_read_is_in_their_key(preset, model):
    base = cimsim.load_preset(preset)
    for path, cfg in changed_configs(base):
        clear_plan_cache()
        input_statistics(150, base, model, seed=3)
        cached, fresh = input_statistics(150, cfg, model, seed=3), modelled_statistics(150, cfg, model, 3)
        assert cached.signed == fresh.signed, path
        np.testing.assert_array_equal(cached.nonzero, fresh.nonzero, err_msg=path)
        np.testing.assert_array_equal(cached.code_sq, fresh.code_sq, err_msg=path)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_expected_activity_of_cached_footprints_and_statistics_equals_a_fresh_one(preset):
    base, gemm = cimsim.load_preset(preset), grouped_gemm()
    for path, cfg in changed_configs(base):
        clear_plan_cache()
        warm = input_statistics(150, base, MODEL, seed=3)
        for fp in layer_footprints(gemm, base):
            expected_activity(fp, warm)
        stats, fresh_stats = input_statistics(150, cfg, MODEL, seed=3), modelled_statistics(150, cfg, MODEL, 3)
        for fp, w in zip(layer_footprints(gemm, cfg), gemm.weights):
            fresh = activity_per_vector(footprint(w, gemm.k, gemm.n, cfg), fresh_stats)
            assert expected_activity(fp, stats) == fresh, path


def test_an_expected_activity_is_dropped_with_its_footprint_or_statistics():
    gemm, cfg = grouped_gemm(), cimsim.load_preset("isaac")
    fp, stats = footprint(gemm.weights[0], gemm.k, gemm.n, cfg), modelled_statistics(150, cfg, MODEL, 3)
    key = (id(fp), id(stats))
    assert expected_activity(fp, stats) == activity_per_vector(fp, stats)
    assert key in plan_cache._ACTIVITIES
    del fp
    assert key not in plan_cache._ACTIVITIES


def test_the_field_check_fails_when_a_field_read_is_missing_from_the_key(monkeypatch):
    base, gemm = cimsim.load_preset("isaac"), grouped_gemm()
    reduced = tuple(path for path in plan_cache.FOOTPRINT_FIELDS if path != "array.rows")
    monkeypatch.setattr(plan_cache, "FOOTPRINT_FIELDS", reduced)
    assert footprints_mismatch(gemm, base, [("array.rows", base.override({"array.rows": 64}))]) == "array.rows"


def figures(wl, cfg) -> dict:
    """Every figure of a closed-form report but its wall time."""
    report = cimsim.simulate(wl, cfg, batch=4, timing="closed-form").to_dict()
    return {key: value for key, value in report.items() if key != "wall_s"}


def test_a_cached_plan_equals_a_fresh_one_and_a_sweep_point_reuses_the_weights_work():
    rng = np.random.default_rng(2)
    wl = Workload([
        Gemm("fc1", m=4, k=300, n=64, weights=rng.standard_normal((300, 64))),
        NonGemm("relu", "activation", elements=4 * 64, inputs=("fc1",)),
        Gemm("fc2", m=4, k=64, n=10, weights=rng.standard_normal((64, 10)), inputs=("relu",)),
    ], name="two")
    base = cimsim.load_preset("isaac")
    clear_plan_cache()
    first = figures(wl, base)
    misses = {name: counts[1] for name, counts in cache_counts().items()}
    assert misses == {"footprints": 2, "statistics": 2}  # 2 products, each computed once
    again = figures(wl, base)
    other_adc = figures(wl, base.override({"adc.bits": 6}))
    assert {name: counts[1] for name, counts in cache_counts().items()} == misses  # adc.bits: no weight work again
    assert again == first
    clear_plan_cache()
    assert figures(wl, base.override({"adc.bits": 6})) == other_adc


def test_the_digest_follows_the_content_dtype_and_shape():
    w = np.arange(12.0).reshape(3, 4)
    assert weights_digest(w) == weights_digest(w.copy())
    assert weights_digest(w) != weights_digest(w.astype(np.float32))
    assert weights_digest(w) != weights_digest(w.reshape(4, 3))
    changed = w.copy()
    changed[2, 3] = 12.5
    assert weights_digest(changed) != weights_digest(w)


def test_cached_results_are_read_only_and_the_macs_count_the_non_zero_weights():
    gemm = grouped_gemm()
    fp = layer_footprints(gemm, cimsim.load_preset("isaac"))[0]
    with pytest.raises(ValueError):
        fp.row_cells[0] = 1.0
    zero_rows = len(range(0, 150, 7))  # rows 0, 7, ..., 147 of both groups are zero; the rest are not
    assert gemm.effective_macs == 9 * 2 * (150 - zero_rows) * 20


def test_the_bounded_cache_drops_the_least_recently_used_entry():
    cache, computed = BoundedCache(2), []

    def value(key):
        return cache.get(key, lambda: computed.append(key) or key)

    for key in ("a", "b", "a", "c", "a", "b"):  # "c" drops "b" (a was used after it); "b" is computed again
        assert value(key) == key
    assert computed == ["a", "b", "c", "b"]
    assert (cache.hits, cache.misses) == (2, 4)


def structure_workload() -> Workload:
    """fc (4 tokens) -> relu -> head (2 tokens): chunks 4, 4, 2."""
    return Workload([
        Gemm("fc", m=4, k=8, n=8, constant=True),
        NonGemm("relu", "activation", elements=32, inputs=("fc",)),
        Gemm("head", m=2, k=8, n=4, constant=True, inputs=("relu",)),
    ], name="structure")


def test_the_workload_structure_is_built_once_per_workload_and_its_needs_are_read_only():
    wl = structure_workload()
    structure = plan_cache.workload_structure(wl)
    assert plan_cache.workload_structure(wl) is structure
    # head's 2 chunks wait proportionally for relu's 4: ceil(1·4/2) = 2, ceil(2·4/2) = 4
    np.testing.assert_array_equal(structure.needs()["head"]["relu"], [2, 4])
    with pytest.raises(ValueError):
        structure.needs()["head"]["relu"][0] = 0
    # weight tiles: fc and relu in 3 tiles, head in 1: head's row r waits for every tile of the
    # relu rows it needs, 3·[2, 4] = [6, 12]; relu's 12 chunks each wait for 1 tile-row of fc's: repeat(1..4, 3)·3
    tiled = structure.needs({"fc": 3, "relu": 3, "head": 1})
    np.testing.assert_array_equal(tiled["head"]["relu"], [6, 12])
    np.testing.assert_array_equal(tiled["relu"]["fc"], [3, 3, 3, 6, 6, 6, 9, 9, 9, 12, 12, 12])
    assert structure.needs({"fc": 3, "relu": 3, "head": 1}) is tiled


def test_the_workload_structure_is_built_again_for_other_operations():
    wl = structure_workload()
    before = plan_cache.workload_structure(wl)
    wl.ops = wl.ops[:1]  # a Workload is not frozen: its operations replaced
    after = plan_cache.workload_structure(wl)
    assert after is not before and list(after.chunks) == ["fc"]
    other = structure_workload()  # an equal workload is another object: its own structure
    assert plan_cache.workload_structure(other) is not before


def test_field_values_are_read_once_per_configuration_and_a_changed_copy_has_its_own():
    cfg = cimsim.load_preset("isaac")
    fields = plan_cache.field_values(cfg, plan_cache.FOOTPRINT_FIELDS)
    assert plan_cache.field_values(cfg, plan_cache.FOOTPRINT_FIELDS) is fields
    changed = cfg.override({"array.bits_per_cell": 4 if cfg.array.bits_per_cell != 4 else 1})
    assert plan_cache.field_values(changed, plan_cache.FOOTPRINT_FIELDS) == tuple(
        changed.get(path) for path in plan_cache.FOOTPRINT_FIELDS)
    assert plan_cache.field_values(changed, plan_cache.FOOTPRINT_FIELDS) != fields
