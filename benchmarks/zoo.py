"""The model zoo through the TVM bridge: workloads and offloaded accuracy.

Run with ``make bench`` (or ``python benchmarks/zoo.py``). Prints

1. for every zoo model: its GEMMs, MACs (on constant weights, and activation × activation),
   the arrays its weights occupy on the ``isaac`` preset (row blocks × column blocks of every
   product with constant weights as ``extract`` finds them, groups counted, less the arrays whose
   cells would all sit at level 0; the offload routes leave batched or 1-D constants in TVM), the
   same with 2:4 sparsity (the MACs on non-zero weights fall by half; arrays fall only where whole
   arrays empty: 2:4 with a pattern per column leaves hardly any) and with ``2:4:rows`` (one
   pattern for all columns: half the rows are zero and left out of the arrays, so the arrays
   halve), and the time ``tvm_bridge.extract`` takes;
2. the relative output error ‖y − y_float‖ / ‖y_float‖ of the MLP and LeNet-5 offloaded to the
   crossbars of the ``ideal``, ``rram-22nm`` and ``pcm`` presets, against TVM's own float output
   on the same random inputs (calibrated presets calibrate on the first call's inputs).
"""

from __future__ import annotations

import time

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

import numpy as np  # noqa: E402
import tvm  # noqa: E402
from tvm import relax  # noqa: E402

import tvm_bridge  # noqa: E402
import workloads  # noqa: E402
from cimsim.costs.array_counts import weight_arrays  # noqa: E402

ISAAC = cimsim.load_preset("isaac")
INPUTS = {"mlp": (8, 784), "lenet5": (8, 1, 28, 28)}


def arrays_needed(workload: cimsim.Workload, cfg: cimsim.ChipConfig) -> int:
    """Occupied arrays of every constant-weight product, as the simulator places them."""
    return sum(weight_arrays(g.weights, cfg) for g in workload.gemms if g.weights is not None)


def extracted(name: str, **kwargs) -> tuple[cimsim.Workload, float]:
    mod = workloads.get(name, **kwargs)
    start = time.perf_counter()
    workload = tvm_bridge.extract(mod)
    return workload, time.perf_counter() - start


def zoo_table() -> None:
    print(f"{'model':<17}{'GEMMs':>6}{'weight MACs':>15}{'act x act MACs':>16}{'arrays':>8}"
          f"{'2:4 MACs':>14}{'2:4 arrays':>11}{'2:4:rows arrays':>16}{'extract s':>10}")
    for name in workloads.list():
        dense, seconds = extracted(name)
        sparse, _ = extracted(name, sparsity="2:4")
        rows, _ = extracted(name, sparsity="2:4:rows")
        weight_macs = sum(g.macs for g in dense.gemms if g.weights is not None)
        sparse_macs = sum(g.effective_macs for g in sparse.gemms if g.weights is not None)
        print(f"{name:<17}{len(dense.gemms):>6}{weight_macs:>15,}{dense.macs - weight_macs:>16,}"
              f"{arrays_needed(dense, ISAAC):>8,}{sparse_macs:>14,}{arrays_needed(sparse, ISAAC):>11,}"
              f"{arrays_needed(rows, ISAAC):>16,}{seconds:>10.2f}")


def run(mod: tvm.IRModule, x: np.ndarray) -> np.ndarray:
    return relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()


def accuracy_table() -> None:
    presets = ("ideal", "rram-22nm", "pcm")
    print(f"\n{'model':<10}" + "".join(f"{p:>12}" for p in presets) + "   (relative output error vs TVM float)")
    for name, shape in INPUTS.items():
        mod = workloads.get(name, batch=shape[0])
        x = np.random.default_rng(1).standard_normal(shape).astype("float32")
        reference = run(mod, x)
        errors = []
        for preset in presets:
            y = run(tvm_bridge.offload(mod, cimsim.load_preset(preset), seed=0), x)
            errors.append(np.linalg.norm(y - reference) / np.linalg.norm(reference))
        print(f"{name:<10}" + "".join(f"{e:>12.4f}" for e in errors))


if __name__ == "__main__":
    zoo_table()
    accuracy_table()
