"""`python -m qms_cli`: the same as the `qms` command."""

from qms_cli.cli.entry import main

raise SystemExit(main())
