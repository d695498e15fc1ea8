"""`python -m deskbook` runs the CLI."""

from deskbook.cli import main

raise SystemExit(main())
