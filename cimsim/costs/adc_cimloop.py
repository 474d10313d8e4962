"""CiMLoop's ADC model in closed form: energy per conversion (pJ) and area (µm²) of one ADC.

CiMLoop (Andrulis et al., arXiv:2404.06553; hwcomponents-adc ``model.py``) bounds the figure of
merit of the Murmann survey's designs and regresses their area; :func:`cimloop_energy_pj` and
:func:`cimloop_area_um2` are that model with coefficients recovered from
``data/cimloop_adc_model_table.csv`` (ADC-18..21). The ``cimloop`` ADC energy model
(:mod:`cimsim.costs.adc_energy`) prices with both; every other model but ``table`` takes its area
from :func:`cimloop_area_um2`.
"""

from __future__ import annotations

import math

from cimsim.costs.adc_model import require_adc_input

__all__ = ["cimloop_area_um2", "cimloop_energy_pj"]

# CiMLoop's model (Andrulis et al., arXiv:2404.06553; hwcomponents-adc model.py) in closed form:
#   E_pJ = node_nm^a_node · n^a_enob · 10^((SNDR(n) − F) / 10),   SNDR(n) = 6.02·n + 1.76 dB,
#   F = min(F_rate0 + F_rate1·ln(f/Hz), F_res0 + F_res1·n)  dB,
#   ln A_um2 = b0 + b_node·ln(node_nm) + b_rate·ln(f/Hz) + b_energy·ln(E_pJ).
# Coefficients recovered here by least squares from data/cimloop_adc_model_table.csv (CiMLoop's
# model.yaml evaluated at 22/32/65 nm × 10 MS/s, 100 MS/s, 1.28 GS/s × ENOB 4..12; ADC-18..21);
# they reproduce all 81 rows within 1.1e-4 (energy) and 5e-5 (area), relative.
_CIMLOOP_NODE_EXP = 1.880025
_CIMLOOP_ENOB_EXP = -2.828223
_CIMLOOP_FOMS_RATE_DB = (110.0432, -2.871781)  # rate-limited FoM_S bound: dB, dB per ln(f/Hz)
_CIMLOOP_FOMS_RES_DB = (24.57248, 3.220466)  # resolution-limited FoM_S bound: dB, dB per bit
_CIMLOOP_AREA = (1.346173, 0.9932821, 0.1807157, 0.2991248)  # b0, b_node, b_rate, b_energy
_CIMLOOP_MIN_BITS = 4  # CiMLoop refuses fewer bits
_CIMLOOP_MAX_BITS = 12  # the top of the table the coefficients were checked against
_CIMLOOP_MAX_RATE_GSPS = 10.0  # CiMLoop's frequency limit (1e10 Hz)


def cimloop_energy_pj(bits: int, rate_gsps: float, node_nm: float) -> float:
    """Energy per conversion (pJ) of CiMLoop's "best possible ADC" (ADC-18..21).

    CiMLoop bounds the Schreier figure of merit FoM_S = SNDR + 10·log10(f/(2P)) (ADC-02) of the
    survey's designs by the smaller of a rate limit, falling with ln f, and a resolution limit,
    rising with the bits; energy per conversion P/f follows from the bound and SNDR = 6.02·n + 1.76 dB,
    corrected by regressions on node and ln n (module constants above):

        E_pJ = node^1.880 · n^−2.828 · 10^((6.02·n + 1.76 − F) / 10),
        F = min(110.04 − 2.8718·ln(f/Hz), 24.572 + 3.2205·n) dB

    (the constants absorb CiMLoop's factor ½ and intercepts, so F is an effective bound). The
    resolution limit wins at low rate or few bits, where the energy is nearly flat (0.92 pJ at 4 b,
    1.07 pJ at 6 b, 32 nm); the rate limit wins at high rate and many bits, ~3× per bit
    (1.93 pJ at 8 b, 16.4 pJ at 10 b, 32 nm, 1.28 GS/s; ADC-18).

    Range (ConfigError outside): ``bits`` an integer 1..12 (CiMLoop evaluates its resolution limit
    at whole bits; 12 is the top of the checked table; CiMLoop refuses fewer than 4 bits and the
    form's n^−2.83 factor turns it upward below 4, so 1..3 bits take the flat 4-bit value);
    ``rate_gsps`` > 0 and <= 10 (CiMLoop's own limit); ``node_nm`` > 0 (checked at 22–65 nm;
    CiMLoop applies the same power law at any node).
    """
    _check_cimloop_inputs(bits, rate_gsps, node_nm)
    n = max(bits, _CIMLOOP_MIN_BITS)
    rate_hz = rate_gsps * 1e9
    foms_db = min(
        _CIMLOOP_FOMS_RATE_DB[0] + _CIMLOOP_FOMS_RATE_DB[1] * math.log(rate_hz),
        _CIMLOOP_FOMS_RES_DB[0] + _CIMLOOP_FOMS_RES_DB[1] * n,
    )
    sndr_db = 6.02 * n + 1.76
    return node_nm**_CIMLOOP_NODE_EXP * n**_CIMLOOP_ENOB_EXP * 10.0 ** ((sndr_db - foms_db) / 10.0)


def cimloop_area_um2(bits: int, rate_gsps: float, node_nm: float) -> float:
    """Area (µm²) of one ADC from CiMLoop's regression on the survey's designs.

    ln A = b0 + b_node·ln(node) + b_rate·ln(f/Hz) + b_energy·ln(E), with E from
    :func:`cimloop_energy_pj` (as CiMLoop does):

        A_um2 = 3.843 · node_nm^0.9933 · (f/Hz)^0.1807 · E_pJ^0.2991

    so area grows with bits through the energy (flat at few bits, ~1.4× per bit at 1.28 GS/s and
    10+ bits), ~linearly with the node and as rate^0.18. At ISAAC's 8 b, 32 nm, 1.28 GS/s it gives
    6469 µm², 5.4× ISAAC's 1200 µm² (ISAAC-11). Same ranges as :func:`cimloop_energy_pj`.
    """
    b0, b_node, b_rate, b_energy = _CIMLOOP_AREA
    energy_pj = cimloop_energy_pj(bits, rate_gsps, node_nm)
    log_area = b0 + b_node * math.log(node_nm) + b_rate * math.log(rate_gsps * 1e9) + b_energy * math.log(energy_pj)
    return math.exp(log_area)


def _check_cimloop_inputs(bits: int, rate_gsps: float, node_nm: float) -> None:
    require_adc_input(
        float(bits).is_integer() and 1 <= bits <= _CIMLOOP_MAX_BITS,
        "adc.bits",
        bits,
        f"an integer from 1 to {_CIMLOOP_MAX_BITS} for the 'cimloop' ADC model "
        f"(checked against CiMLoop's table at {_CIMLOOP_MIN_BITS}..{_CIMLOOP_MAX_BITS} bits; "
        f"fewer than {_CIMLOOP_MIN_BITS} bits take the {_CIMLOOP_MIN_BITS}-bit value)",
    )
    require_adc_input(
        0 < rate_gsps <= _CIMLOOP_MAX_RATE_GSPS,
        "adc.sample_rate_gsps",
        rate_gsps,
        f"> 0 and <= {_CIMLOOP_MAX_RATE_GSPS:g} GS/s for the 'cimloop' ADC model (CiMLoop's limit)",
    )
    require_adc_input(node_nm > 0, "chip.node_nm", node_nm, "> 0 nm for the 'cimloop' ADC model")
