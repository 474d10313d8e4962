"""Per-call overhead of the crossbar as a TVM external function, on a small product.

Run with ``make bench`` (or ``python benchmarks/offload_overhead.py``). One 16×16 matmul of a
(1, 16) input, compiled three ways and called through the Relax VM: TVM's own kernel (the
floor), the same product offloaded to ``cimsim.matmul`` on the ``ideal`` preset, and, for
reference, ``AnalogMatrix.matmul`` called directly from Python. Prints the median time per
call in µs and each route's ratio to the floor measured in the same run; the difference
between the offloaded call and the direct call is what the external-function route costs.
"""

from __future__ import annotations

import statistics
import time

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

import numpy as np  # noqa: E402
import tvm  # noqa: E402
from tvm import relax  # noqa: E402

import tvm_bridge  # noqa: E402

CALLS, REPEATS = 2000, 7


def per_call_us(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(CALLS):
            fn()
        times.append((time.perf_counter() - start) / CALLS)
    return statistics.median(times) * 1e6


def product_module(w: np.ndarray) -> tvm.IRModule:
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, w.shape[0]), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.matmul(x, relax.const(w)))
        bb.emit_func_output(out)
    return bb.get()


def vm_call(mod: tvm.IRModule, x: np.ndarray):
    vm = relax.VirtualMachine(tvm.compile(mod, "llvm"), tvm.cpu())
    main, arg = vm["main"], tvm.runtime.tensor(x)
    return lambda: main(arg)


def main() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 16)).astype("float32")
    x = rng.standard_normal((1, 16)).astype("float32")
    cfg = cimsim.load_preset("ideal")
    floor = per_call_us(vm_call(product_module(w), x))
    offloaded = per_call_us(vm_call(tvm_bridge.offload(product_module(w), cfg, seed=0), x))
    matrix = cimsim.AnalogMatrix(w, cfg, seed=0)
    direct = per_call_us(lambda: matrix.matmul(x))
    print("one (1, 16) x (16, 16) product per call, median of", REPEATS, "x", CALLS, "calls")
    print(f"{'route':<44}{'us/call':>9}{'ratio':>9}")
    for label, us in [
        ("TVM-compiled matmul through the VM (floor)", floor),
        ("offloaded: VM -> cimsim.matmul -> crossbar", offloaded),
        ("AnalogMatrix.matmul called from Python", direct),
    ]:
        print(f"{label:<44}{us:>9.1f}{us / floor:>8.1f}x")
    print(f"external-function overhead (offloaded - direct): {offloaded - direct:.1f} us per call")


if __name__ == "__main__":
    main()
