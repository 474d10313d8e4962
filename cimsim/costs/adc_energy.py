"""Energy per conversion (pJ) and area (µm²) of one column ADC, by named model.

Published ADC models disagree by ~10× for the same 8-bit converter (NOTES.md section 5), so the
energy model is chosen by name in ``energy.adc_model`` and every result says which one it used:

* ``table``: the configured ``energy.adc_pj_per_conversion`` (ISAAC's 1.5625 pJ by default, ISAAC-51).
* ``walden``: the Walden figure of merit of an ideal converter, E = FoM_W · 2^bits (ADC-01).
* ``survey``: the minimum-energy frontier of the Murmann ADC survey (ADC-05..13), interpolated in
  resolution and sample rate (:func:`survey_energy_pj` explains the fit and why the minimum).
* ``cimloop``: CiMLoop's FoM_S-bound model (ADC-18..21) in closed form (:func:`cimloop_energy_pj`).

Area: ``area.adc_um2`` for the ``table`` model; CiMLoop's area regression (:func:`cimloop_area_um2`),
a function of bits, sample rate and node, for every other model.

Every model reads the ENOB as ``adc.bits``: an ideal converter. Real converters lose 1–2 bits to
noise and distortion (Kull 2013, the ADC ISAAC adapted, is an 8-bit design with ENOB 6.24, ADC-04).
Inputs outside a model's range raise :class:`~cimsim.errors.ConfigError` naming the config field
(``adc.bits``, ``adc.sample_rate_gsps``, ``chip.node_nm``) and the allowed range.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources

import numpy as np

from cimsim.config import ChipConfig
from cimsim.errors import ConfigError

__all__ = [
    "ADC_ENERGY_MODELS",
    "adc_area_um2",
    "adc_energy_pj",
    "cimloop_area_um2",
    "cimloop_energy_pj",
    "survey_energy_pj",
    "walden_energy_pj",
]


def adc_energy_pj(cfg: ChipConfig) -> float:
    """Energy of one conversion of one ADC (pJ) under the model named by ``energy.adc_model``."""
    return ADC_ENERGY_MODELS[cfg.energy.adc_model](cfg)


def adc_area_um2(cfg: ChipConfig) -> float:
    """Area of one ADC (µm²): ``area.adc_um2`` for the ``table`` energy model, else CiMLoop's area model.

    The ``table`` model describes a specific converter, whose area is given beside its energy
    (ISAAC: 1.5625 pJ and 1200 µm², ISAAC-51, ISAAC-11). The other models describe a converter
    by its bits, rate and node, which is what :func:`cimloop_area_um2` takes.
    """
    if cfg.energy.adc_model == "table":
        return cfg.area.adc_um2
    try:
        return cimloop_area_um2(cfg.adc.bits, cfg.adc.sample_rate_gsps, cfg.chip.node_nm)
    except ConfigError as error:
        raise ConfigError(
            f"the ADC area model (CiMLoop's regression, used for energy.adc_model = {cfg.energy.adc_model!r}) "
            f"does not cover this ADC: {error}; with energy.adc_model = 'table' the area is area.adc_um2"
        ) from None


# --------------------------------------------------------------------------- walden


def walden_energy_pj(bits: float, fom_fj_per_step: float) -> float:
    """Energy per conversion (pJ) of an ideal converter from its Walden figure of merit.

    FoM_W = P / (f_s · 2^ENOB) (ADC-01), so E = P / f_s = FoM_W · 2^ENOB, here with ENOB = bits:
    the energy doubles per bit. A FoM measured on a real converter is per *effective* step; used
    with ENOB = bits it overstates the energy by 2^(bits − ENOB) (×3.4 for Kull 2013: 33.8 fJ/step
    at ENOB 6.24 gives 2.55 pJ, but 8.65 pJ at 8 bits; ADC-04). The default FoM,
    1.5625 pJ / 2^8 = 6.10 fJ/step, is per nominal step, so it equals ISAAC's table value at 8 bits.
    Doubling per bit is steeper than the survey's low-resolution plateau and shallower than its
    thermal-noise limit of ~4× per bit at high resolution (ADC-03).
    """
    _require(bits >= 1, "adc.bits", bits, "a resolution >= 1 bit for the 'walden' ADC model")
    return fom_fj_per_step * 2.0**bits * 1e-3


# --------------------------------------------------------------------------- survey


def survey_energy_pj(bits: float, rate_gsps: float) -> float:
    """Energy per conversion (pJ) on the minimum-energy frontier of the Murmann ADC survey.

    **Data**: ``data/adc_survey_summary.csv``, all designs 1997–2025, binned by ENOB (1-bit bins
    k..k+1) and Nyquist rate class (1–50 MS/s, 50–500 MS/s, 0.5–2 GS/s); the fit uses each bin's
    minimum energy per conversion.

    **Why the minimum, not the median.** The minimum is what has been built: the best published
    design, the converter an accelerator designer adopts (ISAAC adopted Kull 2013, ADC-04), and
    the same "best possible ADC" stance as CiMLoop's model, so ``survey`` and ``cimloop`` compare.
    It does not depend on the year window at GS/s rates: every 0.5–2 GS/s bin with recent designs
    has the same minimum for 1997–2025 and 2015–2025 designs. The median mixes nodes (16–180 nm), architectures
    and design targets: it changes ~30× with the window (ENOB 7–8 at 0.5–2 GS/s: 91 pJ for
    1997–2025, 3.1 pJ for 2015–2025) and is not monotone in ENOB (2015–2025, 0.5–2 GS/s: 3.6 pJ at
    ENOB 6–7 but 3.1 pJ at 7–8; 122 pJ at 10–11 but 15 pJ at 11–12).

    **Frontier.** A converter with more ENOB or a higher rate also meets a lower requirement, so
    the frontier at ENOB bin k and rate class c is the least minimum over the bins with ENOB ≥ k
    in the classes with rate ≥ c: a Pareto frontier, non-decreasing in both ENOB and rate. Its
    only departures from the bin minima at 0.5–2 GS/s: ENOB 8–9 takes 4.19 pJ from an ENOB 9–10
    design instead of its own 4.61 pJ (ADC-08, ADC-09), and ENOB 3–5 take 0.78 pJ from ENOB 5–6.
    It ignores the leakage share that grows when a converter runs below its design rate, so it is
    optimistic there.

    **Interpolation.** ln E is piecewise-linear in ENOB between bin centres k + ½, flat below the
    lowest centre (3.5 bits: the low-resolution plateau, ADC-03) and over the upper half of the
    top bin; ln E is linear in ln(rate) between class centres (the geometric mean of the class
    edges: 7.07 MS/s, 158 MS/s, 1 GS/s) and flat from a centre to its class edge.
    Near 1 GS/s: 2.42 pJ at 7.5 bits (ADC-07), 4.19 pJ at 8.5 and 9.5 bits (ADC-09), 3.19 pJ at 8.

    **Range** (ConfigError outside): ``rate_gsps`` 0.001..2 (the class edges); ``bits`` from 1 to
    the upper edge of the top ENOB bin that has designs at that rate: 13 up to the 50–500 MS/s
    centre, 12 above it. ENOB = ``bits`` (an ideal converter). The node is not an input: the
    frontier spans designs from many nodes.
    """
    frontier = _survey_frontier()
    _require(
        frontier.min_rate_gsps <= rate_gsps <= frontier.max_rate_gsps,
        "adc.sample_rate_gsps",
        rate_gsps,
        f"{frontier.min_rate_gsps:g} to {frontier.max_rate_gsps:g} GS/s for the 'survey' ADC model "
        "(the rate classes of the Murmann survey summary)",
    )
    log_rate = math.log(rate_gsps)
    limiting = frontier.classes[min(np.searchsorted(frontier.log_rate_centres, log_rate), len(frontier.classes) - 1)]
    _require(
        1 <= bits <= limiting.top_enob,
        "adc.bits",
        bits,
        f"1 to {limiting.top_enob:g} bits for the 'survey' ADC model at adc.sample_rate_gsps = {rate_gsps:g} "
        f"(the survey summary has no design above ENOB {limiting.top_enob:g} in the {limiting.name} class)",
    )
    log_energy = [np.interp(bits, c.enob_centres, c.log_energy_pj) for c in frontier.classes]
    return math.exp(np.interp(log_rate, frontier.log_rate_centres, log_energy))


@dataclass(frozen=True)
class _RateClass:
    """The frontier of one rate class: ln E (pJ) at the centres of its ENOB bins."""

    name: str
    log_rate_centre: float  # ln of the geometric mean of the class edges in GS/s
    enob_centres: tuple[float, ...]
    log_energy_pj: tuple[float, ...]
    top_enob: float  # upper edge of the highest ENOB bin with data


@dataclass(frozen=True)
class _SurveyFrontier:
    classes: tuple[_RateClass, ...]  # by rising rate
    log_rate_centres: tuple[float, ...]
    min_rate_gsps: float
    max_rate_gsps: float


@dataclass(frozen=True)
class _SurveyBin:
    """One row of the survey summary: a rate class (GS/s edges) and an ENOB bin."""

    rate_class: str
    rate_lo_gsps: float
    rate_hi_gsps: float
    enob_lo: int
    energy_min_pj: float


_SURVEY_YEARS = "1997-2025"
"""The ``years`` value of the rows the frontier uses: every design in the survey."""

_RATE_UNIT_GSPS = {"GS/s": 1.0, "MS/s": 1e-3}


@functools.lru_cache(maxsize=1)
def _survey_bins() -> tuple[_SurveyBin, ...]:
    """The survey summary's bins over all years (``data/adc_survey_summary.csv``)."""
    text = resources.files("cimsim.costs").joinpath("data", "adc_survey_summary.csv").read_text(encoding="utf-8")
    return tuple(_survey_bin(row) for row in csv.DictReader(text.splitlines()) if row["years"] == _SURVEY_YEARS)


def _survey_bin(row: Mapping[str, str]) -> _SurveyBin:
    edges, unit = row["fs_nyquist_class"].split()  # "0.5-2 GS/s"
    rate_lo, rate_hi = (float(edge) * _RATE_UNIT_GSPS[unit] for edge in edges.split("-"))
    enob_lo = int(row["enob_bin"].split("-")[0])  # "7-8"
    return _SurveyBin(row["fs_nyquist_class"], rate_lo, rate_hi, enob_lo, float(row["energy_min_pJ"]))


@functools.lru_cache(maxsize=1)
def _survey_frontier() -> _SurveyFrontier:
    """The Pareto frontier of :func:`survey_energy_pj` on the grid (rate class × ENOB bin)."""
    bins = _survey_bins()
    first_enob = min(b.enob_lo for b in bins)
    heads = sorted({(b.rate_lo_gsps, b.rate_hi_gsps, b.rate_class) for b in bins})
    classes = tuple(_rate_class(bins, first_enob, *head) for head in heads)
    return _SurveyFrontier(
        classes=classes,
        log_rate_centres=tuple(c.log_rate_centre for c in classes),
        min_rate_gsps=heads[0][0],
        max_rate_gsps=heads[-1][1],
    )


def _rate_class(bins: tuple[_SurveyBin, ...], first_enob: int, lo_gsps: float, hi_gsps: float, name: str) -> _RateClass:
    """The frontier of one class: least minimum over bins at this rate or faster and this ENOB or more."""
    faster = [b for b in bins if b.rate_lo_gsps >= lo_gsps]
    last_enob = max(b.enob_lo for b in faster)
    enobs = range(first_enob, last_enob + 1)
    energies = [min(b.energy_min_pj for b in faster if b.enob_lo >= k) for k in enobs]
    return _RateClass(
        name=name,
        log_rate_centre=0.5 * math.log(lo_gsps * hi_gsps),
        enob_centres=tuple(k + 0.5 for k in enobs),
        log_energy_pj=tuple(math.log(e) for e in energies),
        top_enob=last_enob + 1.0,
    )


# --------------------------------------------------------------------------- cimloop

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
    _require(
        float(bits).is_integer() and 1 <= bits <= _CIMLOOP_MAX_BITS,
        "adc.bits",
        bits,
        f"an integer from 1 to {_CIMLOOP_MAX_BITS} for the 'cimloop' ADC model "
        f"(checked against CiMLoop's table at {_CIMLOOP_MIN_BITS}..{_CIMLOOP_MAX_BITS} bits; "
        f"fewer than {_CIMLOOP_MIN_BITS} bits take the {_CIMLOOP_MIN_BITS}-bit value)",
    )
    _require(
        0 < rate_gsps <= _CIMLOOP_MAX_RATE_GSPS,
        "adc.sample_rate_gsps",
        rate_gsps,
        f"> 0 and <= {_CIMLOOP_MAX_RATE_GSPS:g} GS/s for the 'cimloop' ADC model (CiMLoop's limit)",
    )
    _require(node_nm > 0, "chip.node_nm", node_nm, "> 0 nm for the 'cimloop' ADC model")


# --------------------------------------------------------------------------- dispatch

ADC_ENERGY_MODELS: Mapping[str, Callable[[ChipConfig], float]] = {
    "table": lambda cfg: cfg.energy.adc_pj_per_conversion,
    "walden": lambda cfg: walden_energy_pj(cfg.adc.bits, cfg.energy.adc_walden_fom_fj_per_step),
    "survey": lambda cfg: survey_energy_pj(cfg.adc.bits, cfg.adc.sample_rate_gsps),
    "cimloop": lambda cfg: cimloop_energy_pj(cfg.adc.bits, cfg.adc.sample_rate_gsps, cfg.chip.node_nm),
}
"""Energy per conversion (pJ) of one ADC for a config, by the name ``energy.adc_model`` takes."""


def _require(ok: bool, field: str, value: object, allowed: str) -> None:
    """Raise ConfigError ``field: got value, allowed: ...`` (config.py's wording) unless ``ok``."""
    if not ok:
        raise ConfigError(
            f"{field}: got {value!r}, allowed: {allowed} "
            "(energy.adc_model = 'table' or 'walden' prices an ADC of any width)"
        )
