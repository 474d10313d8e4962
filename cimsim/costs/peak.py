"""Peak figures of a chip: every array busy, every cycle (the convention of published tables).

``peak(cfg)`` counts the actions of one array reading one input vector at full activity with
the one counting function of every read (:func:`~cimsim.costs.array_reads.array_read_actions`)
and prices them with the same :class:`~cimsim.costs.energy.EnergyModel` as every other part of
cimsim:

* encoding: the cheaper per MAC of signed inputs (``mapping.input_encoding``) and unsigned ones
  in one phase (what a network streams when all its inputs are >= 0, after a ReLU):
  :func:`cheapest_signedness`. A ``two_phase`` chip converts half as often on unsigned inputs,
  a ``bipolar`` one streams one magnitude bit fewer on signed inputs, an ``offset`` one streams
  both alike; the peak is the best a network can do;
* activity: every row driven in every cycle of its magnitude with the largest code a cycle
  carries (its voltage is v_read only when that code is the DAC's top code; with
  two-phase inputs a row is positive or negative, so it is driven in one phase;
  ``input_density`` scales the fraction of rows driven, each still at the top code), cells at
  the mean of their levels (uniformly used levels); every column converted at every
  conversion; every wordline switched every input cycle (``wordline.row_cycles``, driven or
  not). That is ``input_activity`` = 1, the activity published peak tables assume (ISAAC's
  Table I powers are its circuits at full activity: all 8 × 128 drivers of an IMA switching
  every 100 ns cycle, ISAAC-12). ``input_activity`` = a, the mean fraction of the DAC's full
  scale driven per row and cycle, prices the least a workload of that mean can spend on the
  data-dependent actions (:func:`activity_drives_and_code_sq`): a fraction a of the row drives,
  and the least mean code² over the DAC's levels (a · top² for a 1-bit DAC, whose codes are 0 or
  full scale); conversions, wordlines, registers and data movement do not depend on it. The
  two are different notions for a DAC of more than one bit: ``input_density`` d drives d of the
  rows at the top code (d · top² mean code², as CiMLoop's input density), ``input_activity`` a
  spreads the same mean over the fewest code² (about a² · top²). A workload's own activity is
  :func:`workload_input_activity` (``Report.input_activity``);
* work: an array holds ``rows × cols / (slices × signs)`` weights and reads one vector in T
  input cycles (T for signed inputs under ``mapping.input_encoding``), converted in the
  segments of ``adc.cycles_per_conversion``; so it does ``rows × cols / (slices × signs)`` MACs
  per vector; 1 MAC = 2 operations, and only weight MACs count (no zeros of padding or offsets);
* data movement, first order, counted as a network's (:func:`broadcast_arrays`): the arrays are
  filled by full-size layers whose row blocks each span the arrays of one tile, so a row block's
  ``rows × input_bits`` input bits per vector arrive over the network once, are written into and
  read from the tile buffer once, cross the tile bus once (a broadcast) and fill one input
  register per array group (:func:`~cimsim.costs.array_reads.register_fills`); each array's
  outputs, ``output_bits`` each, are written to its output registers and the buffer, cross the
  bus and leave over the network (the buffer and bus as the scheduler counts them,
  :func:`~cimsim.costs.array_reads.tile_movement`). Per array that is 1/(arrays per tile) of a
  row block's input movement and ceil(arrays per tile / arrays per group) / (arrays per tile)
  of its register fills;
* time: one vector through the read stages (:mod:`cimsim.costs.latency`), pipelined vectors back to
  back; static power and the bias of integrating ADCs over that time.

Inside the figures: cells, DACs, sample-and-holds, ADCs, shift-and-add, input and output
registers, tile buffer, tile bus, network, static power, and the area of every block of
:mod:`cimsim.costs.area`. Not inside: DRAM (weights stay on chip), activation and pooling units
(their energy is per non-GEMM operation, which a peak of matrix products has none of).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cimsim.config import ChipConfig
from cimsim.costs.area import area_breakdown_um2, array_count
from cimsim.costs.array_reads import (
    CountedAction, ReadActivity, Reading, ReadShape, array_read_actions, array_reading, cell_v2g_v2_us,
    tile_movement,
)
from cimsim.costs.energy import EnergyModel
from cimsim.costs.latency import ReadTiming
from cimsim.costs.ledger import Ledger
from cimsim.errors import ConfigError
from cimsim.physics.mapping import array_geometry, input_schedule


@dataclass(frozen=True)
class PeakFigures:
    """Peak throughput, efficiency, density and energy breakdown of a chip."""

    name: str
    tops: float
    tops_per_watt: float
    tops_per_mm2: float
    energy_pj_per_mac: float
    tile_energy_pj_per_mac: float
    energy_share: dict[str, float]
    area_mm2: float
    cycle_ns: float  # a vector's read time over its input cycles
    bottleneck: str
    macs_per_array_cycle: float
    arrays: int
    input_activity: float = 1.0  # the mean fraction of the DAC's full scale driven per row and cycle

    def table(self) -> str:
        """The figures as aligned text."""
        lines = [
            f"peak figures of {self.name!r} (1 MAC = 2 ops; every array busy every cycle; "
            f"input activity {self.input_activity:g} of full scale)",
            f"  throughput           {self.tops:10.4g} TOPS",
            f"  energy efficiency    {self.tops_per_watt:10.4g} TOPS/W   ({self.energy_pj_per_mac:.4g} pJ/MAC, chip)",
            f"  compute density      {self.tops_per_mm2:10.4g} TOPS/mm2 ({self.area_mm2:.4g} mm2)",
            f"  tile energy          {self.tile_energy_pj_per_mac:10.4g} pJ/MAC (without static power)",
            f"  cycle                {self.cycle_ns:10.4g} ns, set by the {self.bottleneck} stage",
            f"  MACs per array-cycle {self.macs_per_array_cycle:10.4g} on {self.arrays} arrays",
            "  tile energy share:",
        ]
        for component, share in sorted(self.energy_share.items(), key=lambda item: -item[1]):
            lines.append(f"    {component:<16}{100 * share:6.2f} %")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def activity_drives_and_code_sq(input_activity: float, top_code: int) -> tuple[float, float]:
    """Per row and cycle at mean full-scale fraction ``input_activity``: the least drive fraction and mean code².

    With codes c in 0..top and E[c]/top = a, a row is driven (c > 0) at least a of the time (all
    its mass at the top code), and E[c²] is least when c takes the two levels around a·top:
    with a·top = j + f (j whole, 0 <= f < 1), E[c²] = j² + f·(2j + 1); at a = 1 that is top².
    """
    j, f = divmod(input_activity * top_code, 1.0)
    return input_activity, j * j + f * (2 * j + 1)


def array_vector_ledger(
    cfg: ChipConfig, input_density: float = 1.0, input_activity: float = 1.0, signed: bool = True
) -> tuple[Ledger, float, ReadTiming]:
    """Priced actions of one array reading one vector of this signedness at peak, the MACs it does, and its timing."""
    reading = array_reading(cfg, signed=signed)
    counts, macs = array_vector_counts(cfg, reading, input_density, input_activity)
    model, ledger = EnergyModel(cfg), Ledger()
    for component, action, count in counts:
        model.charge(ledger, component, action, count)
    return ledger, macs, reading.timing.with_adc_turns(cfg.adc.arrays_per_adc)  # all arrays of a bank busy


def array_vector_counts(
    cfg: ChipConfig, reading: Reading, input_density: float = 1.0, input_activity: float = 1.0
) -> tuple[list[CountedAction], float]:
    """The actions (unpriced) of one array reading one vector at peak as ``reading`` streams and
    converts it (``array_reading(cfg, signed)``), and the MACs it does."""
    shape, activity, macs = peak_read(cfg, reading, input_density, input_activity)
    spanned = shape.arrays
    counts = array_read_actions(shape, activity, reading, cfg)
    in_bits, out_bits = cfg.array.rows * cfg.mapping.input_bits, shape.outputs * cfg.mapping.output_bits  # inputs once
    counts += tile_movement(in_bits, out_bits) + [("noc", "bit_hops", in_bits + out_bits)]
    return [(component, action, count / spanned) for component, action, count in counts], macs  # one array's share


def peak_read(cfg: ChipConfig, reading: Reading, input_density: float = 1.0,
              input_activity: float = 1.0) -> tuple[ReadShape, ReadActivity, float]:
    """What :func:`array_vector_counts` reads at peak: the shape of the column arrays one row block spans
    (:func:`broadcast_arrays`, as many as ``shape.arrays``), their activity for one vector, and the
    MACs of one array."""
    rows, cols = cfg.array.rows, cfg.array.cols
    geometry = array_geometry(cfg)
    schedule = reading.schedule
    outputs = cols / geometry.cells_per_weight
    spanned = broadcast_arrays(cfg)  # one row block across them: every count below is for all of them
    shape = ReadShape(
        stored_rows=rows, outputs=outputs * spanned, row_blocks=1, column_arrays=spanned,
        conversion_columns=(cols / 2 if geometry.analog_differential else cols) * spanned, arrays=spanned,
    )
    mean_g_us = (cfg.device.g_min_us + cfg.device.g_max_us) / 2
    row_cycles = rows * schedule.magnitude_cycles * input_density  # a row is positive or negative, not both
    drive_fraction, code_sq = activity_drives_and_code_sq(input_activity, schedule.top_code)
    driven = row_cycles * drive_fraction * spanned
    activity = ReadActivity(  # at activity 1 every driven cycle carries the largest code (the top code's voltage)
        vectors=1, row_drives=driven, cell_reads=driven * cols,
        code_sq_g_us=row_cycles * spanned * cols * code_sq * mean_g_us,
    )
    return shape, activity, rows * outputs


def broadcast_arrays(cfg: ChipConfig) -> int:
    """The column arrays one row block's inputs are broadcast to at peak: the arrays of one tile.

    A network reads an input from the tile buffer once and broadcasts it over the tile's bus to
    every column array of its row block (:func:`~cimsim.arch.cim.CimArchitecture._movement`); the
    most arrays one buffer read and one bus transfer reach are those of the tile, so the peak's
    full-size layer spans ``tile.arrays_per_group × tile.groups_per_tile`` column arrays per row
    block (ISAAC-CE: 8 × 12 = 96; a network layer of N outputs spans N × cells per weight / cols).
    """
    return cfg.tile.arrays_per_group * cfg.tile.groups_per_tile


def cheapest_signedness(cfg: ChipConfig, input_density: float = 1.0, input_activity: float = 1.0) -> bool:
    """Whether signed inputs (True) or unsigned ones (False) cost the least energy per MAC at peak.

    A network streams its inputs as they come: signed under ``mapping.input_encoding`` (two
    phases, bipolar or offset), or unsigned in one phase when all are >= 0 (after a ReLU). The
    peak is the best a network can do, so it takes the cheaper of the two (unsigned for
    ``two_phase``: half the conversions; signed for ``bipolar``: one magnitude bit fewer to stream).
    """
    def chip_pj_per_mac(signed: bool) -> float:
        ledger, macs, timing = array_vector_ledger(cfg, input_density, input_activity, signed)
        static_pj = EnergyModel(cfg).unit_energy_pj("static", "ns") * timing.vector_ns / array_count(cfg)
        return (ledger.energy_pj + static_pj) / macs

    return chip_pj_per_mac(True) <= chip_pj_per_mac(False)


def workload_input_activity(cfg: ChipConfig, reads: Sequence[tuple[bool, float, float, float]],
                            readings: Mapping[bool, Reading] | None = None) -> float:
    """The input activity a workload drove: the largest a at which the peak spends no more on data.

    ``reads``: per weight product, (signed inputs?, MACs, ``dac.conversions``, ``cell.v2g_v2_us``)
    counted for it. Against the counts per MAC of one full array at activity 1 for the same
    signedness (every row driven every magnitude cycle at the top code, cells at the mean
    conductance), the workload drove a fraction d of those drives and a fraction r of that V²·G.
    The activity is the smaller of d and the a whose least mean code² is r of the top code's
    (:func:`activity_drives_and_code_sq`, with the smaller top code of the signedness used), at
    most 1: at it the peak's drives and cell energy per MAC are at most the workload's. 0 when
    nothing was driven. ``readings``: the :class:`~cimsim.costs.array_reads.Reading` of each
    signedness when the caller has it (``array_reading(cfg, signed)``, else computed here).
    """
    given = readings or {}
    readings = {signed: given.get(signed) or array_reading(cfg, signed) for signed in {read[0] for read in reads}}
    full = {signed: _full_activity_per_mac(cfg, reading) for signed, reading in readings.items()}
    drives = v2g = full_drives = full_v2g = 0.0
    for signed, macs, row_drives, v2g_v2_us in reads:
        drives, v2g = drives + row_drives, v2g + v2g_v2_us
        full_drives, full_v2g = full_drives + macs * full[signed][0], full_v2g + macs * full[signed][1]
    if full_drives <= 0 or full_v2g <= 0:
        return 0.0
    top_code = min(reading.schedule.top_code for reading in readings.values())
    return min(1.0, drives / full_drives, activity_of_code_sq(min(1.0, v2g / full_v2g) * top_code**2, top_code))


def activity_of_code_sq(code_sq: float, top_code: int) -> float:
    """The inverse of :func:`activity_drives_and_code_sq`'s mean code²: the activity whose least mean code² it is.

    E[c²] = j² + f·(2j + 1) at a·top = j + f; so j = floor(√E[c²]) (top − 1 at most) and
    f = (E[c²] − j²) / (2j + 1).
    """
    j = min(float(np.floor(np.sqrt(code_sq))), top_code - 1.0)
    return (j + (code_sq - j * j) / (2 * j + 1)) / top_code


def _full_activity_per_mac(cfg: ChipConfig, reading: Reading) -> tuple[float, float]:
    """Row drives (``dac.conversions``) and ``cell.v2g_v2_us`` per MAC of one array at peak, summed
    in the order a Ledger sums them (from 0.0), without counting the other actions: one array's share of
    the counts of :func:`array_vector_counts` (``dac.conversions`` are the row drives)."""
    shape, activity, macs = peak_read(cfg, reading)
    drives = 0.0 + float(activity.row_drives / shape.arrays)
    v2g = 0.0 + float(cell_v2g_v2_us(activity, cfg) / shape.arrays)
    return drives / macs, v2g / macs


def peak(cfg: ChipConfig, input_density: float = 1.0, input_activity: float = 1.0) -> PeakFigures:
    """Peak figures of ``cfg`` at ``input_activity`` (0..1, default 1: full scale; module docstring)."""
    if not isinstance(cfg, ChipConfig):
        name = getattr(getattr(cfg, "meta", None), "name", "")
        raise ConfigError(
            f"peak: cfg must be a crossbar chip (cimsim.ChipConfig), got {type(cfg).__name__} {name!r}; "
            "peak figures are modelled for CIM chips only: simulate a workload on a von Neumann config instead"
        )
    if not 0 < input_density <= 1:
        raise ConfigError(f"input_density = {input_density!r}: the fraction of rows driven must be in (0, 1]")
    if not 0 <= input_activity <= 1:
        raise ConfigError(f"input_activity = {input_activity!r}: the mean fraction of the DAC's full scale driven "
                          "per row and cycle must be in [0, 1]")
    signed = cheapest_signedness(cfg, input_density, input_activity)
    ledger, macs, timing = array_vector_ledger(cfg, input_density, input_activity, signed)  # cells always cost: > 0
    arrays = array_count(cfg)
    cycles = input_schedule(signed, cfg).cycles
    tile_pj_per_mac = ledger.energy_pj / macs
    static_pj_per_mac = EnergyModel(cfg).unit_energy_pj("static", "ns") * timing.vector_ns / (arrays * macs)
    chip_pj_per_mac = tile_pj_per_mac + static_pj_per_mac
    area_mm2 = sum(area_breakdown_um2(cfg).values()) * 1e-6
    tops = 2 * macs * arrays / timing.vector_ns * 1e-3  # ops per ns = 1e9 ops/s; TOPS = 1e12
    return PeakFigures(
        name=cfg.meta.name,
        tops=tops,
        tops_per_watt=2 / chip_pj_per_mac,  # ops per pJ = TOPS/W
        tops_per_mm2=tops / area_mm2,
        energy_pj_per_mac=chip_pj_per_mac,
        tile_energy_pj_per_mac=tile_pj_per_mac,
        energy_share={c: e / ledger.energy_pj for c, e in ledger.by_component().items() if e > 0},
        area_mm2=area_mm2,
        cycle_ns=timing.vector_ns / cycles,
        bottleneck=timing.bottleneck,
        macs_per_array_cycle=macs / cycles,
        arrays=arrays,
        input_activity=input_activity,
    )
