"""The minimum-energy frontier of the Murmann ADC survey: energy per conversion (pJ) by resolution and rate.

:func:`survey_energy_pj` is the ``survey`` ADC energy model of :mod:`cimsim.costs.adc_energy`
(ADC-05..13); it reads ``data/adc_survey_summary.csv`` once and builds its Pareto frontier.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import numpy as np

from cimsim.costs.adc_model import require_adc_input

__all__ = ["survey_energy_pj"]


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
    require_adc_input(
        frontier.min_rate_gsps <= rate_gsps <= frontier.max_rate_gsps,
        "adc.sample_rate_gsps",
        rate_gsps,
        f"{frontier.min_rate_gsps:g} to {frontier.max_rate_gsps:g} GS/s for the 'survey' ADC model "
        "(the rate classes of the Murmann survey summary)",
    )
    log_rate = math.log(rate_gsps)
    limiting = frontier.classes[min(np.searchsorted(frontier.log_rate_centres, log_rate), len(frontier.classes) - 1)]
    require_adc_input(
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
