"""A user cache of the zoo's extracted workloads, so that a zoo name loads without TVM the second time.

Building a zoo model and extracting its :class:`~cimsim.workload.Workload` imports TVM (seconds:
TVM's FFI imports torch) and builds the Relax module; the result depends only on cimsim's
version, the model, the batch, the sparsity and the seed of the weights. An ONNX file's
workload is kept the same way, its model named by the file's name and a digest of its bytes
(:func:`cimsim.workload_loader.onnx_entry_path`). Each entry is the
workload's own ``.npz`` format (:meth:`~cimsim.workload.Workload.save_npz`: operations as JSON,
weights as arrays, no pickle), written atomically, at::

    <cache dir>/<cimsim version>/<model>-b<batch>-<sparsity>-s<seed>-<digest>.npz

The cache directory is ``$CIMSIM_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/cimsim``, else
``~/.cache/cimsim``. An entry that cannot be read (truncated, corrupt, from another format) is
rebuilt and overwritten, never fatal; a cache that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from cimsim.errors import ConfigError, ShapeError
from cimsim.workload import Workload

CACHE_DIR_VARIABLE = "CIMSIM_CACHE_DIR"
UNREADABLE = (ConfigError, ShapeError, zipfile.BadZipFile, EOFError, OSError, ValueError)
"""What reading a damaged entry raises; the entry is then rebuilt."""


def cache_dir() -> Path:
    """The cache's root directory (module docstring)."""
    chosen = os.environ.get(CACHE_DIR_VARIABLE)
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "cimsim"


def entry_path(model: str, batch: int, sparsity: str | None, seed: int) -> Path:
    """Where the workload of ``model`` at ``batch``, ``sparsity`` (None: dense) and ``seed`` is cached."""
    from cimsim import __version__

    key = f"{model}|{batch}|{sparsity or 'dense'}|{seed}"
    readable = re.sub(r"[^A-Za-z0-9.]+", "-", f"{model}-b{batch}-{sparsity or 'dense'}-s{seed}")
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_dir() / __version__ / f"{readable}-{digest}.npz"


def cached_workload(path: Path, build: Callable[[], Workload]) -> Workload:
    """The workload cached at ``path``; built with ``build()`` and stored there when absent or unreadable."""
    if path.is_file():
        try:
            return Workload.load_npz(path)
        except UNREADABLE:
            pass  # a damaged entry: rebuilt below and overwritten
    workload = build()
    try:
        workload.save_npz(path)
    except OSError:
        pass  # a read-only or full cache: the workload is still returned, only not kept
    return workload
