"""What a published operating point is, and how cimsim evaluates it.

A :class:`Point` names one published figure of one design: the rows of
docs/reference/reference_figures.csv (and silicon_macros.json) it comes from, the preset and the
overrides that set its conditions, the metric and the published value, and whether constants of
the preset were fitted to it or it is held out. :func:`simulated` evaluates a point with
:func:`cimsim.costs.peak.peak` on the configured chip, the one call to change when the peak
figures change.

Metrics: ``"tops_per_watt"`` (TOPS/W, 1 MAC = 2 operations), ``"tops"`` (TOPS of the whole chip
or macro), ``"fj_per_mac"`` (the chip's energy per MAC, fJ), ``"share:<component>"`` (that
component's share of the tile energy, in %) and ``"pj_per_adc_use:<component>[+<component>...]"``
(the energy of those components per ADC conversion at peak, pJ: how macros that fold or share
columns report their breakdown, e.g. CIM-36).

Supply voltage: a design of the registry may publish points at several supplies. A point at a
supply V other than the design's nominal V0 scales the preset by first-order CMOS laws:
switched-capacitance energies (DAC drive, ADC conversion) by (V/V0)^2, the read voltage by
V/V0 (so that the cell energy V^2*G*t goes as V^2), and delays as (V0/V)^k: read pulse and ADC
conversion time shrink by (V0/V)^k; the cell's equivalent conductance grows by (V/V0)^k so that
G*t, the charge a capacitive cell moves per volt (:data:`CAPACITIVE_CELL_NOTE`), is unchanged.
k = 1 is the first-order law (gate delay ~ C*V/I with a drive current ~ V^2); a design whose
clock moves faster with its supply, near the threshold, may fit k to a pair of its throughput
points (``Design.fitted_delay_exponent``), a fitted constant like those of its preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cimsim.config import ChipConfig, load_preset
from cimsim.costs.peak import array_vector_ledger, cheapest_signedness, peak
from cimsim.errors import ConfigError

CAPACITIVE_CELL_NOTE = (
    "a binary charge-domain cell switched by its input moves C*V^2 per read; cimsim prices a cell read "
    "V^2*G*t, so a capacitive cell is configured with g_min = 0 and an equivalent conductance G_eq = C / t_read"
)

ACTIVITY_FLOOR = 1e-6
"""Activity used for a published point at zero input activity: peak() needs a fraction of rows > 0,
and 1e-6 of the rows driven leaves the data-dependent energy at < 1e-5 of its full value."""

METRICS = ("tops_per_watt", "tops", "fj_per_mac")
SHARE_PREFIX = "share:"
PER_ADC_USE_PREFIX = "pj_per_adc_use:"


@dataclass(frozen=True)
class Point:
    """One published figure of one design, and the conditions cimsim evaluates it at."""

    design: str
    point: str  # the operating point, e.g. "1-phase" or "0.8 V, output 6"
    rows: tuple[str, ...]  # row ids of docs/reference/reference_figures.csv or silicon_macros.json keys
    metric: str  # one of METRICS, "share:<component>" (%) or "pj_per_adc_use:<component>[+...]" (pJ)
    published: float
    fitted: bool  # True: constants of the preset were fitted to this figure
    overrides: Mapping[str, object] = field(default_factory=dict)
    supply_v: float | None = None  # None: the design's nominal supply
    activity: float = 1.0  # fraction of rows driven per cycle, each at the top code (peak's input_density)

    def __post_init__(self) -> None:
        if self.metric not in METRICS and not self.metric.startswith((SHARE_PREFIX, PER_ADC_USE_PREFIX)):
            raise ConfigError(
                f"Point {self.design}/{self.point}: metric = {self.metric!r} is not allowed; "
                f"allowed: {', '.join(METRICS)}, '{SHARE_PREFIX}<component>' or '{PER_ADC_USE_PREFIX}<component>[+...]'"
            )
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))


@dataclass(frozen=True)
class Design:
    """A published design: its preset, its nominal supply, the constants fitted and its points."""

    name: str
    preset: str
    title: str  # who and where
    fitted_constants: tuple[str, ...]  # dotted fields of the preset fitted to the points marked fitted
    points: tuple[Point, ...]
    nominal_v: float | None = None  # supply of the preset; points at other supplies are scaled
    fitted_delay_exponent: float | None = None  # k of delays ~ (V0/V)^k when fitted (module docstring); None: k = 1

    @property
    def delay_exponent(self) -> float:
        """k of the delay law at other supplies: the fitted one, else the first-order 1."""
        return 1.0 if self.fitted_delay_exponent is None else self.fitted_delay_exponent


def supply_overrides(cfg: ChipConfig, nominal_v: float, supply_v: float, delay_exponent: float = 1.0) -> dict[str, float]:
    """Overrides moving ``cfg`` from ``nominal_v`` to ``supply_v`` by the laws of the module docstring."""
    ratio = supply_v / nominal_v
    speed_up = ratio**delay_exponent
    return {
        "energy.dac_pj_per_conversion": cfg.energy.dac_pj_per_conversion * ratio**2,
        "energy.adc_pj_per_conversion": cfg.energy.adc_pj_per_conversion * ratio**2,
        "device.v_read": cfg.device.v_read * ratio,
        "device.g_min_us": cfg.device.g_min_us * speed_up,
        "device.g_max_us": cfg.device.g_max_us * speed_up,
        "array.t_read_ns": cfg.array.t_read_ns / speed_up,
        "adc.sample_rate_gsps": cfg.adc.sample_rate_gsps * speed_up,
    }


def configured(design: Design, point: Point, constants: Mapping[str, float] | None = None) -> ChipConfig:
    """The design's preset (with ``constants`` in place of its fitted ones) at ``point``'s conditions."""
    cfg = load_preset(design.preset)
    if constants:
        cfg = cfg.override(dict(constants))
    if point.overrides:
        cfg = cfg.override(dict(point.overrides))
    if point.supply_v is not None and point.supply_v != design.nominal_v:
        cfg = cfg.override(supply_overrides(cfg, design.nominal_v, point.supply_v, design.delay_exponent))
    return cfg


def simulated(design: Design, point: Point, constants: Mapping[str, float] | None = None) -> float:
    """cimsim's value of ``point.metric`` at the point (module docstring: units by metric)."""
    cfg, density = configured(design, point, constants), max(point.activity, ACTIVITY_FLOOR)
    if point.metric.startswith(PER_ADC_USE_PREFIX):
        return energy_per_adc_use_pj(cfg, point.metric[len(PER_ADC_USE_PREFIX):].split("+"), density)
    figures = peak(cfg, input_density=density)
    if point.metric.startswith(SHARE_PREFIX):
        return 100.0 * figures.energy_share.get(point.metric[len(SHARE_PREFIX):], 0.0)
    if point.metric == "fj_per_mac":
        return 1e3 * figures.energy_pj_per_mac
    return float(getattr(figures, point.metric))


def energy_per_adc_use_pj(cfg: ChipConfig, components: list[str], input_density: float) -> float:
    """Energy of ``components`` (pJ) per ADC conversion while an array reads a vector at peak, in the
    signedness :func:`~cimsim.costs.peak.peak` reads it."""
    signed = cheapest_signedness(cfg, input_density)
    ledger, _, _ = array_vector_ledger(cfg, input_density, signed=signed)
    energy = ledger.by_component()
    unknown = [c for c in components if c not in energy]
    if unknown:
        raise ConfigError(f"metric {PER_ADC_USE_PREFIX}: components {unknown} are not components of the chip; "
                          f"allowed: {', '.join(energy)}")
    return sum(energy[c] for c in components) / ledger.count("adc", "conversions")


def signed_error(simulated_value: float, published: float) -> float:
    """(simulated - published) / published: a signed fraction."""
    return (simulated_value - published) / published
