"""TVM <-> cimsim: run a TVM model's matrix products on simulated crossbars.

``offload(mod, cfg, seed)`` rewrites every constant-weight matmul of a Relax module into a call
of the registered function ``cimsim.matmul``, backed by crossbars programmed once;
``ledger(mod)`` / ``reset(mod)`` read and clear what they did. Extraction of the GEMM workload
and the BYOC route are being built (see the TVM bridge issue).
"""

from tvm_bridge.offload import ledger, model_of, offload, register, reset

__all__ = ["ledger", "model_of", "offload", "register", "reset"]
