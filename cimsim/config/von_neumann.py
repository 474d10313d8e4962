"""The configuration tree of the von Neumann baseline: a PE array, register files, one SRAM buffer, DRAM.

A :class:`VonNeumannConfig` has the sections ``meta``, ``pe``, ``energy``, ``memory`` and
``area``; it is built, validated, overridden and saved exactly like a
:class:`~cimsim.config.chip.ChipConfig` (both are :class:`~cimsim.config.tree.ConfigRoot`), and a TOML
file whose ``[meta]`` sets ``architecture = "von-neumann"`` loads as one through
:func:`cimsim.load_config` and :func:`cimsim.load_preset`.

The defaults are the ``vn-45nm`` preset: Horowitz's 45 nm energies (reference rows HOR-01..14 of
docs/reference/reference_figures.csv) and a 256-PE, 1 GHz design point.
"""

from typing import Literal

from pydantic import Field

from cimsim.config.tree import BaseMeta, ConfigRoot, Node

__all__ = ["VonNeumannMetaConfig", "PEConfig", "VonNeumannEnergyConfig", "MemoryConfig", "VonNeumannAreaConfig", "VonNeumannConfig"]


class VonNeumannMetaConfig(BaseMeta):
    """What the configuration is and where its numbers come from."""

    architecture: Literal["von-neumann"] = Field(
        "von-neumann", description="Kind of machine: 'von-neumann' (PE array, SRAM buffer, DRAM); marks the TOML kind."
    )


class PEConfig(Node):
    """The array of processing elements, each one MAC unit with its register file (Eyeriss-style)."""

    pes: int = Field(256, ge=1, description="MAC units; each does one weight_bits x activation_bits MAC per cycle.")
    clock_ghz: float = Field(1.0, gt=0, description="PE clock (GHz = cycles per ns).")
    utilisation: float = Field(
        1.0, gt=0, le=1, description="Fraction of the PEs' peak MAC rate a layer sustains (mapping losses); 0 < u <= 1."
    )
    weight_bits: int = Field(8, ge=1, le=32, description="Bits of a weight, in DRAM, buffer and registers (bits).")
    activation_bits: int = Field(8, ge=1, le=32, description="Bits of an input activation (bits).")
    output_bits: int = Field(8, ge=1, le=32, description="Bits of an output activation written back to the buffer (bits).")
    accumulator_bits: int = Field(32, ge=1, le=64, description="Bits of a partial sum in the register file (bits).")
    rf_weight_reads_per_mac: float = Field(
        1.0, ge=0, description="Register-file reads of a weight (weight_bits each) per MAC."
    )
    rf_activation_reads_per_mac: float = Field(
        1.0, ge=0, description="Register-file reads of an activation (activation_bits each) per MAC."
    )
    rf_psum_accesses_per_mac: float = Field(
        0.0,
        ge=0,
        description="Register-file reads plus writes of a partial sum (accumulator_bits each) per MAC; 0 when the "
        "sum stays in the MAC unit's accumulator (Eyeriss's row-stationary PE: one read and one write, i.e. 2).",
    )


class VonNeumannEnergyConfig(Node):
    """Prices of actions (counting is separate from pricing: see cimsim/costs/von_neumann_energy.py)."""

    mac_pj: float = Field(
        0.23,
        ge=0,
        description="One MAC of mac_reference_bits x mac_reference_bits: a multiply and an add (pJ); at "
        "pe.weight_bits x pe.activation_bits it costs mac_pj x (b_w x b_a) / reference^2, as an array "
        "multiplier's partial products (Horowitz: 8-bit 0.2 pJ to 32-bit 3.1 pJ, 15.5x for 16x, HOR-03/04). "
        "Default: 8-bit multiply 0.2 + 8-bit add 0.03 at 45 nm (HOR-03, HOR-01).",
    )
    mac_reference_bits: int = Field(8, ge=1, le=64, description="The operand width at which mac_pj is given (bits).")
    register_file_pj_per_bit: float = Field(
        0.15625,
        ge=0,
        description="Register-file energy per bit read or written (pJ/bit). Default: a 64-bit read of an 8 KB SRAM, "
        "10 pJ at 45 nm (HOR-09), an upper bound for a register file (no confirmed register figure: HOR-17).",
    )
    global_buffer_pj_per_bit: float = Field(
        1.5625,
        ge=0,
        description="Global buffer (SRAM) energy per bit read or written (pJ/bit). "
        "Default: a 64-bit read of a 1 MB SRAM, 100 pJ at 45 nm (HOR-11).",
    )
    dram_pj_per_bit: float = Field(
        20.3125,
        ge=0,
        description="DRAM energy per bit read or written, I/O included (pJ/bit). "
        "Default: 1.3 nJ per 64-bit access, the low end of Horowitz's 20-41 pJ/bit (HOR-12, HOR-14).",
    )
    digital_pj_per_op: float = Field(
        0.1,
        ge=0,
        description="Energy per elementary operation of a non-GEMM op (activation, pooling, softmax, normalisation, "
        "residual add) (pJ). Default: a 32-bit integer add at 45 nm (HOR-02), as the CIM chip's default.",
    )
    static_power_mw: float = Field(
        0.0, ge=0, description="Static power charged over the elapsed time (mW). Default 0: none charged."
    )


class MemoryConfig(Node):
    """The on-chip global buffer and the DRAM channel."""

    global_buffer_kib: float = Field(1024.0, ge=0, description="Global buffer (SRAM) capacity (KiB).")
    global_buffer_gb_per_s: float = Field(
        64.0, gt=0, description="Global buffer bandwidth to and from the PE array (GB/s = 10^9 bytes/s = bytes per ns)."
    )
    dram_gb_per_s: float = Field(12.8, gt=0, description="DRAM bandwidth (GB/s = 10^9 bytes/s = bytes per ns).")
    weights_resident: Literal["auto", "never"] = Field(
        "auto",
        description="'auto': when all of a workload's weights fit in the global buffer they are loaded once and stay "
        "(no DRAM traffic per batch); 'never': weights are fetched from DRAM once per batch regardless.",
    )


class VonNeumannAreaConfig(Node):
    """Area, for TOPS/mm²."""

    chip_mm2: float = Field(
        0.0, ge=0, description="Die area (mm²); 0 = not modelled (then TOPS/mm² means nothing)."
    )


class VonNeumannConfig(ConfigRoot):
    """The whole configuration of a von Neumann accelerator (frozen; use :meth:`override` for a changed copy)."""

    meta: VonNeumannMetaConfig = Field(default_factory=VonNeumannMetaConfig, description="Name, source, description, kind.")
    pe: PEConfig = Field(default_factory=PEConfig, description="PE array: MAC units, clock, precision, register files.")
    energy: VonNeumannEnergyConfig = Field(default_factory=VonNeumannEnergyConfig, description="Prices of actions.")
    memory: MemoryConfig = Field(default_factory=MemoryConfig, description="Global buffer and DRAM.")
    area: VonNeumannAreaConfig = Field(default_factory=VonNeumannAreaConfig, description="Die area.")
