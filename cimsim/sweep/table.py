"""The sweep's table: one row per point, rewritten atomically as rows arrive; read back as rows or a DataFrame.

The whole table is rewritten through :func:`cimsim.fileio.atomic_write` (a temporary file in
the same directory, fsync, rename), so a reader, or a run killed at any instant, sees either
the previous complete table or the next one, never a truncated one. Rows are kept in the
sweep's point order (rows already in the file that the sweep does not list come first), so
runs that finish in different orders write the same table.

Formats, by the output's suffix: CSV (any suffix but ``.parquet``), or Parquet (``.parquet``;
needs pyarrow, the ``data`` extra), typed per column: text, 64-bit integers, doubles or
booleans, with nulls for "none". CSV cells: integers and floats as Python prints them (floats
round-trip exactly), ``true`` / ``false``, text as is, and an empty cell for "none" (no relative
error in analytical fidelity, no figures on a point whose simulation raised, a swept path the
chip's configuration lacks). Either reads back with :func:`read_table` (a list of dicts) or
:func:`load` (a pandas DataFrame; the ``data`` extra).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cimsim.errors import ConfigError
from cimsim.extras import optional_import
from cimsim.fileio import atomic_write, atomic_write_text

if TYPE_CHECKING:
    import pandas

TEXT_COLUMNS = frozenset(
    {"point_id", "chip", "workload", "sparsity", "fidelity", "mode", "timing", "bottleneck", "precision", "error"}
)
INTEGER_COLUMNS = frozenset({"batch", "seed", "macs"})
PARQUET_SUFFIX = ".parquet"


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
    """The header and the rows of a table (CSV, or Parquet by its suffix) as text; ``([], [])`` for a missing or
    empty file."""
    path = Path(path)
    parquet = _parquet_module(path) if path.suffix == PARQUET_SUFFIX else None  # refused without pyarrow, file or not
    if not path.exists() or path.stat().st_size == 0:
        return [], []
    if parquet is not None:
        return _read_parquet(path, parquet)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return (rows[0], rows[1:]) if rows else ([], [])


def read_table(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a sweep's table as dicts of values (:func:`parse_cell`)."""
    header, rows = read_rows(path)
    return [dict(zip(header, values)) for values in _typed(header, rows)]


def load(path: str | os.PathLike[str]) -> pandas.DataFrame:
    """A sweep's table (CSV or Parquet) as a pandas DataFrame: one row per point, the table's columns in order.

    Values are typed as :func:`read_table` types them: text, integers, floats and booleans, with
    empty cells as missing values (so an integer column with a missing value is float, NaN where
    missing, and a column of missing values only, such as ``layer_relative_error_rms`` of an
    analytical sweep, is float unless it is a text column such as ``error``). Needs pandas (the
    ``data`` extra); a missing file is a ConfigError.
    """
    pandas = optional_import("pandas", "cimsim.sweep.load (a sweep table as a DataFrame)", "data")
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"table '{path}': no such file")
    header, rows = read_rows(path)
    frame = pandas.DataFrame(_typed(header, rows), columns=header)
    return frame.astype({name: float for name in header if name not in TEXT_COLUMNS and frame[name].isna().all()})


def _typed(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[list[Any]]:
    return [[parse_cell(column, text) for column, text in zip(header, row)] for row in rows]


def _parquet_module(path: Path):
    return optional_import("pyarrow.parquet", f"table '{path}' (a sweep table in Parquet)", "data")


def _read_parquet(path: Path, parquet) -> tuple[list[str], list[list[str]]]:
    try:
        table = parquet.read_table(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ConfigError(f"table '{path}' cannot be read as Parquet ({exc}); choose another path") from None
    data = table.to_pydict()
    return table.column_names, [[format_cell(data[name][i]) for name in table.column_names]
                                for i in range(table.num_rows)]


def _write_parquet(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    """``rows`` (cells as text) as a Parquet table of typed columns (module docstring), atomically."""
    arrow, parquet = optional_import("pyarrow", "a sweep table in Parquet", "data"), _parquet_module(path)
    values = dict(zip(columns, zip(*_typed(columns, rows)))) if rows else {name: () for name in columns}
    table = arrow.table({name: _arrow_column(arrow, name, values[name]) for name in columns})
    atomic_write(path, lambda handle: parquet.write_table(table, handle))


def _arrow_column(arrow, column: str, values: Sequence[Any]):
    """Text for the known text columns and any column holding text; else booleans, 64-bit integers or doubles
    (a column of missing values only: doubles)."""
    present = [value for value in values if value is not None]
    if column in TEXT_COLUMNS or any(isinstance(value, str) for value in present):
        return arrow.array([None if value is None else format_cell(value) for value in values], arrow.string())
    if present and all(isinstance(value, bool) for value in present):
        kind = arrow.bool_()
    elif column in INTEGER_COLUMNS or (present and all(isinstance(value, Integral) for value in present)):
        kind = arrow.int64()
    else:
        kind = arrow.float64()
    return arrow.array(list(values), kind)


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
        """Write the whole table now (CSV, or Parquet by the path's suffix)."""
        start = time.monotonic()
        rows = sorted(self._rows.values(), key=lambda cells: self._order.get(cells[0], -1))
        if self.path.suffix == PARQUET_SUFFIX:
            _write_parquet(self.path, self.columns, rows)
        else:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(self.columns)
            writer.writerows(rows)
            atomic_write_text(self.path, text.getvalue())
        self._last_write = time.monotonic()
        self._waiting, self._write_s = 0, self._last_write - start

