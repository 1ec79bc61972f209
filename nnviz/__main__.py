"""`python -m nnviz` is the same as the `nnviz` command."""

from nnviz.cli import main

raise SystemExit(main())
