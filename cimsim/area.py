"""Chip area by component (µm²): instance counts from the geometry times the areas in ``cfg.area``.

Per array: ``rows × cols`` cells, one row driver per row, one sample-and-hold per column and
``ceil(cols / adc.columns_per_adc)`` ADCs; per array group: shift-and-add units and input and
output registers; per tile: buffer, bus, router share and digital units; per chip: overhead.
"""

from __future__ import annotations

from cimsim.adc_models import adc_area_um2
from cimsim.config import ChipConfig
from cimsim.mapping import ceil_div


def array_count(cfg: ChipConfig) -> int:
    """Arrays on the chip."""
    return cfg.tile.arrays_per_group * cfg.tile.groups_per_tile * cfg.chip.tiles


def adcs_per_array(cfg: ChipConfig) -> int:
    return ceil_div(cfg.array.cols, cfg.adc.columns_per_adc)


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
        "adc": arrays * adcs_per_array(cfg) * adc_area_um2(cfg),
        "shift_add": groups * a.shift_add_um2_per_group,
        "input_register": groups * a.input_register_um2_per_group,
        "output_register": groups * a.output_register_um2_per_group,
        "buffer": tiles * a.buffer_um2_per_tile,
        "bus": tiles * a.bus_um2_per_tile,
        "noc": tiles * a.router_um2_per_tile,
        "digital": tiles * a.digital_um2_per_tile,
        "chip_overhead": a.chip_overhead_um2,
    }
