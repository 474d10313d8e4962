"""Where a workload comes from, by name: a zoo model, an ONNX file, or a saved Workload.

* a name of the zoo (``workloads.list()``): built with TVM Relax, its weights drawn from the
  seed, pruned to ``sparsity``, extracted (``tvm_bridge.extract``);
* a path ending in ``.onnx``: imported through TVM's ONNX frontend (``workloads.from_onnx``, needs
  the ``onnx`` package), pruned, extracted;
* a path ending in ``.json`` (no weights) or ``.npz`` (with weights): a saved
  :class:`~cimsim.workload.Workload`, taken as it is (no sparsity).

Zoo models and ONNX files need TVM (the ``tvm`` extra): this module imports ``workloads`` and
``tvm_bridge`` only when asked for one, so that ``cimsim`` itself imports without TVM; without
it, asking for one is a :class:`~cimsim.extras.MissingExtraError` (a ``ConfigError``) that says
``pip install 'cimsim[tvm]'``. A zoo model's extracted workload is kept in the user cache
(:mod:`cimsim.workload_cache`), so TVM is imported only the first time a model, sparsity and
seed are asked for, and an ONNX file's likewise, keyed by its name, a digest of its bytes and the
sparsity; the zoo's listing (:func:`zoo_catalogue`) never imports it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cimsim.errors import ConfigError, ShapeError
from cimsim.extras import missing_extra
from cimsim.workload import Workload
from cimsim.workload_cache import cached_workload, entry_path

SAVED_SUFFIXES = (".json", ".npz")
ONNX_SUFFIX = ".onnx"
DENSE = "dense"


def is_file_spec(spec: str) -> bool:
    """Does ``spec`` name a file (saved workload or ONNX) rather than a zoo model?"""
    return spec.endswith(SAVED_SUFFIXES + (ONNX_SUFFIX,))


def _tvm_packages(what: str):
    """``workloads`` and ``tvm_bridge``, or the error saying that ``what`` needs the ``tvm`` extra."""
    try:
        import tvm  # noqa: F401 - the zoo and the importers are TVM Relax modules
    except ImportError as exc:
        raise missing_extra(what, "tvm", exc) from None
    import tvm_bridge
    import workloads

    return workloads, tvm_bridge


def zoo_names() -> list[str]:
    """The model zoo's names (building the zoo: needs TVM)."""
    return _tvm_packages("the model zoo")[0].list()


def zoo_catalogue() -> dict[str, str]:
    """The zoo's names, sorted, and a line saying what each model is; imports neither TVM nor a model."""
    from workloads.catalogue import DESCRIPTIONS

    return dict(sorted(DESCRIPTIONS.items()))


def load_saved(path: str | Path) -> Workload:
    """A saved workload (``.json`` without weights, ``.npz`` with them)."""
    path = Path(path)
    try:
        return Workload.load_npz(path) if path.suffix == ".npz" else Workload.from_json(path)
    except ShapeError as exc:  # weights that no crossbar holds (NaN, infinity): the message names the layer
        raise ShapeError(f"workload file '{path}': {exc}") from None
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"workload file '{path}' cannot be loaded: {exc}") from None


def load_workload(spec: str, sparsity: str | None = None, seed: int = 0, base_dir: str | Path = ".") -> Workload:
    """The workload ``spec`` names (module docstring), one inference of it; paths are relative to ``base_dir``."""
    sparsity = None if sparsity in (None, "", DENSE) else sparsity
    if spec.endswith(SAVED_SUFFIXES):
        if sparsity is not None:
            raise ConfigError(f"sparsity = {sparsity!r}: a saved workload ({spec}) is taken as it is; allowed: dense")
        return load_saved(Path(base_dir) / spec)
    if spec.endswith(ONNX_SUFFIX):
        path = Path(base_dir) / spec
        if not path.is_file():
            raise ConfigError(f"workload '{path}': no such ONNX file")
        return cached_workload(onnx_entry_path(path, sparsity), lambda: _extract_onnx(spec, path, sparsity))
    if spec not in zoo_catalogue():
        raise ConfigError(f"workload {spec!r}: allowed: a zoo model ({', '.join(zoo_catalogue())}), "
                          f"an ONNX file (.onnx) or a saved workload ({', '.join(SAVED_SUFFIXES)})")
    return cached_workload(entry_path(spec, 1, sparsity, seed), lambda: _extract_zoo_model(spec, sparsity, seed))


def onnx_entry_path(path: Path, sparsity: str | None) -> Path:
    """Where the workload of the ONNX file ``path`` is cached: keyed by its name and a digest of its bytes
    (an edited file is a new entry; its weights are the file's, so no seed)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return entry_path(f"{path.stem}.onnx-{digest}", 1, sparsity, 0)


def _extract_onnx(spec: str, path: Path, sparsity: str | None) -> Workload:
    """Import the ONNX file ``spec`` (at ``path``) with TVM and extract its workload (one inference)."""
    workloads, tvm_bridge = _tvm_packages(f"workload {spec!r} (a zoo model or an ONNX file)")
    return tvm_bridge.extract(workloads.from_onnx(str(path), sparsity=sparsity), name=_named(path.stem, sparsity))


def _extract_zoo_model(name: str, sparsity: str | None, seed: int) -> Workload:
    """Build the zoo model ``name`` with TVM and extract its workload (one inference)."""
    workloads, tvm_bridge = _tvm_packages(f"workload {name!r} (a zoo model or an ONNX file)")
    return tvm_bridge.extract(workloads.get(name, batch=1, sparsity=sparsity, seed=seed), name=_named(name, sparsity))


def _named(name: str, sparsity: str | None) -> str:
    """The workload's name: the model's, with its sparsity when pruned ("resnet18 2:4")."""
    return name if sparsity is None else f"{name} {sparsity}"
