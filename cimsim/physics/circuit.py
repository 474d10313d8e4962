"""IR drop solved: the exact nodal equations of one crossbar array, folded into effective conductances.

**The circuit** (one array, ``rows`` × ``cols`` cells; R_w = ``array.wire_resistance_ohm``):

* row r is driven at its column-0 end by a voltage source V_r through R_w + R_drv
  (``array.driver_resistance_ohm``), then one segment R_w between neighbouring cells along
  the row; the row wire ends after the last column;
* column c runs down the array, one segment R_w between neighbouring cells, and is held at
  virtual ground after the last row through R_w + R_sense (``array.sense_resistance_ohm``);
* the cell at (r, c) joins row r's node at column c to column c's node at row r through its
  conductance G in series with R_acc (``array.access_resistance_ohm``): y = G / (1 + G·R_acc).

A single conducting cell therefore sees n = (c + 1) + (rows − r) wire segments in series, the
first-order formula ``G / (1 + G·R_w·n)`` (``array.ir_drop = "first_order"``), which the
solved model reproduces exactly for one cell. With every cell conducting, the other cells'
currents crowd the shared wires and the drop grows far beyond it.

**Effective conductances.** Ohmic cells make the column currents linear in the row voltages:
``I = V @ G_eff`` for any V, where ``G_eff[r, c]`` is the current into column c's ground per volt
on row r with every other row at 0 V (superposition). :func:`effective_conductance_us` computes
G_eff once per array and device state, so reads with solved IR drop stay one BLAS product.

**How it is solved: direct block elimination, no iteration.** The nodal matrix is symmetric
positive definite and block tridiagonal when nodes are ordered by row: row r's row-wire nodes
form a tridiagonal chain, coupled only to row r's column nodes (through the cells), and those
couple only to the column nodes of rows r ± 1 (through one column segment each).

1. Each row chain is eliminated by a tridiagonal (Thomas) solve with cols + 1 right-hand sides
   (numba, :func:`row_chain`), giving the admittance F_r (cols × cols, dense) that the cells and
   the row wire present to the column nodes of row r with the driver at 0 V, and the current
   h_r injected into those nodes per volt on row r.
2. The column wires are then eliminated from the top row down (block forward elimination): looking
   up from row r's column nodes the array above is a Norton equivalent, admittance E_r and
   currents J_r (one column per driven row). Through one segment R_w it becomes
   ``(I + R_w·E_r)⁻¹ E_r`` and ``(I + R_w·E_r)⁻¹ J_r``, to which row r + 1 adds F_{r+1} and h_{r+1};
   the last row's currents reach ground through R_w + R_sense the same way. The loop carries
   A_r = I + R_w·E_r itself: with T = A_r⁻¹ (which commutes with E_r, so T·E_r = (I − T)/R_w),
   ``A_{r+1} = 2·I − T + R_w·F_{r+1}``. A_r is symmetric positive definite with eigenvalues ≥ 1
   (E itself is never inverted, so rows of zero conductance are fine); T comes from
   :func:`inverse_spd`, block Schur complements that spend their ≈ (4/3)·cols³ flops in matrix
   products, and J ← T·J is one more product of 2·cols²·r flops.

Memory is a few arrays of cols × (rows + cols) numbers, never a matrix of (rows·cols)² entries.
The work is ≈ rows·(4/3)·cols³ + cols²·rows² flops (≈ 2.3·n⁴ for n × n: 57 % the inverses, 43 % the
updates of J), all dense BLAS products (docs/physics.md, "IR drop", gives
the measured times; ``benchmarks/ir_drop.py`` prints them against a floor of matrix products).
Conductances are in µS, resistances in Ω.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from cimsim.config import ArrayConfig

SIEMENS_PER_MICROSIEMENS = 1e-6
INVERSE_BLOCK = 32  # rows from which down inverse_spd inverts directly (fastest of 16, 32, 64 measured)


@njit(cache=True)
def row_chain(y_s: np.ndarray, g_wire_s: float, g_drive_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Eliminate one row wire: returns (F, h), both in S.

    ``y_s``: the row's cell conductances (S); the wire has conductance ``g_wire_s`` per segment
    and ``g_drive_s`` from the driver to the node of column 0. With T the row nodes' tridiagonal
    nodal matrix (cells to the column nodes counted as loads) and Y = diag(y):
    ``F = Y − Y·T⁻¹·Y`` (cols × cols) is the admittance seen from the column nodes with the
    driver at 0 V, and ``h = Y·T⁻¹·e₀·g_drive`` the current pushed into each column node per volt
    of drive with the column nodes at 0 V. Thomas' algorithm (T is diagonally dominant).
    """
    n = y_s.size
    rhs = np.zeros((n, n + 1))
    for j in range(n):
        rhs[j, j] = y_s[j]
    rhs[0, n] = g_drive_s
    upper = np.empty(n)
    for j in range(n):
        pivot = y_s[j] + (g_drive_s if j == 0 else g_wire_s) + (g_wire_s if j < n - 1 else 0.0)
        if j > 0:
            pivot += g_wire_s * upper[j - 1]
            for k in range(j + 1):
                rhs[j, k] += g_wire_s * rhs[j - 1, k]
            rhs[j, n] += g_wire_s * rhs[j - 1, n]
        for k in range(j + 1):
            rhs[j, k] /= pivot
        rhs[j, n] /= pivot
        upper[j] = -g_wire_s / pivot
    for j in range(n - 2, -1, -1):
        for k in range(n + 1):
            rhs[j, k] -= upper[j] * rhs[j + 1, k]
    admittance = np.empty((n, n))
    injected = np.empty(n)
    for j in range(n):
        for k in range(n):
            admittance[j, k] = -y_s[j] * rhs[j, k]
        admittance[j, j] += y_s[j]
        injected[j] = y_s[j] * rhs[j, n]
    return admittance, injected


@njit(cache=True)
def gauss_jordan_inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a small symmetric positive definite ``matrix``: Gauss-Jordan without pivoting.

    Every pivot of a positive definite matrix is a Schur complement's diagonal entry, hence > 0,
    so no row exchanges are needed. 2·n³ flops in contiguous row updates; below ~32 rows this
    beats a LAPACK call, whose fixed cost dominates there.
    """
    n = matrix.shape[0]
    inverse = matrix.copy()
    for k in range(n):
        pivot = inverse[k, k]
        inverse[k, k] = 1.0
        for j in range(n):
            inverse[k, j] /= pivot
        for i in range(n):
            if i != k:
                factor = inverse[i, k]
                inverse[i, k] = 0.0
                for j in range(n):
                    inverse[i, j] -= factor * inverse[k, j]
    return inverse


def inverse_spd(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive definite ``matrix`` (n × n), by 2 × 2 block Schur complements.

    With ``matrix = [[A, B], [Bᵀ, D]]``, X = A⁻¹ and Y = X·B, the Schur complement S = D − Bᵀ·Y is
    again symmetric positive definite (no pivoting needed, as in a block Cholesky), and
    ``matrix⁻¹ = [[X + Y·S⁻¹·Yᵀ, −Y·S⁻¹], [−S⁻¹·Yᵀ, S⁻¹]]``. The halves recurse down to
    ``INVERSE_BLOCK`` rows, which :func:`gauss_jordan_inverse` inverts. About (4/3)·n³ flops,
    nearly all in four matrix products per level, which run at the BLAS's matrix-product rate
    (measured 2-3× the rate of a LAPACK inverse at n = 128-256 on one core).
    """
    n = matrix.shape[0]
    if n <= INVERSE_BLOCK:
        return gauss_jordan_inverse(matrix)
    half = n // 2
    top_inverse = inverse_spd(matrix[:half, :half])
    carried = top_inverse @ matrix[:half, half:]
    schur_inverse = inverse_spd(matrix[half:, half:] - matrix[half:, :half] @ carried)
    inverse = np.empty_like(matrix)
    inverse[:half, half:] = -(carried @ schur_inverse)
    inverse[half:, :half] = inverse[:half, half:].T
    inverse[half:, half:] = schur_inverse
    inverse[:half, :half] = top_inverse - inverse[:half, half:] @ carried.T
    return inverse


def effective_conductance_us(
    g_us: np.ndarray,
    wire_ohm: float,
    driver_ohm: float = 0.0,
    sense_ohm: float = 0.0,
    access_ohm: float = 0.0,
) -> np.ndarray:
    """G_eff (µS, the shape of ``g_us``) of one array whose cells hold ``g_us`` (rows × cols, µS).

    ``G_eff[r, c]``: current into column c's virtual ground per volt on row r, every other row at
    0 V, through wires of ``wire_ohm`` per segment (> 0) and the series ``driver_ohm``,
    ``sense_ohm`` and ``access_ohm`` (Ω, ≥ 0). Exact up to rounding (module docstring).
    """
    rows, cols = g_us.shape
    g_s = np.asarray(g_us, dtype=np.float64) * SIEMENS_PER_MICROSIEMENS
    y_s = g_s / (1.0 + g_s * access_ohm)
    g_wire_s, g_drive_s = 1.0 / wire_ohm, 1.0 / (wire_ohm + driver_ohm)
    diagonal = np.arange(cols)
    # Row k of `currents`: J's column for driven row k (J transposed, so the update is one
    # contiguous product); `spare` receives the next J.
    currents, spare = np.empty((rows, cols)), np.empty((rows, cols))
    load, currents[0] = row_chain(y_s[0], g_wire_s, g_drive_s)
    step = wire_ohm * load  # I + R_w·E, E the admittance looking up from row r's column nodes
    step[diagonal, diagonal] += 1.0
    for r in range(1, rows):
        through = inverse_spd(step)  # (I + R_w·E)⁻¹, symmetric: (through·J)ᵀ = Jᵀ·through
        np.matmul(currents[:r], through, out=spare[:r])
        currents, spare = spare, currents
        load, currents[r] = row_chain(y_s[r], g_wire_s, g_drive_s)
        step = wire_ohm * load  # I + R_w·((I − through)/R_w + F) = 2·I − through + R_w·F
        step -= through
        step[diagonal, diagonal] += 2.0
    ground = (wire_ohm + sense_ohm) / wire_ohm * (step - np.eye(cols))  # (R_w + R_sense)·E
    ground[diagonal, diagonal] += 1.0
    return np.linalg.solve(ground, currents.T).T / SIEMENS_PER_MICROSIEMENS


def matrix_ir_drop(g_us: np.ndarray, array: ArrayConfig, columns_per_array: int) -> np.ndarray:
    """The conductances reads see (µS) for a matrix's cells ``g_us`` (stored rows × physical columns).

    ``array.ir_drop = "solved"``: each array (row block × column array) is solved as a circuit of
    its own (:func:`effective_conductance_us`), its rows padded with empty cells to ``array.rows``
    (the columns' ground sits after the last row of the physical array); ``"first_order"``: each
    cell alone on its wires, ``G / (1 + G·R_wire·n)`` with n = j + 1 row segments from the driver
    plus rows − r column segments to the sense amplifier. No wire resistance: ``g_us`` itself.
    """
    if array.wire_resistance_ohm == 0:
        return g_us
    rows = array.rows
    if array.ir_drop == "first_order":
        row_in_array = np.arange(g_us.shape[0]) % rows
        col_in_array = np.arange(g_us.shape[1]) % columns_per_array
        segments = (col_in_array[None, :] + 1) + (rows - row_in_array[:, None])
        return g_us / (1.0 + g_us * 1e-6 * array.wire_resistance_ohm * segments)
    g_eff = np.empty_like(g_us)
    for r0 in range(0, g_us.shape[0], rows):
        for c0 in range(0, g_us.shape[1], columns_per_array):
            block = g_us[r0 : r0 + rows, c0 : c0 + columns_per_array]
            padded = np.zeros((rows, block.shape[1]))
            padded[: block.shape[0]] = block
            solved = effective_conductance_us(
                padded, array.wire_resistance_ohm, driver_ohm=array.driver_resistance_ohm,
                sense_ohm=array.sense_resistance_ohm, access_ohm=array.access_resistance_ohm,
            )
            g_eff[r0 : r0 + rows, c0 : c0 + columns_per_array] = solved[: block.shape[0]]
    return g_eff
