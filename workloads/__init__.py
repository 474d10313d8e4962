"""Model zoo written with TVM Relax, plus N:M sparsification.

Not written yet: the zoo arrives with the TVM bridge issue. The package exists so that the
distribution's layout (DESIGN.md) is in place from the first release.
"""
