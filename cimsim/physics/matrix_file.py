"""The file of a programmed matrix (``AnalogMatrix.save`` / ``AnalogMatrix.load``): a ``.npz`` without pickle.

A matrix is programmed once: its random draws (programming error, stuck cells, drift exponents,
the ADCs' static errors, the key of its read-noise streams) are made at programming and never
again. The file keeps them with everything that follows from them, so that a loaded matrix
reads bit-identically to the saved one: its next :meth:`~cimsim.AnalogMatrix.matmul` draws the
same read and ADC noise as the saved matrix's next one would have (each read's stream is keyed by
the read key and the number of reads before it, both kept).

The file is numpy's ``.npz`` (a zip of ``.npy`` arrays, compressed), read with
``allow_pickle=False``: numbers and text only, nothing in it can execute. It is written
atomically (:func:`cimsim.fileio.atomic_write`: a reader sees the old file or the new one) under
the name given, which gets no ``.npz`` appended. Keys (:data:`FORMAT_VERSION` 1):

==========================  ===============================================================
``format``                  ``"cimsim.AnalogMatrix"``
``format_version``          1; another version is refused
``config_toml``             the chip (``ChipConfig.to_toml``: every field)
``shape``                   (K, N) of the weight matrix
``rows_kept``               rows stored (``mapping.compact_rows``); empty when every row is
``layout.levels``           cell levels, stored rows × physical columns (0 .. 2^c − 1)
``layout.w_q``              quantised weights, stored rows × N; ``layout.scale``: s_w per column
``cells.g_target_us``       target conductances (µS), stored rows × physical columns; so are
                            ``cells.g_prog_us`` (programmed, µS), ``cells.nu`` (drift
                            exponents) and ``cells.stuck`` (0 healthy, 1 off, 2 on)
``adc.offset_lsb``          per ADC; ``adc.gain`` (fraction); ``adc.thresholds`` (ADCs × codes − 1, LSB)
``read_key``                the key of the read-noise streams (drawn from the programming seed)
``reads_done``              reads made so far (the index of the next read's stream)
``t_s``                     time since programming of the last ``drift_to`` (s)
``input_scale``             (s_x, signed) fixed by ``calibrate``; empty when not calibrated
``adc_lsb``                 calibrated ADC steps per conversion column (level units); empty if none
``drift_compensation``      ``"none"`` or ``"global"`` (its reference, the probe's readout at
                            programming, is read again from the programmed cells at loading)
==========================  ===============================================================

Not kept: the ledger and latency (a loaded matrix starts them at zero: loading writes no cell),
registered device models (a configuration naming one needs it registered again before
loading). A file of another format or version, cut short, or missing a key is a
:class:`~cimsim.errors.ConfigError` naming the file and the key; an array of the wrong shape a
:class:`~cimsim.errors.ShapeError` naming both.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from cimsim.config import ChipConfig
from cimsim.errors import ConfigError, ShapeError
from cimsim.fileio import atomic_write
from cimsim.physics.converters import AdcErrors
from cimsim.physics.device import ProgrammedCells
from cimsim.physics.drift_compensation import GlobalDriftCompensation
from cimsim.physics.mapping import InputScale, WeightLayout, array_geometry, weight_dtype

FORMAT = "cimsim.AnalogMatrix"
FORMAT_VERSION = 1
CELL_KEYS = ("g_target_us", "g_prog_us", "nu", "stuck")
ADC_KEYS = ("offset_lsb", "gain", "thresholds")


@dataclass(frozen=True)
class SavedMatrix:
    """What a file holds: the programmed state of one matrix (module docstring)."""

    cfg: ChipConfig
    shape: tuple[int, int]
    rows_kept: np.ndarray | None
    layout: WeightLayout
    cells: ProgrammedCells
    adc_errors: AdcErrors
    read_key: np.uint64
    reads_done: int
    t_s: float
    input_scale: InputScale | None
    adc_lsb: np.ndarray | None
    drift_compensation: GlobalDriftCompensation | None


def write_matrix(target: str | os.PathLike[str] | IO[bytes], saved: SavedMatrix) -> None:
    """Write ``saved`` to a path (atomically) or to an open binary file."""
    arrays = _arrays(saved)
    if isinstance(target, (str, os.PathLike)):
        atomic_write(Path(target), lambda handle: np.savez_compressed(handle, **arrays))
    else:
        np.savez_compressed(target, **arrays)


def _quantised_weights(members, name: str, weight_bits: int, shape: tuple[int, int]) -> np.ndarray:
    """``layout.w_q`` in the dtype programming gives it (mapping.weight_dtype); ShapeError beyond ±(2^(b−1) − 1)."""
    q_max = 2 ** (weight_bits - 1) - 1
    w_q = checked_array(members, "layout.w_q", name, "i", shape)
    if w_q.size and max(int(w_q.max()), -int(w_q.min())) > q_max:
        raise ShapeError(f"{name}: key 'layout.w_q' holds {max(int(w_q.max()), -int(w_q.min()))} in magnitude; "
                         f"allowed: at most {q_max} (mapping.weight_bits = {weight_bits})")
    return w_q.astype(weight_dtype(q_max))


def read_matrix(source: str | os.PathLike[str] | IO[bytes], name: str | None = None) -> SavedMatrix:
    """The state in ``source`` (a path or an open binary file); ``name`` is the file in messages."""
    name = name or (str(source) if isinstance(source, (str, os.PathLike)) else "the matrix file")
    members = read_members(source, name)
    check_format(members, name)
    cfg = chip_config(members, name)
    k, n = (int(v) for v in checked_array(members, "shape", name, "i", (2,)))
    rows_kept = checked_array(members, "rows_kept", name, "i")
    stored_rows = rows_kept.size or k
    geometry = array_geometry(cfg)
    cell_shape = (stored_rows, geometry.physical_columns(n))
    layout = WeightLayout(
        w_q=_quantised_weights(members, name, cfg.mapping.weight_bits, (stored_rows, n)),
        scale=checked_array(members, "layout.scale", name, "f", (n,)), geometry=geometry,
    )
    if not np.array_equal(checked_array(members, "layout.levels", name, "u", cell_shape), layout.levels):
        raise ShapeError(f"{name}: key 'layout.levels' is not the cell levels of 'layout.w_q' "
                         f"({geometry.slices} slices of {geometry.bits_per_cell} bits, {geometry.signs} sign(s))")
    cells = {key: checked_array(members, f"cells.{key}", name, "uif", cell_shape) for key in CELL_KEYS}
    row_blocks, column_arrays = geometry.grid(stored_rows, n)
    adcs = row_blocks * column_arrays * geometry.adcs_per_array
    thresholds = checked_array(members, "adc.thresholds", name, "f")
    if thresholds.size and thresholds.shape[0] != adcs:
        raise ShapeError(f"{name}: key 'adc.thresholds' has shape {thresholds.shape}, expected {adcs} rows (one per ADC)")
    input_scale = checked_array(members, "input_scale", name, "f")
    if input_scale.shape not in ((0,), (2,)):
        raise ShapeError(f"{name}: key 'input_scale' has shape {input_scale.shape}, expected (2,) or (0,) (not calibrated)")
    adc_lsb = checked_array(members, "adc_lsb", name, "f")
    if adc_lsb.size and adc_lsb.shape != (geometry.conversion_columns(n),):
        raise ShapeError(f"{name}: key 'adc_lsb' has shape {adc_lsb.shape}, expected ({geometry.conversion_columns(n)},)")
    return SavedMatrix(
        cfg=cfg, shape=(k, n), rows_kept=rows_kept.astype(np.int64) if rows_kept.size else None, layout=layout,
        cells=ProgrammedCells(cells["g_target_us"], cells["g_prog_us"], cells["nu"], cells["stuck"].astype(np.int8)),
        adc_errors=AdcErrors(checked_array(members, "adc.offset_lsb", name, "f", (adcs,)),
                             checked_array(members, "adc.gain", name, "f", (adcs,)), thresholds),
        read_key=np.uint64(checked_array(members, "read_key", name, "u", ())),
        reads_done=int(checked_array(members, "reads_done", name, "i", ())),
        t_s=float(checked_array(members, "t_s", name, "f", ())),
        input_scale=InputScale(float(input_scale[0]), bool(input_scale[1])) if input_scale.size else None,
        adc_lsb=adc_lsb if adc_lsb.size else None,
        drift_compensation=_compensation(members, name),
    )


def _arrays(saved: SavedMatrix) -> dict[str, np.ndarray]:
    compensation = saved.drift_compensation
    if compensation is not None and type(compensation) is not GlobalDriftCompensation:
        raise ConfigError(f"drift_compensation: a {type(compensation).__name__} cannot be saved; "
                          "allowed: None or cimsim.physics.GlobalDriftCompensation")
    scale = saved.input_scale
    return {
        "format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
        "config_toml": np.array(saved.cfg.to_toml()), "shape": np.array(saved.shape, dtype=np.int64),
        "rows_kept": np.array([] if saved.rows_kept is None else saved.rows_kept, dtype=np.int64),
        "layout.levels": saved.layout.levels, "layout.w_q": saved.layout.w_q, "layout.scale": saved.layout.scale,
        **{f"cells.{key}": getattr(saved.cells, key) for key in CELL_KEYS},
        **{f"adc.{key}": getattr(saved.adc_errors, key) for key in ADC_KEYS},
        "read_key": np.array(saved.read_key, dtype=np.uint64), "reads_done": np.array(saved.reads_done),
        "t_s": np.array(saved.t_s),
        "input_scale": np.array([] if scale is None else [scale.scale, float(scale.signed)]),
        "adc_lsb": np.array([] if saved.adc_lsb is None else saved.adc_lsb, dtype=np.float64),
        "drift_compensation": np.array("none" if compensation is None else "global"),
    }


def read_members(source, name: str) -> dict[str, np.ndarray]:
    """Every array of the archive, read now (a file cut short fails here, not at first use)."""
    try:
        with np.load(source, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ConfigError(f"{name}: a single .npy array, not a cimsim file (an .npz archive)")
            members = {}
            for key in archive.files:
                try:
                    members[key] = archive[key]
                except ValueError as exc:  # an object array: it would need pickle
                    raise ConfigError(f"{name}: key '{key}' cannot be read without pickle ({exc})") from None
            return members
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such file") from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ConfigError(f"{name}: not a complete cimsim file (cut short, or not an .npz archive): {exc}") from None


def member(members: dict[str, np.ndarray], key: str, name: str) -> np.ndarray:
    """The member ``key``, or a ConfigError naming the file and the key."""
    if key not in members:
        raise ConfigError(f"{name}: key '{key}' is missing: not a file cimsim wrote, or one from another "
                          "version of cimsim")
    return members[key]


def checked_array(members, key: str, name: str, kinds: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The member ``key``, checked to be numeric of one of ``kinds`` (numpy's kind letters) and of ``shape``."""
    value = member(members, key, name)
    if value.dtype.kind not in kinds and not (value.size == 0 and value.dtype.kind in "uif"):
        raise ConfigError(f"{name}: key '{key}' has dtype {value.dtype}; expected numpy kind '{kinds}'")
    if shape is not None and value.shape != shape:
        raise ShapeError(f"{name}: key '{key}' has shape {value.shape}, expected {shape}")
    return value


def check_format(members, name: str, expected: str = FORMAT, version: int = FORMAT_VERSION) -> None:
    """The keys ``format`` and ``format_version`` say ``expected`` and ``version``: else a ConfigError."""
    found = str(member(members, "format", name))
    if found != expected:
        raise ConfigError(f"{name}: key 'format' = {found!r}; this reader reads {expected!r}")
    found_version = int(checked_array(members, "format_version", name, "i", ()))
    if found_version != version:
        raise ConfigError(f"{name}: key 'format_version' = {found_version}; this cimsim reads version {version}")


def chip_config(members, name: str) -> ChipConfig:
    """The chip of key ``config_toml``; a ConfigError naming the file and the key."""
    try:
        return ChipConfig.from_toml(str(member(members, "config_toml", name)))
    except ConfigError as exc:
        raise ConfigError(f"{name}: key 'config_toml': {exc}") from None


def _compensation(members, name: str) -> GlobalDriftCompensation | None:
    kind = str(member(members, "drift_compensation", name))
    if kind not in ("none", "global"):
        raise ConfigError(f"{name}: key 'drift_compensation' = {kind!r}; allowed: 'none', 'global'")
    return GlobalDriftCompensation() if kind == "global" else None

