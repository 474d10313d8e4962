"""What one simulation found: totals, per-layer rows, energy by component, utilisation, timeline.

A :class:`Report` is built from a :class:`~cimsim.engine.plan.MachinePlan` (what the architecture
counted and priced) and an :class:`~cimsim.engine.plan.EngineResult` (what the event engine timed).
Units are in the names: energy in pJ, time in ns, area in µm² (mm² in ``tops_per_mm2``).

Which MACs count: 1 MAC = 2 operations, and only MACs with a non-zero weight count (the zeros of
a pruned weight are not work done). TOPS/W is operations per pJ (1 op/pJ = 1 TOPS/W). Static
energy is the plan's static power times the engine's latency (mW · ns = pJ) and appears in the
breakdown as the component ``"static"``.

Reports are put side by side by :func:`cimsim.engine.comparison.compare`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text
from cimsim.engine.frames import report_dataframe
from cimsim.engine.plan import EngineResult, Interval, MachinePlan, StagePlan
from cimsim.modes import FIDELITIES, MODES
from cimsim.text_table import text_table

REPORT_SCHEMA_VERSION = 1
"""Version of :meth:`Report.to_json`'s layout; files without ``schema_version`` (version 0) are read too."""

if TYPE_CHECKING:
    import pandas

# Components whose energy is moving data rather than computing on it. Registers count, as in
# ISAAC's accounting (eDRAM + bus + router + registers ≈ 17% of ISAAC's energy; see
# docs/reference/NOTES.md §3): they stage operands between memories and the arrays, so a
# von Neumann register file and a CIM tile's input/output registers are compared alike.
DATA_MOVEMENT = frozenset(
    {"dram", "global_buffer", "buffer", "bus", "noc", "register_file", "input_register", "output_register"}
)


@dataclass
class LayerRow:
    """One stage of the workload over the whole batch."""

    name: str
    kind: str  # "gemm" or "digital"
    macs: int  # MACs with a non-zero weight over the batch
    energy_pj: float  # per-inference energy x batch + once-per-batch energy
    start_ns: float  # first chunk's start
    end_ns: float  # last chunk's end
    arrays: int  # arrays occupied (CIM); 0 elsewhere
    chunks: int  # work items per inference
    chunk_label: str
    energy_by_component: dict[str, float]  # pJ over the batch
    relative_error: float | None = None  # ||y - y_ref|| / ||y_ref|| of the layer, when functional

    @property
    def latency_ns(self) -> float:
        """Time from the layer's first start to its last end."""
        return self.end_ns - self.start_ns

    def to_dict(self) -> dict[str, Any]:
        """The fields plus ``latency_ns``, JSON-ready."""
        return asdict(self) | {"latency_ns": self.latency_ns}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerRow:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass
class Report:
    """Totals, layers, breakdown and timeline of one simulation (module docstring for units)."""

    workload: str
    config: str
    architecture: str  # "cim" or "von-neumann"
    batch: int
    mode: str  # "pipelined" or "layer"
    fidelity: str  # "analytical" or "functional"
    seed: int | None
    energy_pj: float  # everything over the batch, static included
    latency_ns: float  # first start to last end of the batch
    breakdown: dict[str, float]  # component -> pJ over the batch, "static" included
    layers: list[LayerRow]
    macs: int  # MACs with a non-zero weight over the batch
    area_breakdown_um2: dict[str, float]
    utilisation: dict[str, float]  # resource -> busy / (servers x latency)
    events: int  # engine events processed
    wall_s: float  # wall-clock time of the simulation
    timeline: list[Interval] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    accuracy: dict[str, float] | None = None  # e.g. relative_error, top1_agreement (functional)
    precision: str = ""  # weight and activation bits of the machine, e.g. "w8a8"
    timing: str = "events"  # how the latency was computed: "events" or "closed-form" (cimsim.modes)
    input_activity: float | None = None  # CIM: the activity its inputs drove, for peak(cfg, input_activity=)

    @classmethod
    def build(
        cls,
        workload_name: str,
        plan: MachinePlan,
        result: EngineResult,
        *,
        batch: int,
        mode: str,
        fidelity: str,
        seed: int | None,
        wall_s: float,
        accuracy: dict[str, float] | None = None,
        layer_errors: dict[str, float] | None = None,
        timing: str = "events",
    ) -> Report:
        """Everything from the plan's ledgers (per inference x ``batch`` + per batch) and the engine's timing."""
        _check_run(plan, batch, mode, fidelity, layer_errors or {})
        layers = [_layer_row(stage, result, batch, (layer_errors or {}).get(stage.name)) for stage in plan.stages]
        static_pj = float(plan.static_power_mw) * float(result.latency_ns)
        breakdown = _sum_dicts([row.energy_by_component for row in layers] + [{"static": static_pj}])
        return cls(
            workload=workload_name,
            config=plan.config_name,
            architecture=plan.architecture,
            batch=int(batch),
            mode=mode,
            fidelity=fidelity,
            seed=None if seed is None else int(seed),
            energy_pj=math.fsum(breakdown.values()),
            latency_ns=float(result.latency_ns),
            breakdown=breakdown,
            layers=layers,
            macs=sum(row.macs for row in layers),
            area_breakdown_um2={name: float(um2) for name, um2 in plan.area_breakdown_um2.items()},
            utilisation=_utilisation(plan.resources, result),
            events=int(result.events),
            wall_s=float(wall_s),
            timeline=list(result.timeline),
            notes=list(plan.notes),
            accuracy=None if accuracy is None else {name: float(value) for name, value in accuracy.items()},
            precision=plan.precision,
            timing=timing,
            input_activity=plan.input_activity,
        )

    @property
    def static_energy_pj(self) -> float:
        """Static power x latency (pJ)."""
        return self.breakdown.get("static", 0.0)

    @property
    def area_um2(self) -> float:
        return sum(self.area_breakdown_um2.values())

    @property
    def throughput_inferences_per_s(self) -> float:
        return _per(self.batch, self.latency_ns * 1e-9)

    @property
    def tops(self) -> float:
        """Tera-operations per second: 2 x MACs (non-zero weights) per latency (ops/ns x 1e-3)."""
        return _per(2 * self.macs, self.latency_ns) * 1e-3

    @property
    def tops_per_watt(self) -> float:
        """Operations per pJ (= TOPS/W): 2 x MACs (non-zero weights) / energy."""
        return _per(2 * self.macs, self.energy_pj)

    @property
    def tops_per_mm2(self) -> float:
        """TOPS per mm² of chip; nan when the configuration models no area (some baselines)."""
        return self.tops / (self.area_um2 * 1e-6) if self.area_um2 > 0 else math.nan

    @property
    def data_movement_share(self) -> float:
        """Fraction of all energy (static included) spent in :data:`DATA_MOVEMENT` components."""
        moved_pj = math.fsum(pj for component, pj in self.breakdown.items() if component in DATA_MOVEMENT)
        return _per(moved_pj, self.energy_pj)

    @property
    def bottleneck(self) -> str | None:
        """The resource with the highest utilisation (None without resources)."""
        return max(self.utilisation, key=self.utilisation.__getitem__, default=None)

    def derived(self) -> dict[str, Any]:
        """The figures computed from the fields (throughput, TOPS, ...), for readers of the JSON."""
        return {
            "area_um2": self.area_um2,
            "static_energy_pj": self.static_energy_pj,
            "throughput_inferences_per_s": self.throughput_inferences_per_s,
            "tops": self.tops,
            "tops_per_watt": self.tops_per_watt,
            "tops_per_mm2": self.tops_per_mm2,
            "data_movement_share": self.data_movement_share,
            "bottleneck": self.bottleneck,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field (layers and timeline as lists of dicts) plus ``"derived"`` figures, JSON-ready."""
        data = asdict(self)
        data["layers"] = [row.to_dict() for row in self.layers]
        return data | {"derived": self.derived()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """The inverse of :meth:`to_dict` (``"derived"`` is recomputed, not read)."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data or not _has_default(f)}
        values["layers"] = [LayerRow.from_dict(row) for row in data["layers"]]
        values["timeline"] = [Interval(**interval) for interval in data["timeline"]]
        return cls(**values)

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as standard JSON with a ``schema_version``, atomically; floats round-trip exactly.

        An undefined figure (NaN or infinite: a zero denominator, an area not modelled) is written as
        ``null`` (:func:`standard_json`), never as ``NaN`` or ``Infinity``, which are not JSON.
        """
        return atomic_write_text(path, standard_json({"schema_version": REPORT_SCHEMA_VERSION} | self.to_dict()))

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Report:
        """Read a file of :meth:`to_json`: this version's, or an older one without ``schema_version``.

        A ``null`` where a number is expected (an undefined figure) reads back as NaN; a layer's
        ``relative_error`` and the ``seed`` stay None.
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        version = data.pop("schema_version", 0)
        if version not in (0, REPORT_SCHEMA_VERSION):
            raise ConfigError(f"report '{path}': schema_version = {version!r}; this cimsim reads versions "
                              f"0 (no schema_version) and {REPORT_SCHEMA_VERSION}")
        return cls.from_dict(_undefined_as_nan(data))

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """One row per layer (energies in pJ, times in ns), one ``<component>_pj`` column per component; atomic."""
        components = sorted({c for row in self.layers for c in row.energy_by_component})
        header = ["name", "kind", "macs", "energy_pj", "latency_ns", "start_ns", "end_ns", "arrays", "chunks"]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header + [f"{c}_pj" for c in components])
        for row in self.layers:
            writer.writerow(
                [getattr(row, name) for name in header] + [row.energy_by_component.get(c, 0.0) for c in components]
            )
        return atomic_write_text(path, text.getvalue())

    def to_dataframe(self, table: str = "layers") -> pandas.DataFrame:
        """The layers (``"layers"``: one row per layer, indexed by name) or the energy by layer and component
        (``"components"``: long form, one row per pair, static energy on a row whose layer is missing) as a pandas
        DataFrame; needs the ``data`` extra. Columns and their sums: :mod:`cimsim.engine.frames`."""
        return report_dataframe(self, table)

    def summary(self, top_components: int = 8) -> str:
        """A printable text report: totals, layers, top components, utilisation and bottleneck."""
        parts = [self._totals_text(), self._layers_text(), self._components_text(top_components)]
        parts.append(self._utilisation_text())
        if self.notes:
            parts.append("notes:\n" + "\n".join(f"  - {note}" for note in self.notes))
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def _totals_text(self) -> str:
        lines = [
            f"cimsim report: {self.workload} on {self.config} ({self.architecture}), batch {self.batch}, "
            f"{self.mode}, {self.fidelity}, seed {self.seed}",
            f"  energy          {self.energy_pj:.6g} pJ (static {self.static_energy_pj:.4g} pJ)",
            f"  latency         {self.latency_ns:.6g} ns",
            f"  throughput      {self.throughput_inferences_per_s:.4g} inferences/s",
            f"  MACs            {self.macs} (MACs with a non-zero weight; 1 MAC = 2 ops)",
            f"  TOPS            {self.tops:.4g}",
            f"  TOPS/W          {self.tops_per_watt:.4g}",
            f"  TOPS/mm²        {self.tops_per_mm2:.4g} (area {self.area_um2 * 1e-6:.4g} mm²)",
            f"  data movement   {self.data_movement_share:.1%} of energy ({', '.join(sorted(DATA_MOVEMENT))})",
            f"  simulated in    {self.wall_s:.3g} s, {self.events} engine events",
        ]
        if self.input_activity is not None:
            lines.append(f"  input activity  {self.input_activity:.4g} of full scale (compare cimsim.peak(cfg, "
                         f"input_activity={self.input_activity:.4g}))")
        if self.accuracy:
            lines.append("  accuracy        " + ", ".join(f"{k} {v:.4g}" for k, v in self.accuracy.items()))
        return "\n".join(lines)

    def _layers_text(self) -> str:
        header = ["layer", "kind", "MACs", "energy pJ", "start ns", "end ns", "latency ns", "arrays", "chunks", "chunk"]
        with_error = any(row.relative_error is not None for row in self.layers)
        rows = [
            [row.name, row.kind, str(row.macs), f"{row.energy_pj:.4g}", f"{row.start_ns:.4g}", f"{row.end_ns:.4g}",
             f"{row.latency_ns:.4g}", str(row.arrays), str(row.chunks), row.chunk_label]
            + ([_maybe(row.relative_error)] if with_error else [])
            for row in self.layers
        ]
        return text_table(rows, header + (["rel. error"] if with_error else []))

    def _components_text(self, top: int) -> str:
        ranked = sorted(self.breakdown.items(), key=lambda item: -item[1])[:top]
        rows = [[name, f"{pj:.4g}", f"{_per(pj, self.energy_pj):.1%}"] for name, pj in ranked]
        return text_table(rows, ["component", "energy pJ", "share"])

    def _utilisation_text(self) -> str:
        ranked = sorted(self.utilisation.items(), key=lambda item: -item[1])
        table = text_table([[name, f"{u:.1%}"] for name, u in ranked], ["resource", "utilisation"])
        return f"{table}\nbottleneck: {self.bottleneck}"


def _has_default(f) -> bool:
    """A field a file written before it existed may lack (it has a default)."""
    return f.default is not MISSING or f.default_factory is not MISSING


def _check_run(plan: MachinePlan, batch: int, mode: str, fidelity: str, layer_errors: dict[str, float]) -> None:
    if batch < 1:
        raise ConfigError(f"batch = {batch}, expected an integer >= 1")
    if mode not in MODES:
        raise ConfigError(f"mode = {mode!r}, expected one of {MODES}")
    if fidelity not in FIDELITIES:
        raise ConfigError(f"fidelity = {fidelity!r}, expected one of {FIDELITIES}")
    unknown = sorted(set(layer_errors) - {stage.name for stage in plan.stages})
    if unknown:
        raise ConfigError(f"layer_errors names layers {unknown} that are not stages of the plan")


def _layer_row(stage: StagePlan, result: EngineResult, batch: int, relative_error: float | None) -> LayerRow:
    per_inference = stage.ledger.by_component()
    per_batch = stage.batch_ledger.by_component()
    if per_batch:
        by_component = _sum_dicts([{c: pj * batch for c, pj in per_inference.items()}, per_batch])
    else:  # most stages reprogram nothing: _sum_dicts of one part, each value + 0.0 (_exact_sum), keys sorted
        by_component = {c: float(per_inference[c] * batch) + 0.0 for c in sorted(per_inference)}
    start_ns, end_ns = result.stage_spans_ns[stage.name]
    return LayerRow(
        name=stage.name,
        kind=stage.kind,
        macs=int(stage.macs) * int(batch),
        energy_pj=stage.ledger.energy_pj * batch + stage.batch_ledger.energy_pj,
        start_ns=float(start_ns),
        end_ns=float(end_ns),
        arrays=int(stage.arrays),
        chunks=int(stage.chunks),
        chunk_label=stage.chunk_label,
        energy_by_component=by_component,
        relative_error=None if relative_error is None else float(relative_error),
    )


def _utilisation(servers: dict[str, int], result: EngineResult) -> dict[str, float]:
    """Busy time over available time per resource; 0 when no time was available."""
    available_ns = {name: count * float(result.latency_ns) for name, count in servers.items()}
    return {name: float(result.busy_ns.get(name, 0.0)) / ns if ns else 0.0 for name, ns in available_ns.items()}


def _sum_dicts(parts: Sequence[dict[str, float]]) -> dict[str, float]:
    """Key-wise exact-rounded sums (math.fsum), keys sorted; one pass over the parts (a key a part
    lacks adds nothing: an exactly rounded sum does not change with a 0.0 more)."""
    values: dict[str, list[float]] = {}
    for part in parts:
        for key, value in part.items():
            values.setdefault(key, []).append(float(value))
    return {key: _exact_sum(values[key]) for key in sorted(values)}


def _exact_sum(values: list[float]) -> float:
    """``math.fsum(values)``, without its cost for one value: that value (+ 0.0, as fsum turns -0.0 into 0.0)."""
    return values[0] + 0.0 if len(values) == 1 else math.fsum(values)


def _per(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; inf (or nan for 0/0) when the denominator is 0."""
    if denominator:
        return numerator / denominator
    return math.nan if numerator == 0 else math.inf


def standard_json(data: Any) -> str:
    """``data`` as standard JSON text (indented, newline-terminated): NaN and ±inf become ``null``.

    Python's ``json`` writes them as ``NaN``/``Infinity``, which strict parsers (browsers, jq,
    pandas' default) refuse; an undefined figure is ``null`` instead.
    """
    return json.dumps(_finite_or_none(data), indent=1, allow_nan=False) + "\n"


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    return value


# Fields that may be null in a report file because they are optional, not undefined numbers.
_OPTIONAL_FIELDS = frozenset({"seed", "relative_error", "accuracy", "bottleneck", "input_activity"})


def _undefined_as_nan(value: Any, key: str = "") -> Any:
    """The inverse of :func:`_finite_or_none` for a report: ``null`` numbers back to NaN, optional fields kept."""
    if value is None:
        return None if key in _OPTIONAL_FIELDS else math.nan
    if isinstance(value, dict):
        return {name: _undefined_as_nan(item, name if key != "accuracy" else "") for name, item in value.items()}
    if isinstance(value, list):
        return [_undefined_as_nan(item) for item in value]
    return value


def _maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
