"""Closed-form timing against the event engine: the agreement table of docs/scheduler.md.

Run with ``python benchmarks/closed_form.py``. For resnet18, vgg8, bert-base-layer, lenet5, mlp,
digits-mlp and digits-cnn on isaac, rram-22nm, pcm, neurram, vn-45nm, gpu-a100 and edge-npu, in
both modes at batch 1 and 16 (a model a preset refuses is left out), it simulates with
``timing="events"`` and ``timing="closed-form"`` and prints, per group of runs (layer mode;
pipelined on CIM chips; pipelined on von Neumann machines), how many agree to rounding and
within 1 %, the extremes, and every CIM run that differs; then the wall time of each timing.
"""

from __future__ import annotations

import time

import cimsim  # first: it sets the thread-pool variables numpy reads when it loads

from scheduler import workload  # noqa: E402  (benchmarks/scheduler.py)

MODELS = ("resnet18", "vgg8", "bert-base-layer", "lenet5", "mlp", "digits-mlp", "digits-cnn")
PRESETS = ("isaac", "rram-22nm", "pcm", "neurram", "vn-45nm", "gpu-a100", "edge-npu")
ROUNDING = 1e-9


def runs() -> tuple[list[tuple], float, float]:
    """(model, preset, mode, batch, is von Neumann, closed form / events − 1) per run, and both wall times."""
    rows, events_s, closed_s = [], 0.0, 0.0
    for model in MODELS:
        wl = workload(model)
        for preset in PRESETS:
            cfg = cimsim.load_preset(preset)
            for mode in ("layer", "pipelined"):
                for batch in (1, 16):
                    try:
                        start = time.perf_counter()
                        events = cimsim.simulate(wl, cfg, batch=batch, mode=mode, progress=False)
                        middle = time.perf_counter()
                        closed = cimsim.simulate(wl, cfg, batch=batch, mode=mode, timing="closed-form", progress=False)
                    except cimsim.ConfigError:
                        continue
                    events_s, closed_s = events_s + middle - start, closed_s + time.perf_counter() - middle
                    von_neumann = not isinstance(cfg, cimsim.ChipConfig)
                    rows.append((model, preset, events.mode, batch, von_neumann, closed.latency_ns / events.latency_ns - 1))
    return rows, events_s, closed_s


def main() -> None:
    rows, events_s, closed_s = runs()
    groups = {"layer": lambda r: r[2] == "layer", "pipelined CIM": lambda r: r[2] == "pipelined" and not r[4],
              "pipelined von Neumann": lambda r: r[2] == "pipelined" and r[4]}
    for label, member in groups.items():
        group = [r for r in rows if member(r)]
        exact = sum(abs(r[5]) < ROUNDING for r in group)
        close = sum(abs(r[5]) <= 0.01 for r in group)
        print(f"{label}: {len(group)} runs, {exact} to rounding, {close} within 1 %, "
              f"closed form / events - 1 from {min(r[5] for r in group):+.4f} to {max(r[5] for r in group):+.2e}")
        for model, preset, mode, batch, von_neumann, difference in group:
            if abs(difference) >= ROUNDING and not von_neumann:
                print(f"    {model} on {preset}, {mode}, batch {batch}: {difference:+.2%}")
    print(f"{len(rows)} runs: closed form {closed_s:.2f} s, events {events_s:.1f} s")


if __name__ == "__main__":
    main()
