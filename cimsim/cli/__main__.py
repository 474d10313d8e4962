"""``python -m cimsim.cli ARGS``: the ``cimsim`` command."""

from cimsim.cli.parser import main

raise SystemExit(main())
