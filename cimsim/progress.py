"""The one progress bar of cimsim: a tqdm bar on stderr when it is a terminal, quiet when piped."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress_bar(total: int, label: str, unit: str, show: bool | None = None, *, done: int = 0,
                 leave: bool = True) -> tqdm:
    """A bar of ``total`` ``unit`` s labelled ``label``, starting at ``done``.

    ``show``: draw it (``None``: when stderr is a terminal); ``leave``: keep it on screen when it closes.
    Use it as a context manager, or ``close()`` it.
    """
    show = sys.stderr.isatty() if show is None else show
    return tqdm(total=total, initial=done, desc=label, unit=unit, disable=not show, leave=leave, dynamic_ncols=True)
