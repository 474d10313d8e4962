"""Crossbar speed against the BLAS floor: workloads A, B and C of docs/reference/peer-benchmark.md.

Run with ``make bench`` (or ``python benchmarks/crossbar.py [--repeats N]``). For each workload
it prints the wall time of the product (programming excluded), the simulated logical MACs per
second, the error ‖y − y_exact‖ / ‖y_exact‖ against the float64 product, and the ratio to the
numpy float32 floor. The floor is timed right before each timed product, and the ratio is the
median over the repeats of those pairs, so that a machine whose speed drifts (a shared VM)
moves both sides together:

* A: the floor is one 1024³ float32 product;
* B: 32 of them (4 weight slices × 8 input cycles), the products a bit-sliced simulator must do;
* C: the float32 forward pass of the same MLP on the same 10,000 inputs.

How the spec maps onto cimsim (configuration fields, docs/configuration.md):

* all: Gmin/Gmax = 0.1 (10 / 100 µS), programming noise 0.02·Gmax once, read noise 0.01·Gmax
  per device per read (cimsim's exact column-level equivalent), one array holding all rows.
* A and C: a differential pair per weight with analog subtraction (``differential_sensing =
  "analog"``), 9-bit weights = sign + 8-bit magnitude in one 8-bit cell per side (the peers
  store continuous conductances); an 8-bit bipolar DAC over [−1, 1] = sign + 7 magnitude bits
  in one cycle (``input_bits = 8``, ``dac.bits = 7``, ``input_encoding = "bipolar"``); C's inputs
  are non-negative, so they take 8 unsigned bits in one cycle (``dac.bits = 8``). The 8-bit ADC
  has a fixed range calibrated once (99.99th percentile), on separate inputs for A and on the
  1,000-input float pass for C, as the spec says.
* B: as specified (offset-binary 8-bit weights, 4 slices of 2-bit cells, 8 bit-serial input
  cycles, an 8-bit ADC whose full scale is the largest possible column current).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

import numpy as np  # noqa: E402

SIZE = 1024
MLP_WIDTHS = (784, 512, 512, 10)
MLP_INPUTS, MLP_CALIBRATION = 10_000, 1_000


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def paired(simulate, floor, repeats: int) -> tuple[float, float, float]:
    """Median simulated time, median floor time, and median of the per-repeat ratios."""
    simulate(), floor()  # warm both (compilation, buffers)
    pairs = [(seconds(floor), seconds(simulate)) for _ in range(repeats)]
    floor_s = statistics.median(f for f, _ in pairs)
    sim_s = statistics.median(s for _, s in pairs)
    return sim_s, floor_s, statistics.median(s / f for f, s in pairs)


def relative_error(y: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(y - exact) / np.linalg.norm(exact))


def peer_device(read_noise: bool) -> dict:
    return {
        "device.g_min_us": 10.0,
        "device.g_max_us": 100.0,
        "device.program_noise": 0.02,
        "device.read_noise": 0.01 if read_noise else 0.0,
        "adc.bits": 8,
    }


def config_a(read_noise: bool, dac_bits: int = 7) -> cimsim.ChipConfig:
    return cimsim.ChipConfig().override(
        {
            **peer_device(read_noise),
            "array.rows": SIZE,
            "array.cols": 2 * SIZE,
            "array.bits_per_cell": 8,
            "mapping.weight_bits": 9,
            "mapping.weight_encoding": "differential",
            "mapping.differential_sensing": "analog",
            "mapping.input_bits": 8,
            "mapping.input_encoding": "bipolar",
            "dac.bits": dac_bits,
            "adc.range": "calibrated",
        }
    )


def config_b(read_noise: bool) -> cimsim.ChipConfig:
    return cimsim.ChipConfig().override(
        {
            **peer_device(read_noise),
            "array.rows": SIZE,
            "array.cols": 4 * SIZE,
            "array.bits_per_cell": 2,
            "mapping.weight_bits": 8,
            "mapping.weight_encoding": "offset",
            "mapping.input_bits": 8,
            "dac.bits": 1,
            "adc.range": "max",
        }
    )


class Row:
    """One printed line of results."""

    header = f"{'workload':<34}{'time s':>9}{'floor s':>9}{'ratio':>8}{'GMAC/s':>9}{'error':>9}  notes"

    def __init__(self, name: str, timing: tuple[float, float, float], macs: float, error: float, notes: str = ""):
        sim_s, floor_s, ratio = timing
        self.text = (
            f"{name:<34}{sim_s:>9.3f}{floor_s:>9.4f}{ratio:>7.2f}x"
            f"{macs / sim_s / 1e9:>9.2f}{error:>9.4f}  {notes}"
        )


def bench_a(rng: np.random.Generator, w: np.ndarray, repeats: int, floor) -> list[Row]:
    x = rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)
    x_cal = rng.uniform(-1, 1, (256, SIZE)).astype(np.float32)
    exact = x.astype(np.float64) @ w.T.astype(np.float64)
    rows = []
    for read_noise in (True, False):
        matrix = cimsim.AnalogMatrix(w.T, config_a(read_noise), seed=1)
        matrix.calibrate(x_cal)
        timing = paired(lambda: matrix.matmul(x), floor, repeats)
        label = "A  prog + read noise" if read_noise else "A  prog noise only"
        rows.append(Row(label, timing, SIZE**3, relative_error(matrix.matmul(x), exact)))
    return rows


def bench_b(rng: np.random.Generator, w: np.ndarray, repeats: int, floor) -> list[Row]:
    xu = rng.uniform(0, 1, (SIZE, SIZE)).astype(np.float32)
    exact = xu.astype(np.float64) @ w.T.astype(np.float64)
    rows = []
    for read_noise in (True, False):
        matrix = cimsim.AnalogMatrix(w.T, config_b(read_noise), seed=2)
        tracemalloc.start()  # the first product allocates every buffer it will reuse
        y = matrix.matmul(xu)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        timing = paired(lambda: matrix.matmul(xu), lambda: [floor() for _ in range(32)], repeats)
        dense_gb = SIZE * 4 * SIZE * SIZE * 4 / 2**30
        label = "B  prog + read noise" if read_noise else "B  prog noise only"
        notes = f"peak {peak_mb:.0f} MB traced in a first product (a rows x cols x vectors float32 tensor: {dense_gb:.0f} GB)"
        rows.append(Row(label, timing, SIZE**3, relative_error(y, exact), notes))
    return rows


def he_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def float_forward(weights: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Activations entering each layer, then the output."""
    acts = [x]
    for i, w in enumerate(weights):
        h = acts[-1] @ w
        acts.append(np.maximum(h, 0) if i < len(weights) - 1 else h)
    return acts


def bench_c(rng: np.random.Generator, repeats: int) -> list[Row]:
    weights = [he_uniform(rng, a, b) for a, b in zip(MLP_WIDTHS[:-1], MLP_WIDTHS[1:])]
    x = rng.uniform(0, 1, (MLP_INPUTS, MLP_WIDTHS[0])).astype(np.float32)
    exact = float_forward([w.astype(np.float64) for w in weights], x.astype(np.float64))[-1]
    calibration = float_forward(weights, x[:MLP_CALIBRATION])
    macs = MLP_INPUTS * sum(a * b for a, b in zip(MLP_WIDTHS[:-1], MLP_WIDTHS[1:]))
    rows = []
    for read_noise in (True, False):
        layers = []
        for i, w in enumerate(weights):
            layer = cimsim.AnalogMatrix(w, config_a(read_noise, dac_bits=8), seed=10 + i)
            layer.calibrate(calibration[i])
            layers.append(layer)

        def forward():
            h = x
            for i, layer in enumerate(layers):
                h = layer.matmul(h)
                h = np.maximum(h, 0) if i < len(layers) - 1 else h
            return h

        timing = paired(forward, lambda: float_forward(weights, x), repeats)
        y = forward()
        agreement = float(np.mean(y.argmax(axis=1) == exact.argmax(axis=1)))
        label = "C  prog + read noise" if read_noise else "C  prog noise only"
        rows.append(Row(label, timing, macs, relative_error(y, exact), f"top-1 agreement {agreement:.4f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed (floor, product) pairs per workload")
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    w = rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)  # outputs x inputs, as the spec
    a, b = (rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32) for _ in range(2))
    floor = lambda: a @ b  # noqa: E731  one 1024^3 float32 product
    rows = bench_a(rng, w, args.repeats, floor) + bench_b(rng, w, args.repeats, floor) + bench_c(rng, args.repeats)
    print("floor: numpy float32, one 1024^3 product (A), 32 of them (B), the float MLP forward pass (C)")
    print(Row.header)
    for row in rows:
        print(row.text)


if __name__ == "__main__":
    main()
