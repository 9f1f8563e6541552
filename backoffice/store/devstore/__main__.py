"""Run the dev store: `python -m backoffice.store.devstore --port 8089`."""

import sys

from .cli import main

sys.exit(main())
