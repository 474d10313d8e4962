"""``cimsim.simulate``: a workload on a machine (a CIM chip, the von Neumann baseline, ...), through the event engine.

The configuration's kind names the architecture (:mod:`cimsim.arch.registry`: ``"cim"`` for a
:class:`~cimsim.config.ChipConfig`, ``"von-neumann"`` for a von Neumann config, and each kind
added by :func:`cimsim.register_architecture`). The architecture places the workload and counts
and prices its actions into a plan (:mod:`cimsim.arch.base`), the engine
(:mod:`cimsim.engine.scheduler`) times its chunks on the machine's resources, and the
:class:`~cimsim.engine.report.Report` puts energy, time and accuracy together.

Fidelity (:mod:`cimsim.modes`), for an architecture that honours both (the CIM chip):

* ``"analytical"``: the arrays' actions are expected values from shapes and a model of the
  inputs' statistics; fast, for sweeps;
* ``"functional"``: every product with weights runs through :class:`~cimsim.crossbar.AnalogMatrix`
  on inputs (``inputs[layer]`` when given, else drawn from the same model), so the counts are
  the data's own, and the report gives each layer's relative error against the exact product
  (``LayerRow.relative_error``) and their root mean square (``accuracy["layer_relative_error_rms"]``):
  each layer on its own inputs, not the network's output error (``tvm_bridge.offload`` runs a
  whole network on the crossbars).

An architecture asked for a fidelity it does not honour runs its first one, and the report says
which: the baseline's counts do not depend on data, so its reports say ``"analytical"`` whatever
is asked.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator

import numpy as np

from cimsim.arch.base import PlannedRun, PlanRequest, honoured_fidelity
from cimsim.arch.registry import architecture_for
from cimsim.config.loading import config_kind
from cimsim.engine import scheduler
from cimsim.engine.closed_form import run_closed_form
from cimsim.engine.report import Report
from cimsim.errors import ConfigError
from cimsim.modes import FIDELITIES, TIMINGS
from cimsim.workload import Workload


def _check(workload, batch, mode, fidelity, seed) -> None:
    if not isinstance(workload, Workload):
        raise ConfigError(f"workload: expected a cimsim.Workload, got {type(workload).__name__}")
    scheduler.check_batch_and_mode(batch, mode)
    if fidelity not in FIDELITIES:
        raise ConfigError(f"fidelity = {fidelity!r}; allowed: {', '.join(FIDELITIES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed = {seed!r}; allowed: an integer >= 0")


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
    timing: str = TIMINGS[0],
) -> Report:
    """Simulate ``batch`` inferences of ``workload`` on ``cfg`` (module docstring).

    ``record_timeline`` keeps every chunk's use of every resource for a Gantt plot;
    ``progress`` shows a bar while layers are placed (default: when stderr is a terminal);
    ``timing``: ``"events"`` (the event engine) or ``"closed-form"`` (:mod:`cimsim.modes`: the
    same energy, the latency without events; no timeline).
    """
    _check_timing(timing, record_timeline)
    with _collector_paused():  # back on once _simulated has returned and its plan is freed
        return _simulated(workload, cfg, batch, mode, fidelity, seed, inputs, record_timeline, progress, timing)


def _simulated(workload, cfg, batch, mode, fidelity, seed, inputs, record_timeline, progress, timing) -> Report:
    """:func:`simulate` once its arguments are checked."""
    start = time.perf_counter()
    plan, run_mode, errors = machine_plan(workload, cfg, batch, mode, fidelity, seed, inputs=inputs, progress=progress)
    if timing == "closed-form":
        result = run_closed_form(plan, int(batch), run_mode)
    else:
        result = scheduler.run(plan, int(batch), run_mode, record=record_timeline)
    accuracy = {"layer_relative_error_rms": float(np.sqrt(np.mean(np.square(list(errors.values())))))} if errors else None
    return Report.build(
        workload.name, plan, result, batch=int(batch), mode=run_mode,
        fidelity=honoured_fidelity(architecture_for(cfg), fidelity), seed=int(seed),
        wall_s=time.perf_counter() - start, accuracy=accuracy, layer_errors=errors, timing=timing,
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside (as it was, after).

    A plan holds a few objects per stage that live until the report is built (steps, ledgers and
    their dicts: ~50,000 for a transformer of 5,600 stages). Their allocation triggers the
    collector's full passes, each over every object of the process, though none of them is
    garbage: a third of ``simulate``'s time on ``gpt2-small-decode``. Reference counting still
    frees everything that is not in a cycle (the engine makes almost none: SimPy's events are
    freed as they are processed), and the cycles left are collected once it is back on. It is
    turned back on after the plan is freed, so that its first pass does not walk the plan.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_timing(timing, record_timeline) -> None:
    if timing not in TIMINGS:
        raise ConfigError(f"timing = {timing!r}; allowed: {', '.join(map(repr, TIMINGS))}")
    if timing == "closed-form" and record_timeline:
        raise ConfigError("record_timeline = True needs timing = 'events': the closed form computes no timeline")


def machine_plan(workload: Workload, cfg, batch: int = 1, mode: str = "pipelined", fidelity: str = "analytical",
                 seed: int = 0, *, inputs=None, progress: bool | None = None) -> PlannedRun:
    """What :func:`simulate` hands the engine: the plan, the mode it runs in, and each layer's relative error.

    The architecture is the one registered for ``cfg``'s kind; a CIM chip whose arrays are
    time-multiplexed runs one layer at a time whatever ``mode`` says.
    """
    _check(workload, batch, mode, fidelity, seed)
    architecture = architecture_for(cfg)
    request = PlanRequest(workload, cfg, int(batch), mode, honoured_fidelity(architecture, fidelity), int(seed),
                          inputs, progress)
    planned = architecture.plan(request)
    if not isinstance(planned, PlannedRun):
        raise ConfigError(f"architecture {config_kind(cfg)!r}: plan() returned a {type(planned).__name__}; "
                          "allowed: a cimsim.arch.base.PlannedRun")
    return planned
