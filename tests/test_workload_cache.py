"""The user cache of the zoo's extracted workloads (cimsim/workload_cache.py) and the TVM-free zoo listing.

A hit returns the workload that was stored, weights included; a damaged entry is rebuilt; the
key changes with the model, batch, sparsity, seed and cimsim's version; and ``cimsim workloads``
and a run whose workload is cached never import TVM (checked in ``sys.modules`` of a subprocess).
Every test keeps its cache in a temporary folder (``CIMSIM_CACHE_DIR``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cimsim
from cimsim.workload_cache import cache_dir, cached_workload, entry_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CIMSIM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def by_hand() -> cimsim.Workload:
    weights = np.arange(12, dtype=np.float32).reshape(4, 3) - 5.5
    return cimsim.Workload([cimsim.Gemm("fc", m=2, k=4, n=3, weights=weights),
                            cimsim.NonGemm("relu", kind="activation", elements=6, inputs=("fc",), function="relu")],
                           name="by-hand")


class CountingBuild:
    """``build()`` for the cache: the hand-built workload, counting the calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> cimsim.Workload:
        self.calls += 1
        return by_hand()


def test_a_hit_returns_the_stored_workload_with_its_weights_and_builds_nothing(cache):
    build, path = CountingBuild(), entry_path("by-hand", 1, None, 0)
    first = cached_workload(path, build)
    second = cached_workload(path, build)
    assert build.calls == 1 and path.is_file() and path.parent.parent == cache
    assert second.to_dict() == first.to_dict() == by_hand().to_dict()
    assert second.gemms[0].weights.dtype == np.float32
    np.testing.assert_array_equal(second.gemms[0].weights, np.arange(12, dtype=np.float32).reshape(4, 3) - 5.5)


@pytest.mark.parametrize("damage", [b"", b"not a zip archive", b"PK\x03\x04 truncated"])
def test_a_damaged_entry_is_rebuilt_and_overwritten(cache, damage):
    build, path = CountingBuild(), entry_path("by-hand", 1, None, 0)
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)
    assert cached_workload(path, build).to_dict() == by_hand().to_dict()
    assert build.calls == 1
    assert cimsim.Workload.load_npz(path).to_dict() == by_hand().to_dict()  # the entry is whole again


def test_the_key_holds_version_model_batch_sparsity_and_seed(cache, monkeypatch):
    base = entry_path("resnet18", 1, None, 0)
    assert base.parent == cache / cimsim.__version__
    others = [entry_path("lenet5", 1, None, 0), entry_path("resnet18", 2, None, 0),
              entry_path("resnet18", 1, "2:4", 0), entry_path("resnet18", 1, "2:4:rows", 0),
              entry_path("resnet18", 1, None, 1)]
    assert len({base, *others}) == 6
    monkeypatch.setattr(cimsim, "__version__", "0.0.0-other")
    assert entry_path("resnet18", 1, None, 0).parent == cache / "0.0.0-other"


def test_the_cache_directory_follows_cimsim_cache_dir_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("CIMSIM_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("CIMSIM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "cimsim"


def python(code: str, cache: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "CIMSIM_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


IMPORTED_TVM = "any(m.split('.')[0] in ('tvm', 'tvm_bridge', 'torch') for m in sys.modules)"


def test_the_zoo_listing_imports_no_tvm_and_names_every_model(cache, tmp_path):
    code = f"import sys, json\nfrom cimsim.cli import main\nmain(['workloads'])\nprint(json.dumps({IMPORTED_TVM}))"
    done = python(code, cache, tmp_path)
    assert done.returncode == 0, done.stderr
    *listing, imported = done.stdout.splitlines()
    assert json.loads(imported) is False
    assert [line.split()[0] for line in listing] == ["bert-base", "bert-base-layer", "digits-cnn", "digits-mlp",
                                                     "gpt2-decode", "gpt2-small-decode", "lenet5", "mlp", "resnet18",
                                                     "vgg8"]


def test_the_catalogue_names_the_models_the_zoo_builds():
    workloads = pytest.importorskip("workloads")
    pytest.importorskip("tvm")
    from workloads.catalogue import DESCRIPTIONS
    from workloads.models import MODELS

    assert sorted(DESCRIPTIONS) == workloads.list()
    assert all(MODELS[name].doc == DESCRIPTIONS[name] for name in MODELS)


def test_a_cached_zoo_model_runs_without_importing_tvm_and_is_the_extracted_one(cache, tmp_path):
    pytest.importorskip("tvm")
    import tvm_bridge
    import workloads
    from cimsim.workload_loader import load_workload

    extracted = tvm_bridge.extract(workloads.get("mlp", batch=1, seed=3), name="mlp")
    first = load_workload("mlp", seed=3)  # a miss: built with TVM and stored
    assert entry_path("mlp", 1, None, 3).is_file()
    code = ("import sys, json\nfrom cimsim.cli import main\n"
            "main(['run', 'mlp', '--chip', 'ideal', '--seed', '3', '--no-figures', '--out', 'out'])\n"
            f"print(json.dumps({IMPORTED_TVM}))")
    done = python(code, cache, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) is False
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report_layers.csv"]
    hit = load_workload("mlp", seed=3)
    assert hit.to_dict() == first.to_dict() == extracted.to_dict()
    for cached, built in zip(hit.gemms, extracted.gemms):
        np.testing.assert_array_equal(cached.weights, built.weights)


def test_an_onnx_file_is_imported_once_per_content_and_sparsity(cache, tmp_path, monkeypatch):
    pytest.importorskip("tvm")
    from test_bad_weights import onnx_file  # the MatMul, Relu, MatMul network through onnx.helper

    import cimsim.workload_loader as loader

    imports = []
    extract = loader._extract_onnx
    monkeypatch.setattr(loader, "_extract_onnx", lambda *args: imports.append(args) or extract(*args))
    onnx_file(0.5, tmp_path)
    first = loader.load_workload("two_layers.onnx", base_dir=tmp_path)  # a miss: imported with TVM and stored
    hit = loader.load_workload("two_layers.onnx", base_dir=tmp_path)
    assert len(imports) == 1 and loader.onnx_entry_path(tmp_path / "two_layers.onnx", None).is_file()
    assert hit.to_dict() == first.to_dict()
    np.testing.assert_array_equal(hit.gemms[1].weights, first.gemms[1].weights)
    onnx_file(0.25, tmp_path)  # the same file name, other weights: a new entry
    edited = loader.load_workload("two_layers.onnx", base_dir=tmp_path)
    assert len(imports) == 2 and edited.gemms[1].weights[3, 4] == 0.25 and first.gemms[1].weights[3, 4] == 0.5
    loader.load_workload("two_layers.onnx", "2:4", base_dir=tmp_path)
    assert len(imports) == 3
