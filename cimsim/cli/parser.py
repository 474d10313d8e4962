"""The ``cimsim`` command. Errors print as one line (exit code 2) unless ``--debug`` is given.

``cimsim run WORKLOAD --chip PRESET|FILE``, ``cimsim compare WORKLOAD --chip ... --baseline ...``,
``cimsim sweep SWEEP.toml``, ``cimsim plot RESULTS``, ``cimsim presets``, ``cimsim workloads``,
``cimsim show PRESET``, ``cimsim peak PRESET``, ``cimsim demo``, ``cimsim validate``; ``--help`` on each. A WORKLOAD is
a zoo name, an ONNX file or a saved Workload (``.json``, ``.npz``).
"""

from __future__ import annotations

import argparse
import sys

from cimsim.cli import commands as cli_commands
from cimsim.cli.validate import add_validate_command
from cimsim.errors import ConfigError, ShapeError
from cimsim.modes import FIDELITIES, MODES

EXAMPLES = """examples:
  cimsim run resnet18 --chip isaac --batch 16
  cimsim run lenet5 --chip rram-22nm --set adc.bits=6 --fidelity functional
  cimsim compare resnet18 --chip isaac --set mapping.weight_bits=8 --set mapping.input_bits=8 --baseline vn-45nm
  cimsim sweep adc.toml --workers 2 --resume
  cimsim plot out/adc.csv --y tops_per_watt --series workload
"""


def _demo(args: argparse.Namespace) -> None:
    from cimsim.cli.demo import run_demo

    run_demo(args.out, seed=args.seed)


def _peak(args: argparse.Namespace) -> None:
    from cimsim.costs.peak import peak

    print(peak(cli_commands.load_chip(args.preset, args.set)).table())


def _show(args: argparse.Namespace) -> None:
    print(cli_commands.load_chip(args.preset, args.set).to_toml(), end="")


def _simulation_options(parser: argparse.ArgumentParser, out: str) -> None:
    parser.add_argument("workload", help="zoo model (cimsim workloads), ONNX file, or saved workload (.json/.npz)")
    parser.add_argument("--chip", required=True, help="preset name (cimsim presets) or config file (.toml)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field of the chip, e.g. adc.bits=6")
    parser.add_argument("--batch", type=int, default=1, help="inferences run together (default 1)")
    parser.add_argument("--sparsity", help='prune the weights: "2:4", "2:4:rows", "block:4x4:0.5" (zoo and ONNX)')
    parser.add_argument("--fidelity", default=FIDELITIES[0], choices=FIDELITIES)
    parser.add_argument("--mode", default=MODES[0], choices=MODES)
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and of every device draw")
    parser.add_argument("--timeline", action="store_true", help="record the timeline even for a long run")
    parser.add_argument("--out", default=out, help=f"output directory (default: {out})")


def _chip_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preset", help="preset name or path to a .toml file")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field, e.g. adc.bits=6")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cimsim", description="Compute-in-memory crossbar simulator.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="simulate a workload on a chip: summary, report.json, layers.csv, plots")
    _simulation_options(run, "out/run")
    run.set_defaults(run=cli_commands.run)

    compare = commands.add_parser("compare", help="a workload on a chip and on a baseline, side by side with ratios")
    _simulation_options(compare, "out/compare")
    compare.add_argument("--baseline", default="vn-45nm", help="baseline preset or file (default: vn-45nm)")
    compare.add_argument("--baseline-set", action="append", metavar="KEY=VALUE", help="override a field of the baseline")
    compare.set_defaults(run=cli_commands.compare_command)

    sweep = commands.add_parser("sweep", help="run a sweep file's points into a table (resumable; local or Dask)")
    sweep.add_argument("sweep", help="sweep file (TOML; see the README's Sweeps section)")
    sweep.add_argument("--out", help="output table (default: out/<sweep file's stem>.csv)")
    sweep.add_argument("--workers", type=int, help="local worker processes (default: all cores; 1 = in this process)")
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    sweep.add_argument("--resume", action="store_true", help="keep the rows already in the table, run the others")
    sweep.set_defaults(run=cli_commands.sweep)

    plot = commands.add_parser("plot", help="figures of a report (.json) or of a sweep's table (.csv)")
    plot.add_argument("results", help="report.json or a sweep's table (.csv)")
    plot.add_argument("--x", help="swept column (default: the first configuration path that varies)")
    plot.add_argument("--y", default="tops_per_watt", help="figure to plot (default: tops_per_watt)")
    plot.add_argument("--series", default="workload", help="one line per value of this column (default: workload)")
    plot.add_argument("--out", help="output directory (default: next to RESULTS)")
    plot.set_defaults(run=cli_commands.plot_command)

    presets = commands.add_parser("presets", help="list the presets, their architecture and their sources")
    presets.set_defaults(run=cli_commands.presets)
    zoo = commands.add_parser("workloads", help="list the model zoo with each model's products and MACs")
    zoo.set_defaults(run=cli_commands.workloads_command)
    show = commands.add_parser("show", help="print a preset or config file as resolved TOML")
    _chip_arguments(show)
    show.set_defaults(run=_show)
    peak = commands.add_parser("peak", help="peak TOPS, TOPS/W, TOPS/mm2 and energy shares of a chip")
    _chip_arguments(peak)
    peak.set_defaults(run=_peak)
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
    except (ConfigError, ShapeError) as error:
        if args.debug:
            raise
        print(f"cimsim: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cimsim: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
