"""``python -m cimsim.cli ARGS``: the ``cimsim`` command."""

from cimsim.cli.main import main

raise SystemExit(main())
