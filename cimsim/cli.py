"""The ``cimsim`` command. Errors print as one line (exit code 2) unless ``--debug`` is given."""

from __future__ import annotations

import argparse
import sys

from cimsim.errors import ConfigError, ShapeError


def _demo(args: argparse.Namespace) -> None:
    from cimsim.demo import run_demo, summary_table

    report = run_demo(args.out, seed=args.seed)
    print(summary_table(report))
    print(f"\nwrote {args.out}/report.json and " + ", ".join(report["figures"]))
    print("Shown: accuracy, action counts and array-level energy of one layer; no whole network, scheduler or TVM yet.")


def _presets(args: argparse.Namespace) -> None:
    from cimsim.config import list_presets, load_preset

    for name in list_presets():
        meta = load_preset(name).meta
        print(f"{name:<12}{meta.architecture:<13}{meta.source}")


def _peak(args: argparse.Namespace) -> None:
    from cimsim.peak import peak

    print(peak(_load(args.preset)).table())


def _load(preset: str):
    from cimsim.config import load_config, load_preset

    return load_config(preset) if preset.endswith(".toml") else load_preset(preset)


def _show(args: argparse.Namespace) -> None:
    print(_load(args.preset).to_toml(), end="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cimsim", description="Compute-in-memory crossbar simulator.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="accuracy and action counts of every CIM preset on a random layer")
    demo.add_argument("--out", default="out/demo", help="output directory (default: out/demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the layer and of every device draw")
    demo.set_defaults(run=_demo)
    presets = commands.add_parser("presets", help="list the presets, their architecture and their sources")
    presets.set_defaults(run=_presets)
    show = commands.add_parser("show", help="print a preset or config file as resolved TOML")
    show.add_argument("preset", help="preset name or path to a .toml file")
    show.set_defaults(run=_show)
    peak = commands.add_parser("peak", help="peak TOPS, TOPS/W, TOPS/mm2 and energy shares of a chip")
    peak.add_argument("preset", help="preset name or path to a .toml file")
    peak.set_defaults(run=_peak)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
