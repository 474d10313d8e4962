"""Golden outputs: reports, ledgers and peak figures that a refactor must leave unchanged.

``python tests/golden/record.py`` writes ``tests/golden/golden.json`` from the code as it stands;
``tests/test_golden.py`` recomputes the same cases and compares them. The file was first
recorded before the package was split into sub-packages (issue 12), so it holds the numbers of
the flat layout; a change that moves a number on purpose re-records it and says why in its
commit.

Cases: every zoo model of at most a few thousand arrays on every preset (analytical fidelity,
batch 1, pipelined; a configuration that refuses the workload records its error message), a
few runs in layer mode, at batch 4 and in functional fidelity, the peak figures of every CIM
preset, and the output and ledger of one ``AnalogMatrix`` per CIM preset.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import cimsim
from cimsim.workload_loader import load_workload

GOLDEN = Path(__file__).with_name("golden.json")
MODELS = ["digits-mlp", "digits-cnn", "mlp", "lenet5", "vgg8", "resnet18", "bert-base-layer"]
EXTRA_RUNS = [  # (model, preset, batch, mode, fidelity[, overrides])
    ("lenet5", "isaac", 4, "layer", "analytical"),
    ("lenet5", "vn-45nm", 4, "layer", "analytical"),
    ("mlp", "rram-22nm", 4, "pipelined", "analytical"),
    ("digits-mlp", "rram-22nm", 2, "pipelined", "functional"),
    ("digits-cnn", "pcm", 1, "pipelined", "functional"),
    ("lenet5", "isaac", 1, "pipelined", "functional"),
    ("resnet18", "pcm", 1, "pipelined", "analytical", {"chip.oversubscription": "reprogram"}),
    ("vgg8", "neurram", 2, "pipelined", "analytical", {"chip.oversubscription": "reprogram"}),
]


def _report_record(report: cimsim.Report) -> dict:
    data = report.to_dict()
    data.pop("wall_s", None)
    return data


def _run(model: str, preset: str, batch: int, mode: str, fidelity: str, overrides: dict | None = None) -> dict:
    workload = load_workload(model)
    cfg = cimsim.load_preset(preset)
    try:
        report = cimsim.simulate(workload, cfg.override(overrides) if overrides else cfg, batch=batch, mode=mode, fidelity=fidelity,
                                 seed=0, progress=False)
    except cimsim.ConfigError as exc:
        return {"error": str(exc)}
    return _report_record(report)


def _matrix_record(preset: str) -> dict:
    cfg = cimsim.load_preset(preset)
    rng = np.random.default_rng(7)
    w = rng.standard_normal((200, 40))
    x = np.maximum(rng.standard_normal((16, 200)), 0.0)
    matrix = cimsim.AnalogMatrix(w, cfg, seed=3)
    matrix.calibrate(x)
    y = matrix.matmul(x)
    return {"y": y.tolist(), "ledger": matrix.ledger.to_dict(), "latency_ns": matrix.latency_ns}


def cases() -> dict[str, object]:
    """Every golden case, keyed by a readable id (recomputed by the test)."""
    presets = cimsim.list_presets()
    chips = cimsim.list_presets("cim")
    out: dict[str, object] = {}
    for model in MODELS:
        for preset in presets:
            out[f"run/{model}/{preset}/1/pipelined/analytical"] = lambda m=model, p=preset: _run(m, p, 1, "pipelined", "analytical")
    for run in EXTRA_RUNS:
        suffix = "/" + ",".join(f"{k}={v}" for k, v in run[5].items()) if len(run) > 5 else ""
        out["run/" + "/".join(map(str, run[:5])) + suffix] = lambda a=run: _run(*a)
    for preset in chips:
        out[f"peak/{preset}"] = lambda p=preset: _peak_record(p)
        out[f"matrix/{preset}"] = lambda p=preset: _matrix_record(p)
    return out


def _peak_record(preset: str) -> dict:
    figures = cimsim.peak(cimsim.load_preset(preset))
    return {key: value for key, value in vars(figures).items()}


def compute(keys: list[str] | None = None) -> dict[str, object]:
    table = cases()
    return {key: json.loads(json.dumps(table[key]())) for key in (keys or table)}


if __name__ == "__main__":
    result = compute(sys.argv[1:] or None)
    GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(result)} cases to {GOLDEN}")
