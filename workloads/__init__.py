"""Model zoo written with TVM Relax, plus structured sparsification.

```python
import workloads
workloads.list()                  # ['bert-base-layer', 'gpt2-decode', 'lenet5', 'mlp', ...]
mod = workloads.get("resnet18", batch=1, sparsity="2:4", seed=0)   # tvm.IRModule
mod = workloads.get("bert-base-layer", seq_len=64)
mod = workloads.sparsify(mod, "block:4x4:0.5")
mod = workloads.from_onnx("model.onnx")
mod = workloads.from_torch(torch_model.eval(), (torch.randn(1, 3, 32, 32),))
```

Every model is a Relax function ``main(x)`` of plain ops (``matmul``, ``nn.conv2d``, ``add``,
``nn.relu``, ``nn.gelu``/``gelu_tanh``, pools, ``nn.softmax``, ``nn.layer_norm``, ``reshape``,
``permute_dims``, ``concat``, ``mean``, ``multiply``), float32, with its weights bound as
constants (``tvm.ir.GenericConst``) drawn from ``numpy.random.default_rng(seed)``; nothing is
downloaded. The two ``digits-*`` models are the exception: their weights are trained (see
:mod:`workloads.digits`, which also gives their data), so ``seed`` does not change them. Fully
connected layers are ``matmul(x, W)`` with W a (K, N) constant (no transpose), convolutions NCHW/OIHW, biases separate ``add``s; bindings carry layer names.

Models (``get`` options in brackets):

========================  ================================================================
``mlp``                   784-512-512-10, ReLU; input (batch, 784)
``lenet5``                LeNet-5 on (batch, 1, 28, 28) [``pool="avg"`` or ``"max"``]
``vgg8``                  NeuroSim's CIFAR-10 VGG-8 on (batch, 3, 32, 32)
``resnet18``              ImageNet ResNet-18 on (batch, 3, 224, 224), BN folded, 1.814 G MACs
``bert-base-layer``       one BERT-base encoder layer on (batch, seq_len, 768) [``seq_len=128``]
``gpt2-decode``           GPT-2 small, one decode step on the embedded token (batch, 768)
                          [``kv_len=128``, ``vocab=50257``, ``layers=12``]
``bert-base``             BERT-base's encoder, ``layers`` encoder layers on (batch, seq_len, 768)
                          [``seq_len=128``, ``layers=12``]
``gpt2-small-decode``     GPT-2 small generating ``generated`` tokens after a ``prompt``: the
                          prefill, then one decode step per token over a growing KV cache;
                          input the embedded prompt (batch, prompt, 768); the decode steps
                          take the matrices as parameters (:mod:`workloads.generation`)
                          [``prompt=128``, ``generated=32``, ``vocab=50257``, ``layers=12``]
``digits-mlp``            64-64-10 MLP *trained* on 8x8 handwritten digits; input (batch, 64)
``digits-cnn``            small CNN *trained* on 8x8 digits; input (batch, 1, 8, 8)
========================  ================================================================
"""

from __future__ import annotations

import builtins

import numpy as np

from cimsim.errors import ConfigError
from workloads.importers import from_onnx, from_torch
from workloads.sparsity import parse_sparsity, sparsify, sparsify_pass

# ``list`` is public (``workloads.list()``) but left out of __all__ so that a star import does
# not shadow the builtin.
__all__ = ["from_onnx", "from_torch", "get", "sparsify", "sparsify_pass"]


def _models():
    try:
        from workloads.models import MODELS
    except ImportError as missing:
        if (missing.name or "").partition(".")[0] != "tvm":
            raise
        from cimsim.extras import missing_extra

        raise missing_extra("the workloads zoo", "tvm", missing) from None
    return MODELS


def list() -> builtins.list[str]:  # noqa: A001 - the public name the design asks for
    """Names of the models :func:`get` builds, sorted."""
    return sorted(_models())


def _canonical(name) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"name={name!r} is not allowed: expected one of {list()}")
    key = name.strip().lower().replace("_", "-")
    if key not in _models():
        raise ConfigError(f"name={name!r} is not a known model: expected one of {list()}")
    return key


WORKLOAD_NAME_ATTR = "cimsim.workload"  # the model's name, which tvm_bridge.extract gives the Workload


def get(name: str, batch: int = 1, sparsity: str | None = None, seed=0, **options):
    """Build model ``name`` as a ``tvm.IRModule`` whose entry function ``main(x)`` has its
    weights bound as constants.

    ``batch`` (int >= 1) is the leading dimension of the input; ``sparsity`` is ``None``,
    ``"N:M"`` or ``"block:RxC:fraction"`` (see :mod:`workloads.sparsity`) and prunes every GEMM
    weight; ``seed`` (int >= 0 or a ``numpy.random.Generator``) fixes every weight; ``options``
    are the model's own (``seq_len`` for ``bert-base-layer``; ``seq_len``, ``layers`` for
    ``bert-base``; ``kv_len``, ``vocab``, ``layers`` for ``gpt2-decode``; ``prompt``,
    ``generated``, ``vocab``, ``layers`` for ``gpt2-small-decode``; ``pool`` for ``lenet5``). Bad values raise
    ``cimsim.ConfigError`` naming the argument, the value and what is allowed.
    """
    key = _canonical(name)
    model = _models()[key]
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise ConfigError(f"batch={batch!r} is not allowed: expected an integer >= 1")
    batch = int(batch)
    spec = parse_sparsity(sparsity)
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
        rng = np.random.default_rng(int(seed))
    else:
        raise ConfigError(
            f"seed={seed!r} is not allowed: expected an integer >= 0 or a numpy.random.Generator"
        )
    values = {}
    for opt, value in options.items():
        if opt not in model.options:
            allowed = sorted(model.options) or "none"
            raise ConfigError(
                f"{opt}={value!r} is not an option of model {key!r}: its options are {allowed}"
            )
        if not model.options[opt].check(value):
            raise ConfigError(
                f"{opt}={value!r} is not allowed for model {key!r}: expected "
                f"{model.options[opt].allowed}"
            )
    for opt, spec_opt in model.options.items():
        value = options.get(opt, spec_opt.default)
        values[opt] = int(value) if isinstance(value, np.integer) else value
    return _build(model, batch, spec, rng, values)


def _build(model, batch, spec, rng, values):
    from tvm import relax

    from workloads._graph import F32, Graph

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(tuple(model.input_shape(batch, **values)), F32))
    weights = [relax.Var(name, relax.TensorType(shape, F32)) for name, shape in
               (model.parameters(**values) if model.parameters else [])]
    extra = {"parameters": {v.name: v for v in weights}} if weights else {}
    with bb.function("main", [x, *weights], attrs={"num_input": 1} if weights else None):
        with bb.dataflow():
            g = Graph(bb, rng, spec)
            out = model.build(g, x, batch, **values, **extra)
            gv = bb.emit_output(out)
        bb.emit_func_output(gv)
    return bb.get().with_attr(WORKLOAD_NAME_ATTR, model.name)
