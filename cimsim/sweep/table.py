"""The sweep's table: one CSV row per point, rewritten atomically as rows arrive.

The whole table is rewritten through :func:`cimsim.fileio.atomic_write_text` (a temporary file
in the same directory, fsync, rename), so a reader, or a run killed at any instant, sees either
the previous complete table or the next one, never a truncated one. Rows are kept in the
sweep's point order (rows already in the file that the sweep does not list come first), so
runs that finish in different orders write the same table.

Cells: integers and floats as Python prints them (floats round-trip exactly), ``true`` /
``false``, text as is, and an empty cell for "none" (no relative error in analytical fidelity,
no figures on a point whose simulation raised, a swept path the chip's configuration lacks).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text

TEXT_COLUMNS = frozenset(
    {"point_id", "chip", "workload", "sparsity", "fidelity", "mode", "bottleneck", "precision", "error"}
)
INTEGER_COLUMNS = frozenset({"batch", "seed", "macs"})


def format_cell(value: Any) -> str:
    """A cell's text (module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_cell(column: str, text: str) -> Any:
    """The value of a cell: by the column when it is known, else the first of int, float, bool or text that reads it."""
    if text == "":
        return None
    if column in TEXT_COLUMNS:
        return text
    if column in INTEGER_COLUMNS:
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def read_rows(path: str | os.PathLike[str]) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of a table as text; ``([], [])`` for a missing or empty file."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return [], []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return (rows[0], rows[1:]) if rows else ([], [])


def read_table(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a sweep's table as dicts of values (:func:`parse_cell`)."""
    header, rows = read_rows(path)
    return [{column: parse_cell(column, text) for column, text in zip(header, row)} for row in rows]


def check_writable(path: Path) -> None:
    """ConfigError unless a file can be created beside ``path`` (its directory is created if missing)."""
    if path.is_dir():
        raise ConfigError(f"output '{path}' is a directory; give a file path, e.g. '{path / 'sweep.csv'}'")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"output '{path}': its directory cannot be written ({exc}); choose another path") from None


def remove_stale_temporaries(path: Path) -> None:
    """Delete what a killed run left beside ``path``: the temporary files of writes killed before their rename and
    the directories ``.NAME.*.running`` of a local pool's records (:mod:`cimsim.sweep.run`)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.running"):
        shutil.rmtree(stale, ignore_errors=True)


class TableWriter:
    """Rows of a sweep held in memory and written to ``path`` atomically in batches.

    A batch is written when ``flush_rows`` rows are waiting or ``flush_s`` seconds have passed
    since the last write, and never sooner than 10 times the last write's duration after it, so
    that rewriting a large table costs at most about a tenth of the run.
    """

    def __init__(self, path: Path, columns: list[str], rows: Iterable[list[str]], order: dict[str, int],
                 flush_rows: int, flush_s: float) -> None:
        self.path, self.columns, self._order = path, columns, order
        self._rows = {row[0]: row for row in rows}  # point id -> cells; the id is the first column
        self._flush_rows, self._flush_s = flush_rows, flush_s
        self._waiting, self._last_write, self._write_s = 0, time.monotonic(), 0.0

    def __contains__(self, point_id: str) -> bool:
        return point_id in self._rows

    def add(self, row: dict[str, Any]) -> None:
        """Keep ``row`` (a dict over :attr:`columns`) and write the table if a batch is due."""
        cells = [format_cell(row.get(column)) for column in self.columns]
        if cells[0] in self._rows:
            raise ValueError(f"point {cells[0]} is already in the table")
        self._rows[cells[0]] = cells
        self._waiting += 1
        since_s = time.monotonic() - self._last_write
        if (self._waiting >= self._flush_rows or since_s >= self._flush_s) and since_s >= 10 * self._write_s:
            self.flush()

    def flush(self) -> None:
        """Write the whole table now."""
        start = time.monotonic()
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(sorted(self._rows.values(), key=lambda cells: self._order.get(cells[0], -1)))
        atomic_write_text(self.path, text.getvalue())
        self._last_write = time.monotonic()
        self._waiting, self._write_s = 0, self._last_write - start

