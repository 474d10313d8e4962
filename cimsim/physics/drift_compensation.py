"""Global drift compensation: one digital gain per matrix that undoes the mean conductance drift.

As aihwkit's ``GlobalDriftCompensation`` (``aihwkit/inference/compensation/drift.py``): at
programming time a fixed probe input, the one-hot vectors (one row driven at a time, the
identity), is read and summarised as the mean absolute output; at every evaluation time the same
probe is read again, and the outputs of the matrix are multiplied by

    α(t) = readout(programming) / readout(t),   readout = max(mean |probe outputs|, 10⁻⁴)

so that the mean drift of the conductances is undone after the ADC, in digital. It restores the
mean, not the spread of ν between cells, nor the read noise (which it does not amplify away).

:class:`~cimsim.crossbar.AnalogMatrix` takes an instance as ``drift_compensation``; it reads the
probe on the analog operand of its arrays (the noise-free current of each cell per unit of DAC
code, read noise drawn per evaluation included), in level units.
"""

from __future__ import annotations

import numpy as np

READOUT_FLOOR = 1e-4
"""Smallest readout (aihwkit's ``clamp(min=0.0001)``): keeps α finite for an all-zero matrix."""


class GlobalDriftCompensation:
    """One gain per matrix from the mean absolute response to one-hot probe inputs."""

    def probe_outputs(self, operand: np.ndarray) -> np.ndarray:
        """The outputs of the probe, the one-hot vectors (one row driven at a time), on ``operand``
        (rows × columns, the current of each cell per unit of code): the k-th one-hot vector reads
        row k, so the outputs are the operand's rows themselves (the identity is not built)."""
        return np.asarray(operand, dtype=np.float64)

    def readout(self, probe_outputs: np.ndarray) -> float:
        """The summary of one probe read: max(mean |outputs|, :data:`READOUT_FLOOR`)."""
        return max(float(np.abs(probe_outputs).mean()), READOUT_FLOOR)

    def readout_of(self, operand: np.ndarray) -> float:
        """The readout of the probe read on ``operand``."""
        return self.readout(self.probe_outputs(operand))

    def gain(self, reference: float, operand: np.ndarray) -> float:
        """α = ``reference`` (the readout at programming time) / the readout of the probe on ``operand`` now."""
        return reference / self.readout_of(operand)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
