"""The registry: every published operating point cimsim is validated against, design by design.

Each :class:`~cimsim.validation.points.Design` names its preset (whose description cites the
rows), the constants fitted (each commented in the preset's TOML with its rows) and its points.
Values are those of docs/reference/reference_figures.csv (row ids) and
docs/reference/silicon_macros.json (entry and key named in the point's rows). docs/validation.md
gives the method and the table; ``cimsim validate`` prints it.
"""

from __future__ import annotations

import math

from cimsim.errors import ConfigError
from cimsim.validation.points import PER_ADC_USE_PREFIX, Design, Point

# ------------------------------------------------------------------ ISAAC (model, not silicon)

ISAAC = Design(
    name="isaac",
    preset="isaac",
    title="ISAAC-CE (Shafiee et al., ISCA 2016): a consistency check, ISAAC's figures are model outputs",
    fitted_constants=(),
    points=(
        Point("isaac", "peak", ("ISAAC-45",), "tops_per_watt", 0.6275, False),
        Point("isaac", "peak", ("ISAAC-53",), "tops", 41.29, False),
        Point("isaac", "peak", ("ISAAC-56",), "share:adc", 58.2, False),
        Point("isaac", "peak", ("ISAAC-57",), "share:dac", 14.5, False),
        Point("isaac", "peak", ("ISAAC-58",), "share:cell", 8.7, False),
        Point("isaac", "peak", ("ISAAC-59",), "share:buffer", 6.3, False),
    ),
)

# ------------------------------------------------------------------ NeuRRAM

NEURRAM_TOPS_AND_TOPS_PER_W = {  # (output bits, input bits, one-phase) -> (TOPS of 48 cores, TOPS/W); CIM-07..14
    (3, 1, 1): (2.12230988, 43.07875866),
    (4, 2, 1): (1.793083771, 40.33412834),
    (5, 3, 1): (1.165400233, 23.09069279),
    (6, 4, 1): (0.7438677864, 15.95409517),
    (7, 5, 1): (0.4515642, 11.32999012),
    (8, 6, 1): (0.260797508, 9.12235241),
    (3, 1, 0): (2.12230988, 43.07875866),
    (4, 2, 0): (1.793083771, 40.33412834),
    (5, 3, 0): (1.165400233, 23.09069279),
    (6, 4, 0): (0.7438677864, 15.95409517),
    (7, 5, 0): (0.5254091287, 11.03166076),
    (8, 6, 0): (0.4177183338, 8.257196816),
    (9, 7, 0): (0.343873405, 7.750037817),
    (10, 8, 0): (0.2638743409, 6.437388185),
}
NEURRAM_ROWS = {(3, 1): "CIM-07", (4, 2): "CIM-08", (5, 3): "CIM-09", (6, 4): "CIM-10", (7, 5): "CIM-11"}
"""Rows of reference_figures.csv quoting a point (CIM-12..14 quote three more); every point is in
silicon_macros.json cimloop_ref_wan_nature_2022 (key tops_and_tops_per_w_by_outbits_inbits_onephase)."""


def neurram_overrides(out_bits: int, in_bits: int, one_phase: int) -> dict[str, int]:
    """The ``neurram`` preset at one point: a 1-bit input is +-1 (2 bits with a sign); inputs of 4 or
    more magnitude bits split into two segments unless one-phase (Wan et al., Fig. 3f)."""
    magnitude_bits = max(1, in_bits - 1)
    two_phase = not one_phase and magnitude_bits >= 4
    return {
        "mapping.input_bits": magnitude_bits + 1,
        "adc.bits": out_bits,
        "mapping.output_bits": out_bits,
        "adc.cycles_per_conversion": math.ceil(magnitude_bits / 2) if two_phase else magnitude_bits,
    }


def neurram_rows(point: tuple[int, int, int]) -> tuple[str, ...]:
    quoted = {(8, 6, 1): "CIM-12", (8, 6, 0): "CIM-13", (10, 8, 0): "CIM-14"}.get(point) or NEURRAM_ROWS.get(point[:2])
    return (quoted, "cimloop_ref_wan_nature_2022") if quoted else ("cimloop_ref_wan_nature_2022",)


def neurram_points() -> tuple[Point, ...]:
    points = []
    for (out_bits, in_bits, one_phase), values in NEURRAM_TOPS_AND_TOPS_PER_W.items():
        label = f"{in_bits}b in, {out_bits}b out, {'1' if one_phase else '2'}-phase"
        for metric, value in zip(("tops", "tops_per_watt"), values):
            points.append(Point("neurram", label, neurram_rows((out_bits, in_bits, one_phase)), metric, value,
                                fitted=bool(one_phase), overrides=neurram_overrides(out_bits, in_bits, one_phase)))
    return tuple(points)


NEURRAM = Design(
    name="neurram",
    preset="neurram",
    title="NeuRRAM (Wan et al., Nature 2022): 48 RRAM cores at 130 nm",
    fitted_constants=("adc.step_ns", "energy.adc_pj_per_step", "energy.adc_bias_uw"),
    points=neurram_points(),
)

# ------------------------------------------------------------------ IBM PCM chips

FOUR_PHASE = {"dac.bits": 2}  # the 7 magnitude bits in four read-and-convert phases (hermes preset's description)

HERMES = Design(
    name="hermes",
    preset="hermes",
    title="IBM HERMES (Le Gallo et al., Nature Electronics 2023): 64 PCM cores at 14 nm",
    fitted_constants=("array.t_read_ns", "energy.adc_pj_per_conversion"),
    points=(
        Point("hermes", "1-phase", ("CIM-18",), "tops", 63.1, True),
        Point("hermes", "1-phase", ("CIM-18",), "tops_per_watt", 9.76, True),
        Point("hermes", "4-phase", ("CIM-17",), "tops", 16.1, False, FOUR_PHASE),
        Point("hermes", "4-phase", ("CIM-17",), "tops_per_watt", 2.48, False, FOUR_PHASE),
    ),
)

IBM_ANALOG_AI = Design(
    name="ibm-analog-ai",
    preset="ibm-analog-ai",
    title="IBM analog-AI chip (Ambrogio et al., Nature 2023): 34 PCM tiles",
    fitted_constants=("energy.adc_pj_per_conversion",),
    points=(Point("ibm-analog-ai", "chip sustained", ("CIM-19",), "tops_per_watt", 12.4, True),),
)

# ------------------------------------------------------------------ Xue's 22 nm ReRAM macros

XUE_MULTIBIT = {"mapping.input_bits": 2, "mapping.weight_bits": 3, "adc.bits": 4, "mapping.output_bits": 4}
XUE_ISSCC_HIGH = {  # the ISSCC abstract's high-precision end: 4-b inputs, 4-b weights, 11-b outputs, dual-bit sense amplifiers
    "mapping.input_bits": 4, "mapping.weight_bits": 4, "adc.bits": 2, "mapping.output_bits": 11}

XUE = Design(
    name="xue-rram-22nm",
    preset="xue-rram-22nm",
    title="Xue et al. 22 nm 2 Mb ReRAM CIM macro (ISSCC 2020; Nature Electronics 2020)",
    fitted_constants=("energy.dac_pj_per_conversion",),
    points=(
        Point("xue-rram-22nm", "binary (Nat. Electron.)", ("CIM-02",), "tops_per_watt", 146.21, True),
        Point("xue-rram-22nm", "multibit (Nat. Electron.)", ("CIM-02",), "tops_per_watt", 36.61, False, XUE_MULTIBIT),
        Point("xue-rram-22nm", "low-precision end (ISSCC)", ("CIM-01",), "tops_per_watt", 121.0, False),
        Point("xue-rram-22nm", "high-precision end (ISSCC)", ("CIM-01",), "tops_per_watt", 28.0, False, XUE_ISSCC_HIGH),
    ),
)

# ------------------------------------------------------------------ SRAM charge-domain macros

WANG_SWEEP = {0.7: 31.998, 0.8: 22.59, 0.9: 18.439, 1.0: 16.376, 1.1: 15.467}  # CIM-34 (silicon_macros voltage_scaling)
WANG_ROWS = ("CIM-34", "cimloop_ref_wang_vlsi_2022")

WANG = Design(
    name="wang-c2c-22nm",
    preset="wang-c2c-22nm",
    title="Intel 22 nm C-2C SRAM CIM macro (Wang et al., VLSI 2022 / JSSC 2023)",
    fitted_constants=("energy.adc_pj_per_conversion", "energy.dac_pj_per_conversion", "device.g_max_us"),
    nominal_v=1.0,
    points=(
        *(Point("wang-c2c-22nm", f"{v:.1f} V", WANG_ROWS, "tops_per_watt", tops_per_w, v == 1.0, supply_v=v)
          for v, tops_per_w in WANG_SWEEP.items()),
        Point("wang-c2c-22nm", "0.7 V", ("CIM-31",), "tops", 0.3, True, supply_v=0.7),
        Point("wang-c2c-22nm", "1.1 V", ("CIM-31",), "tops", 0.5, False, supply_v=1.1),
        Point("wang-c2c-22nm", "1.0 V", ("CIM-32",), "share:adc", 34.0, True),
        Point("wang-c2c-22nm", "1.0 V", ("CIM-32",), "share:dac", 22.0, True),
        Point("wang-c2c-22nm", "1.0 V", ("CIM-32",), "share:cell", 40.0, False),
    ),
)

JIA_ROWS = ("CIM-36", "cimloop_ref_jia_jssc_2020")
JIA_CIM = "cell+dac+wordline"  # CIM-36's "CiM": the bit cells and capacitors with their row and column drivers
JIA_CIM_PJ_PER_ADC_USE = {0.85: 9.7, 1.2: 20.4}  # CIM-36 (1.79 pJ of ADC per use at 0.85 V is an input, not a point)

JIA = Design(
    name="jia-65nm",
    preset="jia-65nm",
    title="Princeton 65 nm bit-scalable charge-domain SRAM CIM (Jia et al., JSSC 2020), 1-b inputs and weights",
    fitted_constants=("device.g_max_us",),
    nominal_v=0.85,
    # fitted on CIM-35's 1-b TOPS at 0.85 and 1.2 V: ln(2.185 / 0.8738) / ln(1.2 / 0.85), 0.8738 being cimsim's 0.85 V
    # TOPS; near the 65 nm threshold the clock gains 2.5x for 1.41x the supply (CiMLoop fits 2.66 on the same rows)
    fitted_delay_exponent=2.6578,
    points=(
        Point("jia-65nm", "0.85 V, 1 b", ("CIM-35",), "tops_per_watt", 400.0, True, supply_v=0.85),
        Point("jia-65nm", "1.2 V, 1 b", ("CIM-35",), "tops_per_watt", 192.0, False, supply_v=1.2),
        Point("jia-65nm", "0.85 V, 1 b", ("CIM-35",), "tops", 0.874, True, supply_v=0.85),
        Point("jia-65nm", "1.2 V, 1 b", ("CIM-35",), "tops", 2.185, True, supply_v=1.2),
        *(Point("jia-65nm", f"{v} V, 1 b", JIA_ROWS, f"{PER_ADC_USE_PREFIX}{JIA_CIM}", pj, False, supply_v=v)
          for v, pj in JIA_CIM_PJ_PER_ADC_USE.items()),
        Point("jia-65nm", "1.2 V, 1 b", JIA_ROWS, f"{PER_ADC_USE_PREFIX}adc", 3.56, False, supply_v=1.2),
    ),
)


def sinangil_activity(average_output: float) -> float:
    """Input activity CiMLoop drives for an average output value (inputs = 0.25*sqrt(output), CIM-27 notes)."""
    return 0.25 * math.sqrt(average_output)


SINANGIL_TOPS_PER_W = {0.8: {15: 262.3, 6: 351.0, 0: 610.5}, 1.0: {15: 189.3, 6: 321.0, 0: 435.5}}  # CIM-27, CIM-28
SINANGIL_FITTED = {(0.8, 15), (0.8, 0)}
SINANGIL_WORST_CASE_FJ_PER_MAC = {  # Fig. 13(b): energy per MAC at the largest inputs, weights and outputs
    0.65: 5.109375, 0.7: 5.875, 0.75: 6.796875, 0.8: 7.8125, 0.85: 9.03125, 0.9: 10.25, 0.95: 11.75, 1.0: 13.125}
SINANGIL_SWEEP_ROWS = ("CIM-29", "cimloop_ref_sinangil_jssc_2021")  # energy_J_vs_voltage_worstcase, in CIM-29's fJ/MAC

SINANGIL = Design(
    name="sinangil-7nm",
    preset="sinangil-7nm",
    title="TSMC 7 nm SRAM CIM macro (Dong et al. ISSCC 2020 / Sinangil et al. JSSC 2021), 4b x 4b",
    fitted_constants=("energy.adc_pj_per_conversion", "device.g_max_us", "array.t_read_ns"),
    nominal_v=0.8,
    points=(
        *(Point("sinangil-7nm", f"{v:.1f} V, output {out}", ("CIM-27" if v == 0.8 else "CIM-28", "cimloop_ref_sinangil_jssc_2021"),
                "tops_per_watt", value, (v, out) in SINANGIL_FITTED, supply_v=v, activity=sinangil_activity(out))
          for v, by_output in SINANGIL_TOPS_PER_W.items() for out, value in by_output.items()),
        *(Point("sinangil-7nm", f"{v:.2f} V, output 15", SINANGIL_SWEEP_ROWS, "fj_per_mac", fj, False, supply_v=v,
                activity=sinangil_activity(15)) for v, fj in SINANGIL_WORST_CASE_FJ_PER_MAC.items()),
        Point("sinangil-7nm", "0.8 V", ("CIM-26", "CIM-27", "cimloop_ref_sinangil_jssc_2021"), "tops", 0.3724, True, supply_v=0.8),
        Point("sinangil-7nm", "1.0 V", ("CIM-27", "cimloop_ref_sinangil_jssc_2021"), "tops", 0.4551, False, supply_v=1.0),
    ),
)

DESIGNS = (ISAAC, NEURRAM, HERMES, IBM_ANALOG_AI, XUE, WANG, JIA, SINANGIL)
"""Every design of the registry, in the order of the table."""


def design(name: str) -> Design:
    """The design named ``name`` (ConfigError listing the names otherwise)."""
    for candidate in DESIGNS:
        if candidate.name == name:
            return candidate
    raise ConfigError(f"design = {name!r} is not in the validation registry; allowed: {', '.join(d.name for d in DESIGNS)}")
