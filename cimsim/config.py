"""The configuration tree of a simulated chip: typed, frozen, validated at construction.

A :class:`ChipConfig` holds one section per concern (``meta``, ``device``, ``array``, ``dac``,
``adc``, ``mapping``, ``tile``, ``chip``, ``energy``), each a frozen pydantic model whose
fields carry their unit in the name or the description (µS, V, ns, pJ, mW, GHz, nm).
Validation is strict: ``"6"`` is not an integer, ``True`` is not a number, a float is not an
integer (an integer is accepted where a float is expected and stored as a float).

Every way in (the constructors, :meth:`ChipConfig.from_dict`, :meth:`ChipConfig.from_toml`,
:meth:`ChipConfig.override`, :func:`load_config`, :func:`load_preset`) raises
:class:`~cimsim.errors.ConfigError` on bad input, one line per problem, each naming the dotted
field (``adc.bits``), the value given and what is allowed. Those methods, and the checks behind
them, are shared with the von Neumann baseline's tree (:mod:`cimsim.config_tree`).

Presets are TOML files in ``cimsim/presets/`` and load through the same path as a user's file.
A file whose ``[meta]`` sets ``architecture = "von-neumann"`` loads as a
:class:`~cimsim.baseline_config.VonNeumannConfig`; any other as a :class:`ChipConfig`.
"""

import os
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from annotated_types import Ge
from pydantic import Field, model_validator

from cimsim.baseline_config import VonNeumannConfig
from cimsim.config_tree import BaseMeta, ConfigRoot, _cross_field_error, _Node, join_lines, parse_toml, validate
from cimsim.errors import ConfigError

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
    "ARCHITECTURES",
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

class MetaConfig(BaseMeta):
    """What the configuration is and where its numbers come from."""

    architecture: Literal["cim"] = Field(
        "cim", description="Kind of machine: 'cim' (a crossbar chip); 'von-neumann' files load as VonNeumannConfig."
    )


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
    write_energy_pj: float = Field(
        16.0, ge=0, description="Energy to program one cell, program-and-verify included (pJ); priced when a "
        "chip too small for its workload reprograms its arrays (chip.oversubscription = 'reprogram').",
    )
    write_ns_per_row: float = Field(
        1000.0, ge=0, description="Time to program one row of an array, all its cells in parallel, verify included (ns).",
    )

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
        description="Bits of each GEMM output as it is stored in output registers and buffers and sent on: "
        "what the data movement counts (bits). The simulated product itself is not rounded to them.",
    )
    flip_columns: bool = Field(
        False,
        description="ISAAC's flipped encoding: a column whose weights would sum above half range is stored "
        "inverted, saving one ADC bit; needs unipolar column currents.",
    )

    compact_rows: bool = Field(
        True, description="Leave out of the arrays every row whose quantised weights are all zero (its input is "
        "never routed): pruned rows, as N:M with a pattern shared by all columns ('2:4:rows') makes, cost no "
        "arrays, drives or reads. The product is unchanged.",
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
    buffer_kib: float = Field(
        64.0, ge=0, description="Tile buffer capacity (KiB); 0 means no tile buffer (no buffer step in the "
        "scheduler). Not a capacity limit yet: activations are taken to fit.",
    )
    buffer_kind: Literal["sram", "edram"] = Field(
        "sram", description="Tile buffer technology, for the record: its energy and area are the energy and area fields.",
    )
    buffer_gbps: float = Field(
        307.2, gt=0, description="Tile buffer bandwidth, reads and writes together (Gb/s = bits per ns); "
        "unused when buffer_kib = 0 (inputs go straight to the arrays).",
    )


class ChipLevelConfig(_Node):
    """The whole chip."""

    tiles: int = Field(168, ge=1, description="Tiles per chip.")
    clock_ghz: float = Field(1.2, gt=0, description="Digital clock (GHz).")
    node_nm: float = Field(32.0, gt=0, description="CMOS technology node (nm).")
    noc_topology: Literal["bus", "mesh"] = Field(
        "mesh", description="Interconnect between tiles: one shared 'bus' (one hop), or a 2-D 'mesh' of links "
        "(hops = Manhattan distance between tiles on a square grid; one link per tile).",
    )
    noc_gbps: float = Field(38.4, gt=0, description="Bandwidth of one link or of the bus (Gb/s = bits per ns).")
    digital_gops_per_tile: float = Field(
        38.4, gt=0, description="Throughput of a tile's digital units for non-GEMM operations (Gop/s = ops per ns).",
    )
    replication: Literal["none", "balance"] = Field(
        "none", description="'balance': copy the slowest layers onto spare arrays to balance the pipeline.",
    )
    oversubscription: Literal["error", "reprogram"] = Field(
        "error", description="A workload needing more arrays than the chip has: 'error' raises a ConfigError; "
        "'reprogram' time-multiplexes the arrays, rewriting every layer's cells once per batch.",
    )


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
        description="Chip-level (global) buffer energy per bit read or written (pJ/bit); priced, but no CIM "
        "path counts global-buffer traffic yet (activations stay in the tile buffers). "
        "Default: a 64-bit read of a 1 MB SRAM, 100 pJ at 45 nm (HOR-11).",
    )
    dram_pj_per_bit: float = Field(
        8.0, ge=0, description="Off-chip DRAM energy per bit read or written (pJ/bit); priced, but no CIM path "
        "counts DRAM traffic yet (weights stay on chip). Default: LPDDR4 (MEM-01)."
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


class ChipConfig(ConfigRoot):
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


ARCHITECTURES: dict[str, type[ConfigRoot]] = {"cim": ChipConfig, "von-neumann": VonNeumannConfig}
"""The configuration class of each ``meta.architecture`` a TOML file may name (``"cim"`` when absent)."""

AnyConfig = ChipConfig | VonNeumannConfig


def load_config(path: str | os.PathLike[str]) -> AnyConfig:
    """Read a configuration from a TOML file (a :class:`ChipConfig` unless its meta names another architecture)."""
    source = f"config file '{os.fspath(path)}'"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} cannot be read: {exc}") from None
    return _from_tables(parse_toml(text, source), source)


def list_presets(architecture: str | None = None) -> list[str]:
    """Names of the presets shipped in ``cimsim/presets/``, sorted; only those of ``architecture`` if given."""
    names = sorted(entry.name.removesuffix(".toml") for entry in _presets_dir().iterdir() if entry.name.endswith(".toml"))
    if architecture is None:
        return names
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"architecture = {architecture!r}; allowed: {', '.join(map(repr, ARCHITECTURES))}")
    return [name for name in names if _architecture(_preset_tables(name), f"preset '{name}'") == architecture]


def load_preset(name: str) -> AnyConfig:
    """The preset ``name`` (see :func:`list_presets`)."""
    available = list_presets()
    if name not in available:
        raise ConfigError(f"unknown preset {name!r}; available presets: {', '.join(available)}")
    return _from_tables(_preset_tables(name), f"preset '{name}'")


# --------------------------------------------------------------------------- helpers


def _presets_dir() -> Traversable:
    return resources.files("cimsim").joinpath("presets")


def _preset_tables(name: str) -> dict[str, Any]:
    text = _presets_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return parse_toml(text, f"preset '{name}'")


def _architecture(data: dict[str, Any], source: str) -> str:
    """The ``meta.architecture`` of parsed tables (``"cim"`` when absent), checked."""
    meta = data.get("meta")
    kind = meta.get("architecture", "cim") if isinstance(meta, Mapping) else "cim"
    if not (isinstance(kind, str) and kind in ARCHITECTURES):
        allowed = ", ".join(map(repr, ARCHITECTURES))
        raise ConfigError(join_lines(source, [f"meta.architecture: got {kind!r}, allowed: one of {allowed}"]))
    return kind


def _from_tables(data: dict[str, Any], source: str) -> AnyConfig:
    return validate(ARCHITECTURES[_architecture(data, source)], data, source)
