"""What the ``cimsim`` commands do: run, compare, sweep, plot and the listings (parsing is in :mod:`cimsim.cli.parser`).

Every command prints what it found and where it wrote its files; files are written atomically.
``--set key=value`` takes a TOML value (``--set adc.bits=6``, ``--set mapping.weight_encoding=offset``:
a word that is not TOML is taken as a string).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

from cimsim.config import list_presets, load_config, load_preset
from cimsim.costs import unread_field_notes
from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text
from cimsim.engine.comparison import compare
from cimsim.engine.report import Report
from cimsim.simulate import simulate
from cimsim.text_table import text_table
from cimsim.workload_loader import load_workload, zoo_catalogue

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


def parse_settings(settings: list[str], option: str = "--set") -> dict[str, object]:
    """``["adc.bits=6", ...]`` as ``{"adc.bits": 6}``; values are TOML, or strings when they are not."""
    updates = {}
    for setting in settings:
        path, sep, text = setting.partition("=")
        if not sep or not path.strip():
            raise ConfigError(f"{option} {setting!r}: expected key=value, e.g. {option} adc.bits=6")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        updates[path.strip()] = value
    return updates


def _simulate(args: argparse.Namespace, cfg, workload=None) -> Report:
    if workload is None:
        workload = load_workload(args.workload, args.sparsity, args.seed)
    work_items = args.batch * len(workload.ops) * 256  # an upper bound: at most 256 chunks per operation
    return simulate(workload, cfg, batch=args.batch, mode=args.mode, fidelity=args.fidelity, seed=args.seed,
                    record_timeline=work_items <= TIMELINE_WORK_ITEMS or args.timeline)


def _report_files(report: Report, out: Path, stem: str, figures: bool) -> list[Path]:
    """``<stem>.json`` and ``<stem>_layers.csv``; with ``figures``, the layers' bars and the timeline too."""
    paths = [report.to_json(out / f"{stem}.json"), report.to_csv(out / f"{stem}_layers.csv")]
    if not figures:
        return paths
    from cimsim import plot

    paths += plot.layer_bars(report, out / f"{stem}_layers")
    if report.timeline:
        paths += plot.timeline_chart(report, out / f"{stem}_timeline")
    return paths


def run(args: argparse.Namespace) -> None:
    """``cimsim run``: one workload on one chip; the summary, report.json, layers.csv and (unless ``--no-figures``) plots."""
    report = _simulate(args, load_chip(args.chip, args.set))
    print(report.summary())
    out = Path(args.out)
    paths = _report_files(report, out, "report", figures=not args.no_figures)
    if not args.no_figures:
        from cimsim import plot

        paths += plot.energy_breakdown_chart([report], out / "energy_breakdown")
    _wrote(paths)


def compare_command(args: argparse.Namespace) -> None:
    """``cimsim compare``: the workload on each chip and on the baseline, side by side with ratios.

    The baseline runs at each chip's precision (once per distinct precision, said in one line);
    with ``--strict`` it runs as given and a chip of another precision is refused.
    """
    chips = [load_chip(spec, args.set) for spec in args.chip]
    baseline = load_chip(args.baseline)
    if args.strict:
        _check_same_precision(chips, baseline)
    groups = _chips_by_precision(chips, baseline, args.strict)
    print(_baseline_line(baseline, groups, [cfg.meta.name for cfg in chips], args.strict))
    workload = load_workload(args.workload, args.sparsity, args.seed)
    reports, labels, against, stems = [], [], [], []
    for bits, members in groups.items():
        base_cfg = _at_precision(baseline, bits, args.strict).override(parse_settings(args.baseline_set or []))
        base_index = len(reports)
        reports.append(_simulate(args, base_cfg, workload))
        labels.append(f"{baseline.meta.name} {_precision_text(bits)}")
        stems.append("baseline" if len(groups) == 1 else f"baseline_{_precision_text(bits)}")
        for index in members:
            reports.append(_simulate(args, chips[index], workload))
            labels.append(reports[-1].config)
            stems.append("chip" if len(chips) == 1 else f"chip{index + 1}_{_file_name(chips[index].meta.name)}")
        against += [base_index] * (1 + len(members))
    comparison = compare(reports, against, strict=args.strict, labels=labels)
    print(comparison)
    _wrote(_comparison_files(comparison, reports, stems, Path(args.out), figures=not args.no_figures))


def _comparison_files(comparison, reports: list[Report], stems: list[str], out: Path, figures: bool) -> list[Path]:
    paths = [path for report, stem in zip(reports, stems) for path in _report_files(report, out, stem, figures)]
    paths.append(comparison.to_json(out / "comparison.json"))
    if not figures:
        return paths
    from cimsim import plot

    return paths + plot.comparison_chart(comparison, reports, out / "comparison")


# The configuration fields that set the precision (weight bits, activation bits) of each built-in architecture.
PRECISION_FIELDS = {"cim": ("mapping.weight_bits", "mapping.input_bits"),
                    "von-neumann": ("pe.weight_bits", "pe.activation_bits")}


def _precision(cfg) -> tuple[int, int]:
    """(weight bits, activation bits) of a configuration (the command knows only the built-in architectures)."""
    return tuple(cfg.get(path) for path in PRECISION_FIELDS[cfg.meta.architecture])


def _precision_text(bits: tuple[int, int]) -> str:
    return f"w{bits[0]}a{bits[1]}"


def _chips_by_precision(chips: list, baseline, strict: bool) -> dict[tuple[int, int], list[int]]:
    """Chip indices grouped by the precision the baseline runs at for them (one group when ``strict``)."""
    if strict:
        return {_precision(baseline): list(range(len(chips)))}
    groups: dict[tuple[int, int], list[int]] = {}
    for index, cfg in enumerate(chips):
        groups.setdefault(_precision(cfg), []).append(index)
    return groups


def _at_precision(baseline, bits: tuple[int, int], strict: bool):
    """The baseline at ``bits`` (unchanged when ``strict`` or when they are its own)."""
    if strict or _precision(baseline) == bits:
        return baseline
    return baseline.override(dict(zip(PRECISION_FIELDS[baseline.meta.architecture], bits)))


def _check_same_precision(chips: list, baseline) -> None:
    own = _precision(baseline)
    other = [f"{cfg.meta.name} computes {_precision_text(_precision(cfg))}" for cfg in chips if _precision(cfg) != own]
    if other:
        raise ConfigError(f"compare: --strict: {'; '.join(other)}, the baseline {baseline.meta.name} "
                          f"{_precision_text(own)}; a ratio between precisions measures them, not the machines; "
                          "without --strict the baseline runs at each chip's precision")


def _baseline_line(baseline, groups: dict[tuple[int, int], list[int]], chip_names: list[str], strict: bool) -> str:
    """One line: at which precision(s) the baseline runs, and why."""
    name, own = baseline.meta.name, _precision_text(_precision(baseline))
    if strict:
        return f"baseline {name} runs at its own precision, {own}, as every chip (--strict)"
    runs = "; ".join(f"at {_precision_text(bits)} for {', '.join(chip_names[i] for i in members)}"
                     for bits, members in groups.items())
    how = "at the chips' precision" if len(groups) == 1 else "once per precision of the chips"
    return (f"baseline {name} (its own precision: {own}) runs {how}: {runs}; "
            "--strict runs it at its own and refuses chips of another")


def _file_name(name: str) -> str:
    """``name`` with anything but letters, digits, ``-``, ``_`` and ``.`` replaced by ``-``."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def sweep(args: argparse.Namespace) -> None:
    """``cimsim sweep``: the points of a sweep file into a table (resumable), then its figure."""
    from cimsim.sweep import run_sweep

    out = Path(args.out) if args.out else Path("out") / f"{Path(args.sweep).stem}.csv"
    result = run_sweep(args.sweep, out, args.workers, args.scheduler, args.resume)
    print(f"{result.computed} points run ({result.errors} refused by the simulator), {result.skipped} already in "
          f"the table; {result.wall_s:.1f} s, {result.points_per_s:.1f} points/s")
    _wrote([result.path])


def plot_command(args: argparse.Namespace) -> None:
    """``cimsim plot``: the figures of a report (``.json``) or of a sweep's table (``.csv``, ``.parquet``)."""
    results, out = Path(args.results), Path(args.out) if args.out else Path(args.results).parent
    if not results.is_file():
        raise ConfigError(f"results '{results}': no such file" + (" (a directory)" if results.is_dir() else ""))
    if results.suffix == ".json":
        _wrote(_report_figures(results, out))
    elif results.suffix in (".csv", ".parquet"):
        _wrote(_table_figure(results, out, args))
    else:
        raise ConfigError(f"results '{results}': allowed: a report (.json) or a sweep's table (.csv, .parquet)")


def _report_figures(results: Path, out: Path) -> list[Path]:
    from cimsim import plot

    report = Report.from_json(results)
    paths = plot.layer_bars(report, out / f"{results.stem}_layers")
    paths += plot.energy_breakdown_chart([report], out / f"{results.stem}_energy_breakdown")
    if report.timeline:
        paths += plot.timeline_chart(report, out / f"{results.stem}_timeline")
    return paths


def _table_figure(results: Path, out: Path, args: argparse.Namespace) -> list[Path]:
    """``--y`` against ``--x`` with ``--series``, ``--facet`` and ``--where`` (:mod:`cimsim.plot.sweep`)."""
    from cimsim import plot
    from cimsim.plot.sweep_rows import keys
    from cimsim.sweep.table import read_table

    rows = [row for row in read_table(results) if not row.get("error")]
    if not rows:
        raise ConfigError(f"results '{results}': no rows without an error to plot")
    where = parse_settings(args.where or [], option="--where")
    if len(where) < len(args.where or []):
        raise ConfigError(f"--where {args.where}: a column is given twice; give each column once")
    series, facets = keys(args.series, "--series"), keys(args.facet, "--facet")
    x = args.x or _swept_column(rows, {*series, *facets, *where})
    stem = "_".join([f"{results.stem}_{args.y}_vs_{x}", *(f"by_{facet}" for facet in facets)])
    return plot.metric_vs_parameter(rows, x, args.y, series, out / stem, facet=facets, where=where,
                                    log_x=args.log_x, log_y=args.log_y)


def _swept_column(rows: list[dict], taken: set[str]) -> str:
    """The first configuration path (``section.field``) whose value varies across the rows and is not ``taken``."""
    for name in rows[0]:
        if "." in name and name not in taken and len({row[name] for row in rows}) > 1:
            return name
    raise ConfigError("cimsim plot: no other swept configuration path varies in the table; give --x")


def presets(args: argparse.Namespace) -> None:
    """``cimsim presets``: each preset with its architecture and the first sentence of its description."""
    metas = {name: load_preset(name).meta for name in list_presets()}
    rows = [[name, meta.architecture, _first_sentence(meta.description)] for name, meta in metas.items()]
    print(text_table(rows, min_widths=(11, 12), gap=" "))


DESCRIPTION_CHARS = 100  # the longest description `cimsim presets` prints on a line


def _first_sentence(text: str, width: int = DESCRIPTION_CHARS) -> str:
    """The first sentence of ``text`` on one line, clipped at a word to ``width`` characters with "…"."""
    line = " ".join(text.split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", line)
    sentence = line[: end.start()] if end else line
    if len(sentence) <= width:
        return sentence
    return sentence[: width - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def workloads_command(args: argparse.Namespace) -> None:
    """``cimsim workloads``: the zoo, a line per model saying what it is (builds no model, imports no TVM)."""
    print(text_table([[name, what] for name, what in zoo_catalogue().items()], min_widths=(16, 0), gap=" "))


def _wrote(paths: list[Path]) -> None:
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in paths))
