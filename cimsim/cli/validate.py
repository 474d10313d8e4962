"""``cimsim validate``: the validation table against published silicon, its JSON and its parity figure."""

from __future__ import annotations

import argparse
from typing import Any


def validate_command(args: argparse.Namespace) -> None:
    """Print the table and the fitted and held-out errors; write ``--json PATH`` and ``--plot DIR`` if given."""
    from cimsim.validation import error_summary, parity_chart, table_text, validate, write_json

    rows = validate()
    print(table_text(rows))
    print()
    print("|error| per design, fitted points and held-out points apart:")
    print(error_summary(rows))
    if args.json:
        print(f"wrote {write_json(rows, args.json)}")
    if args.plot:
        for path in parity_chart(rows, args.plot):
            print(f"wrote {path}")


def add_validate_command(commands: Any) -> None:
    """Add the ``validate`` subcommand and its options to ``commands`` (what ``add_subparsers`` returned)."""
    parser = commands.add_parser("validate", help="cimsim against published silicon: table, --json, --plot (parity figure)")
    parser.add_argument("--json", metavar="PATH", help="write the table as a JSON list of objects")
    parser.add_argument("--plot", metavar="DIR", help="write the parity figure of TOPS/W (parity.png, parity.svg) here")
    parser.set_defaults(run=validate_command)
