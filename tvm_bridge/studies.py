"""Accuracy and energy of the trained digits models against one chip parameter at a time.

Each study evaluates a zoo model (``digits-cnn`` by default; ``digits-mlp`` too) on the digits
test split with :func:`tvm_bridge.evaluate` (calibration on the 120-image ``calibration`` split
of the training data, calls of 120 images, energy from ``cimsim.simulate`` of one inference,
analytical) and returns a list of dict rows, one per point, ready for ``cimsim.plot`` and ``cimsim.pareto``:

* the swept value, under its dotted configuration path (``"adc.bits"``, ``"device.stuck_off"``…)
  or ``"drift_s"`` and ``"compensated"`` for drift;
* ``accuracy`` (mean over seeds, a fraction), ``accuracy_std`` (sample std, ddof = 1),
  ``accuracy_min``, ``accuracy_max``, ``float_accuracy`` (TVM's float model), ``top1_agreement``
  with the float model and ``relative_error`` of the logits (means over seeds);
* ``energy_pj`` and ``latency_ns`` of one inference, ``tops_per_watt`` (2 operations per MAC with
  a non-zero weight);
* ``study``, ``model``, ``chip`` and ``seeds`` (how many).

Base chips: ``rram-22nm`` (noise-free, so one seed is enough: every seed gives the same numbers)
for the converter, cell and wire studies, with ``energy.adc_model = "walden"`` in the ADC studies so
that an ADC's energy follows 2^bits from the preset's own figure of merit (42 fJ at its 5 bits;
the preset's ``table`` model would price every width alike); ``pcm`` for drift. Noise and fault
studies add their noise to ``rram-22nm`` and use three seeds. Every point releases its
crossbars (``tvm_bridge.release``) before the next is programmed.

``python -m tvm_bridge.studies`` prints every study and the table of the issue (float accuracy,
and accuracy on ``ideal``, ``rram-22nm`` and ``pcm`` over five seeds next to the energy per
inference); ``--plot DIR`` also writes the CNN's energy-accuracy Pareto front there, and
``--scheduler tcp://host:8786`` runs the seeds and settings on that Dask cluster.

Every study takes ``client`` (None: this process): a ``distributed.Client``, a cluster or an
address; each (setting, seed) is then one Dask task (:mod:`tvm_bridge.evaluate_dask`), all of a
study submitted at once, and the rows are those of the local run.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from typing import Any

import cimsim
from cimsim.errors import ConfigError
from cimsim.pareto import pareto_points
from cimsim.sweep.run import connect
from cimsim.text_table import text_table
from tvm_bridge.evaluate import Evaluation, evaluate_configs, evaluate_over_time

NOISE_FREE_SEEDS = (0,)
NOISY_SEEDS = (0, 1, 2)
BATCH = 120  # images per call; the calibration split has exactly this many
YEAR_S = 365.25 * 86400.0
DRIFT_TIMES_S = (1.0, 60.0, 3600.0, 86400.0, 30 * 86400.0, YEAR_S)
WALDEN = {"energy.adc_model": "walden"}
MODELS = ("digits-mlp", "digits-cnn")


def _data(model: str):
    """(test split, calibration inputs) in the layout of ``model``."""
    from workloads import digits

    if model not in digits.MODEL_LAYOUT:
        raise ConfigError(f"model = {model!r}; allowed: {', '.join(digits.MODEL_LAYOUT)}")
    layout = digits.MODEL_LAYOUT[model]
    return digits.dataset("test", layout), digits.dataset("calibration", layout)[0]


def _builder(model: str):
    import workloads

    return functools.partial(workloads.get, model)


def chip(base: str | cimsim.ChipConfig, overrides: dict | None = None) -> cimsim.ChipConfig:
    """A preset (by name) or a config, with dotted-path ``overrides``."""
    cfg = cimsim.load_preset(base) if isinstance(base, str) else base
    return cfg.override(overrides) if overrides else cfg


def row(study: str, swept: dict, ev: Evaluation) -> dict:
    """One study row (module docstring) from an evaluation."""
    return {
        "study": study, **swept, "model": ev.model, "chip": ev.chip, "seeds": len(ev.seeds),
        "accuracy": ev.accuracy_mean, "accuracy_std": ev.accuracy_std, "accuracy_min": ev.accuracy_min,
        "accuracy_max": ev.accuracy_max, "float_accuracy": ev.float_accuracy, "top1_agreement": ev.agreement_mean,
        "relative_error": ev.relative_error_mean, "energy_pj": ev.energy_pj, "latency_ns": ev.latency_ns,
        "tops_per_watt": ev.tops_per_watt,
    }


def evaluate_point(model: str, cfg: cimsim.ChipConfig, seeds: Sequence[int], client: Any = None) -> Evaluation:
    """:func:`tvm_bridge.evaluate` of zoo ``model`` on the digits test split at programming time."""
    return evaluate_points(model, [cfg], seeds, client)[0]


def evaluate_points(model: str, cfgs: Sequence[cimsim.ChipConfig], seeds: Sequence[int], client: Any = None) -> list[Evaluation]:
    """:func:`evaluate_point` on each chip of ``cfgs``; with ``client`` every (chip, seed) is one Dask task."""
    data, calibration = _data(model)
    return evaluate_configs(_builder(model), data, cfgs, seeds, calibration=calibration, batch=BATCH, client=client)


def sweep(study: str, model: str, base: cimsim.ChipConfig, path: str, values, seeds: Sequence[int],
          client: Any = None) -> list[dict]:
    """One row per value of the configuration field ``path`` (dotted), the rest of ``base`` fixed."""
    values = list(values)
    evaluations = evaluate_points(model, [base.override({path: value}) for value in values], seeds, client)
    return [row(study, {path: value}, ev) for value, ev in zip(values, evaluations)]


def adc_bits(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "rram-22nm", bits=range(3, 11),
             seeds: Sequence[int] = NOISE_FREE_SEEDS, client: Any = None) -> list[dict]:
    """Accuracy and energy against ``adc.bits`` (Walden ADC energy: FoM·2^bits per conversion)."""
    return sweep("adc_bits", model, chip(base, WALDEN), "adc.bits", bits, seeds, client)


def cell_bits(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "rram-22nm", bits=(1, 2, 4, 8),
              seeds: Sequence[int] = NOISE_FREE_SEEDS, client: Any = None) -> list[dict]:
    """Against ``array.bits_per_cell`` (levels per cell 2^bits; fewer slices, so fewer conversions, but
    larger column sums for the same ADC)."""
    return sweep("cell_bits", model, chip(base, WALDEN), "array.bits_per_cell", bits, seeds, client)


def program_noise(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "rram-22nm",
                  sigmas=(0.0, 0.01, 0.02, 0.05, 0.1), seeds: Sequence[int] = NOISY_SEEDS, client: Any = None) -> list[dict]:
    """Against ``device.program_noise``: σ of the programmed conductance as a fraction of g_max."""
    return sweep("program_noise", model, chip(base), "device.program_noise", sigmas, seeds, client)


def stuck_cells(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "rram-22nm",
                fractions=(0.001, 0.01, 0.05), seeds: Sequence[int] = NOISY_SEEDS, client: Any = None) -> list[dict]:
    """Against the fraction of cells stuck at g_min (``device.stuck_off``), then at g_max
    (``device.stuck_on``), the other fraction 0; the first row is the fault-free chip."""
    fault_free = {"device.stuck_off": 0.0, "device.stuck_on": 0.0}
    points = [fault_free] + [{**fault_free, path: fraction} for path in fault_free for fraction in fractions]
    evaluations = evaluate_points(model, [chip(base, point) for point in points], seeds, client)
    return [row("stuck_cells", point, ev) for point, ev in zip(points, evaluations)]


def wire_resistance(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "rram-22nm",
                    ohms=(0.0, 0.5, 1.0, 2.5), seeds: Sequence[int] = NOISE_FREE_SEEDS, client: Any = None) -> list[dict]:
    """Against ``array.wire_resistance_ohm`` (Ω per wire segment) with the wires solved exactly
    (``array.ir_drop = "solved"``): every array's effective conductances, then calibration on them."""
    return sweep("wire_resistance", model, chip(base, {"array.ir_drop": "solved"}), "array.wire_resistance_ohm", ohms, seeds, client)


def drift(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "pcm", times_s=DRIFT_TIMES_S,
          seeds: Sequence[int] = NOISY_SEEDS, client: Any = None) -> list[dict]:
    """Against the time after programming (s), without and with global drift compensation
    (``tvm_bridge.evaluate.drift_to``); each seed is programmed and calibrated once for all times."""
    data, calibration = _data(model)
    evaluations = evaluate_over_time(_builder(model), data, chip(base), seeds, calibration=calibration,
                                     times_s=tuple(times_s), batch=BATCH, client=client)
    return [row("drift", {"drift_s": ev.drift_s, "compensated": ev.compensate_drift}, ev) for ev in evaluations]


def pareto(model: str = "digits-cnn", base: str | cimsim.ChipConfig = "rram-22nm", adc=(3, 4, 5, 6, 8),
           cells=(1, 2, 4), seeds: Sequence[int] = NOISE_FREE_SEEDS, client: Any = None) -> list[dict]:
    """Every (``adc.bits``, ``array.bits_per_cell``) pair, Walden ADC energy; ``pareto`` marks the rows on
    the energy-accuracy front (``cimsim.pareto.pareto_points``: least energy, highest accuracy)."""
    points = [{"adc.bits": b, "array.bits_per_cell": c} for c in cells for b in adc]
    evaluations = evaluate_points(model, [chip(base, {**WALDEN, **point}) for point in points], seeds, client)
    rows = [row("pareto", point, ev) for point, ev in zip(points, evaluations)]
    front = {id(r) for r in pareto_points(rows, minimize=("energy_pj",), maximize=("accuracy",))}
    return [{**r, "pareto": id(r) in front} for r in rows]


def presets_table(models=MODELS, presets=("ideal", "rram-22nm", "pcm"), seeds=(0, 1, 2, 3, 4),
                  client: Any = None) -> list[dict]:
    """Each model on each preset as it is: accuracy over ``seeds`` next to the energy per inference."""
    return [row("presets", {}, ev) for m in models for ev in evaluate_points(m, [chip(p) for p in presets], seeds, client)]


# ------------------------------------------------------------------------------------------
# printing


def format_rows(rows: list[dict], swept: Sequence[str]) -> str:
    """A text table of ``rows``: the swept columns, then accuracy (mean ± std, min–max) and cost."""
    header = [*swept, "float %", "accuracy %", "min-max %", "agree %", "rel.err", "energy pJ", "TOPS/W"]
    cells = [
        [*(_cell(r[name]) for name in swept), f"{100 * r['float_accuracy']:.2f}",
         f"{100 * r['accuracy']:.2f} ± {100 * r['accuracy_std']:.2f}",
         f"{100 * r['accuracy_min']:.2f}-{100 * r['accuracy_max']:.2f}", f"{100 * r['top1_agreement']:.2f}",
         f"{r['relative_error']:.4f}", f"{r['energy_pj']:,.0f}", f"{r['tops_per_watt']:.2f}"]
        for r in rows
    ]
    return text_table(cells, header)


def _cell(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tvm_bridge.studies", description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="DIR", help="write the digits CNN's energy-accuracy Pareto front here")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run the seeds and settings on this Dask scheduler, "
                        "e.g. tcp://host:8786")
    args = parser.parse_args(argv)
    client = connect(args.scheduler, "--scheduler", "studies on Dask")
    try:
        rows = print_studies(client)
    finally:
        if client is not None:
            client.close()
    if args.plot:
        from cimsim.plot import pareto_front  # matplotlib, only for the figure

        for path in pareto_front(rows, "energy_pj", "accuracy", f"{args.plot}/digits_cnn_pareto", series="array.bits_per_cell"):
            print(f"wrote {path}")


def print_studies(client: Any = None) -> list[dict]:
    """Print every study (module docstring); the rows of the CNN's Pareto grid."""
    print("Each model on each preset (5 seeds):")
    print(format_rows(presets_table(client=client), ("model", "chip")))
    for model in MODELS:
        for title, study, swept in (
            ("ADC bits, rram-22nm, Walden ADC energy", adc_bits, ("adc.bits",)),
            ("bits per cell, rram-22nm", cell_bits, ("array.bits_per_cell",)),
            ("programming noise (fraction of g_max), rram-22nm", program_noise, ("device.program_noise",)),
            ("stuck cells, rram-22nm", stuck_cells, ("device.stuck_off", "device.stuck_on")),
            ("wire resistance per segment (ohm), solved IR drop, rram-22nm", wire_resistance,
             ("array.wire_resistance_ohm",)),
            ("drift on pcm, without and with global compensation", drift, ("drift_s", "compensated")),
        ):
            print(f"\n{model}: {title}")
            print(format_rows(study(model, client=client), swept))
    rows = pareto(client=client)
    print("\ndigits-cnn: energy-accuracy grid on rram-22nm (pareto = on the front)")
    print(format_rows(rows, ("adc.bits", "array.bits_per_cell", "pareto")))
    return rows


if __name__ == "__main__":
    main()
