"""IBM analog-AI chip (Ambrogio et al., Nature 2023) against the ``ibm-analog-ai`` preset.

One published figure, CIM-19: up to 12.4 TOPS/W chip-sustained. The preset's ADC energy is
fitted to it, so this is a calibration, not a validation (docs/validation.md); the test checks
the fit and that the preset keeps HERMES's core physics (same read window, cells, DAC). Run as a
script to print the table.
"""

from __future__ import annotations

from registry_checks import published_by_key, relative_error

import cimsim
from cimsim.validation import design

IBM = design("ibm-analog-ai")


def test_registry_holds_the_published_figure():
    assert published_by_key(IBM) == {("chip sustained", "tops_per_watt"): 12.4}  # CIM-19


def test_fitted_point_is_reproduced():
    assert abs(relative_error(IBM, "chip sustained", "tops_per_watt")) <= 1e-3  # 6 significant digits in the preset


def test_the_read_window_and_device_are_hermes_s():
    ibm, hermes = cimsim.load_preset("ibm-analog-ai"), cimsim.load_preset("hermes")
    assert ibm.array.t_read_ns == hermes.array.t_read_ns
    assert ibm.device == hermes.device


if __name__ == "__main__":
    from cimsim.validation import table_text, validate

    print(table_text(validate([IBM])))
