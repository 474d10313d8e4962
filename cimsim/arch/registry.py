"""The architectures cimsim simulates, by the name their configurations give in ``meta.architecture``.

``"cim"`` (:class:`~cimsim.arch.builtin.CimChip`) and ``"von-neumann"``
(:class:`~cimsim.arch.builtin.VonNeumannBaseline`) are there from the start. A user's machine joins
them through :func:`register_architecture`, which registers both halves at once: its
configuration class, so that :func:`cimsim.load_config` builds it from a file whose ``[meta]``
names it (:func:`cimsim.config.loading.register_config_kind`), and its
:class:`~cimsim.arch.base.Architecture`, so that :func:`cimsim.simulate` plans on it.
"""

from __future__ import annotations

from typing import Any

from cimsim.arch.base import Architecture, check_architecture
from cimsim.arch.builtin import CimChip, VonNeumannBaseline
from cimsim.config.loading import ARCHITECTURES, config_kind, register_config_kind, unregister_config_kind
from cimsim.config.tree import ConfigRoot
from cimsim.errors import ConfigError

_PLANNERS: dict[str, Architecture] = {"cim": CimChip(), "von-neumann": VonNeumannBaseline()}


def register_architecture(name: str, config_class: type[ConfigRoot], architecture: Architecture) -> None:
    """Simulate configurations of ``config_class`` (``meta.architecture = name``) on ``architecture``.

    ``config_class``: a :class:`~cimsim.config.tree.ConfigRoot` whose ``meta.architecture``
    defaults to ``name``; ``architecture``: an :class:`~cimsim.arch.base.Architecture`. A name
    or configuration class registered already, or a malformed argument, is a ConfigError, and
    nothing is registered.
    """
    check_architecture(architecture)
    register_config_kind(name, config_class)
    _PLANNERS[name] = architecture


def unregister_architecture(name: str) -> None:
    """Forget the architecture ``name`` and its configuration kind (the built-in ones stay)."""
    unregister_config_kind(name)
    _PLANNERS.pop(name, None)


def list_architectures() -> list[str]:
    """Names of the registered architectures, the built-in ones first, then in registration order."""
    return list(ARCHITECTURES)


def architecture_for(cfg: Any) -> Architecture:
    """The architecture that simulates ``cfg``, found by its configuration's kind; ConfigError for another object."""
    kind = config_kind(cfg)
    if kind not in _PLANNERS:
        raise ConfigError(f"cfg: kind {kind!r} has a configuration class but no architecture; allowed: the "
                          f"configuration of an architecture registered with cimsim.register_architecture "
                          f"({', '.join(map(repr, _PLANNERS))})")
    return _PLANNERS[kind]
