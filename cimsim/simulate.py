"""``cimsim.simulate``: a workload on a chip (or on the von Neumann baseline), through the event engine.

The architecture places the workload and counts its actions (:mod:`cimsim.arch.cim` for a
:class:`~cimsim.config.ChipConfig`, :mod:`cimsim.arch.von_neumann` for a von Neumann config), the
engine (:mod:`cimsim.engine.scheduler`) times its chunks on the machine's resources, and the
:class:`~cimsim.engine.report.Report` puts energy, time and accuracy together.

Fidelity (CIM only; the baseline's counts do not depend on data):

* ``"analytical"``: the arrays' actions are expected values from shapes and a model of the
  inputs' statistics; fast, for sweeps;
* ``"functional"``: every product with weights runs through :class:`~cimsim.crossbar.AnalogMatrix`
  on inputs (``inputs[layer]`` when given, else drawn from the same model), so the counts are
  the data's own, and the report gives each layer's relative error against the exact product
  (``LayerRow.relative_error``) and their root mean square (``accuracy["layer_relative_error_rms"]``):
  each layer on its own inputs, not the network's output error (``tvm_bridge.offload`` runs a
  whole network on the crossbars).

The baseline's counts do not depend on data: its reports say ``"analytical"`` whatever is asked.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from tqdm import tqdm

from cimsim.engine import scheduler
from cimsim.arch.cim import CimArchitecture
from cimsim.config import ChipConfig
from cimsim.errors import ConfigError
from cimsim.engine.report import Report
from cimsim.workload import Workload

FIDELITIES = ("analytical", "functional")


def _check(workload, batch, mode, fidelity, seed) -> None:
    if not isinstance(workload, Workload):
        raise ConfigError(f"workload: expected a cimsim.Workload, got {type(workload).__name__}")
    scheduler.check_batch_and_mode(batch, mode)
    if fidelity not in FIDELITIES:
        raise ConfigError(f"fidelity = {fidelity!r}; allowed: {', '.join(FIDELITIES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed = {seed!r}; allowed: an integer >= 0")


def _progress_bar(total: int, label: str, show: bool | None):
    show = sys.stderr.isatty() if show is None else show
    return tqdm(total=total, desc=label, unit="layer", disable=not show, leave=False)


def simulate(
    workload: Workload,
    cfg,
    batch: int = 1,
    mode: str = "pipelined",
    fidelity: str = "analytical",
    seed: int = 0,
    *,
    inputs: dict[str, np.ndarray] | None = None,
    record_timeline: bool = False,
    progress: bool | None = None,
) -> Report:
    """Simulate ``batch`` inferences of ``workload`` on ``cfg`` (module docstring).

    ``record_timeline`` keeps every chunk's use of every resource for a Gantt plot;
    ``progress`` shows a bar while layers are placed (default: when stderr is a terminal).
    """
    _check(workload, batch, mode, fidelity, seed)
    start = time.perf_counter()
    plan, run_mode, errors = machine_plan(workload, cfg, batch, mode, fidelity, seed, inputs=inputs, progress=progress)
    result = scheduler.run(plan, int(batch), run_mode, record=record_timeline)
    accuracy = {"layer_relative_error_rms": float(np.sqrt(np.mean(np.square(list(errors.values())))))} if errors else None
    if not isinstance(cfg, ChipConfig):
        fidelity = "analytical"  # the baseline's counts do not depend on data
    return Report.build(
        workload.name, plan, result, batch=int(batch), mode=run_mode, fidelity=fidelity, seed=int(seed),
        wall_s=time.perf_counter() - start, accuracy=accuracy, layer_errors=errors,
    )


def machine_plan(workload: Workload, cfg, batch: int = 1, mode: str = "pipelined", fidelity: str = "analytical",
                 seed: int = 0, *, inputs=None, progress: bool | None = None):
    """What :func:`simulate` hands the engine: the plan, the mode it runs in, and each layer's relative error.

    A CIM chip whose arrays are time-multiplexed runs one layer at a time whatever ``mode`` says.
    """
    _check(workload, batch, mode, fidelity, seed)
    if not isinstance(cfg, ChipConfig):
        return _baseline_plan(workload, cfg, int(batch)), mode, {}
    arch = CimArchitecture(cfg, fidelity, int(seed), inputs, int(batch))
    with _progress_bar(len(workload.gemms), f"placing {workload.name}", progress) as bar:
        plan, errors = arch.plan(workload, bar.update)
    return plan, "layer" if arch.multiplexed else mode, errors


def _baseline_plan(workload: Workload, cfg, batch: int):
    from cimsim.arch.von_neumann import VonNeumannConfig, baseline_plan

    if not isinstance(cfg, VonNeumannConfig):
        raise ConfigError(f"cfg: expected a cimsim.ChipConfig or a von Neumann config, got {type(cfg).__name__}")
    return baseline_plan(workload, cfg, int(batch))
