"""The Ledger: what the hardware did, as counts of actions per component.

Counting is separate from pricing (as in Accelergy and CiMLoop): the crossbar model and the
scheduler only count *actions* here; an energy model prices them from the configuration.
Each entry is keyed by ``(component, action)``; the action name carries its unit, e.g.
``("adc", "conversions")``, ``("input_register", "bits")`` or ``("cell", "v2g_v2_us")`` (the sum
of V²·G over every cell read, in V²·µS, so that read energy is that times the read pulse).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping


class Ledger:
    """Counts of actions by (component, action); addable, comparable, serialisable."""

    def __init__(self, counts: Mapping[tuple[str, str], float] | None = None):
        self._counts: Counter[tuple[str, str]] = Counter()
        for key, value in (counts or {}).items():
            self.add(key[0], key[1], value)

    def add(self, component: str, action: str, count: float) -> None:
        """Record ``count`` more of ``action`` on ``component``."""
        self._counts[(component, action)] += float(count)

    def count(self, component: str, action: str) -> float:
        """How many ``action`` ``component`` has done (0 if never)."""
        return self._counts.get((component, action), 0.0)

    def items(self) -> Iterator[tuple[tuple[str, str], float]]:
        return iter(sorted(self._counts.items()))

    def __add__(self, other: Ledger) -> Ledger:
        total = Ledger(self._counts)
        for (component, action), value in other.items():
            total.add(component, action, value)
        return total

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ledger) and dict(self.items()) == dict(other.items())

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{component: {action: count}}``, sorted, JSON-ready."""
        nested: dict[str, dict[str, float]] = {}
        for (component, action), value in self.items():
            nested.setdefault(component, {})[action] = value
        return nested

    def __repr__(self) -> str:
        return f"Ledger({self.to_dict()})"
