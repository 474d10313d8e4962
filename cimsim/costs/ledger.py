"""The Ledger: what the hardware did, as counts of actions, and what those actions cost.

Counting is separate from pricing (as in Accelergy and CiMLoop): the crossbar model, the
scheduler and the baseline count *actions*; an :class:`~cimsim.costs.energy.EnergyModel` prices them
from the configuration, and both land here. Each entry is keyed by ``(layer, component,
action)``, as declared in :mod:`cimsim.costs.actions`; the action name carries its unit, e.g. ``("adc", "conversions")``,
``("input_register", "bits")`` or ``("cell", "v2g_v2_us")`` (the sum of V²·G over every cell
read, in V²·µS, so that read energy is that times the read pulse). ``layer`` is ``""`` for
actions that belong to no particular layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

Key = tuple[str, str, str]


class Ledger:
    """Counts and energies (pJ) by layer, component and action; addable, comparable, serialisable."""

    def __init__(self) -> None:
        self._counts: dict[Key, float] = {}
        self._energy_pj: dict[Key, float] = {}

    def add(self, component: str, action: str, count: float, energy_pj: float = 0.0, layer: str = "") -> None:
        """Record ``count`` more of ``action`` on ``component``, costing ``energy_pj`` in all."""
        key = (layer, component, action)
        self._counts[key] = self._counts.get(key, 0.0) + float(count)
        self._energy_pj[key] = self._energy_pj.get(key, 0.0) + float(energy_pj)

    def add_all(self, entries: Iterable[tuple[str, str, float, float]], layer: str = "") -> None:
        """:meth:`add` each ``(component, action, count, energy_pj)`` of ``entries`` in turn, all on ``layer``
        (the same sums in the same order, without a call per entry: a plan adds thousands)."""
        counts, energies = self._counts, self._energy_pj
        for component, action, count, energy_pj in entries:
            key = (layer, component, action)
            counts[key] = counts.get(key, 0.0) + float(count)
            energies[key] = energies.get(key, 0.0) + float(energy_pj)

    def count(self, component: str, action: str) -> float:
        """How many ``action`` ``component`` has done, over all layers (0 if never)."""
        return sum(value for (_, c, a), value in self._counts.items() if (c, a) == (component, action))

    def entries(self) -> Iterator[tuple[Key, float, float]]:
        """``((layer, component, action), count, energy_pj)``, sorted."""
        for key in sorted(self._counts):
            yield key, self._counts[key], self._energy_pj[key]

    @property
    def energy_pj(self) -> float:
        """Total energy of every priced action (pJ)."""
        return sum(self._energy_pj.values())

    def by_component(self) -> dict[str, float]:
        """Energy per component over all layers (pJ), each summed in the order of :meth:`entries`, the
        components in the order they first appear there (by name within one layer; a ledger of
        several layers lists the first layer's components first)."""
        totals: dict[str, float] = {}
        energy_pj = self._energy_pj
        for key in sorted(energy_pj) if energy_pj else ():  # the order of entries()
            totals[key[1]] = totals.get(key[1], 0.0) + energy_pj[key]
        return totals

    def layers(self) -> list[str]:
        """Names of the layers with entries (``""`` for unattributed actions)."""
        return sorted({layer for layer, _, _ in self._counts})

    def layer(self, name: str) -> Ledger:
        """A new ledger holding only the entries of layer ``name``."""
        view = Ledger()
        for (layer, component, action), count, energy in self.entries():
            if layer == name:
                view.add(component, action, count, energy, layer)
        return view

    def __add__(self, other: Ledger) -> Ledger:
        total = Ledger()
        for ledger in (self, other):
            for (layer, component, action), count, energy in ledger.entries():
                total.add(component, action, count, energy, layer)
        return total

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ledger) and list(self.entries()) == list(other.entries())

    def to_dict(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{component: {action: {"count": c, "energy_pj": e}}}`` over all layers, sorted, JSON-ready."""
        nested: dict[str, dict[str, dict[str, float]]] = {}
        for (_, component, action), count, energy in self.entries():
            slot = nested.setdefault(component, {}).setdefault(action, {"count": 0.0, "energy_pj": 0.0})
            slot["count"] += count
            slot["energy_pj"] += energy
        return nested

    def __repr__(self) -> str:
        return f"Ledger(energy_pj={self.energy_pj:.6g}, {self.to_dict()})"
