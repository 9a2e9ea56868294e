"""`python -m gridcore`: the command line, as the `gridcore` script runs it."""

from gridcore.cli import main

raise SystemExit(main())
