"""``cimsim study NAME``: the fixed studies of :mod:`cimsim.studies`, printed, tabled and drawn."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from cimsim.fileio import atomic_write_text

STUDIES = ("article-claims",)


def add_study_parser(commands) -> None:
    """The ``study`` subcommand and its options."""
    from cimsim.studies import article_claims as claims

    study = commands.add_parser("study", help="a fixed study: article-claims (the source article's two claims)")
    study.add_argument("name", choices=STUDIES)
    study.add_argument("--design", action="append", metavar="PRESET",
                       help="a design to run (repeatable; default: every preset but ideal)")
    study.add_argument("--workload", action="append", metavar="MODEL",
                       help=f"a zoo model (repeatable; default: {', '.join(claims.WORKLOADS)})")
    study.add_argument("--batch", action="append", type=int, help="a batch size (repeatable; default: 1 and 16)")
    study.add_argument("--bits", action="append", type=int, help="weight and input bits (repeatable; default: 8 and 16)")
    study.add_argument("--out", default="out/article-claims", help="output directory (default: out/article-claims)")
    study.add_argument("--no-figures", action="store_true", help="write the tables only")
    study.set_defaults(run=article_claims_command)


def article_claims_command(args: argparse.Namespace) -> None:
    """Run the grid, print every run and the claims' verdicts, write both tables (CSV) and the figures."""
    from cimsim.studies import article_claims as claims
    from cimsim.studies import runs_table, summary_table, verdicts, write_figures

    rows = claims.run_claims(args.design, args.workload or claims.WORKLOADS, args.batch or claims.BATCHES,
                             args.bits or claims.PRECISIONS)
    found = verdicts(rows)
    print(runs_table(rows))
    print(f"\nThe claims ('about' = within x/÷ {claims.ABOUT_FACTOR:g}):")
    print(summary_table(found))
    out = Path(args.out)
    paths = [atomic_write_text(out / "article_claims_runs.csv", _csv(rows)),
             atomic_write_text(out / "article_claims_verdicts.csv", _csv(found))]
    if not args.no_figures:
        paths += write_figures(rows, out)
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in paths))


def _csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: (";".join(v) if isinstance(v, list) else v) for k, v in row.items()} for row in rows)
    return text.getvalue()
