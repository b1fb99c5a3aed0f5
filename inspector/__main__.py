"""`python -m inspector`: the same as the `allocdir-inspector` command."""

import sys

from .tui.cli import main

sys.exit(main())
