"""``python -m cimsim.sweep SWEEP.toml OUT.csv [--workers N] [--scheduler ADDRESS] [--resume]``."""

from cimsim.sweep.run import main

raise SystemExit(main())
