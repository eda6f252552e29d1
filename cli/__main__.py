"""``python -m cli`` runs the ``pilotqa`` command."""

import sys

from cli import main

sys.exit(main())
