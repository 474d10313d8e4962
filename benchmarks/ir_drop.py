"""IR drop solved (cimsim/physics/circuit.py): solve time per array, programming ResNet-18, read cost.

Run with ``make bench`` (or ``python benchmarks/ir_drop.py [--repeats N] [--skip-resnet]``), on one
core: numba and the BLAS get one thread each. It prints

* the time of one solve of a 64 × 64, 128 × 128 and 256 × 256 array (random conductances in
  1-100 µS, 1 Ω per segment), the median of the repeats, against a floor timed right before each
  solve (``crossbar.paired``): n float64 products of two n × n matrices, 2·n⁴ flops at the BLAS's
  best rate. The solver does ≈ (4/3)·n⁴ flops of inverses and n⁴ of updates
  (cimsim/physics/circuit.py), so a ratio near 1.2 is all products at the floor's rate, and the
  ratio stays put when a shared machine slows both sides;
* the time to program every constant-weight product of ResNet-18 (the zoo model, TVM extra) on
  the ``isaac`` preset with ``array.wire_resistance_ohm = 1`` and solved IR drop, against the same
  without IR drop (one ``cimsim.AnalogMatrix`` per weight matrix, built and dropped in turn);
* the ratio of the read time (``matmul``) with solved IR drop to that without, on one 1024 × 1024
  matrix: the effective conductances have the shape of G, so reads should cost the same.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core: set before numpy and numba load

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

import cimsim  # noqa: E402
from cimsim.physics.circuit import effective_conductance_us  # noqa: E402
from cimsim.workload_loader import load_workload  # noqa: E402
from crossbar import paired  # noqa: E402  benchmarks/crossbar.py: (floor, timed) pairs

WIRE_OHM = 1.0
ARRAY_SIZES = (64, 128, 256)
READ_SIZE, READ_VECTORS = 1024, 256


def solve_seconds(size: int, repeats: int) -> tuple[float, float, float]:
    """Median seconds of one solve, of its floor (``size`` float64 products size³), and their ratio."""
    rng = np.random.default_rng(size)
    g_us = rng.uniform(1.0, 100.0, (size, size))
    a, b = rng.normal(size=(2, size, size))
    return paired(lambda: effective_conductance_us(g_us, WIRE_OHM), lambda: [a @ b for _ in range(size)], repeats)


def program_seconds(cfg: cimsim.ChipConfig, weights: list[np.ndarray]) -> tuple[float, float, int]:
    """Wall and CPU seconds to program every matrix of ``weights`` in turn, and the arrays they occupy.

    On one thread the CPU seconds leave out the time a loaded machine kept the process waiting."""
    start, start_cpu, arrays = time.perf_counter(), time.process_time(), 0
    for w in weights:
        arrays += cimsim.AnalogMatrix(w, cfg, seed=0).arrays
    return time.perf_counter() - start, time.process_time() - start_cpu, arrays


def resnet18_weights() -> list[np.ndarray]:
    workload = load_workload("resnet18")
    return [w for gemm in workload.gemms if gemm.constant for w in np.asarray(gemm.weights).reshape(-1, gemm.k, gemm.n)]


def read_seconds(cfg: cimsim.ChipConfig, repeats: int) -> float:
    rng = np.random.default_rng(1)
    matrix = cimsim.AnalogMatrix(rng.normal(size=(READ_SIZE, READ_SIZE)), cfg, seed=0)
    x = rng.uniform(0.0, 1.0, (READ_VECTORS, READ_SIZE))
    matrix.matmul(x)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matrix.matmul(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-resnet", action="store_true", help="leave out programming ResNet-18 (needs TVM)")
    args = parser.parse_args()
    numba.set_num_threads(1)
    print(f"IR drop solved, one core, {WIRE_OHM} Ω per segment")
    for size in ARRAY_SIZES:
        solve_s, floor_s, ratio = solve_seconds(size, args.repeats)
        print(f"  solve one {size} x {size} array: {solve_s * 1e3:8.1f} ms   floor {floor_s * 1e3:7.1f} ms "
              f"({2 * size**4 / floor_s / 1e9:.0f} Gflop/s)   ratio {ratio:.2f}")
    isaac = cimsim.load_preset("isaac")
    solved = isaac.override({"array.wire_resistance_ohm": WIRE_OHM, "array.ir_drop": "solved"})
    if not args.skip_resnet:
        weights = resnet18_weights()
        t_solved, cpu_solved, arrays = program_seconds(solved, weights)
        t_plain, cpu_plain, _ = program_seconds(isaac, weights)
        print(f"  program ResNet-18 on isaac ({len(weights)} weight matrices, {arrays} arrays): "
              f"{t_solved:.1f} s with solved IR drop, {t_plain:.1f} s without "
              f"({(t_solved - t_plain) / arrays * 1e3:.1f} ms per array); CPU time {cpu_solved:.1f} s and "
              f"{cpu_plain:.1f} s ({(cpu_solved - cpu_plain) / arrays * 1e3:.1f} ms per array)")
    ratio = read_seconds(solved, args.repeats) / read_seconds(isaac, args.repeats)
    print(f"  read {READ_VECTORS} x {READ_SIZE} by {READ_SIZE} x {READ_SIZE}: time with / without IR drop = {ratio:.2f}")


if __name__ == "__main__":
    main()
