"""The programmed cells of a matrix and what reads use of them at the present device time.

:class:`ProgrammedState` is the programming-and-state half of :class:`cimsim.AnalogMatrix`: a
matrix holds its levels and the generator states its programming drew from (or, loaded from a
file, the cells themselves), draws its cells again a chunk of rows at a time whenever the device
time changes (:meth:`ProgrammedState.drift_to`), and keeps only the read operands of
:mod:`cimsim.physics.read_operands`. The reading half, the layout and the counting are
:mod:`cimsim.crossbar`'s.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import fields

import numpy as np

from cimsim.errors import ConfigError
from cimsim.physics import device
from cimsim.physics.drift_compensation import GlobalDriftCompensation
from cimsim.physics.read_operands import read_operands


class ProgrammedState:
    """The device state of a programmed matrix (module docstring); :class:`cimsim.AnalogMatrix` is one.

    Expects of the matrix: ``cfg``, ``_cell_map`` (a :class:`~cimsim.physics.read_operands.CellMap`),
    ``_cell_source`` (:class:`~cimsim.physics.device.DrawStates` or
    :class:`~cimsim.physics.device.ProgrammedCells`), ``_noise_key``, ``drift_compensation`` and
    ``_drift_reference``.
    """

    def _cell_chunks(self) -> Iterator[tuple[slice, device.ProgrammedCells]]:
        """The programmed cells, a chunk of whole row blocks at a time (drawn again, or the loaded ones)."""
        source, rows_per_chunk = self._cell_source, self._cell_map.rows_per_chunk
        if isinstance(source, device.DrawStates):
            yield from device.programmed_rows(source, self._cell_map.target_us, self.cfg.device, rows_per_chunk)
            return
        for rows in device.row_chunks(source.g_prog_us.shape[0], rows_per_chunk):
            yield rows, device.ProgrammedCells(*(getattr(source, f.name)[rows] for f in fields(source)))

    @property
    def cells(self) -> device.ProgrammedCells:
        """The programmed state of every cell (stored rows × physical columns), assembled on demand:
        a programmed matrix holds only the generator states it draws them from (a loaded one, the
        cells its file held)."""
        chunks = [chunk for _, chunk in self._cell_chunks()]
        return device.ProgrammedCells(*(np.concatenate([getattr(c, f.name) for c in chunks])
                                        for f in fields(device.ProgrammedCells)))

    def drift_to(self, t_s: float) -> None:
        """Let the cells drift to time ``t_s`` (s, counted as ``device.drift_clock`` says; reads use
        G(t) from now on).

        With ``device.read_noise_draw = "per_evaluation"`` each cell's read noise is drawn here,
        once, from a stream keyed by the seed and ``t_s``, and kept for every read until the next
        call. With a drift compensation, :attr:`drift_gain` is the probe's ratio at ``t_s``.
        """
        if isinstance(t_s, bool) or not (isinstance(t_s, numbers.Real) and math.isfinite(t_s) and t_s >= 0):
            raise ConfigError(f"drift_to: t_s = {t_s!r} is not allowed; give a finite time >= 0 in seconds")
        self.t_s = float(t_s)
        self._operand = self._read_var = None  # the last time's operands go before this time's are built
        evaluation = None
        if self.cfg.device.read_noise_draw == "per_evaluation":
            evaluation = np.random.default_rng([int(self._noise_key), int(np.float64(self.t_s).view(np.uint64))])
        reads = read_operands(self._cell_map, self._cell_chunks(), self.t_s, evaluation)
        self._row_loads, self._operand, self._product_dtype = reads.row_loads, reads.operand, reads.product_dtype
        self._read_var, self._constant_read_var = reads.read_var, reads.constant_read_var
        self._scratch: dict[str, np.ndarray] = {}
        self.drift_gain = 1.0
        if self.drift_compensation is not None:
            if self._drift_reference is None:
                self._drift_reference = self.drift_compensation.readout_of(self._operand)
            self.drift_gain = self.drift_compensation.gain(self._drift_reference, self._operand)

    def set_drift_compensation(self, compensation: GlobalDriftCompensation | None) -> None:
        """Turn the global drift compensation on (``compensation``) or off (None) at the present time.

        Its reference is the probe's readout at programming time (t = 0, with the read noise that
        time draws under ``device.read_noise_draw = "per_evaluation"``), whenever it is turned on;
        :attr:`drift_gain` is then the ratio at :attr:`t_s`, and 1 when turned off.
        """
        self.drift_compensation = checked_compensation(compensation)
        self._drift_reference = None
        t_s = self.t_s
        if compensation is not None and t_s != 0.0:
            self.drift_to(0.0)  # takes the reference at programming time
        self.drift_to(t_s)


def checked_compensation(compensation):
    """``compensation`` if it is None or a GlobalDriftCompensation; else a ConfigError."""
    if compensation is not None and not isinstance(compensation, GlobalDriftCompensation):
        raise ConfigError(f"drift_compensation: got {compensation!r}; allowed: None or a "
                          "cimsim.physics.drift_compensation.GlobalDriftCompensation")
    return compensation
