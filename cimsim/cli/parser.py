"""The ``cimsim`` command. Errors print as one line (exit code 2) unless ``--debug`` is given.

A closed output pipe (``cimsim peak isaac | head -3``) ends the command quietly with exit code 141
(128 + SIGPIPE, as a Unix tool killed by the signal); Ctrl-C ends it with 130 and one line (a
sweep's says how many rows its table kept and to rerun with ``--resume``); ``--version`` prints
the version.

``cimsim run WORKLOAD --chip PRESET|FILE``, ``cimsim compare WORKLOAD --chip ... --baseline ...``,
``cimsim sweep SWEEP.toml``, ``cimsim plot RESULTS``, ``cimsim presets``, ``cimsim workloads``,
``cimsim show PRESET``, ``cimsim peak PRESET``, ``cimsim study article-claims``, ``cimsim demo``, ``cimsim validate``; ``--help`` on each. A WORKLOAD is
a zoo name, an ONNX file or a saved Workload (``.json``, ``.npz``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from cimsim.cli import commands as cli_commands
from cimsim.cli.study import add_study_parser
from cimsim.cli.validate import add_validate_command
from cimsim.errors import ConfigError, ShapeError
from cimsim.modes import FIDELITIES, MODES

EXAMPLES = """examples:
  cimsim run resnet18 --chip isaac --batch 16
  cimsim run lenet5 --chip rram-22nm --set adc.bits=6 --fidelity functional
  cimsim compare lenet5 --chip isaac --chip rram-22nm --baseline vn-45nm
  cimsim sweep adc.toml --workers 2 --resume
  cimsim plot out/adc.csv --y tops_per_watt --series chip --series array.rows --facet workload --where batch=16
"""
EXIT_BROKEN_PIPE = 128 + getattr(signal, "SIGPIPE", 13)  # what a shell reports for a tool killed by SIGPIPE


class _Once(argparse.Action):
    """Store an option's value; the option given twice is refused in one line (exit code 2), not overwritten."""

    def __init__(self, *args, hint: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hint = hint

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        given = f"_given_{self.dest}"
        if getattr(namespace, given, False):
            parser.exit(2, f"cimsim: error: {option_string} given twice ({getattr(namespace, self.dest)!r}, then "
                           f"{values!r}); {parser.prog} takes one{self.hint}\n")
        setattr(namespace, given, True)
        setattr(namespace, self.dest, values)


def _demo(args: argparse.Namespace) -> None:
    from cimsim.cli.demo import run_demo

    run_demo(args.out, seed=args.seed)


def _peak(args: argparse.Namespace) -> None:
    from cimsim.costs.peak import peak

    print(peak(cli_commands.load_chip(args.preset, args.set)).table())


def _show(args: argparse.Namespace) -> None:
    print(cli_commands.load_chip(args.preset, args.set).to_toml(), end="")


def _simulation_options(parser: argparse.ArgumentParser, out: str, several_chips: bool = False) -> None:
    parser.add_argument("workload", help="zoo model (cimsim workloads), ONNX file, or saved workload (.json/.npz)")
    if several_chips:
        parser.add_argument("--chip", required=True, action="append",
                            help="preset name (cimsim presets) or config file (.toml); repeat it to compare several")
    else:
        parser.add_argument("--chip", required=True, action=_Once, hint=" (cimsim compare takes several)",
                            help="preset name (cimsim presets) or config file (.toml)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a field of the chip(s), e.g. adc.bits=6")
    parser.add_argument("--batch", type=int, default=1, help="inferences run together (default 1)")
    parser.add_argument("--sparsity", help='prune the weights: "2:4", "2:4:rows", "block:4x4:0.5" (zoo and ONNX)')
    parser.add_argument("--fidelity", default=FIDELITIES[0], choices=FIDELITIES)
    parser.add_argument("--mode", default=MODES[0], choices=MODES)
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and of every device draw")
    parser.add_argument("--timeline", action="store_true", help="record the timeline even for a long run")
    parser.add_argument("--out", default=out, help=f"output directory (default: {out})")
    parser.add_argument("--no-figures", action="store_true", help="write the reports (JSON) and the layers' CSV, no figures")


def _chip_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preset", help="preset name or path to a .toml file")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field, e.g. adc.bits=6")


def build_parser() -> argparse.ArgumentParser:
    from cimsim import __version__  # the facade, loaded already (it is cimsim.cli's parent package)

    parser = argparse.ArgumentParser(prog="cimsim", description="Compute-in-memory crossbar simulator.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("--version", action="version", version=f"cimsim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="simulate a workload on a chip: summary, report.json, layers.csv, plots")
    _simulation_options(run, "out/run")
    run.set_defaults(run=cli_commands.run)

    compare = commands.add_parser("compare", help="a workload on chips and on a baseline, side by side with ratios")
    _simulation_options(compare, "out/compare", several_chips=True)
    compare.add_argument("--baseline", default="vn-45nm", action=_Once,
                         help="baseline preset or file (default: vn-45nm)")
    compare.add_argument("--baseline-set", action="append", metavar="KEY=VALUE",
                         help="override a field of the baseline (after its precision is set to the chip's)")
    compare.add_argument("--strict", action="store_true",
                         help="run the baseline at its own precision and refuse a chip of another (default: the "
                              "baseline runs at each chip's precision, once per distinct precision)")
    compare.set_defaults(run=cli_commands.compare_command)

    sweep = commands.add_parser("sweep", help="run a sweep file's points into a table (resumable; local or Dask)")
    sweep.add_argument("sweep", help="sweep file (TOML; see the README's Sweeps section)")
    sweep.add_argument("--out", help="output table (default: out/<sweep file's stem>.csv)")
    sweep.add_argument("--workers", type=int, help="local worker processes (default: all cores; 1 = in this process)")
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    sweep.add_argument("--resume", action="store_true", help="keep the rows already in the table, run the others")
    sweep.set_defaults(run=cli_commands.sweep)

    plot = commands.add_parser(
        "plot", help="figures of a report (.json) or of a sweep's table (.csv, .parquet)",
        description="A figure of a sweep's table averages only over seeds: every other column that varies must be "
        "a series, a facet or a filter (--where), else the command names the columns left to choose.")
    plot.add_argument("results", help="report.json or a sweep's table (.csv or .parquet)")
    plot.add_argument("--x", help="swept column across (default: the first configuration path that varies and is "
                      "not a series, a facet or a filter)")
    plot.add_argument("--y", default="tops_per_watt", help="figure to plot (default: tops_per_watt)")
    plot.add_argument("--series", action="append", metavar="COLUMN", help="one line per value of this column; "
                      "repeat or comma-separate for one line per combination (--series chip --series array.rows)")
    plot.add_argument("--facet", action="append", metavar="COLUMN",
                      help="one panel per value of this column (repeat for combinations): a grid of panels")
    plot.add_argument("--where", action="append", metavar="KEY=VALUE",
                      help="draw only the rows whose column KEY equals VALUE (repeatable), e.g. --where batch=16")
    plot.add_argument("--log-x", action="store_true", help="logarithmic x axis")
    plot.add_argument("--log-y", action="store_true", help="logarithmic y axis")
    plot.add_argument("--out", help="output directory (default: next to RESULTS)")
    plot.set_defaults(run=cli_commands.plot_command)

    presets = commands.add_parser("presets", help="list the presets: architecture and a line of description (cimsim show: the sources)")
    presets.set_defaults(run=cli_commands.presets)
    zoo = commands.add_parser("workloads", help="list the model zoo, a line per model")
    zoo.set_defaults(run=cli_commands.workloads_command)
    show = commands.add_parser("show", help="print a preset or config file as resolved TOML")
    _chip_arguments(show)
    show.set_defaults(run=_show)
    peak = commands.add_parser("peak", help="peak TOPS, TOPS/W, TOPS/mm2 and energy shares of a chip")
    _chip_arguments(peak)
    peak.set_defaults(run=_peak)
    add_study_parser(commands)
    demo = commands.add_parser("demo", help="the demonstration of make demo: CIM against von Neumann, and a sweep")
    demo.add_argument("--out", default="out/demo", help="output directory (default: out/demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the weights and of every device draw")
    demo.set_defaults(run=_demo)
    add_validate_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
    except (ConfigError, ShapeError) as error:
        if args.debug:
            raise
        print(f"cimsim: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as interrupt:
        print(f"cimsim: interrupted{f': {interrupt}' if str(interrupt) else ''}", file=sys.stderr)
        return 130
    return 0


def _discard_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (output captured in-process): nothing left to flush
        pass


if __name__ == "__main__":
    sys.exit(main())
