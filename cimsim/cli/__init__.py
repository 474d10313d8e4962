"""The ``cimsim`` command: ``run``, ``compare``, ``sweep``, ``plot``, ``workloads``, ``presets``,
``show``, ``peak`` and ``demo``.

- :mod:`~cimsim.cli.parser`: the argument parser and the one-line error handling;
- :mod:`~cimsim.cli.commands`: what each sub-command does;
- :mod:`~cimsim.cli.demo` and :mod:`~cimsim.cli.demo_network`: ``make demo``'s main job.
"""

from cimsim.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
