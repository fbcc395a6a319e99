<<<<<<< HEAD
=======
"""`python -m nexflow_core check …`."""

>>>>>>> frontend
import sys

from nexflow_core.cli import main

sys.exit(main())
