"""`python -m nexflow_core check …`."""

import sys

from nexflow_core.cli import main

sys.exit(main())
