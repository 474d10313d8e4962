"""The interconnect between a CIM chip's tiles: a 2-D mesh with XY routing, or one shared bus.

Tiles sit on a square grid of ``side = ceil(sqrt(chip.tiles))`` columns, tile t at row
``t // side``, column ``t % side``.

* ``chip.noc_topology = "mesh"``: every pair of neighbouring tiles is joined by two directed
  links, ``link:a>b`` and ``link:b>a``. A transfer from tile s to tile d follows XY
  (dimension-order) routing: along its row to d's column, then along that column to d (YX
  instead when that corner lies past the last tile of a grid that is not full); its hops are
  the Manhattan distance. It holds every link of its route at once for its whole
  duration, as a worm of flits does under wormhole switching, so a transfer waits for any
  busy link on its way and blocks the others meanwhile: contention on shared links shows in
  the timeline. Its duration is the serialisation of its bits on one link plus the pipeline
  delay of every hop, ``bits / chip.noc_gbps + hops · chip.noc_cycles_per_hop / chip.clock_ghz``.
  A transfer within a tile crosses no link.
* ``"bus"``: one ``bus`` resource shared by all tiles; every transfer is one hop on it.

With ``chip.noc_multicast``, data that several tiles need whole (the keys and values of an
attention product split over tiles) is sent once down the tree of the XY routes from its source
to all of them (:meth:`Noc.multicast_step`): each link of the tree carries it once and is held
for the serialisation and the farthest destination's hops. Without it, each tile receives its
own copy over its own route.

Energy is charged per bit and hop (``energy.noc_pj_per_bit_hop``, router and link together)
by the architecture; this module only routes and times.

Limits: no virtual channels or flit-level interleaving (a transfer owns its links until it
ends); no adaptive routing; a link carries one transfer at a time in each direction.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from cimsim.config import ChipConfig
from cimsim.engine.plan import Step


class Noc:
    """Routes and times transfers between the tiles of ``cfg``'s chip (module docstring)."""

    def __init__(self, cfg: ChipConfig):
        chip = cfg.chip
        self.topology = chip.noc_topology
        self.tiles = chip.tiles
        self.side = math.ceil(math.sqrt(chip.tiles))
        self.gbps = chip.noc_gbps
        self.hop_ns = chip.noc_cycles_per_hop / chip.clock_ghz

    def hops(self, source: int, destination: int) -> int:
        """Links a transfer from ``source`` to ``destination`` crosses (the bus: always one)."""
        if self.topology == "bus":
            return 1
        side = self.side  # asked for every tile by every placement of digital work: inline, no tuples
        return abs(source // side - destination // side) + abs(source % side - destination % side)

    def hops_from(self, source: int) -> np.ndarray:
        """Hops from ``source`` to every tile of the chip (:meth:`hops` for each); read-only, made once per
        chip shape and source (every placement of digital work asks for its source's)."""
        return _hops_from(self.topology, self.tiles, self.side, source)

    def route(self, source: int, destination: int) -> tuple[str, ...]:
        """The resources a transfer holds: the directed links of its XY route, or the bus."""
        if self.topology == "bus":
            return ("bus",)
        return _xy_route(self.tiles, self.side, source, destination)

    def tree(self, source: int, destinations: list[int]) -> tuple[str, ...]:
        """The resources a multicast from ``source`` to ``destinations`` holds: the union of their XY
        routes (a tree rooted at the source, each link once), or the bus."""
        return tuple(dict.fromkeys(link for destination in destinations for link in self.route(source, destination)))

    def multicast_step(self, source: int, destinations: list[int], bits: float) -> Step | None:
        """The step of sending ``bits`` once from ``source`` to every tile of ``destinations``: every link
        of the tree held for the serialisation and the farthest destination's hops; None when no
        destination is off the source's tile."""
        tree = self.tree(source, destinations)
        if not tree:
            return None
        return Step(tree[0], self.transfer_ns(bits, max(self.hops(source, d) for d in destinations)), also=tree[1:])

    def transfer_ns(self, bits: float, hops: int) -> float:
        """Duration of a transfer of ``bits`` over ``hops`` hops (module docstring)."""
        return bits / self.gbps + hops * self.hop_ns

    def transfer_step(self, source: int, destination: int, bits: float) -> Step | None:
        """The step of moving ``bits`` from ``source`` to ``destination``; None when it crosses no link."""
        route = self.route(source, destination)
        if not route:
            return None
        return Step(route[0], self.transfer_ns(bits, self.hops(source, destination)), also=route[1:])


@functools.lru_cache(maxsize=4096)  # a transformer asks for the same few routes thousands of times, every plan
def _xy_route(tiles: int, side: int, source: int, destination: int) -> tuple[str, ...]:
    """:meth:`Noc.route` on a mesh of ``tiles`` tiles, ``side`` to a row."""
    (r0, c0), (r1, c1) = divmod(source, side), divmod(destination, side)
    corner = (r0, c1) if r0 * side + c1 < tiles else (r1, c0)
    path = _line((r0, c0), corner) + _line(corner, (r1, c1))
    tiles_on_route = [source] + [row * side + col for row, col in path]
    return tuple(f"link:{a}>{b}" for a, b in zip(tiles_on_route, tiles_on_route[1:]))


def _line(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    """Grid points after ``start`` up to ``end`` along one row or one column."""
    (row, col), points = start, []
    while (row, col) != end:
        row += (end[0] > row) - (end[0] < row)
        col += (end[1] > col) - (end[1] < col)
        points.append((row, col))
    return points


@functools.lru_cache(maxsize=1024)
def _hops_from(topology: str, tiles: int, side: int, source: int) -> np.ndarray:
    """:meth:`Noc.hops_from` of a chip of ``tiles`` tiles, ``side`` to a row of its mesh (read-only)."""
    if topology == "bus":
        hops = np.ones(tiles, dtype=np.int64)
    else:
        every = np.arange(tiles)
        hops = np.abs(every // side - source // side) + np.abs(every % side - source % side)
    hops.flags.writeable = False
    return hops
