"""The one text-table formatter of cimsim: columns aligned, numbers to the right, text to the left.

A column whose cells (below the header) are all numbers is right-aligned, header included; any
other is left-aligned. A number is what ``float`` reads once a trailing ``%``, a leading ``×`` and
thousands separators are taken off (``"12.5%"``, ``"×3.2"``, ``"1,234"``, ``"nan"``), or ``"-"``
(a missing value) or ``"n/a"`` (an undefined one). Trailing spaces are dropped from every line.
"""

from __future__ import annotations

from collections.abc import Sequence


def text_table(rows: Sequence[Sequence[str]], header: Sequence[str] = (), *, min_widths: Sequence[int] = (),
               gap: str = "  ", rule: bool = True) -> str:
    """``rows`` of cells (strings) as aligned text, one line per row.

    ``header``: a first line (none when empty), with a line of dashes under it if ``rule``;
    ``min_widths``: each column's least width (a column is at least as wide as its widest cell);
    ``gap``: what separates two columns.
    """
    lines = [list(header)] if header else []
    columns = list(zip(*lines, *rows))
    widths = [max([len(cell) for cell in column] + list(min_widths[i:i + 1])) for i, column in enumerate(columns)]
    right = [all(is_number(cell) for cell in column[len(lines):]) for column in columns]

    def line(cells: Sequence[str]) -> str:
        return gap.join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    if header and rule:
        lines.append(["-" * width for width in widths])
    return "\n".join([line(cells) for cells in lines] + [line(row) for row in rows])


def is_number(cell: str) -> bool:
    """Whether a table cell reads as a number (module docstring)."""
    try:
        float(cell.strip("%×").replace(",", ""))
    except ValueError:
        return cell in ("-", "n/a")
    return True
