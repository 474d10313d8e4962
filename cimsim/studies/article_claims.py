"""The source article's two claims, checked in cimsim: where each holds and where it does not.

The article that motivated cimsim makes two quantitative claims:

1. **"Data movement is over 90 % of a von Neumann machine's energy."** Checked on every von
   Neumann baseline: the claim holds for a run when its ``data_movement_share`` (the share of
   the energy spent moving data: DRAM, buffers, register files, network; ``Report`` documents
   which components count) exceeds :data:`DATA_MOVEMENT_SHARE` = 0.90.
2. **"About 1.2 TOPS/W for a GPU against 24 TOPS/W for a compute-in-memory chip."** "About" is
   taken as within a factor :data:`ABOUT_FACTOR` = 1.5 either way (a choice, stated here, not the
   article's): a GPU run holds when its TOPS/W is in [0.8, 1.8], a CIM run when it is in
   [16, 36], and the ratio of a CIM run to the GPU on the same workload, batch and precision
   when it is in [13.3, 30] (24 / 1.2 = 20).

The grid (:func:`run_claims`): the workloads of :data:`WORKLOADS` (zoo models), batch sizes
:data:`BATCHES`, precisions :data:`PRECISIONS` (weights and inputs of b bits: a CIM chip's
``mapping.weight_bits`` and ``mapping.input_bits``, a baseline's ``pe.weight_bits``,
``pe.activation_bits`` and ``pe.output_bits``), on every design of :func:`designs` (every preset
but ``ideal``, which is a reference, not a design). Runs are analytical and pipelined, seed 0.
Latency (and so static energy) comes from the closed-form timing (docs/scheduler.md), as in sweeps.
A run a design refuses (a model larger than the chip, a precision it cannot store) is a row with
its ``error``, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cimsim.config import list_presets, load_preset
from cimsim.modes import FIDELITIES, MODES
from cimsim.progress import progress_bar
from cimsim.sweep.point import run_point
from cimsim.sweep.spec import Point
from cimsim.text_table import text_table

WORKLOADS = ("resnet18", "vgg8", "bert-base-layer", "gpt2-decode", "digits-mlp", "digits-cnn")
BATCHES = (1, 16)
PRECISIONS = (8, 16)
REFERENCE_PRESETS = ("ideal",)
DATA_MOVEMENT_SHARE = 0.90
GPU_TOPS_PER_WATT = 1.2
CIM_TOPS_PER_WATT = 24.0
ABOUT_FACTOR = 1.5
GPU_PRESETS = ("gpu-a100",)


@dataclass(frozen=True)
class Claim:
    """One claim: its text, the rows it is judged on and the test of one row."""

    name: str
    text: str
    applies_to: str  # "von-neumann", "gpu", "cim" or "cim/gpu"


CLAIMS = (
    Claim("data_movement", "data movement is over 90 % of a von Neumann machine's energy", "von-neumann"),
    Claim("gpu_tops_per_watt", "a GPU does about 1.2 TOPS/W", "gpu"),
    Claim("cim_tops_per_watt", "a compute-in-memory chip does about 24 TOPS/W", "cim"),
    Claim("cim_over_gpu", "a compute-in-memory chip is about 20x as efficient as a GPU", "cim/gpu"),
)


def about(value: float, target: float) -> bool:
    """``value`` within a factor :data:`ABOUT_FACTOR` of ``target`` (both > 0)."""
    return target / ABOUT_FACTOR <= value <= target * ABOUT_FACTOR


def designs() -> tuple[str, ...]:
    """Every preset but the references (:data:`REFERENCE_PRESETS`), CIM chips first."""
    names = [name for name in list_presets() if name not in REFERENCE_PRESETS]
    return tuple(sorted(names, key=lambda name: (kind_of(name) != "cim", name)))


def kind_of(design: str) -> str:
    """``"cim"`` or ``"von-neumann"``: the preset's ``meta.architecture``."""
    return load_preset(design).meta.architecture


def precision_overrides(design: str, bits: int) -> dict[str, int]:
    """The overrides that run ``design`` with weights and inputs of ``bits`` bits."""
    if kind_of(design) == "cim":
        return {"mapping.weight_bits": bits, "mapping.input_bits": bits}
    return {"pe.weight_bits": bits, "pe.activation_bits": bits, "pe.output_bits": bits}


def run_claims(
    designs_run: Sequence[str] | None = None,
    workloads: Sequence[str] = WORKLOADS,
    batches: Sequence[int] = BATCHES,
    precisions: Sequence[int] = PRECISIONS,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """One row per (design, workload, batch, precision): the sweep's figures (``cimsim.sweep``'s
    columns: ``tops_per_watt``, ``data_movement_share``, ``energy_per_inference_pj``, ``error``...)
    plus ``design``, ``kind`` and ``bits``."""
    chosen = tuple(designs_run) if designs_run is not None else designs()
    grid = [(d, w, b, p) for d in chosen for w in workloads for b in batches for p in precisions]
    rows = []
    with progress_bar(len(grid), "article claims", "run", progress) as bar:
        for design, workload, batch, bits in grid:
            overrides = tuple(sorted(precision_overrides(design, bits).items()))
            point = Point(design, workload, "dense", batch, 0, FIDELITIES[0], MODES[0], "closed-form", overrides)
            rows.append({"design": design, "kind": kind_of(design), "bits": bits} | run_point(point, ()))
            bar.update()
    return rows


def verdicts(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One verdict per run and claim that applies to it: ``claim``, ``design``, ``workload``,
    ``batch``, ``bits``, ``value`` (the share, the TOPS/W or the CIM/GPU ratio) and ``holds``."""
    ran = [r for r in rows if not r.get("error")]
    gpu = {(r["workload"], r["batch"], r["bits"]): r["tops_per_watt"] for r in ran if r["design"] in GPU_PRESETS}
    found = []
    for r in ran:
        key = (r["workload"], r["batch"], r["bits"])
        common = {"design": r["design"], "workload": r["workload"], "batch": r["batch"], "bits": r["bits"]}
        if r["kind"] == "von-neumann":
            found.append(common | {"claim": "data_movement", "value": r["data_movement_share"],
                                   "holds": r["data_movement_share"] > DATA_MOVEMENT_SHARE})
        if r["design"] in GPU_PRESETS:
            found.append(common | {"claim": "gpu_tops_per_watt", "value": r["tops_per_watt"],
                                   "holds": about(r["tops_per_watt"], GPU_TOPS_PER_WATT)})
        if r["kind"] == "cim":
            found.append(common | {"claim": "cim_tops_per_watt", "value": r["tops_per_watt"],
                                   "holds": about(r["tops_per_watt"], CIM_TOPS_PER_WATT)})
            if gpu.get(key):
                ratio = r["tops_per_watt"] / gpu[key]
                found.append(common | {"claim": "cim_over_gpu", "value": ratio,
                                       "holds": about(ratio, CIM_TOPS_PER_WATT / GPU_TOPS_PER_WATT)})
    return found


def summary(found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per claim and design: runs judged, runs where it holds, and the range of the values."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for v in found:
        groups.setdefault((v["claim"], v["design"]), []).append(v)
    return [
        {"claim": claim, "design": design, "runs": len(vs), "holds": sum(v["holds"] for v in vs),
         "lowest": min(v["value"] for v in vs), "highest": max(v["value"] for v in vs),
         "holds_for": sorted({v["workload"] for v in vs if v["holds"]})}
        for (claim, design), vs in groups.items()
    ]


def runs_table(rows: Sequence[dict[str, Any]]) -> str:
    """Every run: design, workload, batch, bits, TOPS/W, data-movement share, energy per inference, error."""
    cells = [
        [r["design"], r["workload"], str(r["batch"]), str(r["bits"]),
         "" if r.get("error") else f"{r['tops_per_watt']:.3g}",
         "" if r.get("error") else f"{100 * r['data_movement_share']:.1f}",
         "" if r.get("error") else f"{r['energy_per_inference_pj'] / 1e6:.4g}",
         (r.get("error") or "")[:60]]
        for r in rows
    ]
    return text_table(cells, ["design", "workload", "batch", "bits", "TOPS/W", "data mov. %", "µJ/inf", "refused"])


def summary_table(found: Sequence[dict[str, Any]]) -> str:
    """The claims, one line per claim and design: how many runs hold, the range, and for which workloads."""
    texts = {c.name: c.text for c in CLAIMS}
    cells = []
    for s in summary(found):
        scale = 100.0 if s["claim"] == "data_movement" else 1.0
        unit = " %" if s["claim"] == "data_movement" else ("x" if s["claim"] == "cim_over_gpu" else " TOPS/W")
        cells.append([texts[s["claim"]], s["design"], f"{s['holds']}/{s['runs']}",
                      f"{scale * s['lowest']:.3g}-{scale * s['highest']:.3g}{unit}", ", ".join(s["holds_for"]) or "none"])
    return text_table(cells, ["claim", "design", "holds in", "range", "holds for"])
