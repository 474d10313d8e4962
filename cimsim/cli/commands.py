"""What the ``cimsim`` commands do: run, compare, sweep, plot and the listings (parsing is in :mod:`cimsim.cli.parser`).

Every command prints what it found and where it wrote its files; files are written atomically.
``--set key=value`` takes a TOML value (``--set adc.bits=6``, ``--set mapping.weight_encoding=offset``:
a word that is not TOML is taken as a string).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from cimsim.config import list_presets, load_config, load_preset
from cimsim.costs import unread_field_notes
from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text
from cimsim.engine.report import Report, compare
from cimsim.simulate import simulate
from cimsim.text_table import text_table
from cimsim.workload_loader import load_workload, zoo_names

TIMELINE_WORK_ITEMS = 20_000  # record the timeline (report.json, Gantt chart) up to this many work items


def load_chip(spec: str, settings: list[str] | None = None):
    """A preset by name or a config file (``.toml``), with ``--set`` overrides applied."""
    cfg = load_config(spec) if spec.endswith(".toml") else load_preset(spec)
    if not settings:
        return cfg
    updates = parse_settings(settings)
    cfg = cfg.override(updates)
    for note in unread_field_notes([(cfg, updates)]):  # a field set that no active model reads
        print(f"note: {note}", file=sys.stderr)
    return cfg


def parse_settings(settings: list[str]) -> dict[str, object]:
    """``["adc.bits=6", ...]`` as ``{"adc.bits": 6}``; values are TOML, or strings when they are not."""
    updates = {}
    for setting in settings:
        path, sep, text = setting.partition("=")
        if not sep or not path.strip():
            raise ConfigError(f"--set {setting!r}: expected key=value, e.g. --set adc.bits=6")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        updates[path.strip()] = value
    return updates


def _simulate(args: argparse.Namespace, cfg) -> Report:
    workload = load_workload(args.workload, args.sparsity, args.seed)
    work_items = args.batch * len(workload.ops) * 256  # an upper bound: at most 256 chunks per operation
    return simulate(workload, cfg, batch=args.batch, mode=args.mode, fidelity=args.fidelity, seed=args.seed,
                    record_timeline=work_items <= TIMELINE_WORK_ITEMS or args.timeline)


def _report_files(report: Report, out: Path, stem: str) -> list[Path]:
    from cimsim import plot

    paths = [report.to_json(out / f"{stem}.json"), report.to_csv(out / f"{stem}_layers.csv")]
    paths += plot.layer_bars(report, out / f"{stem}_layers")
    if report.timeline:
        paths += plot.timeline_chart(report, out / f"{stem}_timeline")
    return paths


def run(args: argparse.Namespace) -> None:
    """``cimsim run``: one workload on one chip; the summary, report.json, layers.csv and plots."""
    report = _simulate(args, load_chip(args.chip, args.set))
    print(report.summary())
    from cimsim import plot

    out = Path(args.out)
    paths = _report_files(report, out, "report") + plot.energy_breakdown_chart([report], out / "energy_breakdown")
    _wrote(paths)


def compare_command(args: argparse.Namespace) -> None:
    """``cimsim compare``: the workload on the chip and on the baseline, side by side with ratios."""
    chip = _simulate(args, load_chip(args.chip, args.set))
    baseline = _simulate(args, load_chip(args.baseline, args.baseline_set))
    comparison = compare([baseline, chip])
    print(comparison)
    from cimsim import plot

    out = Path(args.out)
    paths = _report_files(chip, out, "chip") + _report_files(baseline, out, "baseline")
    paths.append(atomic_write_text(out / "comparison.json", json.dumps(comparison.to_dict(), indent=1) + "\n"))
    paths += plot.energy_breakdown_chart([baseline, chip], out / "energy_breakdown")
    _wrote(paths)


def sweep(args: argparse.Namespace) -> None:
    """``cimsim sweep``: the points of a sweep file into a table (resumable), then its figure."""
    from cimsim.sweep import run_sweep

    out = Path(args.out) if args.out else Path("out") / f"{Path(args.sweep).stem}.csv"
    result = run_sweep(args.sweep, out, args.workers, args.scheduler, args.resume)
    print(f"{result.computed} points run ({result.errors} refused by the simulator), {result.skipped} already in "
          f"the table; {result.wall_s:.1f} s, {result.points_per_s:.1f} points/s")
    _wrote([result.path])


def plot_command(args: argparse.Namespace) -> None:
    """``cimsim plot``: the figures of a report (``.json``) or of a sweep's table (``.csv``)."""
    from cimsim import plot
    from cimsim.sweep.table import read_table

    results, out = Path(args.results), Path(args.out) if args.out else Path(args.results).parent
    if results.suffix == ".json":
        report = Report.from_json(results)
        paths = plot.layer_bars(report, out / f"{results.stem}_layers")
        paths += plot.energy_breakdown_chart([report], out / f"{results.stem}_energy_breakdown")
        if report.timeline:
            paths += plot.timeline_chart(report, out / f"{results.stem}_timeline")
        _wrote(paths)
        return
    if results.suffix != ".csv":
        raise ConfigError(f"results '{results}': allowed: a report (.json) or a sweep's table (.csv)")
    rows = [row for row in read_table(results) if not row.get("error")]
    if not rows:
        raise ConfigError(f"results '{results}': no rows without an error to plot")
    x = args.x or _swept_column(rows)
    stem = out / f"{results.stem}_{args.y}_vs_{x}"
    _wrote(plot.metric_vs_parameter(rows, x, args.y, args.series, stem))


def _swept_column(rows: list[dict]) -> str:
    """The first configuration path (``section.field``) whose value varies across the rows."""
    for name in rows[0]:
        if "." in name and len({row[name] for row in rows}) > 1:
            return name
    raise ConfigError("cimsim plot: no swept configuration path varies in the table; give --x")


def presets(args: argparse.Namespace) -> None:
    """``cimsim presets``: each preset with its architecture and its sources."""
    metas = {name: load_preset(name).meta for name in list_presets()}
    rows = [[name, meta.architecture, meta.source] for name, meta in metas.items()]
    print(text_table(rows, min_widths=(11, 12), gap=" "))


def workloads_command(args: argparse.Namespace) -> None:
    """``cimsim workloads``: the zoo, with each model's products and MACs (a line as each model loads)."""
    for name in zoo_names():
        wl = load_workload(name)
        print(text_table([[name, str(len(wl.gemms)), "products", f"{wl.macs:,}", "MACs"]], min_widths=(16, 4, 0, 15), gap=" "))


def _wrote(paths: list[Path]) -> None:
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in paths))
