"""`python -m backoffice`: the headless command line."""

import sys

from backoffice.cli import main

sys.exit(main())
