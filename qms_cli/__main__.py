"""`python -m qms_cli`: the same as the `qms` command."""

from qms_cli.cli.app import main

raise SystemExit(main())
