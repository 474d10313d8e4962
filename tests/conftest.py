"""Fixtures shared by the test files.

* ``run_relax``: a Relax module compiled for llvm and run on TVM's VM (TVM imported only when a
  test asks for it, so that the tests that need no TVM collect and run without it);
* ``cimsim_command``: the ``cimsim`` command in a subprocess, this repository first on the path;
* ``write_file``: a text file (dedented) written into the test's ``tmp_path`` or a given folder;
* ``random_f32``: standard-normal float32 inputs drawn from ``numpy.random.default_rng(seed)``;
* every test session keeps the zoo's workload cache (``CIMSIM_CACHE_DIR``) in a temporary folder,
  never in the user's cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT_S = 300


@pytest.fixture(scope="session", autouse=True)
def temporary_workload_cache(tmp_path_factory):
    """The zoo's workload cache in a temporary folder for the whole session (subprocesses inherit it)."""
    before = os.environ.get("CIMSIM_CACHE_DIR")
    os.environ["CIMSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("workload-cache"))
    yield
    if before is None:
        del os.environ["CIMSIM_CACHE_DIR"]
    else:
        os.environ["CIMSIM_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def run_relax():
    """``run_relax(mod, *arrays, func="main")``: TVM's own result, as a numpy array."""
    tvm = pytest.importorskip("tvm")
    from tvm import relax

    def run(mod, *arrays: np.ndarray, func: str = "main") -> np.ndarray:
        vm = relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())
        return vm[func](*[tvm.runtime.tensor(array) for array in arrays]).numpy()

    return run


@pytest.fixture(scope="session")
def cimsim_command():
    """``cimsim_command(*args, cwd=None, first_on_path=())``: ``python -m cimsim.cli ARGS`` with one
    OpenMP thread, the folders ``first_on_path`` then this repository first on ``PYTHONPATH``."""

    def run(*args: str, cwd: Path | None = None, first_on_path=()) -> subprocess.CompletedProcess:
        path = [*map(str, first_on_path), str(ROOT), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(filter(None, path))}
        return subprocess.run([sys.executable, "-m", "cimsim.cli", *args], capture_output=True, text=True, env=env,
                              cwd=cwd, timeout=COMMAND_TIMEOUT_S)

    return run


@pytest.fixture
def write_file(tmp_path):
    """``write_file(name, text, folder=tmp_path)``: the file's path, ``text`` dedented, UTF-8."""

    def write(name: str, text: str, folder: Path | None = None) -> Path:
        path = (folder or tmp_path) / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def random_f32():
    """``random_f32(seed, shape)``: standard-normal float32 values from ``numpy.random.default_rng(seed)``."""

    def draw(seed: int, shape: tuple[int, ...]) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)

    return draw
