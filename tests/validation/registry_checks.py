"""What every per-design validation test checks the same way: the registry's published values
against the test's own transcription, and each point's error against its bound."""

from __future__ import annotations

from cimsim.validation import Design, simulated


def published_by_key(design: Design) -> dict[tuple[str, str], float]:
    """(point, metric) -> published value, as the registry holds it."""
    return {(p.point, p.metric): p.published for p in design.points}


def relative_error(design: Design, point: str, metric: str) -> float:
    """(cimsim − published) / published at one point of the registry."""
    (found,) = [p for p in design.points if (p.point, p.metric) == (point, metric)]
    return (simulated(design, found) - found.published) / found.published


def share_difference_points(design: Design, point: str, metric: str) -> float:
    """cimsim's share minus the published share, in percentage points."""
    (found,) = [p for p in design.points if (p.point, p.metric) == (point, metric)]
    return simulated(design, found) - found.published
