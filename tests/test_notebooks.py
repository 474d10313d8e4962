"""The notebooks of notebooks/: each runs top to bottom without an error in under a minute, and is committed
without outputs.

Each runs in a temporary copy (the executed notebook is left in pytest's tmp_path) on an ipykernel of this
interpreter with one OpenMP thread; ``pytest -s`` prints the times.
"""

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
BUDGET_S = 60.0  # per notebook, kernel start-up included, on 2 cores
CELL_TIMEOUT_S = 120
TIMES_S: dict[str, float] = {}


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """A kernel spec directory whose ``python3`` is this interpreter, whatever kernels the user has installed."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / "python3").mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--InteractiveShell.colors=nocolor"],
        "display_name": "Python 3 (cimsim tests)",
        "language": "python",
        "env": {"OMP_NUM_THREADS": "1"},
    }
    (folder / "python3" / "kernel.json").write_text(json.dumps(spec))
    yield KernelSpecManager(kernel_dirs=[str(folder)])
    if TIMES_S:
        print(f"\nnotebooks: {sum(TIMES_S.values()):.1f} s in all")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_under_a_minute(path, kernels, tmp_path):
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    notebook = nbformat.read(copy, as_version=4)
    # IPC sockets at an absolute path: the kernel runs in tmp_path, and local TCP makes it warn about encryption
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=kernels, transport="ipc", ip=str(tmp_path / "ipc"))
    client = NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(tmp_path)}})
    try:
        start_s = time.perf_counter()
        client.execute()  # raises CellExecutionError, naming the cell, at the first cell that fails
        TIMES_S[path.stem] = elapsed_s = time.perf_counter() - start_s  # kernel start-up included
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)  # a kernel manager we pass in is ours to stop
    nbformat.write(notebook, copy)
    print(f"\n{path.name}: {elapsed_s:.1f} s")
    assert elapsed_s < BUDGET_S, f"{path.name} took {elapsed_s:.1f} s; the budget is {BUDGET_S:.0f} s"


def test_notebooks_are_committed_without_outputs():
    assert {"01_quickstart", "02_energy_tops_per_watt", "03_tvm_external_function", "04_accuracy_vs_energy",
            "05_sparsity"} <= {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{path.name}, cell {index} has outputs: clear them before committing "
                    "(Jupyter: Edit > Clear Outputs of All Cells)"
                )
