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
them, are shared with the von Neumann baseline's tree (:mod:`cimsim.config.tree`).

Presets are TOML files in ``cimsim/config/presets/`` and load through the same path as a user's file.
A file whose ``[meta]`` sets ``architecture = "von-neumann"`` loads as a
:class:`~cimsim.config.von_neumann.VonNeumannConfig`; any other as a :class:`ChipConfig`.
"""

from typing import Literal

from pydantic import Field, model_validator

from cimsim.config.prices import AreaConfig, EnergyConfig
from cimsim.config.sections import ADCConfig, ArrayConfig, DACConfig, DeviceConfig, MappingConfig, MetaConfig
from cimsim.config.tree import CHIP_AREA_MM2, ConfigRoot, Node, cross_field_error, physical_field, unphysical
from cimsim.errors import ConfigError



MAX_CHIP_AREA_MM2 = 2000.0
CHIP_AREA_REASON = ("more than twice the lithographic reticle limit of about 858 mm² (26 x 33 mm): a larger "
                    "machine is a wafer-scale or multi-die system, whose yield and links cimsim does not model")


class TileConfig(Node):
    """Arrays grouped into IMAs (in-situ multiply-accumulate units) and tiles."""

    arrays_per_group: int = Field(8, ge=1, description="Arrays per group (ISAAC's IMA).")
    groups_per_tile: int = Field(12, ge=1, description="Groups (IMAs) per tile.")
    buffer_kib: float = Field(
        64.0, ge=0, description="Tile buffer capacity (KiB): the activations resident for the layers placed on "
        "the tile (cimsim.arch.memory) must fit, or the excess spills to the global buffer or DRAM; 0 means no "
        "tile buffer (no buffer step in the scheduler, inputs go straight from the interconnect to the arrays).",
    )
    buffer_kind: Literal["sram", "edram"] = Field(
        "sram", description="Tile buffer technology, for the record: its energy and area are the energy and area fields.",
    )
    buffer_gbps: float = Field(
        307.2, gt=0, description="Tile buffer bandwidth, reads and writes together (Gb/s = bits per ns); "
        "unused when buffer_kib = 0 (inputs go straight to the arrays).",
    )


class ChipLevelConfig(Node):
    """The whole chip."""

    tiles: int = Field(
        168, ge=1, description=f"Tiles per chip. The chip's area (cimsim.peak, area_mm2) is refused above "
        f"{MAX_CHIP_AREA_MM2:,.0f} mm² ({CHIP_AREA_REASON}) unless meta.allow_unphysical = true.",
    )
    clock_ghz: float = physical_field(
        1.2, gt=0, limit=10.0, description="Digital clock (GHz).",
        reason="CMOS logic is not clocked above about 6 GHz",
    )
    node_nm: float = Field(32.0, gt=0, description="CMOS technology node (nm).")
    noc_topology: Literal["bus", "mesh"] = Field(
        "mesh", description="Interconnect between tiles: one shared 'bus' (one hop), or a 2-D 'mesh' of links "
        "(hops = Manhattan distance between tiles on a square grid; one link per tile).",
    )
    noc_gbps: float = Field(38.4, gt=0, description="Bandwidth of one link or of the bus (Gb/s = bits per ns).")
    noc_cycles_per_hop: int = Field(
        2, ge=0, le=64, description="Pipeline delay of one hop (clock cycles at clock_ghz), added once per hop to a "
        "transfer's serialisation time. Default 2: one cycle through the router, one across the link, the lean "
        "end of on-chip routers (an assumption, not a measured figure; a speculative router pipeline as in "
        "Dally & Towles, Principles and Practices of Interconnection Networks, 2004, ch. 16).",
    )
    noc_multicast: bool = Field(
        False, description="Whether the interconnect multicasts: an operand that the several tiles of a split "
        "digital operation each need whole (attention's keys and values) is sent once down the tree of XY "
        "routes, each link carrying it once. Default false: unicast, a copy per tile (no multicast assumed).",
    )
    global_buffer_kib: float = Field(
        0.0, ge=0, description="Chip-level SRAM buffer (KiB) that takes activations spilled from the tile buffers "
        "before DRAM does. Default 0: none (ISAAC has only its tiles' eDRAM, ISAAC Table I).",
    )
    global_buffer_gbps: float = Field(
        512.0, gt=0, description="Global buffer bandwidth, reads and writes together (Gb/s = bits per ns). "
        "Default 512 (64 GB/s), the von Neumann baseline's default global buffer (512 bits per cycle at 1 GHz).",
    )
    dram_gbps: float = Field(
        102.4, gt=0, description="DRAM bandwidth (Gb/s = bits per ns), for spilled activations and weights "
        "streamed in to be reprogrammed. Default 102.4 (12.8 GB/s): one 32-bit LPDDR4-3200 channel "
        "(3200 MT/s x 4 bytes; JEDEC JESD209-4), the channel edge-npu and energy.dram_pj_per_bit assume.",
    )
    digital_gops_per_tile: float = Field(
        38.4, gt=0, le=1e5, description="Throughput of a tile's digital units for the multiply-accumulates of "
        "activation x activation products (attention), 2 ops per MAC (Gop/s = ops per ns). Default: an "
        "assumption, 32 lanes at ISAAC's 1.2 GHz; a DaDianNao tile's NFU gives 349 Gop/s in 4.07 mm² at 32 nm "
        "(ISAAC-43/44: 63.46 Gop/s/mm² x 88 mm² / 16 tiles), a bound for a tile ten times ISAAC's 0.372 mm². "
        "Upper bound: 1e5 Gop/s (100 Top/s) per tile, some 300 DaDianNao tiles.",
    )
    digital_elementwise_gops_per_tile: float = Field(
        38.4, gt=0, le=1e5, description="Throughput of a tile's digital units for element-wise operations "
        "(ReLU-like activations, pooling, residual adds; Gop/s = elementary ops per ns, ops per element as "
        "cimsim.workload.DIGITAL_OPS_PER_ELEMENT). Default: the same assumption, 32 lanes at 1.2 GHz.",
    )
    digital_special_gops_per_tile: float = Field(
        38.4, gt=0, le=1e5, description="Throughput of a tile's digital units for special functions (softmax, "
        "normalisation, GELU/sigmoid/tanh-like activations; Gop/s = elementary ops per ns). Default: the same "
        "assumption, 32 lanes at 1.2 GHz (a lane computes one elementary op of a special function per cycle).",
    )
    attention_on: Literal["digital", "crossbar"] = Field(
        "digital", description="Where activation x activation products (attention) run: 'digital' = the tiles' "
        "digital units (cimsim.arch.digital), split over tiles when one would be the bottleneck; 'crossbar' = "
        "arrays reprogrammed with the second operand (keys, values) every inference, at device.write_energy_pj "
        "per cell and device.write_ns_per_row per array row.",
    )
    replication: Literal["none", "balance"] = Field(
        "none", description="'balance': copy the slowest layers onto spare arrays to balance the pipeline.",
    )
    oversubscription: Literal["error", "reprogram"] = Field(
        "error", description="A workload needing more arrays than the chip has: 'error' raises a ConfigError; "
        "'reprogram' time-multiplexes the arrays, rewriting every layer's cells once per batch.",
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
            raise cross_field_error(
                "adc.cycles_per_conversion",
                self.adc.cycles_per_conversion,
                "1 with mapping.input_encoding = 'two_phase': positive and negative phases are separate passes, "
                "so their cycles cannot be integrated together; use 'bipolar' or 'offset' inputs",
            )
        return self

    @model_validator(mode="after")
    def _check_adc_banks(self) -> "ChipConfig":
        if self.adc.arrays_per_adc > 1 and self.adc.kind != "sar":
            raise cross_field_error("adc.arrays_per_adc", self.adc.arrays_per_adc,
                                    "1 with adc.kind = 'integrating': the neuron integrates its own column's charge")
        arrays_per_tile = self.tile.arrays_per_group * self.tile.groups_per_tile
        if self.adc.arrays_per_adc > arrays_per_tile:
            raise cross_field_error("adc.arrays_per_adc", self.adc.arrays_per_adc,
                                    f"at most the arrays of a tile ({arrays_per_tile}): a bank does not span tiles")
        return self

    @model_validator(mode="after")
    def _check_chip_area(self) -> "ChipConfig":
        if self.meta.allow_unphysical:
            return self
        try:
            area_mm2 = CHIP_AREA_MM2(self)
        except ConfigError:  # a registered ADC model that gives no area: refused where the area is priced
            return self
        if area_mm2 is not None and area_mm2 > MAX_CHIP_AREA_MM2:
            line = unphysical("chip area (mm², from chip.tiles and the area section)", round(area_mm2, 1),
                              MAX_CHIP_AREA_MM2, CHIP_AREA_REASON)
            raise ConfigError(line)
        return self


