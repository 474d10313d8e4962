"""TVM <-> cimsim: run a TVM model's matrix products on simulated crossbars.

``extract(mod)`` reads the GEMM workload of a Relax module (a ``cimsim.Workload``);
``offload(mod, cfg, seed)`` rewrites every constant-weight matmul and convolution into a call of
the registered functions ``cimsim.matmul`` / ``cimsim.conv2d``, backed by crossbars programmed
once; ``byoc(mod, cfg, seed)`` does the same through TVM's partitioning flow (the ``cimsim``
BYOC backend); ``ledger(mod)`` / ``reset(mod)`` read and clear what the crossbars did, and
``release(mod)`` frees them; ``evaluate(model, (x, y), cfg, seeds, calibration=...)`` measures a
classifier's accuracy over programming seeds (optionally after drift) next to its energy per
inference; ``save(mod, path)`` / ``load(path, mod)`` keep an offloaded module's crossbars in a
file; ``register_mem_compute(chip, seed)`` registers the article's ``mem_compute.matmul(w, x)``.

Needs TVM: without it, importing this package raises ``cimsim.extras.MissingExtraError`` (an
``ImportError``) saying ``pip install 'cimsim[tvm]'``.
"""

try:
    import tvm  # noqa: F401 - every module of the bridge is built on TVM Relax
except ImportError as _missing:
    from cimsim.extras import missing_extra

    raise missing_extra("tvm_bridge", "tvm", _missing) from None

from tvm_bridge.byoc import byoc
from tvm_bridge.evaluate import Evaluation, evaluate, evaluate_over_time
from tvm_bridge.extract import extract
from tvm_bridge.mem_compute import register_mem_compute
from tvm_bridge.offload import ledger, model_of, offload, register, release, reset
from tvm_bridge.saving import load, save

__all__ = ["Evaluation", "byoc", "evaluate", "evaluate_over_time", "extract", "ledger", "load", "model_of", "offload",
           "register", "register_mem_compute", "release", "reset", "save"]
