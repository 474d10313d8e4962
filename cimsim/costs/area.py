"""Chip area by component (µm²): instance counts from the geometry times the areas in ``cfg.area``.

Per array: ``rows × cols`` cells, one row driver per row, one sample-and-hold per column and
``ceil(cols / adc.columns_per_adc)`` ADCs (:class:`~cimsim.physics.mapping.ArrayGeometry`), one set per
bank of ``adc.arrays_per_adc`` arrays of a tile (``ceil(arrays per tile / arrays_per_adc)`` banks); per
array group: shift-and-add units and input and output registers; per tile: buffer, bus, router
share and digital units; per chip: overhead.
A compound block is the sum of its parts (:func:`area_by_level`).
"""

from __future__ import annotations

from cimsim.costs.adc_energy import adc_area_um2
from cimsim.config import ChipConfig
from cimsim.config.tree import CHIP_AREA_MM2
from cimsim.physics.mapping import array_geometry


def array_count(cfg: ChipConfig) -> int:
    """Arrays on the chip."""
    return cfg.tile.arrays_per_group * cfg.tile.groups_per_tile * cfg.chip.tiles


def adc_bank_count(cfg: ChipConfig) -> int:
    """Banks of ADCs on the chip: one per array unless ``adc.arrays_per_adc`` arrays of a tile share one."""
    arrays_per_tile = cfg.tile.arrays_per_group * cfg.tile.groups_per_tile
    return cfg.chip.tiles * -(-arrays_per_tile // cfg.adc.arrays_per_adc)


ARRAY_PARTS = ("cell", "dac", "sample_hold", "adc")
GROUP_PARTS = ("shift_add", "input_register", "output_register")
TILE_PARTS = ("buffer", "bus", "noc", "digital")


def area_by_level(cfg: ChipConfig) -> dict[str, float]:
    """Area of one array, one array group, one tile and the chip (µm²), each the sum of its parts."""
    per_chip = area_breakdown_um2(cfg)
    arrays = array_count(cfg)
    groups = cfg.tile.groups_per_tile * cfg.chip.tiles
    array = sum(per_chip[part] for part in ARRAY_PARTS) / arrays
    group = cfg.tile.arrays_per_group * array + sum(per_chip[part] for part in GROUP_PARTS) / groups
    tile = cfg.tile.groups_per_tile * group + sum(per_chip[part] for part in TILE_PARTS) / cfg.chip.tiles
    return {"array": array, "array_group": group, "tile": tile, "chip": cfg.chip.tiles * tile + per_chip["chip_overhead"]}


def area_breakdown_um2(cfg: ChipConfig) -> dict[str, float]:
    """Area of every component of the chip (µm²)."""
    a, rows, cols = cfg.area, cfg.array.rows, cfg.array.cols
    arrays = array_count(cfg)
    groups = cfg.tile.groups_per_tile * cfg.chip.tiles
    tiles = cfg.chip.tiles
    return {
        "cell": arrays * rows * cols * a.cell_um2,
        "dac": arrays * rows * a.dac_um2,
        "sample_hold": arrays * cols * a.sample_hold_um2,
        "adc": adc_bank_count(cfg) * array_geometry(cfg).adcs_per_array * adc_area_um2(cfg),
        "shift_add": groups * a.shift_add_um2_per_group,
        "input_register": groups * a.input_register_um2_per_group,
        "output_register": groups * a.output_register_um2_per_group,
        "buffer": tiles * a.buffer_um2_per_tile,
        "bus": tiles * a.bus_um2_per_tile,
        "noc": tiles * a.router_um2_per_tile,
        "digital": tiles * a.digital_um2_per_tile,
        "chip_overhead": a.chip_overhead_um2,
    }


def chip_area_mm2(cfg: ChipConfig) -> float:
    """The chip's area (mm²): the sum of :func:`area_breakdown_um2`."""
    return sum(area_breakdown_um2(cfg).values()) * 1e-6


CHIP_AREA_MM2.provided_by(chip_area_mm2)  # the configuration refuses chips beyond physical sense by this area
