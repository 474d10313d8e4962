"""The one progress bar of cimsim: a tqdm bar on stderr when it is a terminal, quiet when piped."""

from __future__ import annotations

import sys

from tqdm import tqdm


class QuietBar:
    """The bar of :func:`progress_bar` when it is not shown: counts nothing, draws nothing.

    Cheaper than tqdm's disabled bar (~10 µs to make), which ``simulate`` would make for every point of a sweep.
    """

    def update(self, n: int = 1) -> None:
        """Nothing to count."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> QuietBar:
        return self

    def __exit__(self, *exc_info) -> None:
        return None


def progress_bar(total: int, label: str, unit: str, show: bool | None = None, *, done: int = 0,
                 leave: bool = True) -> tqdm | QuietBar:
    """A bar of ``total`` ``unit`` s labelled ``label``, starting at ``done``.

    ``show``: draw it (``None``: when stderr is a terminal); ``leave``: keep it on screen when it closes.
    Use it as a context manager, or ``close()`` it.
    """
    show = sys.stderr.isatty() if show is None else show
    if not show:
        return QuietBar()
    return tqdm(total=total, initial=done, desc=label, unit=unit, disable=not show, leave=leave, dynamic_ncols=True)
