"""Refitting a design's constants to its fitted points, for when prices change.

:func:`refit` returns new values of a design's fitted constants (``Design.fitted_constants``,
dotted preset fields, at most 3) that minimise the squared signed errors of its points marked
fitted, starting from the preset's values. It does not write the preset: copy the values it
returns into the preset's TOML (each fitted field carries a comment naming its rows).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from cimsim.config import load_preset
from cimsim.errors import ConfigError
from cimsim.validation.points import Design, signed_error, simulated

MAX_FITTED_CONSTANTS = 3


def preset_value(design: Design, path: str) -> float:
    """The value of the dotted field ``path`` in the design's preset."""
    node = load_preset(design.preset)
    for part in path.split("."):
        node = getattr(node, part)
    return float(node)


def fitted_errors(design: Design, constants: dict[str, float]) -> np.ndarray:
    """Signed errors of the design's fitted points with ``constants`` in the preset."""
    return np.array([signed_error(simulated(design, p, constants), p.published) for p in design.points if p.fitted])


def refit(design: Design) -> dict[str, float]:
    """New values of ``design.fitted_constants`` fitted to its fitted points (log-scaled, positive)."""
    names = design.fitted_constants
    if not names or len(names) > MAX_FITTED_CONSTANTS:
        raise ConfigError(
            f"refit: design {design.name!r} names {len(names)} fitted constants; allowed: 1 to {MAX_FITTED_CONSTANTS}"
        )
    start = np.log([preset_value(design, name) for name in names])

    def residuals(log_values: np.ndarray) -> np.ndarray:
        return fitted_errors(design, dict(zip(names, np.exp(log_values).tolist())))

    result = least_squares(residuals, start, diff_step=1e-6)  # steps of 1e-6 in log: relative steps
    return dict(zip(names, np.exp(result.x).tolist()))
