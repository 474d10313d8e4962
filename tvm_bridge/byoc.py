"""The BYOC route: cimsim as one more TVM backend, ``byoc(mod, cfg, seed)``.

For users of TVM's partitioning flow: ``FuseOpsByPattern`` (after ``ConvertToDataflow``) groups
each product with a constant 2-D weight, or an NCHW/OIHW convolution kernel (and its bias and
ReLU) into a composite function annotated for the ``cimsim`` codegen — patterns ``cimsim.dense``,
``cimsim.dense_bias``, ``cimsim.dense_bias_relu``, ``cimsim.conv2d``, ``cimsim.conv2d_bias``,
``cimsim.conv2d_bias_relu`` — and ``RunCodegen`` hands them to the codegen ``relax.ext.cimsim``
registered here. The codegen programs every constant onto crossbars (the same
:class:`~tvm_bridge.offload.Product` objects as :func:`~tvm_bridge.offload.offload`, seeded the
same way, so both routes give the same numbers for the products both take) and registers, under
each function's symbol, an interpreter that runs the function with numpy and the crossbars. It
returns no compiled module: TVM's VM finds the symbols in the registry. Symbols are made unique
per call of ``byoc``, so several such modules can live in one process. TVM folds structurally
identical fused functions into one, so within a module two products with the same weights and
the same fused ops share one crossbar here (``offload`` programs two).
"""

from __future__ import annotations

import importlib

import numpy as np
import tvm
from tvm import relax
from tvm.relax.dpl import is_const, is_op, wildcard
from tvm.relax.transform import FusionPattern

import cimsim
from cimsim.errors import ConfigError, ShapeError
from tvm_bridge._relax import binding_map, constant_value, op_name

routes = importlib.import_module("tvm_bridge.offload")  # the module: the package exports a function by that name

_PENDING: list[routes.OffloadedModel] = []


def patterns() -> list[FusionPattern]:
    """cimsim's fusion patterns, larger first; each accepts only what the crossbars can hold."""
    weight = is_const() | is_op("relax.permute_dims")(is_const())
    found = []
    for kind, op in (("dense", "relax.matmul"), ("conv2d", "relax.nn.conv2d")):
        product = is_op(op)(wildcard(), weight)
        bias = is_op("relax.add")(product, is_const())
        relu = is_op("relax.nn.relu")(bias)
        for suffix, pattern in (("_bias_relu", relu), ("_bias", bias), ("", product)):
            found.append(FusionPattern(f"cimsim.{kind}{suffix}", pattern, {"root": product}, _supported))
    return found


def _supported(context) -> bool:
    """A 2-D constant weight and a static input for a matmul; NCHW/OIHW for a convolution."""
    root = context.annotated_expr["root"]
    if routes.static_shape(root.args[0]) is None:
        return False
    if op_name(root) == "relax.nn.conv2d":
        a = root.attrs
        return (a.data_layout, a.kernel_layout, a.out_layout) == ("NCHW", "OIHW", "NCHW")
    weight_shape = routes.static_shape(root.args[1])
    return weight_shape is not None and len(weight_shape) == 2


def register_codegen() -> None:
    """Register ``relax.ext.cimsim`` (idempotent)."""
    tvm.register_global_func("relax.ext.cimsim", _codegen, override=True)


def byoc(mod: tvm.IRModule, cfg: cimsim.ChipConfig, seed: int | np.random.Generator = 0) -> tvm.IRModule:
    """``mod`` partitioned for the ``cimsim`` backend and code-generated (module docstring)."""
    if not isinstance(mod, tvm.IRModule):
        raise ConfigError(f"byoc: expected a tvm.IRModule, got {type(mod).__name__}")
    model, model_id = routes.new_model(cfg, seed)
    routes.register()
    register_codegen()
    partitioned = relax.transform.ConvertToDataflow()(mod)  # patterns match inside dataflow blocks only
    partitioned = relax.transform.FuseOpsByPattern(patterns(), bind_constants=True, annotate_codegen=True)(partitioned)
    partitioned = _unique_symbols(partitioned, model_id)
    _PENDING.append(model)
    try:
        generated = relax.transform.RunCodegen()(partitioned)
    finally:
        _PENDING.pop()
    return generated.with_attr(routes.MODEL_ATTR, model_id)


def _unique_symbols(mod: tvm.IRModule, model_id: int) -> tvm.IRModule:
    for gv, func in mod.functions_items():
        if isinstance(func, relax.Function) and func.attrs is not None and "Codegen" in func.attrs:
            mod[gv] = func.with_attr("global_symbol", f"{func.attrs['global_symbol']}_cimsim{model_id}")
    return mod


def _codegen(functions, options, constant_names):
    if not _PENDING:
        raise ConfigError("the cimsim backend programs crossbars for a configuration: partition with tvm_bridge.byoc")
    model = _PENDING[-1]
    for function in functions:
        interpreter = _Interpreter(function, model)
        tvm.register_global_func(str(function.attrs["global_symbol"]), interpreter, override=True)
    return []


class _Interpreter:
    """Runs one partitioned function with numpy, its products on crossbars programmed at codegen."""

    def __init__(self, function: relax.Function, model: routes.OffloadedModel):
        self.function, self.model = function, model
        self.products: dict[relax.Call, routes.Product] = {}
        self._program(function)

    def _program(self, function: relax.Function) -> None:
        bindings = binding_map(function)
        for binding in _bindings(function):
            value = binding.value
            if isinstance(value, relax.Function):
                self._program(value)
            elif op_name(value) == "relax.matmul":
                weights = constant_value(value.args[1], bindings)
                self.products[value] = routes.matmul_product(self.model, weights, binding.var.name)
            elif op_name(value) == "relax.nn.conv2d":
                weights = constant_value(value.args[1], bindings)
                self.products[value] = routes.conv2d_product(self.model, value, weights, binding.var.name)

    def __call__(self, *args) -> None:
        """``(*inputs, out)`` as TVM's VM passes them; a direct call with wrong shapes is a ShapeError."""
        symbol = str(self.function.attrs["global_symbol"])
        params = list(self.function.params)
        if len(args) != len(params) + 1:
            raise ShapeError(f"{symbol}: {len(args)} arguments given, expected {len(params) + 1} "
                             f"({', '.join(p.name for p in params)}, out)")
        *inputs, out = [routes.tensor_argument(symbol, name, value)
                        for name, value in zip([*(p.name for p in params), "out"], args)]
        for param, value in zip(params, inputs):
            routes.require_shape(symbol, param.name, value.shape, routes.static_shape(param))
        routes.require_shape(symbol, "out", out.shape, routes.static_shape(self.function.body))
        routes.write(out, self._run(self.function, inputs))

    def _run(self, function: relax.Function, args: list[np.ndarray]) -> np.ndarray:
        env = dict(zip(function.params, args))
        for binding in _bindings(function):
            env[binding.var] = binding.value if isinstance(binding.value, relax.Function) else self._eval(binding.value, env)
        return self._eval(function.body.body, env)

    def _eval(self, expr, env):
        if isinstance(expr, relax.Var):
            return env[expr]
        constant = constant_value(expr)
        if constant is not None:
            return constant
        if isinstance(expr.op, relax.Var):  # a call of a local (composite) function
            return self._run(env[expr.op], [self._eval(a, env) for a in expr.args])
        args = [self._eval(a, env) for a in expr.args]
        if expr in self.products:
            return routes.read_product(self.model, self.products[expr], args[0])
        name = op_name(expr)
        if name == "relax.add":
            return args[0] + args[1]
        if name == "relax.nn.relu":
            return np.maximum(args[0], 0)
        if name == "relax.permute_dims":
            axes = expr.attrs.axes
            return np.transpose(args[0], None if axes is None else [int(a) for a in axes])
        raise ConfigError(f"the cimsim backend cannot run {name} inside a partitioned function")


def _bindings(function: relax.Function):
    for block in function.body.blocks:
        yield from block.bindings
