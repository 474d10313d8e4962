"""Optional dependencies: the extras of ``pyproject.toml`` and the error that names the one to install.

``import cimsim``, ``AnalogMatrix``, ``simulate`` on a hand-built ``Workload``, ``peak`` and the
commands that need no model (``presets``, ``show``, ``peak``) need only the core dependencies.
The rest asks for an extra: ``tvm`` (``tvm_bridge``, the ``workloads`` zoo, zoo names and ONNX
files as workloads), ``digits`` (``workloads.digits``' data, from scikit-learn), ``dask``
(sweeps on a Dask cluster), ``onnx`` and ``torch`` (the importers), ``data`` (pandas and pyarrow:
``Report.to_dataframe``, ``cimsim.sweep.load``, sweep tables in Parquet). Without it, the route
raises :class:`MissingExtraError` with the ``pip install`` line to run.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from cimsim.errors import ConfigError


class MissingExtraError(ConfigError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it.

    An ``ImportError`` (``import tvm_bridge`` fails as imports fail) and a ``ConfigError`` (the
    ``cimsim`` command prints it as its one-line error).
    """


def missing_extra(what: str, extra: str, cause: ImportError) -> MissingExtraError:
    """The error for ``what`` (a feature, module or argument) needing ``extra``, which ``cause`` showed absent."""
    return MissingExtraError(f"{what}: missing an optional dependency ({cause}); install it with: pip install 'cimsim[{extra}]'")


def optional_import(module: str, what: str, extra: str) -> ModuleType:
    """The module ``module``, imported now; when it is absent, a :class:`MissingExtraError` for ``what`` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(what, extra, exc) from None
