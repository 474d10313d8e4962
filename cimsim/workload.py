"""A workload as cimsim sees it: the matrix products of a network and the operations between them.

Plain Python and numpy (no TVM types), so a user without TVM can build one by hand and the
TVM bridge (``tvm_bridge.extract``) can produce one from any model TVM imports.

* :class:`Gemm`: ``count`` independent products of an M×K input by a K×N matrix (``count`` > 1
  for the heads of a batched attention product or the groups of a grouped convolution). The
  matrix is ``weights`` when it is a constant (K×N, or count×K×N), or None for an
  activation × activation product; ``constant`` says which of the two a product is, and stays
  True when a weight product is loaded from JSON without its weights. A product that came from a convolution keeps its geometry
  (:class:`ConvGeometry`) so that a scheduler can pipeline by output rows. ``sparsity`` is the
  N:M structure detected in the weights along K (N non-zeros in every M consecutive rows).
  Weights must be finite real numbers: a NaN or an infinity is a ShapeError naming the layer,
  here, where every analytical route (zoo, importers, saved workloads, ``simulate``, sweeps)
  builds its products.
* :class:`NonGemm`: an operation on the digital units (``kind`` as priced by
  :data:`DIGITAL_OPS_PER_ELEMENT`) over ``elements`` elements; ``function`` names
  the operator (``"relu"``, ``"gelu"``, ``"max_pool2d"``), which decides what its outputs look
  like (:mod:`cimsim.physics.input_model`).
* :class:`Workload`: the operations in execution order; each names the operations it reads
  (``inputs``; empty for the model's input).

JSON holds everything but the weights (equality ignores them too); ``save_npz`` / ``load_npz``
keep them. MACs count
every multiply-accumulate of the dense shapes (``macs``) or only those with a non-zero weight
(``effective_macs``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from io import BytesIO
from pathlib import Path

import numpy as np

from cimsim.errors import ConfigError, ShapeError, as_real_matrix
from cimsim.fileio import atomic_write

DIGITAL_OPS_PER_ELEMENT = {"activation": 1, "pooling": 1, "residual_add": 1, "softmax": 4, "normalisation": 5}
"""Elementary digital operations per element of each kind of :class:`NonGemm`, first order: one
compare or add per element for an activation, a pooling window input or a residual add; max,
exponential, sum and divide for a softmax; mean, variance, subtract, divide and scale for a
normalisation. Architectures price them (``digital`` ops)."""

NM_PATTERNS = ((1, 2), (1, 4), (2, 4), (1, 8), (2, 8), (4, 8))


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ShapeError(f"{name} = {value!r}: expected an integer >= 1")
    return int(value)


@dataclass(frozen=True)
class ConvGeometry:
    """A convolution seen as a GEMM: per group, M = batch × output positions, K = in/g × kernel, N = out/g."""

    in_channels: int
    out_channels: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]  # before and after, per spatial dimension: (top, left, bottom, right) in 2-D
    dilation: tuple[int, ...]
    groups: int
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]

    @classmethod
    def from_dict(cls, data: dict) -> ConvGeometry:
        return cls(**{f.name: tuple(data[f.name]) if isinstance(data[f.name], list) else data[f.name] for f in fields(cls)})


def detect_nm_sparsity(weights: np.ndarray | None) -> tuple[int, int] | None:
    """The sparsest N:M pattern (of :data:`NM_PATTERNS`) that every group of M rows along K satisfies.

    ``weights``: K×N or count×K×N. A group is M consecutive rows of one column; K must be a
    multiple of M. None when no pattern holds, or the weights are dense or absent.
    """
    if weights is None:
        return None
    nonzero = np.asarray(weights) != 0
    if 2 * np.count_nonzero(nonzero) > nonzero.size:
        return None  # denser than every pattern (all keep at most half)
    nonzero = nonzero.reshape((-1,) + nonzero.shape[-2:]) if nonzero.ndim == 3 else nonzero[None]
    k = nonzero.shape[1]
    best = None
    for n, m in NM_PATTERNS:
        if k % m:
            continue
        per_group = nonzero.reshape(nonzero.shape[0], k // m, m, nonzero.shape[2]).sum(axis=2)
        if per_group.max() <= n and (best is None or n / m < best[0] / best[1]):
            best = (n, m)
    return best


@dataclass(frozen=True)
class Gemm:
    """``count`` products of an (m × k) input by a (k × n) matrix (module docstring)."""

    name: str
    m: int
    k: int
    n: int
    count: int = 1
    weights: np.ndarray | None = field(default=None, repr=False, compare=False)
    conv: ConvGeometry | None = None
    sparsity: tuple[int, int] | None = None
    inputs: tuple[str, ...] = ()
    constant: bool | None = None  # the K×N operand is a constant (weights); None: whether ``weights`` is given

    def __post_init__(self) -> None:
        for name in ("m", "k", "n", "count"):
            object.__setattr__(self, name, _positive_int(getattr(self, name), f"Gemm {self.name!r}: {name}"))
        if self.weights is not None:
            w = np.asarray(self.weights)
            expected = (self.k, self.n) if self.count == 1 else (self.count, self.k, self.n)
            if w.shape != expected:
                raise ShapeError(f"Gemm {self.name!r}: weights of shape {w.shape}, expected {expected} (count, k, n)")
            as_real_matrix(w, f"layer {self.name!r}: weights", ndim=(w.ndim,))  # NaN and infinities refused here
            w = w.view()
            w.flags.writeable = False  # checked once: not to be changed through the Gemm afterwards
            object.__setattr__(self, "weights", w)
            if self.sparsity is None:
                object.__setattr__(self, "sparsity", detect_nm_sparsity(w))
        if self.sparsity is not None:
            object.__setattr__(self, "sparsity", tuple(self.sparsity))
        if self.constant is None:
            object.__setattr__(self, "constant", self.weights is not None)
        elif self.weights is not None and not self.constant:
            raise ShapeError(f"Gemm {self.name!r}: constant = False (an activation product) but weights are given")
        object.__setattr__(self, "inputs", tuple(self.inputs))

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the dense product."""
        return self.m * self.k * self.n * self.count

    @cached_property
    def effective_macs(self) -> int:
        """MACs whose weight is non-zero (all of them without constant weights); counted once (the
        weights are read-only through the Gemm)."""
        if self.weights is None:
            return self.macs
        return self.m * int(np.count_nonzero(self.weights))

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "weights"}
        data["conv"] = asdict(self.conv) if self.conv else None
        return {"op": "gemm", **data}


@dataclass(frozen=True)
class NonGemm:
    """A digital operation over ``elements`` elements (kind: a key of :data:`DIGITAL_OPS_PER_ELEMENT`)."""

    name: str
    kind: str
    elements: int
    inputs: tuple[str, ...] = ()
    function: str = ""  # the operator, e.g. "relu" or "gelu" for an activation ("" when unknown)

    def __post_init__(self) -> None:
        if self.kind not in DIGITAL_OPS_PER_ELEMENT:
            raise ConfigError(f"NonGemm {self.name!r}: kind = {self.kind!r}; allowed: {', '.join(DIGITAL_OPS_PER_ELEMENT)}")
        object.__setattr__(self, "elements", _positive_int(self.elements, f"NonGemm {self.name!r}: elements"))
        object.__setattr__(self, "inputs", tuple(self.inputs))

    def to_dict(self) -> dict:
        return {"op": "non_gemm", **asdict(self)}


class Workload:
    """Operations in execution order (module docstring)."""

    def __init__(self, ops, name: str = "workload"):
        self.name = name
        self.ops: tuple[Gemm | NonGemm, ...] = tuple(ops)
        seen: set[str] = set()
        for op in self.ops:
            if not isinstance(op, (Gemm, NonGemm)):
                raise ConfigError(f"workload {name!r}: {op!r} is not a cimsim.Gemm or cimsim.NonGemm")
            if op.name in seen:
                raise ConfigError(f"workload {name!r}: two operations are named {op.name!r}")
            missing = [i for i in op.inputs if i not in seen]
            if missing:
                raise ConfigError(f"workload {name!r}: {op.name!r} reads {missing}, which no earlier operation produces")
            seen.add(op.name)

    @property
    def gemms(self) -> tuple[Gemm, ...]:
        return tuple(op for op in self.ops if isinstance(op, Gemm))

    @property
    def non_gemms(self) -> tuple[NonGemm, ...]:
        return tuple(op for op in self.ops if isinstance(op, NonGemm))

    @property
    def macs(self) -> int:
        return sum(g.macs for g in self.gemms)

    @property
    def effective_macs(self) -> int:
        return sum(g.effective_macs for g in self.gemms)

    def __len__(self) -> int:
        return len(self.ops)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workload) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Workload({self.name!r}, {len(self.gemms)} GEMMs, {self.macs:,} MACs, {len(self.non_gemms)} other ops)"

    def to_dict(self) -> dict:
        return {"name": self.name, "ops": [op.to_dict() for op in self.ops]}

    @classmethod
    def from_dict(cls, data: dict, weights: dict[str, np.ndarray] | None = None) -> Workload:
        """The inverse of :meth:`to_dict`; ``weights`` by GEMM name (absent: None)."""
        try:
            ops = [_op_from_dict(entry, (weights or {}).get(entry["name"])) for entry in data["ops"]]
            return cls(ops, name=data["name"])
        except (KeyError, TypeError) as error:
            raise ConfigError(f"not a saved cimsim Workload: {error!r}") from None

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Everything but the weights, as JSON, written atomically."""
        return atomic_write(path, lambda h: h.write(json.dumps(self.to_dict(), indent=1).encode()))

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Workload:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read a Workload from {os.fspath(path)!r}: {error}") from None
        return cls.from_dict(data)

    def save_npz(self, path: str | os.PathLike[str]) -> Path:
        """The workload with its weights, as one .npz written atomically."""
        arrays = {f"w:{g.name}": g.weights for g in self.gemms if g.weights is not None}
        arrays["workload.json"] = np.frombuffer(json.dumps(self.to_dict()).encode(), dtype=np.uint8)

        def write(handle):
            buffer = BytesIO()
            np.savez_compressed(buffer, **arrays)
            handle.write(buffer.getvalue())

        return atomic_write(path, write)

    @classmethod
    def load_npz(cls, path: str | os.PathLike[str]) -> Workload:
        try:
            with np.load(path, allow_pickle=False) as archive:
                data = json.loads(archive["workload.json"].tobytes().decode())
                weights = {key[2:]: archive[key] for key in archive.files if key.startswith("w:")}
        except (OSError, ValueError, KeyError) as error:
            raise ConfigError(f"cannot read a Workload from {os.fspath(path)!r}: {error}") from None
        return cls.from_dict(data, weights)


def _op_from_dict(entry: dict, weights: np.ndarray | None) -> Gemm | NonGemm:
    entry = dict(entry)
    kind = entry.pop("op")
    if kind == "non_gemm":
        return NonGemm(**entry)
    conv = entry.pop("conv")
    return Gemm(**entry, weights=weights, conv=ConvGeometry.from_dict(conv) if conv else None)
