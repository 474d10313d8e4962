"""cimsim without its optional dependencies (the extras of pyproject.toml).

Each test runs Python in a subprocess whose ``PYTHONPATH`` starts with a folder of stand-in
packages (``tvm``, ``sklearn``, ``distributed``) that raise ``ModuleNotFoundError`` when
imported, as if the extra were not installed, then this repository:

* the core works without TVM: ``import cimsim`` (TVM never imported), ``AnalogMatrix``,
  ``simulate`` on a hand-built ``Workload``, ``peak``, and ``cimsim presets``, ``show`` and ``peak``;
* a route that needs an extra says, in one line, which one to install: a zoo model not yet in
  the workload cache through the command or ``load_workload``, ``import tvm_bridge``, the digits without scikit-learn, and a
  sweep on Dask without ``distributed``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import cimsim

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def hidden(tmp_path_factory):
    """A folder of packages that fail to import as absent packages do."""
    folder = tmp_path_factory.mktemp("hidden-packages")
    for name in ("tvm", "sklearn", "distributed"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{name}'\", name={name!r})\n", encoding="utf-8")
    return folder


def python(hidden: Path, *args: str) -> subprocess.CompletedProcess:
    """``python ARGS`` with the stand-in packages first on the path, then this repository."""
    path = os.pathsep.join([str(hidden), str(ROOT)])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=TIMEOUT_S)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The command's error: exit code 2, one line on stderr, nothing on stdout."""
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


CORE = r"""
import json, sys
import numpy as np
import cimsim

W = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [-1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])   # K=4 x N=3
X = np.array([[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0]])                             # M=2 x K=4
y = cimsim.AnalogMatrix(W, cimsim.load_preset("ideal"), seed=0).matmul(X)
wl = cimsim.Workload([cimsim.Gemm("fc1", m=2, k=4, n=3, weights=W),
                      cimsim.NonGemm("relu", kind="activation", elements=6, inputs=("fc1",), function="relu")],
                     name="by-hand")
report = cimsim.simulate(wl, cimsim.load_preset("isaac"), batch=2, progress=False)
print(json.dumps({"y": y.tolist(), "layers": [row.name for row in report.layers], "energy_pj": report.energy_pj,
                  "tops": cimsim.peak(cimsim.load_preset("isaac")).tops,
                  "tvm_imported": any(name.split(".")[0] in ("tvm", "tvm_bridge", "workloads") for name in sys.modules)}))
"""


def test_the_core_works_without_tvm(hidden):
    done = python(hidden, "-c", CORE)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["tvm_imported"] is False
    # ideal preset, weights in {-1, 0, 1} and inputs in {0, .., 3}: both quantise exactly, so the
    # product is X @ W up to the float rounding of the two scales
    x_at_w = [[0 + 0 - 2 + 3, -0 + 1 + 0 + 3, 0 - 1 + 2 + 3],     # row [0, 1, 2, 3] against each column
              [3 + 0 - 1 + 0, -3 + 2 + 0 + 0, 0 - 2 + 1 + 0]]     # row [3, 2, 1, 0]
    np.testing.assert_allclose(result["y"], x_at_w, rtol=1e-9, atol=1e-9)
    assert result["layers"] == ["fc1", "relu"]
    assert result["energy_pj"] > 0
    # ISAAC: 16,128 arrays, 128 MACs per array-cycle, 100 ns cycles, 2 operations per MAC
    assert result["tops"] == pytest.approx(2 * 16128 * 128 / 100e-9 / 1e12, rel=1e-9)


def test_the_commands_that_need_no_model_work_without_tvm(hidden, cimsim_command):
    presets = cimsim_command("presets", first_on_path=[hidden])
    assert presets.returncode == 0, presets.stderr
    kinds = {line.split()[0]: line.split()[1] for line in presets.stdout.splitlines()}
    assert kinds == {name: cimsim.load_preset(name).meta.architecture for name in cimsim.list_presets()}
    assert {"von-neumann", "cim"} == set(kinds.values()) and len(kinds) >= 8

    show = cimsim_command("show", "isaac", "--set", "adc.bits=6", first_on_path=[hidden])
    assert show.returncode == 0, show.stderr
    shown = tomllib.loads(show.stdout)
    assert (shown["meta"]["name"], shown["adc"]["bits"], shown["array"]["rows"]) == ("isaac", 6, 128)

    figures = cimsim_command("peak", "isaac", first_on_path=[hidden])
    assert figures.returncode == 0, figures.stderr
    assert figures.stdout.strip() == cimsim.peak(cimsim.load_preset("isaac")).table().strip()
    assert "41.29 TOPS" in figures.stdout


TVM_EXTRA = "pip install 'cimsim[tvm]'"


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """An empty workload cache: a zoo model is not there yet, so loading it needs TVM (a cached one does not)."""
    monkeypatch.setenv("CIMSIM_CACHE_DIR", str(tmp_path / "empty-cache"))


def test_a_zoo_model_through_the_command_names_the_tvm_extra(hidden, cimsim_command, empty_cache):
    line = one_line_error(cimsim_command("run", "resnet18", "--chip", "isaac", first_on_path=[hidden]))
    assert line.startswith("cimsim: error: workload 'resnet18'")
    assert "No module named 'tvm'" in line and line.endswith(TVM_EXTRA)


def test_load_workload_and_import_tvm_bridge_name_the_tvm_extra(hidden, empty_cache):
    code = r"""
import cimsim
from cimsim.workload_loader import load_workload
try:
    load_workload("lenet5")
except cimsim.ConfigError as error:
    print(error)
try:
    import tvm_bridge
except ImportError as error:
    print(type(error).__name__, isinstance(error, cimsim.ConfigError), error)
import workloads
try:
    workloads.list()
except ImportError as error:
    print(type(error).__name__, error)
"""
    done = python(hidden, "-c", code)
    assert done.returncode == 0, done.stderr
    loader, bridge, zoo = done.stdout.splitlines()
    assert loader == f"workload 'lenet5' (a zoo model or an ONNX file): missing an optional dependency " \
                     f"(No module named 'tvm'); install it with: {TVM_EXTRA}"
    assert bridge == f"MissingExtraError True tvm_bridge: missing an optional dependency " \
                     f"(No module named 'tvm'); install it with: {TVM_EXTRA}"
    assert zoo == f"MissingExtraError the workloads zoo: missing an optional dependency " \
                  f"(No module named 'tvm'); install it with: {TVM_EXTRA}"


def test_the_digits_without_scikit_learn_name_the_digits_extra(hidden):
    code = r"""
import cimsim
from workloads import digits
try:
    digits.dataset("test")
except cimsim.ConfigError as error:
    print(error)
"""
    done = python(hidden, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("workloads.digits.dataset (scikit-learn's bundled digits): missing an optional "
                                   "dependency (No module named 'sklearn'); install it with: pip install 'cimsim[digits]'")


def test_a_sweep_on_dask_without_distributed_names_the_dask_extra(hidden, tmp_path, cimsim_command, write_file):
    cimsim.Workload([cimsim.Gemm("fc", m=2, k=16, n=4, constant=True)], name="fc").to_json(tmp_path / "fc.json")
    write_file("s.toml", '[sweep]\nchip = ["ideal"]\nworkloads = ["fc.json"]\n')
    done = cimsim_command("sweep", "s.toml", "--scheduler", "tcp://127.0.0.1:8786", cwd=tmp_path, first_on_path=[hidden])
    line = one_line_error(done)
    assert line == ("cimsim: error: scheduler = 'tcp://127.0.0.1:8786' (a sweep on Dask): missing an optional "
                    "dependency (No module named 'distributed'); install it with: pip install 'cimsim[dask]'")
    assert not (tmp_path / "s.csv").exists()
