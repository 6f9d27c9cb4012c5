"""``python -m portalcrawl`` runs the command-line interface."""

import sys

from portalcrawl.cli import main

sys.exit(main())
