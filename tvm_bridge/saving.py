"""Offloaded crossbars on disk: ``save(mod, path, source=None)`` and ``load(path, mod=None)``.

``save`` writes one ``.npz`` (numpy's zip of arrays; read with ``allow_pickle=False``, written
atomically) holding every crossbar programmed for a module that :func:`~tvm_bridge.offload`
rewrote, each as the bytes of its own ``AnalogMatrix.save`` file (cell levels, programmed
conductances, drift exponents, ADC errors, calibration, time since programming, read streams:
:mod:`cimsim.physics.matrix_file`), plus the chip (TOML), the model's base seed, each product's
name, its number of crossbars and of calls, and, if given, the model's source spec. Keys:
``format`` (``"cimsim.tvm_bridge.offloaded"``), ``format_version`` (1), ``config_toml``,
``base_seed``, ``source_json``, ``product_names``, ``product_matrices``, ``product_calls`` and
``matrix.<product>.<group>`` (uint8 bytes).

**The Relax module itself is not in the file.** In apache-tvm 0.27.0.post1 the IR serialiser
(``tvm.ir.save_json``, ``tvm_ffi.serialization.to_json_graph_str``) ends the process with a
segmentation fault in ``tvm::ffi::ToJSONGraph`` on every Relax module, a one-``add`` function
included, and TVMScript text would have to go through TVMScript's parser, which evaluates the
text as Python: a loader must not run code from a file. So ``load`` rebuilds the callable module
by running the offload pass again on the original module (``mod``, rebuilt by the caller from
its source: ``workloads.get(...)``, ``workloads.from_onnx(...)``, ...; or, when ``mod`` is not
given, ``workloads.get(**source)`` with the ``source`` saved), with the saved crossbars in place
of newly programmed ones. Each product of ``mod`` must be the saved one: same kind, in the same
order, with weights that quantise to the integer weights its crossbars hold, else a
``ConfigError`` naming the file and the product. Modules from :func:`~tvm_bridge.byoc` are
refused (their functions are code-generated per process). The loaded module's ledger starts at
zero; its crossbars read as the saved ones would have.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tvm
from tvm import relax

import cimsim
from cimsim.errors import ConfigError, ShapeError
from cimsim.fileio import atomic_write
from cimsim.physics.mapping import kept_rows, quantize_weights
from cimsim.physics.matrix_file import check_format, checked_array, chip_config, member, read_members
from tvm_bridge.offload import MODEL_ATTR, Conv2D, OffloadedModel, Product, model_of, new_model, rewrite

FORMAT = "cimsim.tvm_bridge.offloaded"
FORMAT_VERSION = 1


def save(mod: tvm.IRModule, path: str | os.PathLike[str], source: Mapping | None = None) -> Path:
    """Write the crossbars of the offloaded ``mod`` to ``path`` (module docstring).

    ``source``: the keyword arguments of ``workloads.get`` that build the original module
    (``{"name": "lenet5", "batch": 8, "sparsity": "2:4:rows", "seed": 0}``), kept so that
    ``load(path)`` can rebuild it; None to give the module to :func:`load` instead.
    """
    model = model_of(mod)
    if any(symbol.endswith(f"_cimsim{int(mod.attrs[MODEL_ATTR])}") for symbol in _extern_symbols(mod)):
        raise ConfigError("tvm_bridge.save: a module from tvm_bridge.byoc cannot be saved; "
                          "offload it with tvm_bridge.offload(mod, cfg, seed) and save that")
    arrays = {
        "format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
        "config_toml": np.array(model.cfg.to_toml()), "base_seed": np.array(model.base_seed, dtype=np.uint64),
        "source_json": np.array(_source_json(source, mod)),
        "product_names": np.array([p.name for p in model.products], dtype=str),
        "product_matrices": np.array([len(p.matrices) for p in model.products], dtype=np.int64),
        "product_calls": np.array([p.calls for p in model.products], dtype=np.int64),
    }
    for i, product in enumerate(model.products):
        for j, matrix in enumerate(product.matrices):
            buffer = io.BytesIO()
            matrix.save(buffer)
            arrays[f"matrix.{i}.{j}"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    return atomic_write(Path(path), lambda handle: np.savez(handle, **arrays))


def load(path: str | os.PathLike[str], mod: tvm.IRModule | None = None) -> tvm.IRModule:
    """The offloaded module of the file ``path``: ``mod`` (or the saved source) rewritten onto the saved crossbars."""
    name = str(path)
    members = read_members(path, name)
    check_format(members, name, FORMAT, FORMAT_VERSION)
    names = [str(v) for v in member(members, "product_names", name).reshape(-1)]
    counts = checked_array(members, "product_matrices", name, "i", (len(names),))
    calls = checked_array(members, "product_calls", name, "i", (len(names),))
    if mod is None:
        mod = _from_source(members, name)
    elif not isinstance(mod, tvm.IRModule):
        raise ConfigError(f"tvm_bridge.load: mod must be a tvm.IRModule (the module before offload), got {type(mod).__name__}")
    model, model_id = new_model(chip_config(members, name), int(checked_array(members, "base_seed", name, "u", ())),
                                RestoredModel)
    model.file, model.saved_names = name, names
    model.saved = [[_matrix(members, f"matrix.{i}.{j}", name) for j in range(int(count))] for i, count in enumerate(counts)]
    rewritten = rewrite(mod, model, model_id, activations_on_crossbar=bool((counts == 0).any()))
    found = [product.name for product in model.products]
    if found != names:
        raise ConfigError(f"{name}: the module's products are {_listed(found)}, the saved ones {_listed(names)}: "
                          "give the module the crossbars were saved from")
    for product, count in zip(model.products, calls):
        product.calls = int(count)
    return rewritten


@dataclass
class RestoredModel(OffloadedModel):
    """An offloaded model whose products take the saved crossbars, in order, instead of programming new ones."""

    file: str = ""
    saved_names: list[str] = field(default_factory=list)
    saved: list[list[cimsim.AnalogMatrix]] = field(default_factory=list)

    def program(self, name: str, weights: list[np.ndarray], conv: Conv2D | None = None, variable: str = "") -> Product:
        """The saved crossbars of the next product, after checking that ``weights`` are the ones they hold
        (``variable``, the Relax variable, is not needed: the file's product names say which)."""
        index = len(self.products)
        expected = self.saved_names[index] if index < len(self.saved_names) else "nothing"
        if expected != f"{name}_{index}" or len(self.saved[index]) != len(weights):
            raise ConfigError(f"{self.file}: product {index} of the module is a {name} of {len(weights)} crossbar(s); "
                              f"the file holds {expected} there: give the module the crossbars were saved from")
        for group, (matrix, w) in enumerate(zip(self.saved[index], weights)):
            if not holds(matrix, w):
                raise ConfigError(f"{self.file}: product {expected} (group {group}): the module's weights, shape {w.shape}, "
                                  f"do not quantise to those its crossbars hold, shape {matrix.shape}: give the module "
                                  "they were saved from")
        product = Product(expected, self.saved[index], conv)
        self.products.append(product)
        return product


def holds(matrix: cimsim.AnalogMatrix, weights: np.ndarray) -> bool:
    """Do ``weights`` (K×N) quantise to the rows and integer weights ``matrix`` stores (at its scale)?"""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != matrix.shape:
        return False
    rows = kept_rows(w, matrix.cfg)
    if (rows is None) != (matrix.rows_kept is None) or (rows is not None and not np.array_equal(rows, matrix.rows_kept)):
        return False
    mapping = matrix.cfg.mapping
    w_q, scale = quantize_weights(w if rows is None else w[rows], mapping.weight_bits, mapping.weight_scale == "column")
    return np.array_equal(w_q, matrix.layout.w_q) and np.array_equal(scale, matrix.layout.scale)


def _matrix(members, key: str, name: str) -> cimsim.AnalogMatrix:
    data = checked_array(members, key, name, "u")
    try:
        return cimsim.AnalogMatrix.load(io.BytesIO(data.tobytes()))
    except (ConfigError, ShapeError) as exc:
        raise type(exc)(f"{name}: key '{key}': {exc}") from None


def _source_json(source: Mapping | None, mod: tvm.IRModule) -> str:
    """``source`` as JSON text ("" for None), checked: ``workloads.get`` arguments naming the module's model."""
    if source is None:
        return ""
    if not isinstance(source, Mapping) or not isinstance(source.get("name"), str):
        raise ConfigError(f"source = {source!r}: give the keyword arguments of workloads.get, with 'name'")
    model_name = mod.attrs.get("cimsim.workload") if mod.attrs is not None else None
    if model_name is not None and str(model_name) != source["name"]:
        raise ConfigError(f"source: name = {source['name']!r}, but the module was built as {str(model_name)!r}")
    try:
        return json.dumps(dict(source), sort_keys=True)
    except TypeError as exc:
        raise ConfigError(f"source = {source!r}: only JSON values can be saved ({exc})") from None


def _from_source(members, name: str) -> tvm.IRModule:
    import workloads  # the zoo, only when a module is rebuilt from its source

    text = str(member(members, "source_json", name))
    if not text:
        raise ConfigError(f"{name}: saved without a source: give the module, tvm_bridge.load(path, mod)")
    return workloads.get(**json.loads(text))


def _extern_symbols(mod: tvm.IRModule) -> set[str]:
    """The external functions the module's Relax functions call."""
    found: set[str] = set()

    def visit(expr) -> None:
        if isinstance(expr, relax.ExternFunc):
            found.add(str(expr.global_symbol))

    for _, func in mod.functions_items():
        if isinstance(func, relax.Function):
            relax.analysis.post_order_visit(func, visit)
    return found


def _listed(names: list[str]) -> str:
    return f"[{', '.join(names[:6])}{', ...' if len(names) > 6 else ''}] ({len(names)})"
