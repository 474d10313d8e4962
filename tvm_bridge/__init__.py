"""TVM <-> cimsim: run a TVM model's matrix products on simulated crossbars.

``extract(mod)`` reads the GEMM workload of a Relax module (a ``cimsim.Workload``);
``offload(mod, cfg, seed)`` rewrites every constant-weight matmul and convolution into a call of
the registered functions ``cimsim.matmul`` / ``cimsim.conv2d``, backed by crossbars programmed
once; ``byoc(mod, cfg, seed)`` does the same through TVM's partitioning flow (the ``cimsim``
BYOC backend); ``ledger(mod)`` / ``reset(mod)`` read and clear what the crossbars did, and
``release(mod)`` frees them.
"""

from tvm_bridge.byoc import byoc
from tvm_bridge.extract import extract
from tvm_bridge.offload import ledger, model_of, offload, register, release, reset

__all__ = ["byoc", "extract", "ledger", "model_of", "offload", "register", "release", "reset"]
