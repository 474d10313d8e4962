"""TVM <-> cimsim: GEMM extraction, the offload pass, BYOC codegen, registered functions.

Not written yet: it arrives with the TVM bridge issue. The package exists so that the
distribution's layout (DESIGN.md) is in place from the first release.
"""
