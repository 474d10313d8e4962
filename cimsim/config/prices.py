"""The price sections of the configuration tree: energy per action and area per block.

Counting is separate from pricing: :mod:`cimsim.costs.energy` applies :class:`EnergyConfig`
to the actions the models count, :mod:`cimsim.costs.area` applies :class:`AreaConfig` to the
blocks the geometry implies.
"""

from typing import Literal

from pydantic import Field, model_validator

from cimsim.config.tree import ADC_ENERGY_MODEL_NAMES, Node, cross_field_error

class EnergyConfig(Node):
    """Prices of actions, applied by the energy model (counting is separate from pricing).

    Defaults are per-event values derived from ISAAC's Table I at its 100 ns cycle (32 nm), as
    listed in docs/reference/NOTES.md, except DRAM (LPDDR4) and static power (none). Each price is
    given at a reference point (its ``*_reference_*`` field) and carried to the configured
    hardware by a documented law (cimsim.costs.scaling, cimsim.costs.adc_energy).
    """

    adc_model: str = Field(
        "table",
        description="ADC energy model: the name of a registered model (cimsim.list_adc_energy_models() lists them, "
        "cimsim.register_adc_energy_model adds one). Built in (cimsim.costs.adc_energy): 'table' = "
        "adc_pj_per_conversion and area.adc_um2; 'walden' = adc_walden_fom_fj_per_step × 2^adc.bits; 'survey' = the "
        "minimum-energy frontier of the Murmann ADC survey (ADC-05..13) at adc.bits and adc.sample_rate_gsps; "
        "'cimloop' = CiMLoop's model at adc.bits, adc.sample_rate_gsps and chip.node_nm (ADC-18..21); all but "
        "'table' take their area from CiMLoop's regression.",
    )
    adc_pj_per_conversion: float = Field(
        1.5625,
        ge=0,
        description="ADC energy per conversion for the 'table' model at adc_reference_bits (pJ); other widths "
        "scale by Walden's law, × 2^(adc.bits - adc_reference_bits) (ADC-01). "
        "Default: ISAAC, 16 mW per IMA × 100 ns / 1024 conversions (ISAAC-10, ISAAC-51).",
    )
    adc_reference_bits: int = Field(
        8,
        ge=1,
        le=24,
        description="Resolution at which adc_pj_per_conversion is given, for the 'table' model (bits). "
        "Default: ISAAC's 8-bit ADC (ISAAC-51).",
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
        description="DAC energy per row drive per input cycle for a DAC of dac_reference_bits (pJ); other "
        "widths scale by dac_model. Default: ISAAC, 4 mW per IMA × 100 ns / (8 × 128) 1-bit drivers (ISAAC-12, "
        "ISAAC-57); Accelergy's port uses 0.41667 (ISAAC-67).",
    )
    dac_reference_bits: int = Field(
        1, ge=1, le=16, description="Resolution at which dac_pj_per_conversion is given (bits). Default: ISAAC's 1-bit driver."
    )
    dac_model: Literal["capacitive", "linear"] = Field(
        "capacitive",
        description="How a DAC's energy per drive scales with dac.bits: 'capacitive' = × 2^(dac.bits - "
        "dac_reference_bits), a binary-weighted capacitive DAC whose switched capacitance doubles per bit (Saberi et "
        "al., TCAS-I 2011; ADC-16); 'linear' = × dac.bits / dac_reference_bits, a driver whose energy is set by its "
        "per-bit switches (ADC-16's law for an ADC's logic).",
    )
    wordline_pj_per_row_cycle: float = Field(
        0.0,
        ge=0,
        description="Energy of one stored row's wordline (and its driver) switched or precharged for one input "
        "cycle, charged for every row of every array read in every input cycle whether or not its input code is "
        "non-zero (pJ); the data-dependent part of a row drive is dac_pj_per_conversion, charged per non-zero code. "
        "Default 0: ISAAC's drivers are priced per drive (dac_pj_per_conversion, its Table I power at full "
        "activity). NeuRRAM: 2 wordlines × 585.6 fF × (1.8 V)², the wordline switching of its Fig. 12b (CIM-15), "
        "pulsed for every input bit.",
    )
    sample_hold_pj: float = Field(
        0.0009765625,
        ge=0,
        description="Sample-and-hold energy per sample (pJ). "
        "Default: ISAAC, 10 µW per IMA × 100 ns / 1024 samples (ISAAC-14).",
    )
    shift_add_pj: float = Field(
        0.021,
        ge=0,
        description="Shift-and-add energy per operation at shift_add_reference_bits and reference_node_nm (pJ); "
        "scaled by mapping.output_bits / shift_add_reference_bits and (chip.node_nm / reference_node_nm)^2. "
        "Default: ISAAC-derived, 16 bit, 32 nm (ISAAC-68).",
    )
    shift_add_reference_bits: int = Field(
        16, ge=1, le=64, description="Width at which shift_add_pj is given (bits). Default: ISAAC's 16-bit shift-and-add."
    )
    reference_node_nm: float = Field(
        32.0,
        gt=0,
        description="Technology node at which shift_add_pj and the per-bit register, buffer, bus and network "
        "prices are given (nm); each scales to chip.node_nm as (chip.node_nm / reference_node_nm)^2, first-order "
        "C·V² scaling (cimsim.costs.scaling; Stillmaker & Baas 2017 tabulate fitted factors). Default: ISAAC's 32 nm.",
    )
    input_register_pj_per_bit: float = Field(
        0.12109375,
        ge=0,
        description="Input register energy per bit read into the row drivers at reference_node_nm (pJ/bit), "
        "scaled to chip.node_nm as (chip.node_nm / reference_node_nm)^2. "
        "Default: ISAAC input registers, 1.24 mW per IMA × 100 ns / 1024 input bits (ISAAC-20, ISAAC-60), the traffic "
        "of every array taking its own inputs (the isaac preset: 128 bits, one fill per IMA of a broadcast row block).",
    )
    output_register_pj_per_bit: float = Field(
        0.1796875,
        ge=0,
        description="Output register energy per output bit written at reference_node_nm (pJ/bit), "
        "scaled to chip.node_nm as (chip.node_nm / reference_node_nm)^2. "
        "Default: ISAAC output registers, 0.23 mW per IMA × 100 ns / 128 output bits (ISAAC-22; 8 arrays × 16 "
        "outputs of 16 bits per 16 cycles).",
    )
    buffer_pj_per_bit: float = Field(
        0.0798828125,
        ge=0,
        description="Tile buffer energy per bit read or written at reference_node_nm (pJ/bit), "
        "scaled to chip.node_nm as (chip.node_nm / reference_node_nm)^2. "
        "Default: ISAAC eDRAM, 20.45 pJ per 256-bit access (ISAAC-65; the isaac preset: Table I's 20.7 mW over "
        "its peak's broadcast traffic, ISAAC-26).",
    )
    bus_pj_per_bit_hop: float = Field(
        0.05063657407407408,
        ge=0,
        description="Tile bus energy per bit carried between the buffer and the array groups at reference_node_nm (pJ/bit), "
        "scaled to chip.node_nm as (chip.node_nm / reference_node_nm)^2. "
        "Default: ISAAC, 7 mW per tile × 100 ns / 13,824 bits (ISAAC-28 at per-array traffic: 96 arrays × "
        "(128 input bits + 16 output bits) per cycle; the isaac preset: 1,664 bits, a row block's inputs broadcast).",
    )
    noc_pj_per_bit_hop: float = Field(
        0.081015625,
        ge=0,
        description="On-chip network energy per bit per router hop at reference_node_nm (pJ/bit/hop), "
        "scaled to chip.node_nm as (chip.node_nm / reference_node_nm)^2. "
        "Default: ISAAC router, 20.74 pJ per 256 bits (ISAAC-66; the isaac preset: Table I's 42 mW per 4 tiles over "
        "its peak's broadcast traffic, ISAAC-30).",
    )
    digital_pj_per_op: float = Field(
        0.1,
        ge=0,
        description="Digital unit energy per elementary operation of a non-GEMM op (activation, pooling, softmax, "
        "normalisation, residual add) at digital_reference_bits and digital_reference_node_nm (pJ); scaled by "
        "mapping.output_bits / digital_reference_bits and (chip.node_nm / digital_reference_node_nm)^2. "
        "Default: a 32-bit integer add at 45 nm (HOR-02).",
    )
    digital_pj_per_mac: float = Field(
        0.23,
        ge=0,
        le=100.0,
        description="Digital unit energy per multiply-accumulate of an activation x activation product "
        "(attention) at digital_mac_reference_bits and digital_reference_node_nm (pJ); scaled by "
        "(mapping.input_bits / digital_mac_reference_bits)^2 (an array multiplier) and "
        "(chip.node_nm / digital_reference_node_nm)^2. Default: an 8-bit multiply and an 8-bit add at 45 nm, "
        "0.2 + 0.03 pJ (HOR-03, HOR-01).",
    )
    digital_mac_reference_bits: int = Field(
        8, ge=1, le=64, description="Operand width at which digital_pj_per_mac is given (bits). Default: HOR-03's 8 bits."
    )
    digital_pj_per_special_op: float = Field(
        1.1,
        ge=0,
        le=100.0,
        description="Digital unit energy per elementary operation of a special function (softmax, normalisation, "
        "GELU/sigmoid/tanh-like activation) at digital_reference_node_nm (pJ), in 16-bit floating point whatever "
        "mapping.output_bits; scaled by (chip.node_nm / digital_reference_node_nm)^2. Default: a 16-bit "
        "floating-point multiply at 45 nm, 1.1 pJ (HOR-07).",
    )
    digital_reference_bits: int = Field(
        32, ge=1, le=64, description="Width at which digital_pj_per_op is given (bits). Default: HOR-02's 32-bit add."
    )
    digital_reference_node_nm: float = Field(
        45.0,
        gt=0,
        description="Technology node at which digital_pj_per_op and global_buffer_pj_per_bit are given (nm); "
        "each scales to chip.node_nm as (chip.node_nm / digital_reference_node_nm)^2. Default: Horowitz's 45 nm.",
    )
    global_buffer_pj_per_bit: float = Field(
        1.5625,
        ge=0,
        description="Chip-level (global) buffer energy per bit read or written at digital_reference_node_nm "
        "(pJ/bit), scaled to chip.node_nm as digital_pj_per_op; charged for activations spilled from the "
        "tile buffers into it (cimsim.arch.memory). "
        "Default: a 64-bit read of a 1 MB SRAM, 100 pJ at 45 nm (HOR-11).",
    )
    dram_pj_per_bit: float = Field(
        8.0, ge=0, description="Off-chip DRAM energy per bit read or written (pJ/bit): activations spilled past the "
        "global buffer, weights streamed in to be reprogrammed. Default: LPDDR4 (MEM-01)."
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

    @model_validator(mode="after")
    def _check_adc_model(self) -> "EnergyConfig":
        names = ADC_ENERGY_MODEL_NAMES()
        if self.adc_model not in names:
            raise cross_field_error(
                "adc_model",
                self.adc_model,
                f"a registered ADC energy model: {', '.join(map(repr, names))} (cimsim.register_adc_energy_model adds one)",
            )
        return self


class AreaConfig(Node):
    """Areas of the hardware blocks (µm²); counts follow from the geometry (rows, columns, ADC sharing).

    Defaults: ISAAC's Table I at 32 nm (ISAAC-11..31). The ADC's area is ``adc_um2`` under the
    'table' energy model; every other ADC energy model gives its own (the built-in ones CiMLoop's
    area regression).
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


