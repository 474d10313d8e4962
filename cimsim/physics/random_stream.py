"""A counter-based stream of standard normal draws, keyed by (seed key, row block, vector, cycle) (numba).

Each (row block, vector, input cycle) has its own key, hashed from the caller's key with
splitmix64 (:func:`row_key`); its Gaussians are drawn in column order with Marsaglia and
Tsang's ziggurat (128 layers) by :func:`standard_normal`, which returns the advanced state with
each draw. A stream depends only on its key, so results are the same whichever thread draws it.
:func:`normal_matrix` returns the draws of many streams, for the numpy twins.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_ZIGGURAT_R = 3.442619855899


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia & Tsang (2000) tables for the standard normal, 128 layers, 32-bit draws."""
    kn, wn, fn = np.zeros(128, np.int64), np.zeros(128), np.zeros(128)
    dn = tn = _ZIGGURAT_R
    vn, m1 = 9.91256303526217e-3, 2147483648.0
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0], kn[1] = int((dn / q) * m1), 0
    wn[0], wn[127] = q / m1, dn / m1
    fn[0], fn[127] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_KN, _WN, _FN = _ziggurat_tables()


@njit(inline="always", cache=True)
def _mix(z):
    """splitmix64's finaliser: a bijective 64-bit hash."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(inline="always", cache=True)
def row_key(key, block, vector, cycle):
    """Key of the random stream of one (row block, vector, input cycle)."""
    h = _mix(key ^ _mix(np.uint64(block) + _GAMMA))
    h = _mix(h ^ _mix(np.uint64(vector) + _GAMMA))
    return _mix(h ^ _mix(np.uint64(cycle) + _GAMMA))


@njit(inline="always", cache=True)
def _uniform(state):
    state += _GAMMA
    return state, ((_mix(state) >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740993.0)


@njit(inline="always", cache=True)
def _layer_draw(state):
    """Advance the stream: a ziggurat layer (low 7 bits) and a signed 32-bit abscissa (high bits)."""
    state += _GAMMA
    bits = _mix(state)
    return state, np.int64(bits & np.uint64(127)), np.int64(np.int32(np.uint32(bits >> np.uint64(32))))


@njit(cache=True)
def _normal_slow(state, hz, iz):
    """The ziggurat's rare path: wedges and the tail beyond r."""
    while True:
        x = hz * _WN[iz]
        if iz == 0:
            while True:
                state, u1 = _uniform(state)
                state, u2 = _uniform(state)
                x = -math.log(u1) / _ZIGGURAT_R
                y = -math.log(u2)
                if y + y >= x * x:
                    break
            return state, (_ZIGGURAT_R + x) if hz > 0 else (-_ZIGGURAT_R - x)
        state, u = _uniform(state)
        if _FN[iz] + u * (_FN[iz - 1] - _FN[iz]) < math.exp(-0.5 * x * x):
            return state, x
        state, iz, hz = _layer_draw(state)
        if abs(hz) < _KN[iz]:
            return state, hz * _WN[iz]


@njit(inline="always", cache=True)
def standard_normal(state):
    """One standard normal draw; returns the advanced state and the value."""
    state, iz, hz = _layer_draw(state)
    if abs(hz) < _KN[iz]:
        return state, hz * _WN[iz]
    return _normal_slow(state, hz, iz)


@njit(cache=True)
def normal_matrix(key, block, first_vector, vectors, cycles, columns):
    """The Gaussians :func:`convert_accumulate` draws, as a (vectors·cycles) × columns matrix."""
    z = np.empty((vectors * cycles, columns))
    for m in range(vectors):
        for t in range(cycles):
            state = row_key(key, block, first_vector + m, t)
            for j in range(columns):
                state, z[m * cycles + t, j] = standard_normal(state)
    return z
