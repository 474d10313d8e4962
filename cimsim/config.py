"""The configuration tree of a simulated chip: typed, frozen, validated at construction.

A :class:`ChipConfig` holds one section per concern (``meta``, ``device``, ``array``, ``dac``,
``adc``, ``mapping``, ``tile``, ``chip``, ``energy``), each a frozen pydantic model whose
fields carry their unit in the name or the description (µS, V, ns, pJ, mW, GHz, nm).
Validation is strict: ``"6"`` is not an integer, ``True`` is not a number, a float is not an
integer (an integer is accepted where a float is expected and stored as a float).

Every way in (the constructors, :meth:`ChipConfig.from_dict`, :meth:`ChipConfig.from_toml`,
:meth:`ChipConfig.override`, :func:`load_config`, :func:`load_preset`) raises
:class:`~cimsim.errors.ConfigError` on bad input, one line per problem, each naming the dotted
field (``adc.bits``), the value given and what is allowed.

Presets are TOML files in ``cimsim/presets/`` and load through the same path as a user's file.
"""

import contextlib
import os
import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
import tomli_w
from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text

__all__ = [
    "DeviceModelName",
    "MetaConfig",
    "DeviceConfig",
    "ArrayConfig",
    "DACConfig",
    "ADCConfig",
    "MappingConfig",
    "TileConfig",
    "ChipLevelConfig",
    "EnergyConfig",
    "ChipConfig",
    "load_config",
    "load_preset",
    "list_presets",
]

DeviceModelName = Literal["pcm_nandakumar2019"]
"""Named conductance-dependent device models a noise or drift field may give instead of a number.

``"pcm_nandakumar2019"``: aihwkit's ``PCMLikeNoiseModel`` (Nandakumar et al., ICECS 2019;
reference rows DEV-01..06), implemented in :mod:`cimsim.device`.
"""

_DeviceValue = Union[Annotated[float, Ge(0)], DeviceModelName]
"""A number >= 0 (a fraction or an exponent) or the name of a device model."""

_CROSS_FIELD = "cimsim_cross_field"
"""pydantic error type of the rules that relate two fields of one section."""


def _cross_field_error(field: str, value: Any, allowed: str) -> PydanticCustomError:
    """An error for ``field`` of the section being validated, reported as ``section.field``."""
    return PydanticCustomError(_CROSS_FIELD, "{field}: {allowed}", {"field": field, "value": value, "allowed": allowed})


class _Node(BaseModel):
    """A table of the configuration tree: frozen, strict, no unknown keys, ConfigError on bad input."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    def __init__(self, **data: Any) -> None:
        with _config_errors(type(self)):
            super().__init__(**data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise ConfigError(_frozen_message(self, name))

    def __delattr__(self, name: str) -> None:
        raise ConfigError(_frozen_message(self, name))


class MetaConfig(_Node):
    """What the configuration is and where its numbers come from."""

    name: str = Field("custom", description="Short name of the configuration (a preset's file name).")
    source: str = Field(
        "user",
        description="Where the numbers come from: reference row ids of "
        "../shared/reference/reference_figures.csv (e.g. 'ISAAC-02..09, DEV-16') or a citation.",
    )
    description: str = Field("", description="What the configuration models and what it leaves out.")


class DeviceConfig(_Node):
    """One resistive cell: conductance range, read voltage, noise, drift and stuck faults."""

    g_min_us: float = Field(1.0, ge=0, description="Lowest programmable conductance of one cell (µS).")
    g_max_us: float = Field(100.0, gt=0, description="Highest programmable conductance of one cell (µS); > g_min_us.")
    v_read: float = Field(0.2, gt=0, description="Read voltage applied to a row at full-scale input (V).")
    program_noise: _DeviceValue = Field(
        0.0,
        description="Programming noise: σ of the programmed conductance as a fraction of g_max_us "
        "(dimensionless), drawn once at program time; or the name of a conductance-dependent model.",
    )
    read_noise: _DeviceValue = Field(
        0.0,
        description="Read noise: σ per read as a fraction of g_max_us (dimensionless); "
        "or the name of a conductance- and time-dependent model.",
    )
    drift_nu: _DeviceValue = Field(
        0.0,
        description="Mean drift exponent ν of G(t) = G_prog·(t/drift_t0_s)^-ν (dimensionless); "
        "or the name of a conductance-dependent model.",
    )
    drift_nu_std: float = Field(
        0.0, ge=0, description="Spread σ of ν across cells when drift_nu is a number (dimensionless)."
    )
    drift_t0_s: float = Field(20.0, gt=0, description="Drift reference time t0 after programming (s).")
    stuck_off: float = Field(0.0, ge=0, le=1, description="Fraction of cells stuck at g_min_us (0..1).")
    stuck_on: float = Field(0.0, ge=0, le=1, description="Fraction of cells stuck at g_max_us (0..1).")

    @model_validator(mode="after")
    def _check_relations(self) -> "DeviceConfig":
        if self.g_max_us <= self.g_min_us:
            raise _cross_field_error(
                "g_max_us", self.g_max_us, f"a number > g_min_us ({self.g_min_us!r}): the conductance range is empty"
            )
        if self.stuck_off + self.stuck_on > 1.0:
            raise _cross_field_error(
                "stuck_on", self.stuck_on, f"at most 1 - stuck_off = {1.0 - self.stuck_off!r} (stuck fractions sum to <= 1)"
            )
        if isinstance(self.drift_nu, str) and self.drift_nu_std != 0.0:
            raise _cross_field_error(
                "drift_nu_std",
                self.drift_nu_std,
                f"0 when drift_nu names a model ({self.drift_nu!r} sets its own spread of ν)",
            )
        return self


class ArrayConfig(_Node):
    """One crossbar array: geometry, levels per cell, read pulse, wire resistance."""

    rows: int = Field(128, ge=1, description="Rows (inputs, word lines) per array.")
    cols: int = Field(128, ge=1, description="Physical columns (bit lines) per array.")
    bits_per_cell: int = Field(2, ge=1, le=8, description="Bits stored per cell (2^bits levels).")
    t_read_ns: float = Field(100.0, gt=0, description="Duration of one array read, i.e. one input cycle (ns).")
    wire_resistance_ohm: float = Field(
        0.0,
        ge=0,
        description="Wire resistance per cell pitch along rows and columns (Ω); "
        "0 disables the first-order IR-drop model.",
    )


class DACConfig(_Node):
    """Row drivers."""

    bits: int = Field(
        1,
        ge=1,
        le=16,
        description="Magnitude bits applied per cycle (1 = bit-serial); the top code 2^bits - 1 drives v_read. "
        "Signed inputs carry input_bits - 1 magnitude bits (the sign is a phase or the drive's polarity), so with "
        "dac.bits = input_bits their top code drives about v_read / 2.",
    )


class ADCConfig(_Node):
    """Column converters."""

    bits: int = Field(8, ge=1, le=24, description="ADC resolution (bits).")
    range: Literal["max", "calibrated"] = Field(
        "max",
        description="Full-scale range: 'max' = the largest possible column current; "
        "'calibrated' = a percentile of the currents seen on calibration inputs.",
    )
    calibration_percentile: float = Field(
        99.99, gt=0, le=100, description="Percentile of calibration currents taken as full scale when range = 'calibrated' (%)."
    )
    noise_lsb: float = Field(0.0, ge=0, description="Input-referred ADC noise σ (LSB).")
    sample_rate_gsps: float = Field(1.28, gt=0, description="Conversion rate of one ADC (GS/s).")
    columns_per_adc: int = Field(
        128,
        ge=1,
        description="Physical columns sharing one ADC through sample-and-holds (a differential pair sensed in "
        "analog is two columns and one conversion).",
    )
    kind: Literal["sar", "integrating"] = Field(
        "sar",
        description="'sar' = a converter at sample_rate_gsps, shared by columns_per_adc columns through "
        "sample-and-holds and pipelined behind the array, its energy from energy.adc_model; 'integrating' = "
        "NeuRRAM's neuron: it samples and integrates the column charge, then resolves each bit by a charge-"
        "decrement search, one step_ns per sample and per bit (plus one to reset), not overlapped with reads; "
        "energy.adc_pj_per_step per bit and energy.adc_bias_uw while the array works.",
    )
    cycles_per_conversion: int = Field(
        1,
        ge=1,
        description="Input cycles integrated in analog before one conversion: the cycle of significance 2^(d·j) "
        "within a group is sampled 2^(d·j) times. Groups are taken from the most significant cycle down.",
    )
    step_ns: float = Field(
        1.0, gt=0, description="One sample or one bit decision of an 'integrating' ADC (ns)."
    )


class MappingConfig(_Node):
    """How numbers become conductances and voltages."""

    weight_bits: int = Field(8, ge=2, le=16, description="Weight quantisation, sign included (bits).")
    input_bits: int = Field(8, ge=1, le=16, description="Input quantisation, sign included (bits).")
    weight_encoding: Literal["differential", "offset"] = Field(
        "differential",
        description="Signed weights: 'differential' = G+ and G- cells holding weight_bits-1 magnitude bits; "
        "'offset' = W + 2^(weight_bits-1) stored unsigned, offset removed digitally.",
    )
    weight_scale: Literal["tensor", "column"] = Field(
        "tensor", description="Weight quantisation scale: one per tensor or one per output column."
    )
    input_encoding: Literal["two_phase", "bipolar", "offset"] = Field(
        "two_phase",
        description="Signed inputs: 'two_phase' = positive and negative parts in two passes; "
        "'bipolar' = negative row voltages; 'offset' = X + 2^(input_bits-1) applied unsigned, offset removed digitally.",
    )
    differential_sensing: Literal["digital", "analog"] = Field(
        "digital",
        description="Differential pairs: 'digital' = each column converted, subtracted after the ADC; "
        "'analog' = currents subtracted before one conversion.",
    )
    output_bits: int = Field(
        8,
        ge=1,
        le=32,
        description="GEMM outputs after shift-and-add are rounded to this many bits before they are stored "
        "in output registers and buffers or sent on (bits).",
    )
    flip_columns: bool = Field(
        False,
        description="ISAAC's flipped encoding: a column whose weights would sum above half range is stored "
        "inverted, saving one ADC bit; needs unipolar column currents.",
    )

    @model_validator(mode="after")
    def _check_flip(self) -> "MappingConfig":
        if not self.flip_columns:
            return self
        if self.input_encoding == "bipolar":
            reason = "input_encoding = 'bipolar' drives negative row voltages"
        elif self.weight_encoding == "differential" and self.differential_sensing == "analog":
            reason = "differential weights subtracted in analog give signed column currents"
        else:
            return self
        raise _cross_field_error(
            "flip_columns", True, f"false here: flipped columns need unipolar column currents, but {reason}"
        )


class TileConfig(_Node):
    """Arrays grouped into IMAs (in-situ multiply-accumulate units) and tiles."""

    arrays_per_group: int = Field(8, ge=1, description="Arrays per group (ISAAC's IMA).")
    groups_per_tile: int = Field(12, ge=1, description="Groups (IMAs) per tile.")
    buffer_kib: float = Field(64.0, ge=0, description="Tile buffer capacity (KiB).")
    buffer_kind: Literal["sram", "edram"] = Field("sram", description="Tile buffer technology.")


class ChipLevelConfig(_Node):
    """The whole chip."""

    tiles: int = Field(168, ge=1, description="Tiles per chip.")
    clock_ghz: float = Field(1.2, gt=0, description="Digital clock (GHz).")
    node_nm: float = Field(32.0, gt=0, description="CMOS technology node (nm).")


class EnergyConfig(_Node):
    """Prices of actions, applied by the energy model (counting is separate from pricing).

    Defaults are per-event values derived from ISAAC's Table I at its 100 ns cycle (32 nm), as
    listed in ../shared/reference/NOTES.md, except DRAM (LPDDR4) and static power (none).
    """

    adc_model: Literal["table", "walden", "survey", "cimloop"] = Field(
        "table",
        description="ADC energy model (cimsim.adc_models): 'table' = adc_pj_per_conversion; 'walden' = "
        "adc_walden_fom_fj_per_step × 2^adc.bits; 'survey' = the minimum-energy frontier of the Murmann ADC survey "
        "(ADC-05..13) at adc.bits and adc.sample_rate_gsps; 'cimloop' = CiMLoop's model at adc.bits, "
        "adc.sample_rate_gsps and chip.node_nm (ADC-18..21).",
    )
    adc_pj_per_conversion: float = Field(
        1.5625,
        ge=0,
        description="ADC energy per conversion for the 'table' model (pJ). "
        "Default: ISAAC, 16 mW per IMA × 100 ns / 1024 conversions (ISAAC-10, ISAAC-51).",
    )
    adc_walden_fom_fj_per_step: float = Field(
        6.103515625,
        ge=0,
        description="Walden figure of merit for the 'walden' model (fJ per conversion step). "
        "Default: ISAAC's 1.5625 pJ / 2^8 (ISAAC-51), so both models agree at 8 bits; "
        "Kull 2013, the ADC ISAAC adapted, measured 33.8 fJ/step at ENOB 6.24 (ADC-04).",
    )
    dac_pj_per_conversion: float = Field(
        0.390625,
        ge=0,
        description="DAC energy per row drive per input cycle (pJ). "
        "Default: ISAAC, 4 mW per IMA × 100 ns / (8 × 128) 1-bit drivers (ISAAC-12, ISAAC-57); "
        "Accelergy's port uses 0.41667 (ISAAC-67).",
    )
    sample_hold_pj: float = Field(
        0.0009765625,
        ge=0,
        description="Sample-and-hold energy per sample (pJ). "
        "Default: ISAAC, 10 µW per IMA × 100 ns / 1024 samples (ISAAC-14).",
    )
    shift_add_pj: float = Field(
        0.021, ge=0, description="Shift-and-add energy per operation (pJ). Default: ISAAC-derived, 16 bit, 32 nm (ISAAC-68)."
    )
    input_register_pj_per_bit: float = Field(
        0.12109375,
        ge=0,
        description="Input register energy per bit read into the row drivers (pJ/bit). "
        "Default: ISAAC input registers, 1.24 mW per IMA × 100 ns / 1024 input bits (ISAAC-20, ISAAC-60).",
    )
    output_register_pj_per_bit: float = Field(
        0.1796875,
        ge=0,
        description="Output register energy per output bit written (pJ/bit). "
        "Default: ISAAC output registers, 0.23 mW per IMA × 100 ns / 128 output bits (ISAAC-22; 8 arrays × 16 "
        "outputs of 16 bits per 16 cycles).",
    )
    buffer_pj_per_bit: float = Field(
        0.0798828125,
        ge=0,
        description="Tile buffer energy per bit read or written (pJ/bit). "
        "Default: ISAAC eDRAM, 20.45 pJ per 256-bit access (ISAAC-65).",
    )
    bus_pj_per_bit_hop: float = Field(
        0.05063657407407408,
        ge=0,
        description="Tile bus energy per bit carried between the buffer and the array groups (pJ/bit). "
        "Default: ISAAC, 7 mW per tile × 100 ns / 13,824 bits (ISAAC-28 at cimsim's peak traffic: 96 arrays × "
        "(128 input bits + 16 output bits) per cycle).",
    )
    noc_pj_per_bit_hop: float = Field(
        0.081015625,
        ge=0,
        description="On-chip network energy per bit per router hop (pJ/bit/hop). "
        "Default: ISAAC router, 20.74 pJ per 256 bits (ISAAC-66).",
    )
    digital_pj_per_op: float = Field(
        0.1,
        ge=0,
        description="Digital unit energy per elementary operation of a non-GEMM op (activation, pooling, softmax, "
        "normalisation, residual add) (pJ). Default: a 32-bit integer add at 45 nm (HOR-02).",
    )
    global_buffer_pj_per_bit: float = Field(
        1.5625,
        ge=0,
        description="Chip-level (global) buffer energy per bit read or written (pJ/bit). "
        "Default: a 64-bit read of a 1 MB SRAM, 100 pJ at 45 nm (HOR-11).",
    )
    dram_pj_per_bit: float = Field(
        8.0, ge=0, description="Off-chip DRAM energy per bit read or written (pJ/bit). Default: LPDDR4 (MEM-01)."
    )
    static_power_mw: float = Field(
        0.0,
        ge=0,
        description="Chip static power charged over the elapsed time (mW). Default 0: none charged.",
    )
    adc_pj_per_step: float = Field(
        0.0, ge=0, description="Energy of one bit decision of an 'integrating' ADC (pJ). Default 0: no such ADC."
    )
    adc_bias_uw: float = Field(
        0.0, ge=0, description="Standing bias power of one 'integrating' ADC while its array works (µW). Default 0."
    )


class AreaConfig(_Node):
    """Areas of the hardware blocks (µm²); counts follow from the geometry (rows, columns, ADC sharing).

    Defaults: ISAAC's Table I at 32 nm (ISAAC-11..31); the ADC's area for the 'walden' and 'survey'
    energy models comes from the ADC area model instead of ``adc_um2``.
    """

    cell_um2: float = Field(
        0.0015258789, ge=0, description="One resistive cell (µm²). Default: ISAAC, 0.0002 mm² / (8 × 128 × 128) (ISAAC-17)."
    )
    dac_um2: float = Field(0.166015625, ge=0, description="One row driver (µm²). Default: ISAAC, 170 µm² / 1024 (ISAAC-13).")
    sample_hold_um2: float = Field(
        0.0390625, ge=0, description="One column sample-and-hold (µm²). Default: ISAAC, 40 µm² / 1024 (ISAAC-15)."
    )
    adc_um2: float = Field(
        1200.0,
        ge=0,
        description="One ADC with the 'table' energy model (µm²); 'walden', 'survey' and 'cimloop' use CiMLoop's "
        "area model instead. Default: ISAAC (ISAAC-11).",
    )
    shift_add_um2_per_group: float = Field(
        240.0, ge=0, description="Shift-and-add units of one array group (µm²). Default: ISAAC, 4 × 60 µm² (ISAAC-19)."
    )
    input_register_um2_per_group: float = Field(
        2100.0, ge=0, description="Input registers of one array group (µm²). Default: ISAAC, 2 KB (ISAAC-21)."
    )
    output_register_um2_per_group: float = Field(
        770.0, ge=0, description="Output registers of one array group (µm²). Default: ISAAC, 256 B (ISAAC-23)."
    )
    buffer_um2_per_tile: float = Field(83000.0, ge=0, description="Tile buffer (µm²). Default: ISAAC 64 KB eDRAM (ISAAC-27).")
    bus_um2_per_tile: float = Field(90000.0, ge=0, description="Tile bus (µm²). Default: ISAAC, 384 wires (ISAAC-29).")
    router_um2_per_tile: float = Field(
        37750.0, ge=0, description="Router share of one tile (µm²). Default: ISAAC, 0.151 mm² / 4 tiles (ISAAC-31)."
    )
    digital_um2_per_tile: float = Field(
        4100.0,
        ge=0,
        description="Tile digital units: activation, pooling, tile shift-and-add and output registers (µm²). "
        "Default: ISAAC sigmoid 600 + max-pool 240 + S+A 60 + OR 3200 (ISAAC-32..35).",
    )
    chip_overhead_um2: float = Field(
        0.0, ge=0, description="Chip-level blocks outside the tiles, e.g. off-chip links (µm²). Default 0."
    )


class ChipConfig(_Node):
    """The whole configuration of a simulated chip (frozen; use :meth:`override` for a changed copy)."""

    meta: MetaConfig = Field(default_factory=MetaConfig, description="Name, source and description.")
    device: DeviceConfig = Field(default_factory=DeviceConfig, description="Resistive cell physics.")
    array: ArrayConfig = Field(default_factory=ArrayConfig, description="Crossbar array geometry and timing.")
    dac: DACConfig = Field(default_factory=DACConfig, description="Row drivers.")
    adc: ADCConfig = Field(default_factory=ADCConfig, description="Column converters.")
    mapping: MappingConfig = Field(default_factory=MappingConfig, description="Quantisation and signed encodings.")
    tile: TileConfig = Field(default_factory=TileConfig, description="Arrays per group, groups per tile, tile buffer.")
    chip: ChipLevelConfig = Field(default_factory=ChipLevelConfig, description="Tiles, clock, technology node.")
    energy: EnergyConfig = Field(default_factory=EnergyConfig, description="Prices of actions.")
    area: AreaConfig = Field(default_factory=AreaConfig, description="Areas of the hardware blocks.")

    @model_validator(mode="after")
    def _check_integration(self) -> "ChipConfig":
        if self.adc.cycles_per_conversion > 1 and self.mapping.input_encoding == "two_phase":
            raise _cross_field_error(
                "adc.cycles_per_conversion",
                self.adc.cycles_per_conversion,
                "1 with mapping.input_encoding = 'two_phase': positive and negative phases are separate passes, "
                "so their cycles cannot be integrated together; use 'bipolar' or 'offset' inputs",
            )
        return self

    def override(self, updates: Mapping[str, Any]) -> "ChipConfig":
        """A new, validated config with ``updates`` (``{"adc.bits": 6, ...}``) applied all at once.

        Every path is ``section.field``. NumPy scalars are taken as the Python value they hold,
        so sweep grids built with NumPy work. ``self`` is left unchanged.
        """
        if not isinstance(updates, Mapping):
            raise ConfigError(f"override: expected a mapping of dotted paths to values, got {updates!r}")
        data = self.to_dict()
        for path, value in updates.items():
            parts = _resolve(type(self), path)
            if len(parts) != 2:
                raise ConfigError(f"override path {path!r} names a section; give a field, e.g. '{parts[0]}.<field>'")
            data[parts[0]][parts[1]] = value.item() if isinstance(value, np.generic) else value
        return type(self).from_dict(data)

    def get(self, path: str) -> Any:
        """The value at a dotted path (``"adc.bits"``), or a whole section (``"adc"``)."""
        node: Any = self
        for part in _resolve(type(self), path):
            node = getattr(node, part)
        return node

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{section: {field: value}}`` of plain Python values."""
        return self.model_dump()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ChipConfig":
        """A validated config from ``{section: {field: value}}``; missing entries take defaults."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"config: got {data!r}, allowed: a table of sections {_names(cls)}")
        with _config_errors(cls):
            return cls.model_validate(dict(data))

    def to_toml(self) -> str:
        """TOML text with every field; ``from_toml`` of it gives back an equal config."""
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> "ChipConfig":
        """A validated config from TOML text; missing entries take defaults."""
        return _parse_toml(cls, text, source=None)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_toml` to ``path`` atomically (temporary file in the same directory, then rename)."""
        atomic_write_text(Path(path), self.to_toml())


def load_config(path: str | os.PathLike[str]) -> ChipConfig:
    """Read a :class:`ChipConfig` from a TOML file."""
    source = f"config file '{os.fspath(path)}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} cannot be read: {exc}") from None
    return _parse_toml(ChipConfig, text, source)


def list_presets() -> list[str]:
    """Names of the presets shipped in ``cimsim/presets/``, sorted."""
    return sorted(entry.name.removesuffix(".toml") for entry in _presets_dir().iterdir() if entry.name.endswith(".toml"))


def load_preset(name: str) -> ChipConfig:
    """The preset ``name`` (see :func:`list_presets`)."""
    available = list_presets()
    if name not in available:
        raise ConfigError(f"unknown preset {name!r}; available presets: {', '.join(available)}")
    text = _presets_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return _parse_toml(ChipConfig, text, f"preset '{name}'")


# --------------------------------------------------------------------------- helpers


def _presets_dir() -> Traversable:
    return resources.files("cimsim").joinpath("presets")


def _parse_toml(cls: type[ChipConfig], text: str, source: str | None) -> ChipConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # the message carries "(at line L, column C)"
        raise ConfigError(_join(source, [f"invalid TOML: {exc}"])) from None
    with _config_errors(cls, source):
        return cls.model_validate(data)


def _is_node(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, _Node)


def _names(model: type[_Node]) -> str:
    return ", ".join(model.model_fields)


def _section_of(model: type[_Node]) -> list[str]:
    """Path of a section class in the tree ([] for the root)."""
    return [name for name, info in ChipConfig.model_fields.items() if info.annotation is model][:1]


def _unknown(model: type[_Node], parts: list[str]) -> str:
    """Message for ``parts[-1]``, which is not a field of ``model`` (the table at ``parts[:-1]``)."""
    if len(parts) == 1:
        return f"unknown section {parts[0]!r}; allowed sections: {_names(model)}"
    return f"unknown field {'.'.join(parts)!r}; allowed fields of [{'.'.join(parts[:-1])}]: {_names(model)}"


def _resolve(model: type[_Node], path: Any) -> list[str]:
    """Check a dotted path against the tree and return its parts."""
    if not isinstance(path, str):
        raise ConfigError(f"config path must be a string like 'adc.bits', got {path!r}")
    parts = path.split(".")
    current: type[_Node] | None = model
    for i, part in enumerate(parts):
        if current is None:
            raise ConfigError(f"config path {path!r}: {'.'.join(parts[:i])!r} is a value, not a section")
        if part not in current.model_fields:
            message = _unknown(current, parts[: i + 1])
            raise ConfigError(message if i + 1 == len(parts) else f"{message} (in path {path!r})")
        annotation = current.model_fields[part].annotation
        current = annotation if _is_node(annotation) else None
    return parts


def _frozen_message(node: _Node, name: str) -> str:
    section = _section_of(type(node))
    path = ".".join([*section, name])
    example = path if section else f"{name}.<field>"
    return f"cannot assign {path!r}: configurations are frozen; use cfg.override({{{example!r}: value}}) for a changed copy"


@contextlib.contextmanager
def _config_errors(model: type[_Node], source: str | None = None) -> Iterator[None]:
    """Turn a pydantic ValidationError raised inside into a ConfigError, one line per problem."""
    try:
        yield
    except ValidationError as exc:
        lines: list[str] = []
        for error in exc.errors():
            # A table validated inside another runs its own __init__, which has already turned
            # its problems into a ConfigError (pydantic wraps it as a value_error): keep its lines.
            cause = error.get("ctx", {}).get("error")
            new = str(cause).splitlines() if isinstance(cause, ConfigError) else [_describe(model, error)]
            lines += [line for line in new if line not in lines]  # a union reports each member; one line is enough
        raise ConfigError(_join(source, lines)) from None


def _join(source: str | None, lines: list[str]) -> str:
    if source is None:
        return "\n".join(lines)
    if len(lines) == 1:
        return f"{source}: {lines[0]}"
    return f"{source}:\n" + "\n".join(f"  {line}" for line in lines)


def _describe(model: type[_Node], error: Any) -> str:
    """One line for one pydantic error: the dotted field, the value given, what is allowed."""
    parts, table, info = _section_of(model), model, None
    rest = list(error["loc"])
    while rest and table is not None and rest[0] in table.model_fields:
        name = rest.pop(0)
        info = table.model_fields[name]
        parts.append(name)
        table = info.annotation if _is_node(info.annotation) else None
    path = ".".join(parts) or "config"
    if error["type"] == "extra_forbidden" and table is not None and rest:
        return f"{_unknown(table, [*parts, str(rest[0])])} (given {error['input']!r})"
    if error["type"] == _CROSS_FIELD:
        ctx = error["ctx"]
        return f"{'.'.join([*parts, ctx['field']])}: got {ctx['value']!r}, allowed: {ctx['allowed']}"
    if table is not None:
        return f"{path}: got {error['input']!r}, allowed: a table with fields {_names(table)}"
    if info is not None:
        return f"{path}: got {error['input']!r}, allowed: {_allowed(info.annotation, info.metadata)}"
    return f"{path}: got {error['input']!r}: {error['msg']}"


def _allowed(annotation: Any, metadata: list[Any]) -> str:
    """What a field accepts, in words: 'an integer from 1 to 24', "one of 'max', 'calibrated'"."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _allowed(base, [*metadata, *extra])
    if origin is Union:
        return ", or ".join(_allowed(member, []) for member in get_args(annotation))
    if origin is Literal:
        return "one of " + ", ".join(repr(value) for value in get_args(annotation))
    if annotation is bool:
        return "true or false"
    if annotation is str:
        return "a string"
    noun = "an integer" if annotation is int else "a finite number"
    return noun + _bounds(metadata)


def _bounds(metadata: list[Any]) -> str:
    lower = next((m for m in metadata if isinstance(m, (Ge, Gt))), None)
    upper = next((m for m in metadata if isinstance(m, Le)), None)
    if isinstance(lower, Ge) and upper is not None:
        return f" from {lower.ge} to {upper.le}"
    words = []
    if lower is not None:
        words.append(f">= {lower.ge}" if isinstance(lower, Ge) else f"> {lower.gt}")
    if upper is not None:
        words.append(f"<= {upper.le}")
    return (" " + " and ".join(words)) if words else ""
