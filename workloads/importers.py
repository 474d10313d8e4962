"""Import users' models into Relax through TVM's own frontends: ONNX files and PyTorch programs.

Both importers return what :func:`workloads.get` returns: a ``tvm.IRModule`` whose entry
function ``main`` takes the model's inputs and has every weight bound as a constant
(``tvm.ir.GenericConst``), so that ``tvm_bridge.extract`` sees the weights and
``tvm_bridge.offload`` programs them; ``sparsity`` prunes those weights as in :func:`get`.
The frontends are optional packages (extras ``cimsim[onnx]`` and ``cimsim[torch]``); a missing
one is a ``cimsim.ConfigError`` that says what to install.
"""

from __future__ import annotations

import importlib
import os
import reprlib
import warnings

from cimsim.errors import ConfigError
from workloads.sparsity import parse_sparsity, sparsify

__all__ = ["from_onnx", "from_torch"]

#: The only torch release the project installs: its CPU wheel; any other spec pulls a CUDA build.
TORCH_REQUIREMENT = "torch==2.13.0"


def _require(package: str, requirement: str, importer: str):
    """Import ``package``, or raise a ConfigError telling how to install ``requirement``."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise ConfigError(
            f"{importer} needs the {package!r} package, which is not installed: pip install {requirement}"
        ) from exc


def from_onnx(path_or_model, shape_dict=None, sparsity=None):
    """Import an ONNX model (a path or an ``onnx.ModelProto``) as a Relax ``IRModule`` with
    its weights bound as constants (entry ``main``), through
    ``tvm.relax.frontend.onnx.from_onnx``; optionally prune it (``sparsity`` as in
    :func:`get`).

    ``shape_dict`` maps input names to shapes (needed when the model's inputs have symbolic
    dimensions). Needs the ``onnx`` package (``pip install onnx``); without it, raises
    ``cimsim.ConfigError``.
    """
    spec = parse_sparsity(sparsity)
    onnx = _require("onnx", "onnx", "from_onnx")
    from tvm.relax.frontend.onnx import from_onnx as _from_onnx

    if isinstance(path_or_model, str | os.PathLike):
        path = os.fspath(path_or_model)
        if not os.path.isfile(path):
            raise ConfigError(
                f"path_or_model={path!r} is not allowed: no such file (expected an .onnx file "
                "or an onnx.ModelProto)"
            )
        try:
            model = onnx.load(path)
        except Exception as exc:  # noqa: BLE001 - protobuf raises several kinds
            raise ConfigError(
                f"path_or_model={path!r} is not allowed: not a readable ONNX model ({exc})"
            ) from exc
    elif isinstance(path_or_model, onnx.ModelProto):
        model = path_or_model
    else:
        raise ConfigError(
            f"path_or_model={type(path_or_model).__name__} is not allowed: expected a path to "
            "an .onnx file or an onnx.ModelProto"
        )
    if shape_dict is not None and not isinstance(shape_dict, dict):
        raise ConfigError(
            f"shape_dict={shape_dict!r} is not allowed: expected a dict of input name -> shape"
        )
    try:
        onnx.checker.check_model(model)
        mod = _from_onnx(model, shape_dict=shape_dict, keep_params_in_input=False)
    except Exception as exc:  # noqa: BLE001 - onnx's checker and TVM's frontend raise many kinds
        raise ConfigError(f"path_or_model: not an ONNX model TVM can import ({type(exc).__name__}: {exc})") from exc
    return sparsify(mod, spec)


def from_torch(model_or_exported_program, example_inputs=None, *, sparsity=None):
    """Import a PyTorch model as a Relax ``IRModule`` with its weights bound as constants,
    through ``torch.export`` and ``tvm.relax.frontend.torch.from_exported_program``;
    optionally prune it (``sparsity`` as in :func:`get`).

    ``model_or_exported_program`` is a ``torch.nn.Module``, exported here as
    ``torch.export.export(model, example_inputs)`` (``example_inputs``: a tensor or a tuple of
    the ``forward`` arguments, whose shapes become the static input shapes of ``main``), or a
    ``torch.export.ExportedProgram`` (``example_inputs`` must then be None). The model is
    exported as it is: call ``model.eval()`` first for inference (dropout, batch norm).
    ``main`` takes the ``forward`` arguments under their names and returns a tensor when
    ``forward`` returns one, a tuple otherwise. Layers become plain Relax ops:
    ``nn.Linear`` is ``matmul(x, permute_dims(W))`` plus a bias ``add``, ``nn.Conv2d`` an NCHW
    ``conv2d``.

    Needs ``torch`` (``pip install torch==2.13.0``, extra ``cimsim[torch]``); without it, raises
    ``cimsim.ConfigError``, as it does for a bad argument, a model that ``torch.export``
    cannot export with ``example_inputs``, or operators TVM's frontend cannot convert.
    """
    spec = parse_sparsity(sparsity)
    torch = _require("torch", TORCH_REQUIREMENT, "from_torch")
    from tvm.relax.frontend.torch import from_exported_program

    with warnings.catch_warnings():
        # torch 2.13 warns about its own use of a deprecated pytree API on every export
        warnings.filterwarnings("ignore", r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning)
        program = _exported_program(torch, model_or_exported_program, example_inputs)
        try:
            mod = from_exported_program(program, keep_params_as_input=False, unwrap_unit_return_tuple=True)
        except AssertionError as exc:  # the frontend asserts that it knows every operator
            raise ConfigError(
                f"model_or_exported_program is not allowed: TVM's torch frontend cannot convert it ({exc})"
            ) from exc
    return sparsify(mod, spec)


def _exported_program(torch, model, example_inputs):
    """``model`` if it is an ExportedProgram, else ``torch.export.export(model, example_inputs)``."""
    if isinstance(model, torch.export.ExportedProgram):
        if example_inputs is not None:
            raise ConfigError(
                "example_inputs is not allowed with an ExportedProgram (it was exported with its "
                "own inputs): pass None"
            )
        return model
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(
            f"model_or_exported_program={type(model).__name__} is not allowed: expected a "
            "torch.nn.Module or a torch.export.ExportedProgram"
        )
    args = _example_args(torch, example_inputs)
    try:
        return torch.export.export(model, args)
    except Exception as exc:  # noqa: BLE001 - torch.export raises many kinds
        raise ConfigError(
            f"example_inputs is not allowed: torch.export.export of the {type(model).__name__} "
            f"with them failed ({type(exc).__name__}: {exc})"
        ) from exc


def _example_args(torch, example_inputs) -> tuple:
    """``example_inputs`` as the tuple of positional arguments ``torch.export.export`` takes."""
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, tuple | list) and example_inputs:
        return tuple(example_inputs)
    raise ConfigError(
        f"example_inputs={reprlib.repr(example_inputs)} is not allowed with a torch.nn.Module: expected a "
        "torch.Tensor or a non-empty tuple of the forward arguments"
    )
